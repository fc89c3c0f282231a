import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { readBootstrapTemplate, renderBootstrap } from '../../../control-plane/src/runtime/bootstrap.js';
import {
  containerOf,
  find,
  KUBERNETES_DIR,
  mountedConfig,
  portIn,
  portOf,
  render,
  type K8sObject,
} from '../../support/kubernetes.js';

// deploy/kubernetes/base/envoy-bootstrap.yaml is envoy/bootstrap.yaml rendered for the Envoy Deployment: committed,
// because `mtls-edge bootstrap` would need every file the config names (the server key, the signing key) in the
// Envoy pods. Regenerate it with UPDATE_GOLDEN=1 node --test dist/test/unit/deploy/kubernetes-bootstrap.test.js.
const FILE = join(KUBERNETES_DIR, 'base', 'envoy-bootstrap.yaml');
const HEADER =
  '# Rendered from envoy/bootstrap.yaml for the Envoy Deployment (test/unit/deploy/kubernetes-bootstrap.test.ts\n' +
  '# keeps the two in step). Node id "edge": every Envoy of the Deployment shares it and its client certificate.\n';
const NODE_ID = 'edge';

/** What the bootstrap must say, taken from the manifests themselves. */
function expected(objects: K8sObject[]): string {
  const service = find(objects, 'Service', 'mtls-edge-control-plane');
  const config = mountedConfig(objects).data;
  const xdsPort = service.spec.ports[0]!.port;
  assert.equal(xdsPort, portIn(config['xds_address'] as string), "the Service's port is the config's xds_address");
  const envoy = containerOf(find(objects, 'Deployment', 'mtls-edge-envoy'), 'envoy');
  const preStop = envoy.lifecycle?.preStop?.exec?.command ?? [];
  const admin = preStop[preStop.indexOf('--envoy-admin-address') + 1]!;
  const channel = '/etc/mtls-edge/control-channel';
  return (
    HEADER +
    renderBootstrap(readBootstrapTemplate(), {
      nodeId: NODE_ID,
      xds: {
        kind: 'tls',
        // The short name: the pods' DNS search path adds the namespace, whichever an overlay picks.
        address: { host: service.metadata.name, port: xdsPort },
        serverName: service.metadata.name,
        caFile: `${channel}/ca.crt`,
        certFile: `${channel}/tls.crt`,
        keyFile: `${channel}/tls.key`,
      },
      envoyAdmin: { host: admin.split(':')[0]!, port: portIn(admin) },
      // On the pod's address, for the kubelet's probes and Prometheus.
      health: { host: '0.0.0.0', port: portOf(envoy, 'health') },
      metrics: { host: '0.0.0.0', port: portOf(envoy, 'metrics') },
    })
  );
}

describe('deploy/kubernetes/base/envoy-bootstrap.yaml', () => {
  it('is envoy/bootstrap.yaml rendered for the headless Service, the mounted certificate and the drain hook', () => {
    const want = expected(render(join(KUBERNETES_DIR, 'base')).objects);
    if (process.env['UPDATE_GOLDEN'] === '1') writeFileSync(FILE, want);
    assert.equal(readFileSync(FILE, 'utf8'), want, `regenerate ${FILE} (UPDATE_GOLDEN=1, see this test)`);
  });
});
