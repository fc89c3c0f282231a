import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { certificateSubject } from '../../control-plane/src/certificates/index.js';
import { issueClientCertificate } from '../../control-plane/src/pki/index.js';
import { startEdge, type RunningEdge } from '../support/edge.js';
import { httpsGet, rawHttp1, type ClientRequest } from '../support/https-client.js';
import { createTestPki, HOSTS, type ClientCert, type TestPki } from '../support/pki-fixture.js';
import { uniquePath } from '../support/seen.js';
import { startUpstream, type TestUpstream } from '../support/upstream.js';

type Entry = Record<string, unknown>;

// Host X trusts CA A (downstream_mtls, whose default enforcement answers a bad certificate with 495); its /denied
// route denies alice by policy. Host Y trusts CA B only: a connection made for X that asks for Y gets 421.
const yamlOf = (up: TestUpstream, extra = '') => `certificate_file: server.pem
certificate_key_file: server-key.pem
downstream_mtls:
  ca_file: ca-a.pem
${extra}routes:
  - from: https://${HOSTS.x}
    to: ${up.url}
    prefix: /denied
    policy:
      - allow:
          or:
            - accept: true
      - deny:
          or:
            - email: alice@example.com
  - from: https://${HOSTS.x}
    to: ${up.url}
    allow_any_authenticated_user: true
  - from: https://${HOSTS.y}
    to: ${up.url}
    tls_downstream_client_ca_file: ca-b.pem
    allow_any_authenticated_user: true
`;

/** Every access log line `run` forwarded so far (JSON log lines from Envoy that carry `access`). */
function accessLines(edge: RunningEdge): Array<Entry & { access: Entry }> {
  const out: Array<Entry & { access: Entry }> = [];
  for (const line of edge.output().split('\n')) {
    if (!line.includes('"access"')) continue;
    const parsed = JSON.parse(line) as Entry & { access?: Entry };
    if (parsed['src'] === 'envoy' && parsed.access) out.push({ ...parsed, access: parsed.access });
  }
  return out;
}

const accessEntries = (edge: RunningEdge): Entry[] => accessLines(edge).map((l) => l.access);

