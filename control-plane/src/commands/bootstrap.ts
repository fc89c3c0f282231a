import { existsSync, readFileSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import { CONTROL_CHANNEL_HOW_TO } from '../config/control-channel.js';
import { Diagnostics } from '../source/diagnostics.js';
import { parseAddress } from '../config/server.js';
import type { SocketAddress } from '../config/index.js';
import { isIpAddress } from '../model/hostnames.js';
import { readBootstrapTemplate, renderBootstrap, type XdsProtocol } from '../runtime/bootstrap.js';
import { nodeRefusal } from '../xds/index.js';
import { loadAndCompile, printErrors } from './load.js';

export const DEFAULT_NODE_ID = 'mtls-edge';

export interface BootstrapOptions {
  nodeId?: string;
  /**
   * The control plane as Envoy reaches it: one entry per replica (a service name, an address), each HOST or
   * HOST:PORT (default port: the config's xds_address port). Empty: the config's xds_address.
   */
  xdsHosts: string[];
  /** The name Envoy expects in the control plane's certificate (and sends as SNI); default: the host it dials. */
  xdsServerName?: string;
  /**
   * Paths as the Envoy sees them: the CA of the control plane's certificate, and the Envoy's own certificate and key.
   */
  xdsCa?: string;
  xdsClientCert?: string;
  xdsClientKey?: string;
  /** Overrides the config's envoy_admin_address, so that several Envoys can share a machine. */
  envoyAdminAddress?: string;
  /** Override the config's envoy_health_address and metrics_address for this Envoy. */
  healthAddress?: string;
  metricsAddress?: string;
  protocol?: XdsProtocol;
}

const NEEDS_FILES =
  'the bootstrap needs the files this Envoy uses on the control channel, as paths on its machine: ' +
  '--xds-client-cert FILE and --xds-client-key FILE ' +
  '(`mtls-edge certs envoy NODE_ID` creates them) and --xds-ca FILE (the CA of the control plane ' +
  'certificate, e.g. certs/control-plane-ca.pem)';

export function bootstrapCommand(configPath: string | undefined, o: BootstrapOptions): number {
  const result = loadAndCompile(configPath);
  if ('errors' in result) {
    printErrors(result.errors);
    return 1;
  }
  const fail = (message: string) => {
    process.stderr.write(`mtls-edge bootstrap: ${message}\n`);
    return 1;
  };
  if (!result.config.xdsTls)
    return fail(`the control plane accepts Envoys over the network only with mutual TLS: ${CONTROL_CHANNEL_HOW_TO}`);
  if (!o.xdsCa || !o.xdsClientCert || !o.xdsClientKey) return fail(NEEDS_FILES);
  const diag = new Diagnostics();
  const flag = (value: string | undefined, key: string, configured: SocketAddress | undefined) =>
    value === undefined ? configured : parseAddress(value, { file: 'command line', key }, diag);
  const envoyAdmin = flag(o.envoyAdminAddress, '--envoy-admin-address', result.config.envoyAdminAddress);
  const health = flag(o.healthAddress, '--health-address', result.config.envoyHealthAddress);
  const metrics = flag(o.metricsAddress, '--metrics-address', result.config.metricsAddress);
  if (!envoyAdmin || !diag.ok) {
    printErrors(diag.errors);
    return 1;
  }
  const nodeId = o.nodeId ?? DEFAULT_NODE_ID;
  // Where the certificate is readable here, say now what the control plane would say when the Envoy connects.
  if (existsSync(o.xdsClientCert)) {
    const refusal = nodeRefusal(
      nodeId,
      new X509Certificate(readFileSync(o.xdsClientCert)).raw,
      result.config.xdsTls.nodeIds,
    );
    if (refusal) return fail(`${o.xdsClientCert}: the control plane would refuse this Envoy: ${refusal}`);
  }
  const addresses = xdsAddresses(o.xdsHosts, result.config.xdsAddress, diag);
  const [address, ...otherAddresses] = addresses ?? [];
  if (!address) {
    printErrors(diag.errors);
    return 1;
  }
  const serverName = o.xdsServerName ?? (address.host === '0.0.0.0' ? '127.0.0.1' : address.host);
  const xds = {
    kind: 'tls' as const,
    address,
    otherAddresses,
    serverName,
    caFile: o.xdsCa,
    certFile: o.xdsClientCert,
    keyFile: o.xdsClientKey,
  };
  process.stdout.write(
    renderBootstrap(readBootstrapTemplate(), { nodeId, xds, envoyAdmin, health, metrics, protocol: o.protocol }),
  );
  return 0;
}

const HOST_NAME = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/i;
/** HOST, HOST:PORT, [IPv6] or [IPv6]:PORT. */
const HOST_AND_PORT = /^(?:\[([0-9a-f:.]+)\]|([^:[\]]+))(?::(\d{1,5}))?$/i;

/**
 * Each `--xds-host HOST[:PORT]` (repeated, or separated by commas), kept as written: it is also the name Envoy checks
 * the control plane's certificate against. The port defaults to the config's; none given: the config's xds_address.
 */
function xdsAddresses(hosts: string[], configured: SocketAddress, diag: Diagnostics): SocketAddress[] | undefined {
  if (hosts.length === 0) return [configured];
  const at = { file: 'command line', key: '--xds-host' };
  const out: SocketAddress[] = [];
  for (const raw of hosts.flatMap((h) => h.split(','))) {
    const entry = raw.trim();
    const m = HOST_AND_PORT.exec(entry);
    const host = m?.[1] ?? m?.[2];
    const port = m?.[3] === undefined ? configured.port : Number(m[3]);
    if (!m || host === undefined || !(isIpAddress(host) || HOST_NAME.test(host)) || port < 1 || port > 65535) {
      const hint = entry === '' ? 'an empty entry' : JSON.stringify(entry);
      diag.error(at, `expected HOST, HOST:PORT or [IPv6]:PORT for each control-plane replica, got ${hint}`);
      return undefined;
    }
    out.push({ host, port });
  }
  return out;
}
