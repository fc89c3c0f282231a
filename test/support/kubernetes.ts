import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, parseAllDocuments } from 'yaml';
import { requireTool } from './tools.js';

export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const KUBERNETES_DIR = join(ROOT, 'deploy', 'kubernetes');
/** The Kubernetes release whose API schema every object must satisfy (kubernetes-validate, pinned in .ci/run). */
export const KUBERNETES_VERSION = '1.37.0';

const KUBECTL_INSTALL =
  'bash .ci/run installs it (a kubectl with kustomize v5: the machine image has one; elsewhere it builds ' +
  'k8s.io/kubectl from the Go module proxy).';

interface Meta {
  name: string;
  namespace?: string;
  labels?: Record<string, string>;
}
export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: Meta;
}
type Labels = Record<string, string>;
type PortRef = string | number;
interface Probe {
  httpGet?: { path: string; port: PortRef };
  tcpSocket?: { port: PortRef };
  periodSeconds?: number;
  failureThreshold?: number;
}
export interface Container {
  name: string;
  image: string;
  command?: string[];
  args?: string[];
  ports?: Array<{ name?: string; containerPort: number }>;
  livenessProbe?: Probe;
  startupProbe?: Probe;
  readinessProbe?: Probe;
  lifecycle?: { preStop?: { exec?: { command: string[] } } };
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: {
    readOnlyRootFilesystem?: boolean;
    allowPrivilegeEscalation?: boolean;
    capabilities?: { drop?: string[] };
  };
  volumeMounts?: Array<{ name: string; mountPath: string; subPath?: string }>;
}
interface AffinityTerm {
  topologyKey: string;
  labelSelector: { matchLabels: Labels };
}
export interface PodSpec {
  containers: Container[];
  initContainers?: Container[];
  volumes?: Array<{ name: string; configMap?: { name: string }; secret?: { secretName: string } }>;
  securityContext?: { runAsNonRoot?: boolean; runAsUser?: number; fsGroup?: number };
  automountServiceAccountToken?: boolean;
  terminationGracePeriodSeconds?: number;
  affinity?: {
    podAntiAffinity?: {
      requiredDuringSchedulingIgnoredDuringExecution?: AffinityTerm[];
      preferredDuringSchedulingIgnoredDuringExecution?: Array<{ weight: number; podAffinityTerm: AffinityTerm }>;
    };
  };
}
export interface Deployment extends K8sObject {
  spec: {
    replicas?: number;
    selector: { matchLabels: Labels };
    strategy?: { rollingUpdate?: { maxUnavailable?: PortRef } };
    template: { metadata: { labels: Labels }; spec: PodSpec };
  };
}
export interface Service extends K8sObject {
  spec: {
    type?: string;
    clusterIP?: string;
    selector: Labels;
    ports: Array<{ name?: string; port: number; targetPort?: PortRef }>;
  };
}
export interface PodDisruptionBudget extends K8sObject {
  spec: { selector: { matchLabels: Labels } };
}
export interface ConfigMap extends K8sObject {
  data: Record<string, string>;
}
export interface Secret extends K8sObject {
  type?: string;
  data: Record<string, string>;
}
interface Kinds {
  Deployment: Deployment;
  Service: Service;
  PodDisruptionBudget: PodDisruptionBudget;
  ConfigMap: ConfigMap;
  Secret: Secret;
}

/** kubectl, with a kustomize of v5 or later (Debian's kubectl 1.20 has kustomize v2, which lacks labels/replicas). */
export function requireKubectl(): string {
  const kubectl = requireTool('kubectl', KUBECTL_INSTALL);
  const version = JSON.parse(execFileSync(kubectl, ['version', '--client', '-o', 'json'], { encoding: 'utf8' })) as {
    kustomizeVersion?: string;
  };
  const major = Number(/^v(\d+)\./.exec(version.kustomizeVersion ?? '')?.[1] ?? 0);
  assert.ok(
    major >= 5,
    `${kubectl} has kustomize ${version.kustomizeVersion ?? 'none'}, needs v5+: ${KUBECTL_INSTALL}`,
  );
  return kubectl;
}

const DOCS = join(ROOT, 'docs', 'kubernetes.md');
const MARKER = '<!-- test/unit/deploy/kubernetes-docs.test.ts runs this block';

/** The shell block of docs/kubernetes.md that creates the certificates and Secrets, as written. */
export function documentedBlock(): string {
  const text = readFileSync(DOCS, 'utf8');
  const start = text.indexOf('```sh\n', text.indexOf(MARKER));
  assert.ok(text.includes(MARKER) && start > 0, `${DOCS} has the block the Kubernetes tests run`);
  return text.slice(start + 6, text.indexOf('\n```', start));
}

export function overlayNames(): string[] {
  return readdirSync(join(KUBERNETES_DIR, 'overlays')).sort();
}

/** `kubectl kustomize` of a folder: its text and its objects. */
export function render(dir: string): { text: string; objects: K8sObject[] } {
  const text = execFileSync(requireKubectl(), ['kustomize', dir], { encoding: 'utf8', maxBuffer: 16 << 20 });
  const objects = parseAllDocuments(text).map((d) => d.toJS() as K8sObject);
  return { text, objects };
}

/**
 * Validates every object against the API schema of KUBERNETES_VERSION, offline and strict (unknown fields refused),
 * with PyPI's kubernetes-validate. Returns its error lines (empty: all valid).
 */
