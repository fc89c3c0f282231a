import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { issueClientCertificate, issueServerCertificate } from '../../control-plane/src/pki/index.js';
import { startReplica } from '../support/replica-key.js';
import { requireEnvoy, runCli } from '../support/edge.js';
import { httpsGet } from '../support/https-client.js';
import {
  channelCredentials,
  createControlChannelPki,
  type ChannelClient,
  type ControlChannelPki,
} from '../support/control-channel-pki.js';
import { openAdsStream, tryAdsStream, tryCheck } from '../support/control-channel-client.js';
import { createTestPki, HOSTS, type TestPki } from '../support/pki-fixture.js';
import { freePort } from '../support/ports.js';
import { uniquePath } from '../support/seen.js';
import { startUpstream, type TestUpstream } from '../support/upstream.js';
import * as fixture from './control-channel-fixture.js';

const UNAVAILABLE = grpc.status.UNAVAILABLE;
const PERMISSION_DENIED = grpc.status.PERMISSION_DENIED;

// Production layout: `run --no-envoy` with the control channel over mutual TLS, an Envoy from `mtls-edge bootstrap`.
describe('the control channel: only our Envoys, over mutual TLS', () => {
  let pki: TestPki;
  let channel: ControlChannelPki;
  let edge1: ChannelClient;
  let upstream: TestUpstream;
  let controlPlane: ChildProcess;
  let envoy: ChildProcess;
  let configPath: string;
  let httpsPort: number;
  let xdsPort: number;
  let adminUrl: string;
  const target = () => `127.0.0.1:${xdsPort}`;
  let nodeIds = ['edge-1', 'fleet-member-1'];
  /** The route prefix of the config on disk, so that a test that changes something else keeps it (and the version). */
  let prefix = '/';
  const status = () => fixture.fetchStatus(adminUrl);
  const waitFor = (what: string, done: (s: fixture.Status) => boolean, timeoutMs = 20_000) =>
    fixture.waitForStatus(adminUrl, what, done, timeoutMs);
  const synced = (s: fixture.Status) =>
    s.synced && s.nodes.some((n) => n.node === 'edge-1' && n.types.every((t) => t.acked));
  const config = (prefix: string) =>
    fixture.controlChannelConfig({ httpsPort, adminUrl, xdsPort, channel, nodeIds, upstream, prefix });

  before(async () => {
    requireEnvoy();
    pki = await createTestPki();
    channel = await createControlChannelPki(pki.dir);
    edge1 = await channel.node('edge-1');
    upstream = await startUpstream('c');
    [httpsPort, xdsPort] = [await freePort(), await freePort()];
    adminUrl = `http://127.0.0.1:${await freePort()}`;
    configPath = join(pki.dir, 'config.yaml');
    writeFileSync(configPath, config('/'));
    const tls = ['--xds-client-cert', edge1.certFile, '--xds-client-key', edge1.keyFile, '--xds-ca', channel.caFile];
    const admin = ['--envoy-admin-address', `127.0.0.1:${await freePort()}`];
    const res = await runCli(['bootstrap', '--config', configPath, '--node-id', 'edge-1', ...admin, ...tls]);
    assert.equal(res.code, 0, res.stderr);
    const bootstrap = join(pki.dir, 'bootstrap.yaml');
    writeFileSync(bootstrap, res.stdout);
    controlPlane = startReplica(configPath);
    envoy = spawn(
      requireEnvoy(),
      ['-c', bootstrap, '--disable-hot-restart', '--concurrency', '1', '--drain-time-s', '1', '--log-level', 'warning'],
      { stdio: 'ignore' },
    );
    await waitFor('Envoy edge-1 synced over mutual TLS', synced, 30_000);
  });
  after(async () => {
    await fixture.stopChildren([envoy, controlPlane]);
    await upstream?.close();
  });

  it(
    'an Envoy with its certificate gets its config and ext_authz ' +
      'answers it (a signed identity reaches the upstream)',
    async () => {
      assert.equal(
        (await httpsGet({ port: httpsPort, servername: HOSTS.z, ca: pki.caA, path: '/p' })).body,
        'upstream c /p',
      );
      const before = upstream.seen.length;
      const res = await httpsGet({ port: httpsPort, servername: HOSTS.x, ca: pki.caA, path: '/id', ...pki.clientA });
      assert.equal(res.status, 200, res.body);
      assert.match(String(upstream.seen[before]?.headers['x-pomerium-jwt-assertion']), /^ey/);
    },
  );

  it('no certificate, plaintext, another CA or an expired certificate: no ADS stream, no Check', async () => {
    const attackers: Array<[string, grpc.ChannelCredentials]> = [
      ['plaintext', grpc.credentials.createInsecure()],
      ['TLS without a client certificate', channelCredentials(channel.ca.certPem)],
      ['a certificate from another CA naming the node', channelCredentials(channel.ca.certPem, channel.foreign)],
      ['an expired certificate from the right CA', channelCredentials(channel.ca.certPem, channel.expired)],
    ];
    for (const [who, credentials] of attackers) {
      const ads = await tryAdsStream(target(), credentials, 'mtls-edge');
      assert.deepEqual(ads.responses, [], `${who}: nothing is served`);
      assert.equal(ads.error?.code, UNAVAILABLE, `${who}: the handshake fails (${JSON.stringify(ads.error)})`);
      const check = await tryCheck(target(), credentials, {
        attributes: {
          source: { certificate: encodeURIComponent(pki.clientA.cert) },
          context_extensions: { route: 'route-1' },
        },
      });
      assert.equal(check.response, undefined, `${who}: no Check answer`);
      assert.equal(check.error?.code, UNAVAILABLE, who);
    }
  });

  it(
    "a valid certificate cannot ask for another node's " + 'config; a fleet certificate only for the listed node ids',
    async () => {
      const edge2 = await channel.node('edge-2');
      const asOther = await tryAdsStream(target(), channelCredentials(channel.ca.certPem, edge2), 'edge-1');
      assert.deepEqual(asOther.responses, []);
      assert.equal(asOther.error?.code, PERMISSION_DENIED);
      assert.match(
        asOther.error?.details ?? '',
        /node id "edge-1" is not the one the client certificate names node "edge-2"/,
      );
      const unlisted = await tryAdsStream(target(), channelCredentials(channel.ca.certPem, edge2), 'edge-2');
      assert.equal(unlisted.error?.code, PERMISSION_DENIED, 'edge-2 is not in xds_node_ids');
      const fleet = await channel.fleet('blue');
      const fleetOutside = await tryAdsStream(target(), channelCredentials(channel.ca.certPem, fleet), 'edge-9');
      assert.equal(fleetOutside.error?.code, PERMISSION_DENIED);
      assert.match(fleetOutside.error?.details ?? '', /fleet certificate may only use the node ids in xds_node_ids/);
      // The positive controls: the same client code gets config when the certificate names the node.
      const fleetMember = await tryAdsStream(target(), channelCredentials(channel.ca.certPem, fleet), 'fleet-member-1');
      assert.equal(fleetMember.error, undefined);
      assert.equal(fleetMember.responses[0]?.type_url, 'type.googleapis.com/envoy.config.listener.v3.Listener');
      const own = await tryAdsStream(target(), channelCredentials(channel.ca.certPem, edge1), 'edge-1');
      assert.equal(own.error, undefined);
      assert.ok(own.responses.length > 0);
      await waitFor('the real edge-1 still synced', synced);
    },
  );

  it('Check answers only a certificate that names a node this control plane serves', async () => {
    const request = {
      attributes: {
        source: { certificate: encodeURIComponent(pki.clientA.cert) },
        context_extensions: { route: 'no-such-route' },
      },
    };
    const unlisted = await tryCheck(
      target(),
      channelCredentials(channel.ca.certPem, await channel.node('edge-2')),
      request,
    );
    assert.equal(unlisted.response, undefined);
    assert.equal(unlisted.error?.code, PERMISSION_DENIED, 'edge-2 is not in xds_node_ids');
    assert.match(unlisted.error?.details ?? '', /names no node this control plane serves/);
    const nameless = await issueClientCertificate(channel.ca, { commonName: 'edge-1', extendedKeyUsage: 'clientAuth' });
    const noNode = await tryCheck(
      target(),
      channelCredentials(channel.ca.certPem, { cert: nameless.certPem, key: nameless.keyPem }),
      request,
    );
    assert.equal(noNode.error?.code, PERMISSION_DENIED, 'a CN is not a node id');
    // The positive control: the same call with edge-1's certificate reaches the service (which denies the unknown
    // route).
    const answered = await tryCheck(target(), channelCredentials(channel.ca.certPem, edge1), request);
    assert.equal(answered.error, undefined);
    assert.match(answered.response?.denied_response?.body ?? '', /not known to the control plane/);
  });

  it(
    'rotating the control channel certificate under load: no ' +
      'failed request, new handshakes get the new certificate',
    async () => {
      const seenCertificate = () =>
        new Promise<string>((resolve, reject) => {
          const socket = connect(
            {
              host: '127.0.0.1',
              port: xdsPort,
              ca: channel.ca.certPem,
              cert: edge1.cert,
              key: edge1.key,
              servername: 'localhost',
              ALPNProtocols: ['h2'],
            },
            () => {
              resolve(createHash('sha256').update(socket.getPeerX509Certificate()!.raw).digest('hex'));
              socket.destroy();
            },
          );
          socket.on('error', reject);
        });
      const before = await seenCertificate();
      const failures: string[] = [];
      let served = 0;
      let loading = true;
      const load = (async () => {
        while (loading) {
          try {
            const r = await httpsGet({
              port: httpsPort,
              servername: HOSTS.x,
              ca: pki.caA,
              path: '/load',
              ...pki.clientA,
            });
            if (r.status === 200) served++;
            else failures.push(`${r.status} ${r.body}`);
          } catch (e) {
            failures.push((e as Error).message);
          }
        }
      })();
      await new Promise((r) => setTimeout(r, 300));
      const next = await issueServerCertificate(channel.ca, { dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] });
      const lastApplied = (await status()).reload.lastApplied;
      // As a certificate manager does: each file replaced whole, the key first.
      writeFileSync(`${channel.keyFile}.new`, next.keyPem);
      writeFileSync(`${channel.certFile}.new`, next.chainPem);
      renameSync(`${channel.keyFile}.new`, channel.keyFile);
      renameSync(`${channel.certFile}.new`, channel.certFile);
      await waitFor(
        'the new certificate applied',
        (s) => s.reload.lastApplied !== lastApplied && s.reload.errors.length === 0,
      );
      const after = await seenCertificate();
      assert.notEqual(after, before);
      assert.equal(
        after,
        createHash('sha256')
          .update(new (await import('node:crypto')).X509Certificate(next.certPem).raw)
          .digest('hex'),
      );
      // The channel still carries config: an edit reaches Envoy after the rotation.
      const version = (await status()).configVersion;
      prefix = uniquePath('/after-rotation');
      writeFileSync(configPath, config(prefix));
      await waitFor('Envoy acknowledged an edit after the rotation', (s) => s.configVersion !== version && synced(s));
      await new Promise((r) => setTimeout(r, 300));
      loading = false;
      await load;
      assert.deepEqual(failures, []);
      assert.ok(served > 10, `requests were served during the rotation (${served})`);
      assert.equal(
        (await httpsGet({ port: httpsPort, servername: HOSTS.z, ca: pki.caA, path: `${prefix}/x` })).status,
        200,
      );
      // A new connection of Envoy's own accepts the new certificate too: restart the control plane, and Envoy syncs
      // again.
      const stopped = new Promise((r) => controlPlane.once('exit', r));
      controlPlane.kill('SIGTERM');
      await stopped;
      controlPlane = startReplica(configPath);
      await waitFor('Envoy reconnected to the new certificate', synced, 30_000);
    },
  );

  it('an open stream ends when its node leaves xds_node_ids; later calls from it are refused too', async () => {
    const fleet = await channel.fleet('green');
    const credentials = channelCredentials(channel.ca.certPem, fleet);
    const { stream, first, ended } = openAdsStream(target(), credentials, 'fleet-member-1');
    assert.equal(
      (await first).type_url,
      'type.googleapis.com/envoy.config.listener.v3.Listener',
      'admitted while listed',
    );
    const version = (await status()).configVersion;
    const listed = nodeIds;
    try {
      nodeIds = ['edge-1'];
      writeFileSync(configPath, config(prefix));
      const end = await ended;
      assert.equal(end.code, PERMISSION_DENIED, JSON.stringify(end));
      assert.match(end.details, /not in xds_node_ids|fleet certificate may only use/);
      stream.cancel();
      // (xds_node_ids is not part of what Envoy gets: the version stays, and edge-1 keeps its stream.)
      const after = await waitFor('edge-1 is still served', synced);
      assert.equal(after.configVersion, version);
      assert.deepEqual(
        after.nodes.map((n) => n.node),
        ['edge-1'],
      );
    } finally {
      // The fleet member is listed again for the other tests, whatever the order.
      const lastApplied = (await status()).reload.lastApplied;
      nodeIds = listed;
      writeFileSync(configPath, config(prefix));
      await waitFor(
        'the node list restored',
        (s) => s.reload.lastApplied !== lastApplied && s.reload.errors.length === 0,
      );
    }
  });
});
