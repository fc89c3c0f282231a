import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { generateKeyPairSync } from 'node:crypto';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { before, describe, it } from 'node:test';
import { parse } from 'yaml';
import { resolveConfig, type Config } from '../../../control-plane/src/config/index.js';
import { readBootstrapTemplate, renderBootstrap } from '../../../control-plane/src/runtime/bootstrap.js';
import { requireEnvoy } from '../../support/edge.js';
import { createTestPki, type TestPki } from '../../support/pki-fixture.js';
import { createControlChannelPki } from '../../support/control-channel-pki.js';
import { plainLocations } from '../../support/plain-locations.js';

// What the compose set-up runs and mounts, read from the files; test/compose/compose-up.docker-test.ts runs it on a
// real Docker engine (npm run test:compose, as root).
const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));

interface ComposeService {
  image?: string;
  build?: { context: string; args?: Record<string, string> };
  user?: string;
  entrypoint?: string[];
  command?: string[];
  volumes?: string[];
  ports?: string[];
  depends_on?: Record<string, { condition: string }>;
  environment?: Record<string, string>;
  restart?: string;
  healthcheck?: { test: string[] };
}

// merge: the services share their image and build through a YAML merge key (<<: *image), as compose reads it.
const compose = parse(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8'), { merge: true }) as {
  services: Record<string, ComposeService>;
  volumes?: Record<string, unknown>;
};
const services = compose.services;

/** `./host/path:/container/path[:ro]` → { host, container }; a named volume's host is `volume:NAME`. */
function mounts(service: ComposeService): Array<{ host: string; container: string }> {
  return (service.volumes ?? []).map((v) => {
    const [host = '', container = ''] = v.split(':');
    return { host: host.startsWith('.') ? resolve(ROOT, host) : `volume:${host}`, container };
  });
}

function mountedFile(service: ComposeService, containerPath: string): string {
  const m = mounts(service).find((x) => x.container === containerPath);
  assert.ok(m, `a volume mounts ${containerPath}`);
  return m.host;
}

const signingKeyPem = generateKeyPairSync('ec', { namedCurve: 'prime256v1' })
  .privateKey.export({ type: 'pkcs8', format: 'pem' })
  .toString();