export function schemaErrors(yamlText: string): string[] {
  const tool = requireTool(
    'kubernetes-validate',
    'Install it: python3 -m pip install kubernetes-validate (bash .ci/run does).',
  );
  const dir = mkdtempSync(join(tmpdir(), 'k8s-validate-'));
  try {
    const file = join(dir, 'objects.yaml');
    writeFileSync(file, yamlText);
    try {
      execFileSync(tool, ['--strict', '--quiet', '-k', KUBERNETES_VERSION, file], { encoding: 'utf8' });
      return [];
    } catch (e) {
      const out = e as { stdout?: string; stderr?: string };
      return `${out.stdout ?? ''}${out.stderr ?? ''}`.split('\n').filter((l) => l.trim() !== '');
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function all<K extends keyof Kinds>(objects: K8sObject[], kind: K): Array<Kinds[K]> {
  return objects.filter((o) => o.kind === kind) as Array<Kinds[K]>;
}

export function find<K extends keyof Kinds>(objects: K8sObject[], kind: K, name: string): Kinds[K] {
  const found = all(objects, kind).filter((o) => o.metadata.name === name);
  assert.equal(found.length, 1, `one ${kind} ${name} (found ${found.length})`);
  return found[0]!;
}

/** A ConfigMap by the name it had before kustomize added its hash (`mtls-edge-envoy-bootstrap-7bhd…`). */
export function configMapNamed(objects: K8sObject[], name: string): ConfigMap {
  const found = all(objects, 'ConfigMap').filter((o) => new RegExp(`^${name}(-[a-z0-9]{10})?$`).test(o.metadata.name));
  assert.equal(found.length, 1, `one ConfigMap ${name}`);
  return found[0]!;
}

export function containerOf(deployment: Deployment, name: string): Container {
  const found = deployment.spec.template.spec.containers.find((c) => c.name === name);
  assert.ok(found, `${deployment.metadata.name} has a container ${name}`);
  return found;
}

/** A container port by name, or the number itself. */
export function portOf(container: Container, port: PortRef | undefined): number {
  if (typeof port === 'number') return port;
  const found = (container.ports ?? []).find((p) => p.name === port);
  assert.ok(found, `container ${container.name} has a port named ${port}`);
  return found.containerPort;
}

/** HOST:PORT → the port. */
export function portIn(address: string): number {
  const port = Number(/:(\d+)$/.exec(address)?.[1]);
  assert.ok(port > 0, `${address} has a port`);
  return port;
}

/** Where a file the container reads comes from: the volume mounted at its folder, and the key it reads there. */
export function mountedKey(
  deployment: Deployment,
  container: Container,
  path: string,
): { kind: 'configMap' | 'secret'; name: string; key: string } {
  const mounts = container.volumeMounts ?? [];
  const slash = path.lastIndexOf('/');
  const [folder, key] = [path.slice(0, slash), path.slice(slash + 1)];
  const mount = mounts.find((m) => m.mountPath === folder);
  assert.ok(mount, `${container.name}: a volume is mounted at ${folder} (for ${path})`);
  assert.equal(mount.subPath, undefined, `${folder}: a folder mount (a subPath mount never sees an update)`);
  const volume = (deployment.spec.template.spec.volumes ?? []).find((v) => v.name === mount.name);
  assert.ok(volume, `${container.name}: volume ${mount.name} exists`);
  if (volume.configMap) return { kind: 'configMap', name: volume.configMap.name, key };
  assert.ok(volume.secret, `${folder} is a ConfigMap or a Secret`);
  return { kind: 'secret', name: volume.secret.secretName, key };
}

/** The mtls-edge config the overlay mounts (ConfigMap mtls-edge-config, key config.yaml), as YAML data. */
export function mountedConfig(objects: K8sObject[]): { text: string; data: Record<string, unknown> } {
  const text = configMapNamed(objects, 'mtls-edge-config').data['config.yaml'];
  assert.ok(text, 'ConfigMap mtls-edge-config has config.yaml');
  return { text, data: parse(text) as Record<string, unknown> };
}

/** The Envoy bootstrap the overlay mounts (ConfigMap mtls-edge-envoy-bootstrap, key bootstrap.yaml). */
export function mountedBootstrap(objects: K8sObject[]): string {
  const text = configMapNamed(objects, 'mtls-edge-envoy-bootstrap').data['bootstrap.yaml'];
  assert.ok(text, 'ConfigMap mtls-edge-envoy-bootstrap has bootstrap.yaml');
  return text;
}

interface FileSource {
  filename: string;
}
/** The parts of Envoy's bootstrap the manifests depend on. */
export interface Bootstrap {
  admin: { address: { socket_address: { address: string; port_value: number } } };
  static_resources: {
    clusters: Array<{
      name: string;
      type: string;
      load_assignment: {
        endpoints: Array<{
          lb_endpoints: Array<{ endpoint: { address: { socket_address: { address: string; port_value: number } } } }>;
        }>;
      };
      transport_socket: {
        typed_config: {
          sni: string;
          common_tls_context: {
            tls_certificates: Array<{ certificate_chain: FileSource; private_key: FileSource }>;
            validation_context: { trusted_ca: FileSource };
          };
        };
      };
    }>;
    listeners?: Array<{ name: string; address: { socket_address: { address: string; port_value: number } } }>;
  };
}
