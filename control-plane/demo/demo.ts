// `npm run demo`: the demo certificates (made with `mtls-edge certs` if missing), the verify app as the
// upstream, and `mtls-edge run` on examples/demo/config.yaml. Once the edge answers, the last thing on the screen is
// what to do next; then one line per request. Ctrl-C stops all of it, cleanly.
//
// The addresses are the config's, or the environment's as for any config (ADDRESS, ADMIN_ADDRESS, ...);
// DEMO_APP_ADDRESS moves the verify app off 127.0.0.1:8000 (the demo's test runs on free ports).
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { connect } from 'node:tls';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { certsCommand } from '../src/commands/certs.js';
import { startVerifyApp } from '../src/demo/verify-app.js';

const ROOT = resolve(fileURLToPath(new URL('../../../', import.meta.url)));
const CERTS = join(ROOT, 'certs');
const CONFIG = join(ROOT, 'examples', 'demo', 'config.yaml');
const CLI = fileURLToPath(new URL('../../mtls-edge.mjs', import.meta.url));
const IDENTITY = 'yourUsername@localhost.pomerium.io';
const CONFIG_APP_ADDRESS = '127.0.0.1:8000';
const READY_WITHIN_MS = 60_000;
const SETTLE_MS = 300;

async function ensureCertificates(): Promise<void> {
  const steps: Array<[string, string[]]> = [
    ['ca.pem', ['ca']],
    ['_wildcard.localhost.pomerium.io.pem', ['server', '*.localhost.pomerium.io', 'localhost.pomerium.io']],
    [`${IDENTITY}-client.p12`, ['client', IDENTITY]],
  ];
  const made: string[] = [];
  for (const [file, args] of steps) {
    if (existsSync(join(CERTS, file))) continue;
    if ((await certsCommand(args, { dir: CERTS, force: false, legacy: false, quiet: true })) !== 0) process.exit(2);
    made.push(file);
  }
  // `mtls-edge certs` says more (the config lines for each file); the ready block says what to do with them.
  if (made.length > 0)
    console.log(`made the demo certificates in ${relative(process.cwd(), CERTS)}/: ${made.join(', ')}`);
}

interface DemoConfig {
  address?: string;
  admin_address?: string;
  routes?: Array<Record<string, unknown>>;
}

const config = parse(readFileSync(CONFIG, 'utf8')) as DemoConfig;
const edgeAddress = process.env['ADDRESS'] || config.address || '127.0.0.1:8443';
const adminAddress = process.env['ADMIN_ADDRESS'] || config.admin_address || '127.0.0.1:9902';
const appAddress = process.env['DEMO_APP_ADDRESS'] || CONFIG_APP_ADDRESS;
const port = edgeAddress.split(':').pop()!;

/** The config's routes, pointed at the verify app where it really listens (only when moved). */
function routesEnv(): Record<string, string> {
  if (appAddress === CONFIG_APP_ADDRESS) return {};
  const routes = (config.routes ?? []).map((r) => ({
    ...r,
    to: String(r['to']).replace(CONFIG_APP_ADDRESS, appAddress),
  }));
  return { ROUTES: JSON.stringify(routes) };
}

/**
 * Ready: every Envoy took the config (the admin /synced), and the edge completes a TLS handshake for the public host
 * with the demo's server certificate. No HTTP request: its access log line would land under the ready block.
 */
async function edgeReady(ca: Buffer): Promise<boolean> {
  try {
    if ((await fetch(`http://${adminAddress}/synced`)).status !== 200) return false;
  } catch {
    return false;
  }
  return new Promise((done) => {
    const socket = connect({ host: '127.0.0.1', port: Number(port), servername: 'public.localhost.pomerium.io', ca });
    socket.setTimeout(2000, () => socket.destroy());
    socket.on('secureConnect', () => {
      socket.destroy();
      done(true);
    });
    socket.on('error', () => done(false));
    socket.on('close', () => done(false));
  });
}

async function untilTheEdgeAnswers(): Promise<boolean> {
  const ca = readFileSync(join(CERTS, 'ca.pem'));
  const deadline = Date.now() + READY_WITHIN_MS;
  while (Date.now() < deadline) {
    if (await edgeReady(ca)) return true;
    await new Promise((r) => setTimeout(r, 200));
  }
  return false;
}

function readyBlock(): string {
  const certs = relative(process.cwd(), CERTS) || '.';
  const url = (host: string) => `https://${host}.localhost.pomerium.io:${port}/`;
  const resolveFlag = `--resolve verify.localhost.pomerium.io:${port}:127.0.0.1`;
  const client = `--cert ${certs}/${IDENTITY}-client.pem --key ${certs}/${IDENTITY}-client-key.pem`;
  return `
──────────────────────────────────────────────────────────────────────────────────────────────
 mtls-edge demo: ready
   edge      ${url('verify')}   your identity, from your client certificate
             ${url('public')}   no certificate needed
   upstream  the verify app, http://${appAddress}
   status    http://${adminAddress}/status

 In a browser: import ${certs}/${IDENTITY}-client.p12 (password: changeit), then open
 the first URL (the demo's CA, ${certs}/ca.pem, is not trusted by your browser: accept the warning or trust it).
 With curl:
   curl ${resolveFlag} --cacert ${certs}/ca.pem ${client} ${url('verify')}
   curl ${resolveFlag} --cacert ${certs}/ca.pem ${url('verify')}    # 403: no certificate

 Each request shows below as one line. Ctrl-C stops the demo.
──────────────────────────────────────────────────────────────────────────────────────────────
`;
}

await ensureCertificates();
const [appHost = '127.0.0.1', appPort = '8000'] = appAddress.split(/:(?=\d+$)/);
const app = await startVerifyApp(appHost, Number(appPort));
const edge = spawn(process.execPath, [CLI, 'run', '--config', CONFIG], {
  stdio: 'inherit',
  env: { ...process.env, ...routesEnv() },
});
let stopping = false;
// Ctrl-C reaches `run` from the terminal, and again from here and from npm: it takes the copies that come within a
// moment as one, drains Envoy and stops. A signal sent to the demo alone (kill PID) is passed on the same way.
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(signal, () => {
    stopping = true;
    edge.kill(signal);
  });
}
edge.on('exit', (code, signal) => {
  app.close();
  const clean = code === 0;
  console.log(clean ? 'demo stopped' : `demo stopped: mtls-edge run exited with ${code ?? signal}`);
  process.exit(clean ? 0 : (code ?? 1));
});
if (await untilTheEdgeAnswers()) {
  // The last of run's start-up lines travel through a pipe and pino-pretty's worker: let them land first.
  await new Promise((r) => setTimeout(r, SETTLE_MS));
  if (!stopping) console.log(readyBlock());
} else if (!stopping) {
  console.log(`\nThe edge did not answer on ${edgeAddress} within ${READY_WITHIN_MS / 1000} s: see the log above.`);
}
