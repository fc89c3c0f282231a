import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type {
  CertificateBundle,
  Config,
  RouteConfig,
  ServerCertificate,
} from '../../../control-plane/src/config/index.js';
import { buildEdgeModel, hostPatternCovers, type EdgeModel } from '../../../control-plane/src/model/index.js';
import { edgeConfig, routeConfig } from './config-fixtures.js';

const caA: CertificateBundle = { pem: 'A', fingerprints: ['aa'], origin: 'ca-a.pem' };
const caB: CertificateBundle = { pem: 'B', fingerprints: ['bb'], origin: 'ca-b.pem' };
const caAAgain: CertificateBundle = { pem: 'A', fingerprints: ['aa'], origin: 'tls_downstream_client_ca' };

function route(host: string, extra: Partial<RouteConfig> = {}, index = 0): RouteConfig {
  return routeConfig(host, index, extra);
}

function cert(...dnsNames: string[]): ServerCertificate {
  return { certPem: '', keyPem: '', dnsNames, notAfter: new Date(0), at: { file: 'c', key: 'certificate_file' } };
}

function config(routes: RouteConfig[], extra: Partial<Config> = {}): Config {
  return edgeConfig(routes, { certificates: [cert('x.example')], ...extra });
}

function model(c: Config): EdgeModel {
  const m = buildEdgeModel(c);
  if (!m.ok) throw new Error(JSON.stringify(m.errors));
  return m.value;
}

const hostsByClass = (m: EdgeModel) =>
  Object.fromEntries(m.classes.map((c) => [c.requirement.id, c.hosts.map((h) => h.name)]));

