import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { command } from './commands.js';
import { requireTool } from './tools.js';

const DOCKER_INSTALL = "Install Debian's Docker engine: apt-get install docker.io (.ci/run does, as root).";
const IP_FORWARD = '/proc/sys/net/ipv4/ip_forward';
/** The iptables tables dockerd writes to (IPv4 only: it leaves ip6tables alone unless told otherwise). */
const TABLES = ['filter', 'nat'] as const;

/** A Docker engine this test started, with its own data and socket, and what it takes to undo it. */
export interface DockerEngine {
  /** The environment for docker and docker-compose: DOCKER_HOST names this engine's socket. */
  env: NodeJS.ProcessEnv;
  docker: string;
  /** The engine's log, for a failure message. */
  log(): string;
  /** Stops dockerd, then removes the bridges and iptables rules it created and its data. */
  stop(): Promise<void>;
}

interface HostNetwork {
  links: Set<string>;
  rules: Record<(typeof TABLES)[number], string[]>;
  ipForward: string;
}

/**
 * Starts dockerd with its default bridge and iptables rules, its data under a folder of its own, and waits until it
 * answers. Fails (never skips) when it cannot: the message says why, with the engine's last log lines.
 */
export async function startDockerEngine(): Promise<DockerEngine> {
  if (process.getuid?.() !== 0)
    throw new Error(
      'starting a Docker engine needs root (bridges, iptables, mounts): run this test as root, as CI does',
    );
  const dockerd = requireTool('dockerd', DOCKER_INSTALL);
  const docker = requireTool('docker', DOCKER_INSTALL);
  requireTool('iptables', 'Install it: apt-get install iptables.');
  requireTool('ip', 'Install it: apt-get install iproute2.');
  const before = await hostNetwork();
  if (before.links.has('docker0'))
    throw new Error(
      'a docker0 bridge exists: another Docker engine runs here; stop it first (this test starts its own)',
    );
  const dir = mkdtempSync(join(tmpdir(), 'mtls-edge-docker-'));
  const socket = `unix://${join(dir, 'docker.sock')}`;
  const logFile = join(dir, 'dockerd.log');
  const out = openSync(logFile, 'a');
  const child = spawn(
    dockerd,
    ['--data-root', join(dir, 'data'), '--exec-root', join(dir, 'exec'), '--pidfile', join(dir, 'dockerd.pid')].concat([
      '--host',
      socket,
    ]),
    { stdio: ['ignore', out, out] },
  );
  const env = { ...process.env, DOCKER_HOST: socket };
  const log = (): string => (existsSync(logFile) ? readFileSync(logFile, 'utf8') : '');
  const engine: DockerEngine = { env, docker, log, stop: () => stopEngine(child, dir, before) };
  const exited = new Promise<string>((resolve) =>
    child.once('exit', (code, signal) => resolve(`dockerd exited (${signal ?? code})`)),
  );
  const deadline = Date.now() + 60_000;
  for (;;) {
    const answer = await Promise.race([
      exited,
      command(docker, ['version', '--format', '{{.Server.Version}}'], { env, timeoutMs: 5_000 }).then(
        () => 'up',
        () => 'not yet',
      ),
    ]);
    if (answer === 'up') return engine;
    if (answer !== 'not yet' || Date.now() > deadline) {
      await engine.stop();
      throw new Error(`the Docker engine did not start: ${answer}\n${tail(log(), 30)}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function stopEngine(child: ChildProcess, dir: string, before: HostNetwork): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) {
    const exit = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    // dockerd stops its containers (10 s each at most) and its containerd before it exits.
    const timer = setTimeout(() => child.kill('SIGKILL'), 45_000);
    await exit;
    clearTimeout(timer);
  }
  // dockerd's own containerd, had it outlived a killed dockerd.
  const containerdPid = join(dir, 'exec', 'containerd', 'containerd.pid');
  if (existsSync(containerdPid)) killQuietly(Number(readFileSync(containerdPid, 'utf8').trim()));
  await restoreNetwork(before);
  // Whatever is still mounted under the data root (a killed engine leaves overlay mounts) goes first.
  for (const line of readFileSync('/proc/mounts', 'utf8').split('\n').reverse()) {
    const target = line.split(' ')[1];
    if (target?.startsWith(`${dir}/`)) await command('umount', ['-l', target]).catch(() => undefined);
  }
  rmSync(dir, { recursive: true, force: true });
}

function killQuietly(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

async function hostNetwork(): Promise<HostNetwork> {
  const links = (await command('ip', ['-o', 'link', 'show'])).stdout
    .split('\n')
    .map((l) => /^\d+: ([^:@]+)/.exec(l)?.[1])
    .filter((n): n is string => !!n);
  const rules = { filter: [] as string[], nat: [] as string[] };
  for (const table of TABLES)
    rules[table] = (await command('iptables', ['-t', table, '-S'])).stdout.split('\n').filter(Boolean);
  return { links: new Set(links), rules, ipForward: readFileSync(IP_FORWARD, 'utf8').trim() };
}

/**
 * Takes out what dockerd added to the host and left there: its bridges (docker0, a compose network's br-…) and
 * veths, every iptables rule and chain that was not there before it started, the chains' policies it changed, and
 * IP forwarding if it turned it on.
 */
async function restoreNetwork(before: HostNetwork): Promise<void> {
  const now = await hostNetwork();
  for (const link of now.links)
    if (!before.links.has(link) && /^(docker0|br-[0-9a-f]+|veth[0-9a-f]+)$/.test(link))
      await command('ip', ['link', 'delete', link]).catch(() => undefined);
  for (const table of TABLES) {
    const added = now.rules[table].filter((r) => !before.rules[table].includes(r));
    // Rules first (last added first), then the chains they lived in.
    for (const rule of added.filter((r) => r.startsWith('-A ')).reverse())
      await command('iptables', ['-t', table, '-D', ...words(rule.slice(3))]);
    for (const chain of added.filter((r) => r.startsWith('-N ')).map((r) => r.slice(3))) {
      await command('iptables', ['-t', table, '-F', chain]);
      await command('iptables', ['-t', table, '-X', chain]);
    }
    // dockerd sets the FORWARD policy to DROP: the policies go back to what they were.
    for (const policy of before.rules[table].filter((r) => r.startsWith('-P ') && !now.rules[table].includes(r)))
      await command('iptables', ['-t', table, ...words(policy)]);
  }
  if (now.ipForward !== before.ipForward) writeFileSync(IP_FORWARD, before.ipForward);
}

/** `iptables -S` prints one rule per line with shell-like double quotes around words that contain spaces. */
function words(rule: string): string[] {
  return [...rule.matchAll(/"((?:[^"\\]|\\.)*)"|(\S+)/g)].map((m) => m[1]?.replace(/\\(.)/g, '$1') ?? m[2]!);
}

function tail(text: string, lines: number): string {
  return text.trim().split('\n').slice(-lines).join('\n');
}
