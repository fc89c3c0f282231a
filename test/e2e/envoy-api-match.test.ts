// The Envoy API the control plane encodes with is the API of the Envoy it runs (envoy/VERSION): fields newer than
// the protos of @grpc/grpc-js-xds, which the edge used before, reach Envoy, and Envoy takes them as written.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startEdge, type RunningEdge } from '../support/edge.js';
import { httpsGet } from '../support/https-client.js';
import { createTestPki, HOSTS, type TestPki } from '../support/pki-fixture.js';
import { startUpstream, type TestUpstream } from '../support/upstream.js';

describe('fields of the Envoy 1.40 API that older protos lack', () => {
  let pki: TestPki;
  let up: TestUpstream;
  let edge: RunningEdge;
  before(async () => {
    pki = await createTestPki();
    up = await startUpstream('u');
    edge = await startEdge({
      dir: pki.dir,
      yaml:
        'certificate_file: server.pem\ncertificate_key_file: server-key.pem\njwt_claims_headers:\n' +
        '  X-User-Email: email\ndownstream_mtls:\n  ca_file: ca-a.pem\nroutes:\n' +
        `  - from: https://${HOSTS.x}\n    to: ${up.url}\n    policy:\n      allow:\n        or:\n` +
        '          - client_certificate: { san_dns: { ends_with: .corp.example } }\n',
    });
  });
  after(async () => {
    await edge?.stop();
    await up?.close();
  });

  it(
    'Envoy acknowledges every type, and its config holds ' + 'header_mutation remove_on_match and Principal.custom',
    async () => {
      const status = await edge.waitForStatus(
        (s) => s.synced && s.nodes.length > 0 && s.nodes.every((n) => n.types.every((t) => t.acked)),
      );
      assert.equal(status.rejected, null);
      for (const node of status.nodes)
        for (const t of node.types) assert.equal(t.nack, undefined, `${t.typeUrl}: ${t.nack?.message}`);
      const dump = JSON.stringify(await (await fetch(`${edge.envoyAdminUrl}/config_dump`)).json());
      // What Envoy parsed, printed back: the fields were not dropped on the way.
      assert.match(dump, /"remove_on_match":\{"key_matcher":\{"prefix":"x-pomerium-"\}\}/);
      assert.match(dump, /"remove_on_match":\{"key_matcher":\{"exact":"x-user-email"\}\}/);
      const principalConfig = 'type.googleapis.com/envoy.extensions.rbac.principals.mtls_authenticated.v3.Config';
      assert.ok(
        dump.includes(
          `"custom":{"name":"envoy.rbac.principals.mtls_authenticated","typed_config":{"@type":"${principalConfig}"`,
        ),
      );
      assert.match(dump, /"san_matcher":\{"san_type":"DNS","matcher":\{"safe_regex"/);
    },
  );

  it('and applies them: a certificate without a matching DNS SAN is refused by the custom principal', async () => {
    const request = { port: edge.httpsPort, servername: HOSTS.x, ca: pki.caA, path: '/', ...pki.clientA };
    const res = await httpsGet(request);
    assert.equal(res.status, 403);
    assert.equal(up.seen.length, 0);
  });
});
