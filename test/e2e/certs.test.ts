import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCli, startEdge, type RunningEdge } from '../support/edge.js';
import { expectHandshakeRefused } from '../support/https-client.js';
import { requireTool } from '../support/tools.js';
import { startUpstream, type TestUpstream } from '../support/upstream.js';

const execFileAsync = promisify(execFile);
const ID = 'yourUsername@localhost.pomerium.io';
const HOST = 'verify.localhost.pomerium.io';

/** The guide's certificate steps with our commands, then the edge serving exactly those files. */
describe('mtls-edge certs: the guide without mkcert', () => {
  let dir: string;
  let up: TestUpstream;
  let edge: RunningEdge | undefined;
  const certs = (args: string[]) => runCli(['certs', ...args, '--dir', join(dir, 'certs')]);
  /** The guide's steps, each run once, by the first test that needs it: every test passes alone and in any order. */
  const once = <T>(step: () => Promise<T>) => {
    let done: Promise<T> | undefined;
    return () => (done ??= step());
  };
  const caStep = once(() => certs(['ca']));
  const serverStep = once(async () => (await caStep(), certs(['server', '*.localhost.pomerium.io'])));
  const clientStep = once(async () => (await caStep(), certs(['client', ID])));

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mtls-edge-certs-'));
    up = await startUpstream('verify');
  });
  after(async () => {
    await edge?.stop();
    await up?.close();
  });

  it('certs ca writes a CA with a private key only its owner can read, and reuses it', async () => {
    const first = await caStep();
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /wrote .*ca\.pem and .*ca-key\.pem/);
    assert.match(first.stdout, /ca_file: .*ca\.pem/);
    assert.equal(statSync(join(dir, 'certs', 'ca-key.pem')).mode & 0o777, 0o600);
    const ca = readFileSync(join(dir, 'certs', 'ca.pem'), 'utf8');
    const again = await certs(['ca']);
    assert.match(again.stdout, /reusing the CA/);
    assert.equal(readFileSync(join(dir, 'certs', 'ca.pem'), 'utf8'), ca);
  });

  it('certs server and certs client write what the guide needs, and print the config lines', async () => {
    const server = await serverStep();
    assert.equal(server.code, 0, server.stderr);
    assert.match(server.stdout, /certificate_file: .*_wildcard\.localhost\.pomerium\.io\.pem/);
    const client = await clientStep();
    assert.equal(client.code, 0, client.stderr);
    assert.match(client.stdout, /password "changeit"/);
    for (const f of [`${ID}-client.pem`, `${ID}-client-key.pem`, `${ID}-client.p12`])
      assert.ok(existsSync(join(dir, 'certs', f)), f);
    assert.equal(statSync(join(dir, 'certs', `${ID}-client.p12`)).mode & 0o777, 0o600);
  });

  it('refuses wrong arguments, overwriting, and an unreadable CA, and writes nothing then', async () => {
    assert.equal((await clientStep()).code, 0, 'the client certificate to refuse overwriting');
    const before = readdirSync(join(dir, 'certs')).sort();
    const cases: Array<[string[], RegExp]> = [
      [['client'], /exactly one IDENTITY/],
      [['server'], /at least one name/],
      [['server', 'not a name'], /not a host name/],
      [['client', ID], /would overwrite .*-client\.pem/],
      [['bogus'], /unknown step "bogus": one of ca, server, client, crl, control-plane, envoy, signing-key/],
      [[], /which step\? one of ca, server/],
    ];
    for (const [args, message] of cases) {
      const res = await certs(args);
      assert.notEqual(res.code, 0, args.join(' '));
      assert.match(res.stderr, message);
    }
    const missing = await runCli(['certs', 'client', 'bob@example.com', '--dir', join(dir, 'no-such-folder')]);
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /cannot read the CA certificate \(run `mtls-edge certs ca` first\)/);
    const other = mkdtempSync(join(tmpdir(), 'mtls-edge-badca-'));
    writeFileSync(join(other, 'ca.pem'), readFileSync(join(dir, 'certs', 'ca.pem')));
    writeFileSync(join(other, 'ca-key.pem'), 'not a key\n');
    const broken = await runCli(['certs', 'client', 'bob@example.com', '--dir', other]);
    assert.notEqual(broken.code, 0);
    assert.match(broken.stderr, /cannot use the CA in .*ca\.pem/);
    assert.deepEqual(readdirSync(other).sort(), ['ca-key.pem', 'ca.pem'], 'nothing half-written');
    assert.deepEqual(readdirSync(join(dir, 'certs')).sort(), before, 'the failed commands wrote nothing');
  });

  it(
    'the edge serves with those files: the .p12 gets in (password ' +
      'changeit); after certs crl the same certificate is refused',
    async () => {
      const write = (crl: boolean) =>
        `certificate_file: certs/_wildcard.localhost.pomerium.io.pem\ncertificate_key_file: certs/_wildcard.localhost.pomerium.io-key.pem\ndownstream_mtls:\n  ca_file: certs/ca.pem\n  enforcement: reject_connection\n${crl ? '  crl_file: certs/crl.pem\n' : ''}routes:\n  - from: https://${HOST}\n    to: ${up.url}\n    allow_any_authenticated_user: true\n`;
      for (const step of [serverStep, clientStep]) assert.equal((await step()).code, 0);
      edge = await startEdge({ dir, yaml: write(false) });
      const ca = readFileSync(join(dir, 'certs', 'ca.pem'), 'utf8');
      const pfx = readFileSync(join(dir, 'certs', `${ID}-client.p12`));
      const viaP12 = () =>
        new Promise<number>((resolve, reject) => {
          const req = request(
            {
              host: '127.0.0.1',
              port: edge!.httpsPort,
              servername: HOST,
              headers: { host: HOST },
              ca,
              pfx,
              passphrase: 'changeit',
              agent: false,
            },
            (res) => {
              res.resume();
              resolve(res.statusCode ?? 0);
            },
          );
          req.on('error', reject);
          req.end();
        });
      assert.equal(await viaP12(), 200);
      // curl (OpenSSL 3) takes the .p12 as it is, password and all. (Not spawnSync: the upstream lives in this
      // process.)
      const curlBinary = requireTool(
        'curl',
        'Install it: apt-get install curl (Debian/Ubuntu), dnf install curl, apk add curl, brew install curl.',
      );
      const curl = await execFileAsync(
        curlBinary,
        [
          '-sS',
          '-o',
          '/dev/null',
          '-w',
          '%{http_code}',
          '--resolve',
          `${HOST}:${edge.httpsPort}:127.0.0.1`,
          '--cacert',
          join(dir, 'certs', 'ca.pem'),
          '--cert-type',
          'P12',
          '--cert',
          `${join(dir, 'certs', `${ID}-client.p12`)}:changeit`,
          `https://${HOST}:${edge.httpsPort}/`,
        ],
        { encoding: 'utf8' },
      );
      assert.equal(curl.stdout, '200', curl.stderr);

      const revoke = await certs(['crl', join(dir, 'certs', `${ID}-client.pem`)]);
      assert.equal(revoke.code, 0, revoke.stderr);
      const { configVersion } = await edge.status();
      edge.writeConfig(write(true));
      await edge.waitForStatus((s) => s.configVersion !== configVersion && s.synced && s.reload.errors.length === 0);
      const cert = readFileSync(join(dir, 'certs', `${ID}-client.pem`), 'utf8');
      const key = readFileSync(join(dir, 'certs', `${ID}-client-key.pem`), 'utf8');
      assert.match(
        await expectHandshakeRefused({ port: edge.httpsPort, servername: HOST, ca, cert, key }),
        /CERTIFICATE_REVOKED/,
      );
    },
  );
});
