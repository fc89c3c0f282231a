// The fan-out bench's simulated Envoy (issue 13) must behave as Envoy does towards the control plane, or the bench
// times something else: over the control channel (its own node certificate), it subscribes to clusters and
// listeners, then to the route configurations and secrets they name, ACKs every response, and the server then
// counts it as running the snapshot in full; an edit reaches it and is ACKed again. Both protocols.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import pino from 'pino';
import { SimulatedEnvoy } from '../../../control-plane/bench/fanout-envoy.js';
import type { EnvoyResources } from '../../../control-plane/src/envoy-api/index.js';
import { AdsServer, ControlChannelCredentials, PeerPolicy } from '../../../control-plane/src/xds/index.js';
import { channelCredentials, createControlChannelPki } from '../../support/control-channel-pki.js';
import { snapshotOf } from '../xds/fixtures.js';

const HCM = 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';
const TLS = 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext';

/** A listener naming route configuration `main` and secret `server`, whose host a.example goes to `cluster`. */
function resources(cluster: string): EnvoyResources {
  const ads = { ads: {}, resource_api_version: 'V3' };
  return {
    clusters: ['c1', 'c2'].map((name) => ({ name, resource: { name, connect_timeout: { seconds: 1 } } })),
    listeners: [
      {
        name: 'https',
        resource: {
          name: 'https',
          filter_chains: [
            {
              filters: [
                {
                  name: 'hcm',
                  typed_config: {
                    '@type': HCM,
                    stat_prefix: 'https',
                    rds: { route_config_name: 'main', config_source: ads },
                  },
                },
              ],
              transport_socket: {
                name: 'tls',
                typed_config: {
                  '@type': TLS,
                  common_tls_context: { tls_certificate_sds_secret_configs: [{ name: 'server', sds_config: ads }] },
                },
              },
            },
          ],
        },
      },
    ],
    routeConfigurations: [
      {
        name: 'main',
        resource: {
          name: 'main',
          virtual_hosts: [
            { name: 'a', domains: ['a.example'], routes: [{ match: { prefix: '/' }, route: { cluster } }] },
          ],
        },
      },
    ],
    secrets: [
      { name: 'server', resource: { name: 'server', validation_context: { trusted_ca: { inline_string: 'X' } } } },
    ],
  } as unknown as EnvoyResources;
}

const probe = (config: Record<string, unknown>) => {
  const hosts = (config['virtual_hosts'] ?? []) as Array<{ routes?: Array<{ route?: { cluster?: string } }> }>;
  return hosts[0]?.routes?.[0]?.route?.cluster;
};

for (const protocol of ['sotw', 'delta'] as const) {
  test(`${protocol}: the server counts a simulated Envoy as synced after each snapshot it ACKs`, async () => {
    const channel = await createControlChannelPki(mkdtempSync(join(tmpdir(), 'mtls-edge-fanout-envoy-')));
    const peers = new PeerPolicy();
    peers.setClientCa(channel.ca.certPem);
    const ads = new AdsServer(pino({ level: 'silent' }), peers);
    const credentials = new ControlChannelCredentials({
      certPem: readFileSync(channel.certFile, 'utf8'),
      keyPem: readFileSync(channel.keyFile, 'utf8'),
      clientCaPem: channel.ca.certPem,
    });
    const port = await ads.listen({ host: '127.0.0.1', port: 0 }, credentials.credentials);
    ads.setSnapshot(snapshotOf(resources('c1')));
    const envoy = new SimulatedEnvoy({
      target: `127.0.0.1:${port}`,
      credentials: channelCredentials(channel.ca.certPem, await channel.node('edge-1')),
      nodeId: 'edge-1',
      protocol,
      probe,
    });
    try {
      await envoy.reached('c1');
      await waitFor(() => ads.everyEnvoySynced());
      const [node] = ads.status();
      assert.deepEqual(
        Object.fromEntries((node?.types ?? []).map((t) => [t.typeUrl.split('.').pop(), t.subscribed])),
        { Cluster: 'wildcard', Listener: 'wildcard', RouteConfiguration: ['main'], Secret: ['server'] },
        'it asked for what the listener names',
      );
      const editAt = Date.now();
      ads.setSnapshot(snapshotOf(resources('c2')));
      assert.equal(ads.everyEnvoySynced(), false);
      const ackedAt = await envoy.reached('c2');
      assert.ok(ackedAt >= editAt);
      await waitFor(() => ads.everyEnvoySynced());
      assert.equal(ads.fleet.view()[0]?.syncedVersion, ads.current?.version);
      assert.equal(envoy.error, undefined);
    } finally {
      envoy.stop();
      await ads.close();
    }
  });
}

async function waitFor(done: () => boolean): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!done()) {
    if (Date.now() > deadline) throw new Error('not reached in 5 s');
    await new Promise((r) => setTimeout(r, 5));
  }
}
