// The client certificate the edge presents to upstreams: an SDS secret each cluster names, never the key inline;
// clusters apart per certificate; a rotation of its files changes the secret and nothing else.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { createRootCa, issueClientCertificate } from '../../../control-plane/src/pki/index.js';
import { buildEdgeModel } from '../../../control-plane/src/model/index.js';
import { inconsistencies, translate } from '../../../control-plane/src/translate/index.js';
import type { EnvoyResources } from '../../../control-plane/src/envoy-api/index.js';
import { expectOk, loadPems, run, standardFiles, type Pems } from '../config/fixture.js';

interface Pair {
  cert: string;
  key: string;
}
let pems: Pems;
let one: Pair;
let two: Pair;
let three: Pair;

before(async () => {
  pems = await loadPems();
  const ca = await createRootCa({ commonName: 'Upstream Client CA' });
  const issue = async (commonName: string) => {
    const c = await issueClientCertificate(ca, { commonName });
    return { cert: c.certPem, key: c.keyPem };
  };
  [one, two, three] = await Promise.all([issue('edge-one'), issue('edge-two'), issue('edge-three')]);
});

const YAML = `certificate_file: server.pem
certificate_key_file: server-key.pem
routes:
  - from: https://a.example.com
    to: https://10.0.0.1:8443
    tls_client_cert_file: one.pem
    tls_client_key_file: one-key.pem
    allow_public_unauthenticated_access: true
  - from: https://b.example.com
    to: https://10.0.0.1:8443
    tls_client_cert_file: two.pem
    tls_client_key_file: two-key.pem
    allow_public_unauthenticated_access: true
  - from: https://c.example.com
    to: https://10.0.0.1:8443
    tls_client_cert_file: one.pem
    tls_client_key_file: one-key.pem
    allow_public_unauthenticated_access: true
  - from: https://d.example.com
    to: https://10.0.0.1:8443
    allow_public_unauthenticated_access: true
  - from: https://e.example.com
    to: https://10.0.0.1:8443
    tls_upstream_allow_renegotiation: true
    allow_public_unauthenticated_access: true
`;

function resourcesWith(first: Pair): EnvoyResources {
  const files = {
    ...standardFiles(pems),
    '/etc/edge/one.pem': first.cert,
    '/etc/edge/one-key.pem': first.key,
    '/etc/edge/two.pem': two.cert,
    '/etc/edge/two-key.pem': two.key,
  };
  const model = buildEdgeModel(expectOk(run(YAML, { files })));
  assert.ok(model.ok);
  return translate(model.value);
}

/** The UpstreamTlsContext of each cluster, by cluster name. */
function tlsContexts(r: EnvoyResources): Map<string, Record<string, unknown>> {
  return new Map(
    r.clusters.map((c) => [c.name, (c.resource.transport_socket?.typed_config ?? {}) as Record<string, unknown>]),
  );
}

const clusterOfRoute = (r: EnvoyResources, host: string): string => {
  const vhosts = r.routeConfigurations.flatMap((rc) => rc.resource.virtual_hosts ?? []);
  // The host's own route (the edge's health and page routes come first and name no cluster).
  const routes = vhosts.find((v) => v.domains?.includes(host))?.routes ?? [];
  const cluster = routes.find((r) => r.name?.startsWith('route-'))?.route?.cluster;
  assert.ok(cluster, `a cluster for ${host}`);
  return cluster;
};

describe('an upstream client certificate in Envoy resources', () => {
  it('is an SDS secret that the cluster names; the key is never in a cluster', () => {
    const r = resourcesWith(one);
    assert.deepEqual(inconsistencies(r), []);
    const a = clusterOfRoute(r, 'a.example.com');
    const common = tlsContexts(r).get(a)!['common_tls_context'] as Record<string, unknown>;
    const refs = common['tls_certificate_sds_secret_configs'] as Array<{ name: string }>;
    assert.equal(refs.length, 1);
    assert.match(refs[0]!.name, /^upstream-client-cert-[0-9a-f]{16}$/);
    assert.equal(common['tls_certificates'], undefined);
    const secret = r.secrets.find((s) => s.name === refs[0]!.name)!.resource;
    assert.equal(secret.tls_certificate?.private_key?.inline_string, one.key);
    assert.match(secret.tls_certificate?.certificate_chain?.inline_string ?? '', /BEGIN CERTIFICATE/);
    const clusters = JSON.stringify(r.clusters);
    assert.doesNotMatch(clusters, /PRIVATE KEY/);
  });

  it('keeps clusters of one upstream apart by certificate, and shares one per certificate', () => {
    const r = resourcesWith(one);
    const [a, b, c, d, e] = ['a', 'b', 'c', 'd', 'e'].map((h) => clusterOfRoute(r, `${h}.example.com`)) as [
      string,
      string,
      string,
      string,
      string,
    ];
    assert.equal(a, c, 'the same certificate files: one cluster');
    assert.equal(new Set([a, b, d, e]).size, 4, `${a} ${b} ${d} ${e}`);
    assert.equal(d, 'https-10.0.0.1-8443', 'a cluster without a certificate keeps its name');
    const secrets = r.secrets.filter((s) => s.name.startsWith('upstream-client-cert-'));
    assert.equal(secrets.length, 2);
    const contexts = tlsContexts(r);
    assert.equal(contexts.get(e)!['allow_renegotiation'], true);
    assert.equal(contexts.get(d)!['allow_renegotiation'], undefined);
  });

  it('rotates by its files: new content changes that secret only, under the same name', () => {
    const before = resourcesWith(one);
    const after = resourcesWith(three);
    assert.equal(JSON.stringify(after.clusters), JSON.stringify(before.clusters));
    assert.equal(JSON.stringify(after.routeConfigurations), JSON.stringify(before.routeConfigurations));
    assert.deepEqual(
      after.secrets.map((s) => s.name),
      before.secrets.map((s) => s.name),
    );
    const changed = after.secrets.filter(
      (s, i) => JSON.stringify(s.resource) !== JSON.stringify(before.secrets[i]!.resource),
    );
    assert.equal(changed.length, 1);
    assert.equal(changed[0]!.resource.tls_certificate?.private_key?.inline_string, three.key);
  });
});
