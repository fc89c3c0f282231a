// Issue 13: two control-plane replicas started from the same config (each its own process, its own ports) serve
// the same resources, byte for byte, under the same versions, so an Envoy can move from one to the other; and
// a JWT one replica signs verifies against the JWKS the other serves.
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createLocalJWKSet, jwtVerify, type JSONWebKeySet } from 'jose';
import { fetchServed, type ServedType } from '../support/ads-fetch.js';
import { tryCheck } from '../support/control-channel-client.js';
import { channelCredentials, createControlChannelPki, type ControlChannelPki } from '../support/control-channel-pki.js';
import { createTestPki, HOSTS, type TestPki } from '../support/pki-fixture.js';
import { freePort } from '../support/ports.js';
import { startReplica } from '../support/replica-key.js';
import { startUpstream, type TestUpstream } from '../support/upstream.js';
import * as fixture from './control-channel-fixture.js';

interface Replica {
  child: ChildProcess;
  adminUrl: string;
  xdsPort: number;
}

type Served = Awaited<ReturnType<typeof fetchServed>>;

describe('two replicas of one config', () => {
  let pki: TestPki;
  let channel: ControlChannelPki;
  let upstream: TestUpstream;
  const replicas: Replica[] = [];
  const served: Served[] = [];

  before(async () => {
    pki = await createTestPki();
    channel = await createControlChannelPki(pki.dir);
    upstream = await startUpstream('replicas');
    const configPath = join(pki.dir, 'replicas.yaml');
    // The file names no admin or xDS port: each replica gets its own from the environment, as on two hosts.
    const yaml = fixture
      .controlChannelConfig({
        httpsPort: await freePort(),
        adminUrl: 'http://127.0.0.1:1',
        xdsPort: 1,
        channel,
        nodeIds: ['edge-1'],
        upstream,
        prefix: '/',
      })
      .replace(/^(admin_address|xds_address): .*\n/gm, '');
    writeFileSync(configPath, yaml);
    for (let i = 0; i < 2; i++) {
      const [admin, xdsPort] = [await freePort(), await freePort()];
      const child = startReplica(configPath, {
        ADMIN_ADDRESS: `127.0.0.1:${admin}`,
        XDS_ADDRESS: `127.0.0.1:${xdsPort}`,
      });
      replicas.push({ child, adminUrl: `http://127.0.0.1:${admin}`, xdsPort });
    }
    for (const r of replicas) await fixture.waitForStatus(r.adminUrl, 'ready', (s) => s.ready, 20_000);
    const credentials = channelCredentials(channel.ca.certPem, await channel.node('edge-1'));
    for (const r of replicas) served.push(await fetchServed(`127.0.0.1:${r.xdsPort}`, credentials, 'edge-1'));
  });

  after(async () => {
    await fixture.stopChildren(replicas.map((r) => r.child));
    await upstream?.close();
  });

  it('serve every type at the same version, with the same resources byte for byte', () => {
    const [a, b] = served as [Served, Served];
    for (const type of ['cluster', 'listener', 'routes', 'secret'] as const) {
      const [x, y]: [ServedType, ServedType] = [a[type], b[type]];
      assert.ok(Object.keys(x.resources).length > 0, `${type}: something is served`);
      assert.equal(x.version, y.version, `${type}: the same version`);
      assert.deepEqual(x.resources, y.resources, `${type}: the same bytes`);
    }
  });

  it('report the same config version and type versions in /status', async () => {
    const [s1, s2] = await Promise.all(replicas.map((r) => fixture.fetchStatus(r.adminUrl)));
    assert.ok(s1 && s2);
    assert.equal(s1.configVersion, s2.configVersion);
    assert.deepEqual(s1.typeVersions, s2.typeVersions);
  });

  it("a JWT one replica signs (ext_authz) verifies against the other replica's JWKS", async () => {
    const [a, b] = served as [Served, Served];
    const routeKey = extAuthzRouteKey(a.routes.decoded, HOSTS.x);
    const credentials = channelCredentials(channel.ca.certPem, await channel.node('edge-1'));
    const check = await tryCheck(`127.0.0.1:${replicas[0]!.xdsPort}`, credentials, {
      attributes: {
        source: { certificate: encodeURIComponent(pki.clientA.cert) },
        request: { http: { method: 'GET', path: '/', headers: { ':authority': HOSTS.x } } },
        context_extensions: { route: routeKey },
      },
    });
    const jwt = check.response?.ok_response?.headers?.find((h) => h.header?.key === 'x-pomerium-jwt-assertion')?.header
      ?.value;
    assert.ok(jwt, `replica 1 signed a JWT: ${JSON.stringify(check)}`);
    const jwks = JSON.parse(jwksOf(b.routes.decoded)) as JSONWebKeySet;
    const verified = await jwtVerify(jwt, createLocalJWKSet(jwks));
    assert.equal(verified.payload['aud'], HOSTS.x);
  });
});

type Json = Record<string, unknown>;
const routesOf = (configs: Json[]) =>
  configs.flatMap((c) => ((c['virtual_hosts'] ?? []) as Json[]).map((vh) => ({ vh, routes: vh['routes'] as Json[] })));

/** The ext_authz route key Envoy would send for the host's route. */
function extAuthzRouteKey(configs: Json[], host: string): string {
  for (const { vh, routes } of routesOf(configs)) {
    if (!(vh['domains'] as string[]).includes(host)) continue;
    for (const r of routes) {
      const perFilter = (r['typed_per_filter_config'] ?? {}) as Record<string, Json>;
      const settings = perFilter['mtls-edge.ext-authz']?.['check_settings'] as Json | undefined;
      const key = (settings?.['context_extensions'] as Record<string, string> | undefined)?.['route'];
      if (key && !key.startsWith('trust.')) return key;
    }
  }
  throw new Error(`no ext_authz route for ${host}`);
}

/** The JWKS document the edge serves (a direct response on every host). */
function jwksOf(configs: Json[]): string {
  for (const { routes } of routesOf(configs)) {
    const jwks = routes.find((r) => r['name'] === 'jwks');
    const body = (jwks?.['direct_response'] as Json | undefined)?.['body'] as Json | undefined;
    if (typeof body?.['inline_string'] === 'string') return body['inline_string'];
  }
  throw new Error('no JWKS route');
}
