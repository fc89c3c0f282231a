import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { runCli } from '../support/edge.js';
import { createCrl, createRootCa } from '../../control-plane/src/pki/index.js';
import { createTestPki, HOSTS, type TestPki } from '../support/pki-fixture.js';

interface ErrorCase {
  name: string;
  /** Lines after the two certificate lines (which are lines 1 and 2). */
  lines: string[];
  line: number;
  key: string;
  message: RegExp;
}

const route = (extra: string[] = [], host = HOSTS.x) => [
  `  - from: https://${host}`,
  '    to: http://127.0.0.1:9',
  ...extra,
];

const CASES: ErrorCase[] = [
  {
    name: 'a shared-host CA whose name the per-route check cannot compare',
    lines: [
      'routes:',
      ...route([
        '    prefix: /a',
        '    tls_downstream_client_ca_file: ca-a.pem',
        '    allow_any_authenticated_user: true',
      ]),
      ...route([
        '    prefix: /b',
        '    tls_downstream_client_ca_file: ca-comma.pem',
        '    allow_any_authenticated_user: true',
      ]),
    ],
    line: 4,
    key: 'routes[0]',
    message: /has a name with characters .* that the per-route check cannot compare reliably/,
  },
  {
    name: 'CRLs for some CAs of a host but not all',
    lines: [
      'downstream_mtls:',
      '  crl_file: crl-a.pem',
      'routes:',
      ...route([
        '    prefix: /a',
        '    tls_downstream_client_ca_file: ca-a.pem',
        '    allow_any_authenticated_user: true',
      ]),
      ...route([
        '    prefix: /b',
        '    tls_downstream_client_ca_file: ca-b.pem',
        '    allow_any_authenticated_user: true',
      ]),
    ],
    line: 6,
    key: 'routes[0]',
    message: /has CRLs for some of its client CAs but none for CN=Test CA B/,
  },
  {
    name: 'certificate details on a route that does not require a certificate',
    lines: [
      'downstream_mtls:',
      '  ca_file: ca-a.pem',
      '  enforcement: policy',
      'routes:',
      ...route([
        '    set_request_headers:',
        '      X-Fp: "${pomerium.client_cert_fingerprint}"',
        '    allow_public_unauthenticated_access: true',
      ]),
    ],
    line: 7,
    key: 'routes[0].set_request_headers',
    message: /an unverified certificate would be described to the upstream/,
  },
  {
    name: 'unknown key',
    lines: ['clinet_ca_file: ca-a.pem', 'routes:', ...route(['    allow_public_unauthenticated_access: true'])],
    line: 3,
    key: 'clinet_ca_file',
    message: /unknown key \(did you mean "client_ca_file"\?\)/,
  },
  {
    name: 'wrong type',
    lines: ['routes:', ...route(['    allow_any_authenticated_user: "yes"'])],
    line: 6,
    key: 'routes[0].allow_any_authenticated_user',
    message: /expected true or false, got string "yes"/,
  },
  {
    name: 'both x and x_file',
    lines: [
      'client_ca: Zm9v',
      'client_ca_file: ca-a.pem',
      'routes:',
      ...route(['    allow_any_authenticated_user: true']),
    ],
    line: 4,
    key: 'client_ca_file',
    message: /set either client_ca or client_ca_file, not both/,
  },
  {
    name: 'unreadable file',
    lines: [
      'routes:',
      ...route(['    tls_downstream_client_ca_file: missing.pem', '    allow_any_authenticated_user: true']),
    ],
    line: 6,
    key: 'routes[0].tls_downstream_client_ca_file',
    message: /cannot read file ".*missing\.pem": ENOENT/,
  },
  {
    name: 'PEM that does not parse',
    lines: ['client_ca_file: garbage.pem', 'routes:', ...route(['    allow_any_authenticated_user: true'])],
    line: 3,
    key: 'client_ca_file',
    message: /no PEM certificate found/,
  },
  {
    name: 'key that does not match its certificate',
    lines: ['routes:', ...route(['    allow_public_unauthenticated_access: true'])],
    line: 2,
    key: 'certificate_key_file',
    message: /does not match the certificate/,
  },
  {
    name: 'from that is not https',
    lines: [
      'routes:',
      '  - from: http://x.mtls.test',
      '    to: http://127.0.0.1:9',
      '    allow_public_unauthenticated_access: true',
    ],
    line: 4,
    key: 'routes[0].from',
    message: /must be an https URL/,
  },
  {
    name: 'a host whose routes trust two CAs of the same name',
    lines: [
      'routes:',
      ...route([
        '    prefix: /a',
        '    tls_downstream_client_ca_file: ca-a.pem',
        '    allow_any_authenticated_user: true',
      ]),
      ...route([
        '    prefix: /b',
        '    tls_downstream_client_ca_file: ca-a-twin.pem',
        '    allow_any_authenticated_user: true',
      ]),
    ],
    line: 4,
    key: 'routes[0]',
    message:
      /host x\.mtls\.test has routes with different client CAs, and two of those CAs have the same subject \(CN=Test CA A\)/,
  },
];

describe('config errors name the file, the key and the line, in validate and in run', () => {
  let pki: TestPki;
  before(async () => {
    pki = await createTestPki();
    writeFileSync(join(pki.dir, 'garbage.pem'), 'this is not a PEM file\n');
    writeFileSync(join(pki.dir, 'ca-comma.pem'), (await createRootCa({ commonName: 'Acme, Inc' })).certPem);
    writeFileSync(join(pki.dir, 'crl-a.pem'), await createCrl(pki.caAuthority, []));
    // Another CA with CA A's name: routes of one host are told apart by the issuer's name.
    writeFileSync(join(pki.dir, 'ca-a-twin.pem'), (await createRootCa({ commonName: 'Test CA A' })).certPem);
    const other = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    writeFileSync(join(pki.dir, 'other-key.pem'), other.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString());
  });

  for (const c of CASES) {
    for (const command of ['validate', 'run'] as const) {
      it(`${command}: ${c.name}`, async () => {
        const keyFile = c.name.startsWith('key that') ? 'other-key.pem' : 'server-key.pem';
        const file = join(pki.dir, `${command}-${c.name.replace(/\W+/g, '-')}.yaml`);
        const lines = ['certificate_file: server.pem', `certificate_key_file: ${keyFile}`, ...c.lines, ''];
        writeFileSync(file, lines.join('\n'));
        const res = await runCli([command, '--config', file]);
        assert.equal(res.code, 1, `exit code; stderr:\n${res.stderr}`);
        // The column is the key's first character (a list item's: the first after its dash).
        const column = lines[c.line - 1]!.search(/[^\s-]/) + 1;
        const expected = `${file}:${c.line}:${column}: ${c.key}: `;
        const line = res.stderr.split('\n').find((l) => l.includes(expected));
        assert.ok(line, `expected a line with "${expected}" in:\n${res.stderr}`);
        assert.match(line, c.message);
      });
    }
  }

  it('validate accepts a good config and says what it found', async () => {
    const file = join(pki.dir, 'good.yaml');
    writeFileSync(
      file,
      [
        'certificate_file: server.pem',
        'certificate_key_file: server-key.pem',
        'routes:',
        ...route(['    allow_public_unauthenticated_access: true']),
        '',
      ].join('\n'),
    );
    const res = await runCli(['validate', '--config', file]);
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stdout, /^config OK: 1 routes on 1 hosts, 1 filter chains/);
  });
});
