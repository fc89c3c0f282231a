import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse, parseAllDocuments } from 'yaml';
import { resolveConfig } from '../../../control-plane/src/config/index.js';
import { loadResourceRoot, ResourceCodec } from '../../../control-plane/src/envoy-api/index.js';
import { compile } from '../../../control-plane/src/pipeline.js';
import { nodeRefusal } from '../../../control-plane/src/xds/index.js';
import { requireEnvoy } from '../../support/edge.js';
import {
  all,
  documentedBlock,
  containerOf,
  find,
  KUBERNETES_DIR,
  mountedBootstrap,
  mountedConfig,
  overlayNames,
  render,
  requireKubectl,
  ROOT,
  schemaErrors,
  type Bootstrap,
  type Container,
  type Deployment,
  type K8sObject,
  type Secret,
} from '../../support/kubernetes.js';

// docs/kubernetes.md's step 2, run as written (kubectl with --dry-run=client: no cluster), must make the Secrets the
// pods mount, with the keys they read, holding certificates the control plane and Envoy accept.

/** Writes the files a container sees (its ConfigMap and Secret mounts) under `root`, at their paths. */
function podFiles(root: string, d: Deployment, c: Container, objects: K8sObject[], secrets: Secret[]): void {
  for (const m of c.volumeMounts ?? []) {
    const volume = d.spec.template.spec.volumes?.find((v) => v.name === m.name);
    let data: Record<string, string> | undefined;
    if (volume?.configMap)
      data = all(objects, 'ConfigMap').find((o) => o.metadata.name === volume.configMap!.name)?.data;
    else if (volume?.secret) {
      const secret = secrets.find((s) => s.metadata.name === volume.secret!.secretName);
      assert.ok(secret, `the docs create the Secret ${volume.secret.secretName} that ${d.metadata.name} mounts`);
      data = Object.fromEntries(Object.entries(secret.data).map(([k, v]) => [k, Buffer.from(v, 'base64').toString()]));
    } else continue;
    assert.ok(data, `${m.name} has data`);
    for (const [key, value] of Object.entries(data)) {
      mkdirSync(join(root, m.mountPath), { recursive: true });
      writeFileSync(join(root, m.mountPath, key), value);
    }
  }
}

describe('docs/kubernetes.md: the certificates and Secrets', () => {
  let dir: string;
  let created: K8sObject[];
  let createdText: string;

  before(() => {
    requireKubectl();
    dir = mkdtempSync(join(tmpdir(), 'k8s-docs-'));
    symlinkSync(join(ROOT, 'bin'), join(dir, 'bin'));
    const out = join(dir, 'objects.yaml');
    // Every kubectl command of the block prints the object it would create instead of creating it.
    const prelude =
      `kubectl() { command kubectl "$@" --dry-run=client -o yaml >> ${JSON.stringify(out)}; ` +
      `echo --- >> ${JSON.stringify(out)}; }\n`;
    execFileSync('bash', ['-euo', 'pipefail', '-c', prelude + documentedBlock()], {
      cwd: dir,
      env: { ...process.env, KUBECONFIG: join(dir, 'no-kubeconfig') },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    createdText = readFileSync(out, 'utf8');
    created = parseAllDocuments(createdText)
      .map((d) => d.toJS() as K8sObject | null)
      .filter((o): o is K8sObject => o !== null);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('creates the namespace and five Secrets, valid against the API schema', () => {
    assert.deepEqual(
      created.map((o) => `${o.kind}/${o.metadata.name}`),
      [
        'Namespace/mtls-edge',
        'Secret/mtls-edge-server-tls',
        'Secret/mtls-edge-client-ca',
        'Secret/mtls-edge-signing-key',
        'Secret/mtls-edge-control-plane-tls',
        'Secret/mtls-edge-envoy-tls',
      ],
    );
    for (const o of created.slice(1)) assert.equal(o.metadata.namespace, 'mtls-edge');
    assert.deepEqual(schemaErrors(createdText), []);
  });

  for (const overlay of overlayNames()) {
    describe(`overlays/${overlay}`, () => {
      let objects: K8sObject[];
      before(() => {
        objects = render(join(KUBERNETES_DIR, 'overlays', overlay)).objects;
      });

      it("the control plane compiles the mounted config with the Secrets' files at their paths in the pod", () => {
        const cp = find(objects, 'Deployment', 'mtls-edge-control-plane');
        const root = join(dir, `${overlay}-control-plane`);
        podFiles(root, cp, containerOf(cp, 'control-plane'), objects, all(created, 'Secret'));
        const { text } = mountedConfig(objects);
        const loaded = resolveConfig({
          yaml: { text, file: '/etc/mtls-edge/config/config.yaml' },
          env: {},
          files: {
            configDir: '/etc/mtls-edge/config',
            cwd: '/',
            readFile: (p) => readFileSync(join(root, p), 'utf8'),
          },
        });
        assert.ok(loaded.ok, JSON.stringify(!loaded.ok && loaded.errors));
        assert.ok(loaded.value.xdsTls, 'the control channel is mutual TLS');
        assert.ok(loaded.value.signingKey, 'every replica reads the same signing key');
        const compiled = compile(loaded.value, new ResourceCodec(loadResourceRoot()));
        assert.ok(compiled.ok, JSON.stringify(!compiled.ok && compiled.errors));
      });

      it("Envoy's bootstrap validates in Envoy, names the control plane's certificate, and its own is accepted", () => {
        const envoyDeployment = find(objects, 'Deployment', 'mtls-edge-envoy');
        const root = join(dir, `${overlay}-envoy`);
        podFiles(root, envoyDeployment, containerOf(envoyDeployment, 'envoy'), objects, all(created, 'Secret'));
        const text = mountedBootstrap(objects);
        const bootstrap = parse(text) as Bootstrap & { node: { id: string } };
        const xds = bootstrap.static_resources.clusters.find((c) => c.name === 'mtls-edge-xds')!;
        const tls = xds.transport_socket.typed_config;
        const inPod = (p: string) => readFileSync(join(root, p));
        const serverCert = new X509Certificate(readFileSync(join(dir, 'k8s-certs', 'control-plane.pem')));
        assert.equal(serverCert.checkHost(tls.sni), tls.sni, `the control plane's certificate names ${tls.sni}`);
        const ca = new X509Certificate(inPod(tls.common_tls_context.validation_context.trusted_ca.filename));
        assert.ok(serverCert.verify(ca.publicKey), "Envoy trusts the control plane's CA");
        const own = tls.common_tls_context.tls_certificates[0]!.certificate_chain.filename;
        assert.equal(nodeRefusal(bootstrap.node.id, new X509Certificate(inPod(own)).raw, []), undefined);
        // Envoy itself checks the whole bootstrap, with the files where the pod has them.
        const rooted = join(root, 'bootstrap.yaml');
        writeFileSync(rooted, text.replaceAll('"/etc/', `"${root}/etc/`));
        execFileSync(requireEnvoy(), ['--mode', 'validate', '-c', rooted, '--log-level', 'error'], {
          stdio: ['ignore', 'pipe', 'pipe'],
        });
      });
    });
  }
});
