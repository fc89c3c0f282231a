import type { ChildProcess } from 'node:child_process';
import type { ControlChannelPki } from '../support/control-channel-pki.js';
import { HOSTS } from '../support/pki-fixture.js';
import type { TestUpstream } from '../support/upstream.js';

/** The parts of the control plane's /status these tests read. */
export interface Status {
  ready: boolean;
  synced: boolean;
  configVersion: string;
  typeVersions: Record<string, string>;
  reload: { lastApplied?: string; errors: unknown[] };
  nodes: Array<{ node: string; types: Array<{ acked?: string }> }>;
}

export async function fetchStatus(adminUrl: string): Promise<Status> {
  return (await (await fetch(`${adminUrl}/status`)).json()) as Status;
}

/** Polls /status until `done` holds (a control plane that does not answer yet counts as not done). */
export async function waitForStatus(
  adminUrl: string,
  what: string,
  done: (s: Status) => boolean,
  timeoutMs: number,
): Promise<Status> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const s = await fetchStatus(adminUrl).catch(() => undefined);
    if (s && done(s)) return s;
    if (Date.now() > deadline) throw new Error(`${what}: not reached; last status ${JSON.stringify(s)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** `run --no-envoy` with the control channel: z public under `prefix`, x with CA A and identity headers. */
export function controlChannelConfig(o: {
  httpsPort: number;
  adminUrl: string;
  xdsPort: number;
  channel: ControlChannelPki;
  nodeIds: string[];
  upstream: TestUpstream;
  prefix: string;
}): string {
  return `address: 127.0.0.1:${o.httpsPort}
admin_address: ${new URL(o.adminUrl).host}
xds_address: 127.0.0.1:${o.xdsPort}
${o.channel.yaml}xds_node_ids: [${o.nodeIds.join(', ')}]
certificate_file: server.pem
certificate_key_file: server-key.pem
routes:
  - from: https://${HOSTS.z}
    to: ${o.upstream.url}
    prefix: ${o.prefix}
    allow_public_unauthenticated_access: true
  - from: https://${HOSTS.x}
    to: ${o.upstream.url}
    tls_downstream_client_ca_file: ca-a.pem
    allow_any_authenticated_user: true
    pass_identity_headers: true
`;
}

/** SIGTERM to each child still running, one after the other (Envoy before the control plane it talks to). */
export async function stopChildren(children: Array<ChildProcess | undefined>): Promise<void> {
  for (const child of children) {
    if (!child || child.exitCode !== null || child.signalCode !== null) continue;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
  }
}