describe('docker-compose.yml', () => {
  let pki: TestPki;
  let config: Config;
  const cp = services['control-plane']!;
  const envoy = services['envoy']!;

  before(async () => {
    pki = await createTestPki();
    // The compose config names /certs/…; the test serves those paths from its own PKI.
    const configFile = join(mountedFile(cp, '/etc/mtls-edge'), 'config.yaml');
    const channel = await createControlChannelPki(pki.dir);
    const certFiles: Record<string, string> = {
      '/certs/_wildcard.localhost.pomerium.io.pem': 'server.pem',
      '/certs/_wildcard.localhost.pomerium.io-key.pem': 'server-key.pem',
      '/certs/ca.pem': 'ca-a.pem',
      '/certs/control-plane.pem': channel.certFile,
      '/certs/control-plane-key.pem': channel.keyFile,
      '/certs/control-plane-ca.pem': channel.caFile,
      '/certs/signing-key.pem': join(pki.dir, 'signing-key.pem'),
    };
    writeFileSync(join(pki.dir, 'signing-key.pem'), signingKeyPem);
    const loaded = resolveConfig({
      yaml: { text: readFileSync(configFile, 'utf8'), file: configFile },
      env: {},
      files: {
        configDir: '/etc/mtls-edge',
        cwd: '/',
        readFile: (p) => readFileSync(resolve(pki.dir, certFiles[p] ?? `missing:${p}`), 'utf8'),
      },
    });
    assert.ok(loaded.ok, JSON.stringify(!loaded.ok && loaded.errors));
    config = loaded.value;
  });

  it('runs the control plane, Envoy and an upstream from the one image, which carries the Envoy the tests run', () => {
    assert.deepEqual(Object.keys(services).sort(), ['certs', 'control-plane', 'envoy', 'upstream']);
    for (const [name, service] of Object.entries(services)) {
      assert.equal(service.image, 'mtls-edge:local', `${name}: the project's image`);
      assert.equal(service.build?.context, '.', `${name}: built from the Dockerfile here`);
      assert.equal(service.build?.args?.['BASE_IMAGE'], '${MTLS_EDGE_BASE_IMAGE:-node:24-bookworm-slim}');
    }
    const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
    assert.match(dockerfile, /^ARG BASE_IMAGE=node:24-bookworm-slim$/m, 'the image and docker-compose.yml agree');
    // The Node the compose test builds the image on, and .ci/run's unit tests run on: the same major.
    const lts = readFileSync(join(ROOT, 'scripts', 'install-node-lts.sh'), 'utf8');
    assert.match(lts, /^NODE_LTS_VERSION=24\.\d+\.\d+$/m, "scripts/install-node-lts.sh installs the image's Node");
    assert.match(dockerfile, /^COPY envoy\/VERSION scripts\/fetch-envoy\.mjs /m, 'the image fetches envoy/VERSION');
    assert.match(dockerfile, /node fetch-envoy\.mjs "\$\(cat VERSION\)"/);
    const named = readFileSync(join(ROOT, 'envoy', 'VERSION'), 'utf8').trim();
    const local = execFileSync(requireEnvoy(), ['--version'], { encoding: 'utf8' });
    assert.match(local, new RegExp(`/${named.replace(/\./g, '\\.')}/`), 'envoy/VERSION is the Envoy the tests run');
    const generated = readFileSync(join(ROOT, 'control-plane', 'src', 'envoy-api', 'generated', 'index.ts'), 'utf8');
    assert.ok(
      generated.includes(`go-control-plane/envoy v${named}.`),
      'the Envoy API is generated from the same version',
    );
  });

  it('the control plane runs `run --no-envoy` on the mounted config, and mounts the certificates it names', () => {
    assert.deepEqual(cp.command, ['run', '--config', '/etc/mtls-edge/config.yaml', '--no-envoy']);
    assert.equal(mountedFile(cp, '/certs'), 'volume:certs');
    const raw = readFileSync(join(mountedFile(cp, '/etc/mtls-edge'), 'config.yaml'), 'utf8');
    const paths = [...raw.matchAll(/_file: (\S+)/g)].map((m) => m[1]!);
    assert.ok(paths.length >= 3);
    for (const p of paths) assert.match(p, /^\/certs\//, `${p} is inside the certs mount`);
  });

  it(
    "Envoy's bootstrap points at the control-plane service on the " +
      "config's xds port, and is what envoy/bootstrap.yaml renders to",
    () => {
      // The image's entrypoint (mtls-edge) runs Envoy so that SIGTERM drains it: 5 s announce + 15 s drain, within
      // the stop grace period.
      assert.equal(envoy.entrypoint, undefined);
      const args = envoy.command ?? [];
      assert.deepEqual(args.slice(0, 6), ['envoy', '--seconds', '5', '--drain-time-s', '15', '--']);
      assert.deepEqual(args.slice(6, 8), ['-c', '/etc/envoy/bootstrap.yaml']);
      assert.equal((envoy as { stop_grace_period?: string }).stop_grace_period, '30s');
      const bootstrapFile = mountedFile(envoy, '/etc/envoy/bootstrap.yaml');
      assert.ok(existsSync(bootstrapFile));
      const xds = {
        kind: 'tls' as const,
        address: { host: 'control-plane', port: config.xdsAddress.port },
        serverName: 'control-plane',
        caFile: '/certs/control-plane-ca.pem',
        certFile: '/certs/envoy-edge-1.pem',
        keyFile: '/certs/envoy-edge-1-key.pem',
      };
      // The health listener the envoy service's healthcheck probes, and metrics, on the documented ports.
      const expected = renderBootstrap(readBootstrapTemplate(), {
        nodeId: 'edge-1',
        xds,
        envoyAdmin: { host: '127.0.0.1', port: 9901 },
        health: { host: '0.0.0.0', port: 9903 },
        metrics: { host: '0.0.0.0', port: 9904 },
      });
      const [header = '', ...rest] = readFileSync(bootstrapFile, 'utf8').split('\n');
      if (process.env['UPDATE_GOLDEN']) writeFileSync(bootstrapFile, `${header}\n${expected}`);
      assert.equal(
        rest.join('\n'),
        expected,
        'regenerate envoy/bootstrap.compose.yaml: UPDATE_GOLDEN=1 node --test dist/test/unit/deploy/compose.test.js',
      );
      assert.equal(
        config.xdsAddress.host,
        '0.0.0.0',
        'the control plane listens where the envoy container can reach it',
      );
      assert.ok(config.xdsTls, 'over mutual TLS');
      // Envoy's own volume: the certs step puts only its certificate, its key and the control plane's CA there.
      assert.equal(
        mountedFile(envoy, '/certs'),
        'volume:envoy-certs',
        "Envoy's client certificate: a volume of its own",
      );
    },
  );

  it("publishes the config's HTTPS port from the envoy service, and routes reach the upstream service by name", () => {
    assert.ok(
      (envoy.ports ?? []).some((p) => p.endsWith(`:${config.address.port}`)),
      `envoy publishes ${config.address.port}`,
    );
    assert.equal(config.address.host, '0.0.0.0');
    for (const r of config.routes)
      assert.ok(
        r.to.every((u) => u.host in services),
        `route ${r.from.host} goes to a compose service`,
      );
    assert.deepEqual(
      services['upstream']!.command,
      ['verify-app', '--address', '0.0.0.0:8000'],
      'the verify app from the same image',
    );
  });

  it('the certs step hands ./certs to the volume, readable by the group of both non-root users, no CA key', () => {
    const certs = services['certs']!;
    assert.equal(mountedFile(certs, '/host-certs'), resolve(ROOT, 'certs'));
    assert.equal(mountedFile(certs, '/certs'), 'volume:certs');
    assert.equal(certs.user, 'root', 'reads keys whoever made them');
    const script = certs.command?.join('\n') ?? '';
    assert.match(script, /install -o root -g mtls-edge -m 0440 /);
    assert.match(script, /ca-key\.pem \| \*-ca-key\.pem/, 'CA keys stay on the host');
    for (const name of ['control-plane', 'envoy'])
      assert.deepEqual(services[name]!.depends_on?.['certs'], { condition: 'service_completed_successfully' });
    assert.equal(envoy.user, 'envoy');
    const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
    assert.match(dockerfile, /useradd --uid 101 --gid envoy --groups mtls-edge /);
    assert.match(dockerfile, /usermod --append --groups mtls-edge node/);
    assert.match(dockerfile, /^USER node$/m);
    assert.match(dockerfile, /^ENTRYPOINT \["mtls-edge"\]$/m);
    for (const dir of ['envoy', 'protos', 'bin'])
      assert.match(dockerfile, new RegExp(`^COPY ${dir} `, 'm'), `${dir}/ is read at run time`);
  });

  it('health checks: the control plane is ready, Envoy is healthy; long-running services restart', () => {
    const probe = (s: ComposeService): string => s.healthcheck?.test.join(' ') ?? '';
    assert.match(probe(cp), new RegExp(`http://127\\.0\\.0\\.1:${config.adminAddress.port}/readyz`));
    assert.match(probe(envoy), /http:\/\/127\.0\.0\.1:9903\/healthz/);
    assert.deepEqual(envoy.depends_on?.['control-plane'], { condition: 'service_healthy' });
    for (const name of ['control-plane', 'envoy', 'upstream']) assert.equal(services[name]!.restart, 'unless-stopped');
  });

  it('signs identity headers with the key in ./certs (signing_key_file), the same across restarts and replicas', () => {
    assert.deepEqual(plainLocations(config.signingKey?.at), {
      file: join(mountedFile(cp, '/etc/mtls-edge'), 'config.yaml'),
      key: 'signing_key_file',
      line: config.signingKey?.at.line,
    });
    assert.equal(config.signingKey?.pem, signingKeyPem, 'read from the mounted ./certs/signing-key.pem');
    assert.ok(!cp.environment?.['MTLS_EDGE_STATE_DIR'], 'no key is generated in the container');
  });

  it("the compose config's routes pass identity headers (a signed JWT and the email and user claim headers)", () => {
    const identityRoutes = config.routes.filter((r) => r.passIdentityHeaders);
    assert.ok(identityRoutes.length >= 1, 'a route has pass_identity_headers: true');
    for (const r of identityRoutes) assert.ok(r.policy, `route ${r.from.host} says who may use it with a policy`);
    assert.deepEqual(config.jwtClaimsHeaders, [
      ['X-Pomerium-Claim-Email', 'email'],
      ['X-Pomerium-Claim-User', 'user'],
    ]);
  });
});
