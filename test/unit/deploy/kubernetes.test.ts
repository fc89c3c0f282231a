import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import {
  all,
  configMapNamed,
  containerOf,
  find,
  KUBERNETES_DIR,
  mountedBootstrap,
  mountedConfig,
  mountedKey,
  overlayNames,
  portIn,
  portOf,
  render,
  schemaErrors,
  type Bootstrap,
  type Deployment,
} from '../../support/kubernetes.js';

// Every overlay as `kubectl kustomize` renders it, against the API schema and against itself: what one object names
// (a selector, a port, a volume, a file in the mounted config, the control plane in Envoy's bootstrap), another has.
const NAMESPACE = 'mtls-edge';

const labelsMatch = (selector: Record<string, string>, labels: Record<string, string>): boolean =>
  Object.entries(selector).every(([k, v]) => labels[k] === v);
const selects = (selector: Record<string, string>) => (d: Deployment) =>
  labelsMatch(selector, d.spec.template.metadata.labels);

for (const overlay of overlayNames()) {
  describe(`deploy/kubernetes/overlays/${overlay}`, () => {
    const { text, objects } = render(join(KUBERNETES_DIR, 'overlays', overlay));
    const deployments = all(objects, 'Deployment');
    const cp = find(objects, 'Deployment', 'mtls-edge-control-plane');
    const envoyDeployment = find(objects, 'Deployment', 'mtls-edge-envoy');
    const controlPlane = containerOf(cp, 'control-plane');
    const envoy = containerOf(envoyDeployment, 'envoy');
    const config = mountedConfig(objects).data;
    const xdsService = find(objects, 'Service', 'mtls-edge-control-plane');

    it('every object validates against the Kubernetes API schema, strictly (no unknown field)', () => {
      assert.ok(objects.length >= 8, `${objects.length} objects`);
      assert.deepEqual(schemaErrors(text), []);
    });

    it('every object is in the mtls-edge namespace and every name is unique per kind', () => {
      for (const o of objects) assert.equal(o.metadata.namespace, NAMESPACE, `${o.kind} ${o.metadata.name}`);
      const keys = objects.map((o) => `${o.kind}/${o.metadata.name}`);
      assert.equal(new Set(keys).size, keys.length);
    });

    it('selectors: each Deployment selects its pods, each Service and PodDisruptionBudget one Deployment', () => {
      for (const d of deployments) assert.ok(selects(d.spec.selector.matchLabels)(d), d.metadata.name);
      const selectors = [
        ...all(objects, 'Service').map((o) => [o, o.spec.selector] as const),
        ...all(objects, 'PodDisruptionBudget').map((o) => [o, o.spec.selector.matchLabels] as const),
      ];
      for (const [o, selector] of selectors)
        assert.equal(deployments.filter(selects(selector)).length, 1, `${o.kind} ${o.metadata.name} selects one`);
      for (const d of [cp, envoyDeployment]) {
        const budgets = all(objects, 'PodDisruptionBudget').filter((b) => selects(b.spec.selector.matchLabels)(d));
        assert.equal(budgets.length, 1, `${d.metadata.name} has a PodDisruptionBudget`);
      }
    });

    it('Services target named container ports: the headless one xDS, the LoadBalancer 443 HTTPS', () => {
      for (const service of all(objects, 'Service')) {
        const pod = deployments.find(selects(service.spec.selector))!.spec.template.spec;
        for (const p of service.spec.ports) {
          assert.equal(typeof p.targetPort, 'string', `${service.metadata.name}:${p.port} targets a named port`);
          assert.ok(
            pod.containers.some((c) => c.ports?.some((q) => q.name === p.targetPort)),
            `${p.targetPort}`,
          );
        }
      }
      assert.equal(xdsService.spec.clusterIP, 'None', 'headless: DNS answers with every ready replica');
      assert.deepEqual(
        xdsService.spec.ports.map((p) => [p.port, p.targetPort]),
        [[portIn(config['xds_address'] as string), 'xds']],
      );
      const lb = find(objects, 'Service', 'mtls-edge').spec;
      assert.equal(lb.type, 'LoadBalancer');
      assert.deepEqual(
        lb.ports.map((p) => [p.port, p.targetPort]),
        [[443, 'https']],
      );
    });

    it("the config's addresses are the control plane's container ports and probes", () => {
      assert.deepEqual(controlPlane.args, ['run', '--config', '/etc/mtls-edge/config/config.yaml', '--no-envoy']);
      assert.deepEqual(mountedKey(cp, controlPlane, '/etc/mtls-edge/config/config.yaml'), {
        kind: 'configMap',
        name: 'mtls-edge-config',
        key: 'config.yaml',
      });
      assert.equal(portOf(controlPlane, 'xds'), portIn(config['xds_address'] as string));
      assert.equal(portOf(controlPlane, 'admin'), portIn(config['admin_address'] as string));
      for (const key of ['xds_address', 'admin_address', 'address'])
        assert.match(config[key] as string, /^0\.0\.0\.0:/, `${key} listens on the pod's address`);
      assert.deepEqual(
        [controlPlane.livenessProbe?.httpGet, controlPlane.readinessProbe?.httpGet],
        [
          { path: '/healthz', port: 'admin' },
          { path: '/readyz', port: 'admin' },
        ],
      );
      assert.equal(portOf(envoy, 'https'), portIn(config['address'] as string), "Envoy's HTTPS port is the config's");
    });

    it('every file the config names is a key of a Secret mounted as a folder in the control plane', () => {
      const files = Object.entries(flatten(config)).filter(([k]) => k.endsWith('_file'));
      assert.ok(files.length >= 7);
      for (const [key, path] of files) {
        assert.equal(typeof path, 'string', key);
        assert.equal(mountedKey(cp, controlPlane, path as string).kind, 'secret', `${key}: ${String(path)}`);
      }
    });

    it("Envoy's bootstrap names the headless Service, the mounted client certificate, the drain hook's admin", () => {
      const command = envoy.command ?? [];
      assert.deepEqual(command.slice(0, 4), ['envoy', '-c', '/etc/envoy/bootstrap.yaml', '--disable-hot-restart']);
      assert.equal(mountedKey(envoyDeployment, envoy, '/etc/envoy/bootstrap.yaml').kind, 'configMap');
      assert.ok(configMapNamed(objects, 'mtls-edge-envoy-bootstrap'));
      const bootstrap = parse(mountedBootstrap(objects)) as Bootstrap;
      const xds = bootstrap.static_resources.clusters.find((c) => c.name === 'mtls-edge-xds')!;
      assert.equal(xds.type, 'STRICT_DNS', 'resolves the headless Service to every replica');
      assert.deepEqual(
        xds.load_assignment.endpoints.flatMap((e) => e.lb_endpoints).map((e) => e.endpoint.address.socket_address),
        [{ address: xdsService.metadata.name, port_value: xdsService.spec.ports[0]!.port }],
      );
      const tls = xds.transport_socket.typed_config.common_tls_context;
      const paths = [
        ...tls.tls_certificates.flatMap((c) => [c.certificate_chain.filename, c.private_key.filename]),
        tls.validation_context.trusted_ca.filename,
      ];
      for (const path of paths)
        assert.deepEqual(mountedKey(envoyDeployment, envoy, path), {
          kind: 'secret',
          name: 'mtls-edge-envoy-tls',
          key: path.slice(path.lastIndexOf('/') + 1),
        });
      const admin = bootstrap.admin.address.socket_address;
      assert.equal(admin.address, '127.0.0.1', "Envoy's admin stays on the pod's loopback");
      const preStop = envoy.lifecycle?.preStop?.exec?.command ?? [];
      assert.deepEqual(preStop.slice(0, 2), ['mtls-edge', 'drain']);
      assert.equal(preStop[preStop.indexOf('--envoy-admin-address') + 1], `127.0.0.1:${admin.port_value}`);
      const flag = (name: string, args: string[]) => Number(args[args.indexOf(name) + 1]);
      const [announce, drain] = [flag('--seconds', preStop), flag('--drain-time-s', preStop)];
      const grace = envoyDeployment.spec.template.spec.terminationGracePeriodSeconds ?? 30;
      assert.ok(grace > announce + drain, 'SIGTERM comes after the drain');
      assert.equal(flag('--drain-time-s', command), drain, "Envoy's drain time is the hook's");
      const readiness = envoy.readinessProbe!;
      assert.ok(
        (readiness.periodSeconds ?? 10) * (readiness.failureThreshold ?? 3) <= announce,
        'readiness notices the failed health check before the listeners drain',
      );
    });

    it("Envoy's probes ask its health listener; its metrics listener has a port of its own", () => {
      assert.deepEqual(envoy.readinessProbe?.httpGet, { path: '/healthz', port: 'health' });
      assert.equal(envoy.livenessProbe?.tcpSocket?.port, 'health');
      assert.equal(envoy.startupProbe?.tcpSocket?.port, 'health', 'Envoy opens it once it has its first config');
      assert.deepEqual([portOf(envoy, 'health'), portOf(envoy, 'metrics')], [9903, 9904]);
      const listeners = (parse(mountedBootstrap(objects)) as Bootstrap).static_resources.listeners ?? [];
      assert.deepEqual(
        listeners.map((l) => [l.name, l.address.socket_address]),
        [
          ['mtls-edge-health', { address: '0.0.0.0', port_value: portOf(envoy, 'health') }],
          ['mtls-edge-metrics', { address: '0.0.0.0', port_value: portOf(envoy, 'metrics') }],
        ],
        "the bootstrap's health and metrics listeners are on the probed and published ports",
      );
      const health = JSON.stringify(listeners[0]);
      assert.ok(health.includes('envoy.filters.http.health_check') && health.includes('"/healthz"'));
    });

    it('routes to upstreams in the cluster name a Service and its port', () => {
      for (const route of config['routes'] as Array<{ to: string }>) {
        const url = new URL(route.to);
        if (url.hostname.includes('.')) continue; // outside this render: the user's own Service or host
        const service = find(objects, 'Service', url.hostname);
        assert.ok(
          service.spec.ports.some((p) => p.port === Number(url.port)),
          route.to,
        );
      }
    });

    it('hardened pods: non-root, read-only root, no privilege escalation, no API token, resource requests', () => {
      for (const d of deployments) {
        const pod = d.spec.template.spec;
        assert.equal(pod.securityContext?.runAsNonRoot, true, d.metadata.name);
        assert.equal(pod.automountServiceAccountToken, false, d.metadata.name);
        for (const c of [...pod.containers, ...(pod.initContainers ?? [])]) {
          assert.equal(c.securityContext?.readOnlyRootFilesystem, true, c.name);
          assert.equal(c.securityContext?.allowPrivilegeEscalation, false, c.name);
          assert.deepEqual(c.securityContext?.capabilities?.drop, ['ALL'], c.name);
          assert.ok(c.resources?.requests?.['cpu'] && c.resources.requests['memory'], `${c.name} requests resources`);
          assert.match(c.image, /mtls-edge:/, `${c.name} runs the project's image`);
        }
        const mounted = new Set(pod.containers.flatMap((c) => (c.volumeMounts ?? []).map((m) => m.name)));
        for (const v of pod.volumes ?? []) assert.ok(mounted.has(v.name), `volume ${v.name} is mounted`);
      }
    });

    it('two control-plane replicas kept apart by anti-affinity; rolling updates never go below the replicas', () => {
      assert.ok((cp.spec.replicas ?? 1) >= 2);
      const anti = cp.spec.template.spec.affinity?.podAntiAffinity;
      const terms = [
        ...(anti?.requiredDuringSchedulingIgnoredDuringExecution ?? []),
        ...(anti?.preferredDuringSchedulingIgnoredDuringExecution ?? []).map((t) => t.podAffinityTerm),
      ];
      assert.equal(terms.length, 1);
      assert.equal(terms[0]!.topologyKey, 'kubernetes.io/hostname');
      assert.ok(selects(terms[0]!.labelSelector.matchLabels)(cp));
      for (const d of [cp, envoyDeployment]) assert.equal(d.spec.strategy?.rollingUpdate?.maxUnavailable, 0);
    });
  });
}

/** `{a: {b_file: x}}` → `{'a.b_file': x}`. */
function flatten(value: Record<string, unknown>, prefix = ''): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    if (v && typeof v === 'object' && !Array.isArray(v))
      Object.assign(out, flatten(v as Record<string, unknown>, `${prefix}${k}.`));
    else out[`${prefix}${k}`] = v;
  }
  return out;
}