describe('buildEdgeModel', () => {
  it('groups hosts by requirement: one class per CA, not per host, plus the default class', () => {
    const routes = ['a', 'b', 'c', 'd', 'e'].map((h, i) =>
      route(`${h}.example`, { clientCa: i < 3 ? caA : i === 3 ? caB : undefined }, i),
    );
    const m = model(config(routes));
    assert.equal(m.classes.length, 3);
    assert.equal(m.classes[0]!.requirement.id, 'none');
    const byClass = hostsByClass(m);
    assert.deepEqual(byClass['none'], ['e.example']);
    assert.deepEqual(
      Object.values(byClass).sort(),
      [['a.example', 'b.example', 'c.example'], ['d.example'], ['e.example']].sort(),
    );
  });

  it('a route CA replaces the global one, and the same CA given twice is one requirement', () => {
    const m = model(
      config(
        [
          route('a.example', {}, 0),
          route('b.example', { clientCa: caAAgain }, 1),
          route('c.example', { clientCa: caB }, 2),
        ],
        { clientCa: caA },
      ),
    );
    const withA = m.classes.find((c) => c.hosts.some((h) => h.name === 'a.example'))!;
    assert.deepEqual(
      withA.hosts.map((h) => h.name),
      ['a.example', 'b.example'],
    );
    assert.notEqual(
      m.classes.find((c) => c.hosts.some((h) => h.name === 'c.example'))!.requirement.id,
      withA.requirement.id,
    );
  });

  it('names a class after where its CA is configured, so rotating the CA file keeps every name', () => {
    const rotated: CertificateBundle = { pem: 'A2', fingerprints: ['a2'], origin: 'ca-a.pem' };
    const before = model(config([route('a.example', { clientCa: caA }, 0)]));
    const after = model(config([route('a.example', { clientCa: rotated }, 0)]));
    assert.equal(after.classes[1]!.requirement.id, before.classes[1]!.requirement.id);
    assert.notEqual(
      model(config([route('a.example', { clientCa: caB }, 0)])).classes[1]!.requirement.id,
      before.classes[1]!.requirement.id,
    );
  });

  it('a shared host and a plain host on the same CA file get different names (no resource replaces another)', () => {
    const m = model(
      config([
        route('a.example', { clientCa: caA }, 0),
        route('b.example', { clientCa: caA }, 1),
        route('b.example', { match: { kind: 'prefix', value: '/p' } }, 2),
      ]),
    );
    const ids = m.classes.map((c) => c.requirement.id);
    assert.equal(new Set(ids).size, ids.length, ids.join(' '));
  });

  it('a host whose routes trust different CAs asks for the union in the handshake and checks each route itself', () => {
    const m = model(
      config([
        route('a.example', { clientCa: caA }, 0),
        route('a.example', { clientCa: caB, match: { kind: 'prefix', value: '/b' } }, 1),
        route('a.example', { match: { kind: 'prefix', value: '/p' } }, 2),
      ]),
    );
    const shared = m.classes.find((c) => c.hosts.some((h) => h.name === 'a.example'))!;
    assert.ok('ca' in shared.requirement);
    if (!('ca' in shared.requirement)) return;
    assert.deepEqual(shared.requirement.ca.fingerprints, ['aa', 'bb']);
    assert.equal(shared.requirement.validation.checkedPerRoute, true);
    const checks = shared.hosts[0]!.routes.map((r) => r.certificateCheck.kind);
    assert.deepEqual(checks, ['issued-by', 'issued-by', 'none']);
  });

  it('keeps routes of one host in config order', () => {
    const m = model(
      config([
        route('a.example', { match: { kind: 'prefix', value: '/x' } }, 0),
        route('a.example', { match: { kind: 'path', value: '/y' } }, 1),
      ]),
    );
    assert.deepEqual(
      m.classes[0]!.hosts[0]!.routes.map((r) => r.name),
      ['route-0', 'route-1'],
    );
  });

  it('answers 421 for another class host that a wildcard of this class would otherwise serve', () => {
    const m = model(
      config([
        route('*.example', { clientCa: caA }, 0),
        route('partners.example', { clientCa: caB }, 1),
        route('other.test', {}, 2),
      ]),
    );
    const wildcardClass = m.classes.find((c) => c.hosts.some((h) => h.name === '*.example'))!;
    assert.deepEqual(wildcardClass.misdirectedHosts, ['partners.example']);
    const partnersClass = m.classes.find((c) => c.hosts.some((h) => h.name === 'partners.example'))!;
    assert.deepEqual(partnersClass.misdirectedHosts, []);
  });

  it('offers only HTTP/1.1 on classes that share a server certificate, so browsers cannot coalesce', () => {
    const shared = model(
      config(
        [route('a.example', { clientCa: caA }, 0), route('b.example', {}, 1), route('c.other', { clientCa: caB }, 2)],
        { certificates: [cert('*.example'), cert('c.other')] },
      ),
    );
    const alpn = Object.fromEntries(shared.classes.map((c) => [c.hosts.map((h) => h.name).join(','), c.alpn]));
    assert.deepEqual(alpn['a.example'], ['http/1.1']);
    assert.deepEqual(alpn['b.example'], ['http/1.1']);
    assert.deepEqual(alpn['c.other'], ['h2', 'http/1.1']);
  });

  it('shares one upstream cluster between routes with the same endpoints and TLS settings', () => {
    const https = { scheme: 'https' as const, host: 'api.example', port: 443 };
    const m = model(
      config([
        route('a.example', { to: [https] }, 0),
        route('b.example', { to: [https] }, 1),
        route('c.example', { to: [https], upstreamTls: { skipVerify: true, allowRenegotiation: false } }, 2),
      ]),
    );
    assert.equal(m.upstreams.length, 2);
    assert.equal(m.upstreams.find((u) => !u.tls?.skipVerify)?.tls?.sni, 'api.example');
  });

  it('a path on `to` replaces the leading slash of the request path, as in Pomerium', () => {
    const m = model(
      config([
        route('a.example', { toPathPrefix: '/base/' }, 0),
        route('b.example', { toPathPrefix: '/base/', prefixRewrite: '/v2/' }, 1),
      ]),
    );
    const routes = Object.fromEntries(m.classes[0]!.hosts.map((h) => [h.name, h.routes[0]!.rewrite]));
    assert.deepEqual(routes['a.example'], { kind: 'replace-leading-slash', value: '/base/' });
    assert.deepEqual(routes['b.example'], { kind: 'prefix', value: '/base/v2/' });
  });
});

describe('hostPatternCovers', () => {
  it('matches wildcards over one or more labels, as Envoy does, and exact names exactly', () => {
    assert.ok(hostPatternCovers('*.example', 'a.example'));
    assert.ok(hostPatternCovers('*.example', 'a.b.example'));
    assert.ok(hostPatternCovers('*.example', '*.b.example'));
    assert.ok(!hostPatternCovers('*.example', 'example'));
    assert.ok(!hostPatternCovers('*.example', '*.example'));
    assert.ok(!hostPatternCovers('a.example', 'b.example'));
    assert.ok(hostPatternCovers('a.example', 'a.example'));
  });
});