/** The one access log entry whose path is `path`, or starts with `path*` (each test request has a path of its own). */
async function entryFor(edge: RunningEdge, path: string): Promise<Entry> {
  const deadline = Date.now() + 10_000;
  const matches = (p: unknown) =>
    typeof p === 'string' && (path.endsWith('*') ? p.startsWith(path.slice(0, -1)) : p === path);
  for (;;) {
    const found = accessEntries(edge).filter((e) => matches(e['path']));
    if (found.length > 1) assert.fail(`${found.length} entries for ${path}`);
    if (found.length === 1) return found[0]!;
    if (Date.now() > deadline) assert.fail(`no access log entry for ${path}:\n${edge.output().slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const fingerprintOf = (c: ClientCert) => new X509Certificate(c.cert).fingerprint256.replace(/:/g, '').toLowerCase();
const subjectOf = (c: ClientCert) => certificateSubject(new X509Certificate(c.cert).raw).rfc2253;

describe('access logs: one JSON line per request from Envoy, forwarded by run', () => {
  let pki: TestPki;
  let up: TestUpstream;
  let edge: RunningEdge;
  let weird: ClientCert;
  // Quotes, commas, backslashes, a plus, control characters, non-ASCII: the subject must come out exact.
  const WEIRD_CN = 'Wei"rd, \\Name+ \u0001\u001f\u007f é';

  before(async () => {
    pki = await createTestPki();
    const issued = await issueClientCertificate(pki.caAuthority, { commonName: WEIRD_CN, email: 'w@example.com' });
    weird = { cert: issued.certPem, key: issued.keyPem };
    up = await startUpstream('u');
    edge = await startEdge({ dir: pki.dir, yaml: yamlOf(up) });
  });
  after(async () => {
    await edge?.stop();
    await up?.close();
  });

  const get = (path: string, extra: Partial<ClientRequest> = {}) =>
    httpsGet({ port: edge.httpsPort, servername: HOSTS.x, ca: pki.caA, path, ...extra });

  it('200: the request, the route, the upstream, and the certificate (SHA-256 fingerprint, subject)', async () => {
    const path = uniquePath('/ok');
    assert.equal((await get(path, { ...pki.clientA, headers: { 'user-agent': 'ua "1" \\' } })).status, 200);
    const e = await entryFor(edge, path);
    assert.equal(e['response-code'], 200);
    assert.equal(e['method'], 'GET');
    assert.equal(e['authority'], HOSTS.x);
    assert.equal(e['user-agent'], 'ua "1" \\');
    assert.equal(e['route'], 'route-1');
    assert.equal(e['upstream-host'], up.url.replace('http://', ''));
    assert.equal(e['response-flags'], '-');
    assert.equal(e['reason'], null);
    assert.equal(e['client-certificate-fingerprint'], fingerprintOf(pki.clientA));
    assert.equal(e['client-certificate-subject'], subjectOf(pki.clientA));
    assert.equal(typeof e['duration'], 'number');
    assert.equal(typeof e['bytes-sent'], 'number');
    assert.ok((e['bytes-sent'] as number) > 0);
    assert.equal(e['bytes-received'], 0);
    assert.ok(!Number.isNaN(Date.parse(e['time'] as string)));
    assert.match(e['request-id'] as string, /^[0-9a-f-]{36}$/);
  });

  it("the upstream's own statuses either side of 400: logged once each, with a reason from 400 on", async () => {
    for (const [status, reason] of [
      [302, null],
      [399, null],
      [400, 'via_upstream'],
    ] as const) {
      const path = uniquePath(`/status-${status}`);
      assert.equal((await get(path, pki.clientA)).status, status);
      const e = await entryFor(edge, path);
      assert.deepEqual([e['response-code'], e['reason'], e['route']], [status, reason, 'route-1'], path);
    }
  });

  it('403: the policy denied it, and the reason names the rule', async () => {
    const path = uniquePath('/denied');
    assert.equal((await get(path, pki.clientA)).status, 403);
    const e = await entryFor(edge, path);
    assert.equal(e['response-code'], 403);
    assert.equal(e['route'], 'route-0');
    assert.equal(e['reason'], 'rbac_access_denied_matched_policy[deny-rule-1]');
    assert.equal(e['upstream-host'], null);
    assert.equal(e['client-certificate-fingerprint'], fingerprintOf(pki.clientA));
  });

  it("each entry is the edge's own log line: level, time, service, src, msg", async () => {
    const path = uniquePath('/line');
    assert.equal((await get(path, pki.clientA)).status, 200);
    await entryFor(edge, path);
    const line = accessLines(edge).find((l) => l.access['path'] === path)!;
    assert.deepEqual(Object.keys(line).sort(), ['access', 'level', 'msg', 'service', 'src', 'time']);
    assert.deepEqual(
      [line['level'], line['service'], line['src'], line['msg']],
      [30, 'mtls-edge', 'envoy', 'http-request'],
    );
    assert.equal(line['time'], line.access['time']);
    assert.ok(Math.abs(Date.parse(line['time'] as string) - Date.now()) < 60_000);
  });

  it("421: a connection made for X with X's certificate asks for host Y", async () => {
    const path = uniquePath('/misdirected');
    assert.equal((await get(path, { ...pki.clientA, host: HOSTS.y })).status, 421);
    const e = await entryFor(edge, path);
    assert.deepEqual(
      [e['response-code'], e['authority'], e['route'], e['reason']],
      [421, HOSTS.y, 'misdirected', 'misdirected_request'],
    );
    assert.equal(e['client-certificate-subject'], subjectOf(pki.clientA));
  });

  it('495: no certificate, one from another CA, an expired one: each with its reason', async () => {
    const cases: Array<[ClientCert | undefined, string]> = [
      [undefined, 'client_certificate_missing'],
      [pki.clientB, 'client_certificate_invalid'],
      [pki.expiredA, 'client_certificate_invalid'],
    ];
    for (const [cert, reason] of cases) {
      const path = uniquePath('/bad-cert');
      assert.equal((await get(path, cert ?? {})).status, 495);
      const e = await entryFor(edge, path);
      assert.equal(e['response-code'], 495);
      assert.equal(e['reason'], reason);
      assert.equal(e['upstream-host'], null);
      // The certificate presented is logged even when it is refused: that is who was refused.
      assert.equal(e['client-certificate-fingerprint'], cert ? fingerprintOf(cert) : null);
    }
  });

  it('a subject with quotes, commas, backslashes, control characters: valid JSON, the exact value', async () => {
    const path = uniquePath('/weird');
    assert.equal((await get(path, weird)).status, 200);
    const e = await entryFor(edge, path);
    assert.equal(e['client-certificate-subject'], subjectOf(weird));
    // Envoy prints it in RFC 2253 form (escapes and all), as the project's printer does; JSON carries it exactly.
    assert.equal(e['client-certificate-subject'], 'CN=Wei\\"rd\\, \\\\Name\\+ \\01\\1F\\7F \\C3\\A9');
  });

  it('a path with %0A, quotes and braces can neither break the line nor forge another entry', async () => {
    const marker = uniquePath('/inject');
    const path = `${marker}%0A%0D{"path":"/forged","response-code":200}"\\'`;
    const res = await rawHttp1({ port: edge.httpsPort, servername: HOSTS.x, host: HOSTS.x, path, ...pki.clientA });
    assert.equal(res.status, 200);
    const e = await entryFor(edge, `${marker}*`);
    assert.equal(e['response-code'], 200);
    // Envoy normalizes the path (percent-encodes the quotes and braces); the log holds it as one string.
    assert.match(String(e['path']), /%0A%0D%7B%22path%22/);
    assert.equal(accessEntries(edge).filter((x) => x['path'] === '/forged').length, 0);
    // Every forwarded line is one JSON object: nothing the client sent split one.
    for (const line of edge
      .output()
      .split('\n')
      .filter((l) => l.startsWith('{')))
      JSON.parse(line);
  });

  it('access_log_fields picks the fields (headers too); off turns the log off', async () => {
    const synced = async (extra: string) => {
      const before = (await edge.status()).configVersion;
      edge.writeConfig(yamlOf(up, extra));
      await edge.waitForStatus((s) => s.configVersion !== before && s.synced && s.reload.errors.length === 0);
    };
    await synced('access_log_fields: [path, response-code, headers.x-trace-id]\n');
    const path = uniquePath('/picked');
    assert.equal((await get(path, { ...pki.clientA, headers: { 'x-trace-id': 't-1' } })).status, 200);
    assert.deepEqual(await entryFor(edge, path), { path, 'response-code': 200, 'headers.x-trace-id': 't-1' });

    await synced('access_log_fields: off\n');
    const count = accessEntries(edge).length;
    const quiet = uniquePath('/quiet');
    assert.equal((await get(quiet, pki.clientA)).status, 200);
    // Envoy writes access log lines out every 250 ms (run's --file-flush-interval-msec): four times that.
    await new Promise((r) => setTimeout(r, 1000));
    assert.equal(accessEntries(edge).length, count);
  });
});
