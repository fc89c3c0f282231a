// CRLs on a host whose routes trust different CAs (issue 11): the handshake verifies against the union of the
// routes' CAs, so that union must carry every CA's CRL. Checked under each enforcement, next to hosts that
// trust one CA each (their own chains, their own CRL), with real Envoy and certificates made here.
import assert from 'node:assert/strict';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Enforcement } from '../../control-plane/src/config/index.js';
import { startEdge, type RunningEdge } from '../support/edge.js';
import { expectHandshakeRefused, httpsGet, type ClientResponse } from '../support/https-client.js';
import { createCrlPki, type CrlPki } from '../support/crl-pki.js';
import { HOSTS, type ClientCert } from '../support/pki-fixture.js';
import { startUpstream, type TestUpstream } from '../support/upstream.js';

const ENFORCEMENTS: readonly Enforcement[] = ['policy_with_default_deny', 'policy', 'reject_connection'];
/** HOSTS.x is shared: /one trusts CA 1, /two trusts CA 2. HOSTS.y trusts only CA 1, HOSTS.z only CA 2. */
const SHARED = HOSTS.x;

function configYaml(pki: CrlPki, enforcement: Enforcement, upstream: string): string {
  const route = (host: string, ca: string, prefix?: string) =>
    `  - from: https://${host}\n${prefix ? `    prefix: ${prefix}\n` : ''}    to: ${upstream}\n    tls_downstream_client_ca_file: ${ca}\n    allow_any_authenticated_user: true\n`;
  return (
    `certificate_file: ${pki.files.serverCert}\ncertificate_key_file: ${pki.files.serverKey}\n` +
    // One file with both CAs' CRLs, as Pomerium's downstream_mtls.crl_file takes it.
    `downstream_mtls:\n  crl_file: ${pki.files.crls}\n  enforcement: ${enforcement}\nroutes:\n` +
    route(SHARED, pki.files.ca1, '/one') +
    route(SHARED, pki.files.ca2, '/two') +
    route(HOSTS.y, pki.files.ca1) +
    route(HOSTS.z, pki.files.ca2)
  );
}

let pkiPromise: Promise<CrlPki> | undefined;
const sharedPki = () => (pkiPromise ??= createCrlPki());
after(async () => {
  if (pkiPromise) rmSync((await pkiPromise).dir, { recursive: true, force: true });
});

for (const enforcement of ENFORCEMENTS) {
  describe(`CRLs of a host shared by routes with different CAs (enforcement: ${enforcement})`, () => {
    let pki: CrlPki;
    let up: TestUpstream;
    let edge: RunningEdge;
    before(async () => {
      pki = await sharedPki();
      const dir = join(pki.dir, enforcement);
      mkdirSync(dir, { recursive: true });
      up = await startUpstream('u');
      edge = await startEdge({ dir, yaml: configYaml(pki, enforcement, up.url) });
    });
    after(async () => {
      await edge?.stop();
      await up?.close();
    });

    const get = (host: string, path: string, c: ClientCert): Promise<ClientResponse> =>
      httpsGet({
        port: edge.httpsPort,
        servername: host,
        ca: pki.serverCa,
        path,
        headers: { accept: 'application/json' },
        ...c,
      });

    /**
     * The request must not reach the upstream: a 495 naming an invalid certificate, or a TLS alert saying it is
     * revoked.
     */
    async function assertRefused(
      host: string,
      path: string,
      c: ClientCert,
      expected: '495' | 'revoked at the handshake',
    ): Promise<void> {
      const seenBefore = up.seen.length;
      if (expected === '495') {
        const res = await get(host, path, c);
        assert.equal(res.status, 495, `${host}${path}: ${res.status} ${res.body.slice(0, 120)}`);
        // Revoked, not merely another CA's: the per-route issuer check alone would say "not for this page".
        assert.match((JSON.parse(res.body) as { message: string }).message, /not valid here/);
      } else {
        assert.match(
          await expectHandshakeRefused({ port: edge.httpsPort, servername: host, ca: pki.serverCa, path, ...c }),
          /CERTIFICATE_REVOKED/,
        );
      }
      assert.equal(up.seen.length, seenBefore, `${host}${path} reached the upstream`);
    }

    async function assertAdmitted(host: string, path: string, c: ClientCert): Promise<void> {
      const res = await get(host, path, c);
      assert.deepEqual(res, { status: 200, body: `upstream u ${path}` });
      assert.equal(up.seen.at(-1)?.url, path);
    }

    // The shared host's handshake cannot know the route, so it refuses nothing itself: 495 under every enforcement.
    it(
      "shared host: CA 1's route refuses the certificate " + "CA 1's CRL revokes, and admits CA 1's unrevoked one",
      async () => {
        await assertRefused(SHARED, '/one/revoked', pki.revoked1, '495');
        await assertAdmitted(SHARED, '/one/good', pki.good1);
      },
    );
    it(
      "shared host: CA 2's route refuses the certificate " + "CA 2's CRL revokes, and admits CA 2's unrevoked one",
      async () => {
        await assertRefused(SHARED, '/two/revoked', pki.revoked2, '495');
        await assertAdmitted(SHARED, '/two/good', pki.good2);
      },
    );
    // A host with one CA has a chain of its own, given only that CA's CRL; the handshake refuses under
    // reject_connection.
    const single = enforcement === 'reject_connection' ? 'revoked at the handshake' : '495';
    it(`hosts of one CA each: the revoked certificate is refused (${single}), the unrevoked one admitted`, async () => {
      await assertRefused(HOSTS.y, '/revoked', pki.revoked1, single);
      await assertAdmitted(HOSTS.y, '/good', pki.good1);
      await assertRefused(HOSTS.z, '/revoked', pki.revoked2, single);
      await assertAdmitted(HOSTS.z, '/good', pki.good2);
    });
  });
}
