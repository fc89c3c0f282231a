// `npm run bench` (last part): what a signed-in route costs per request (issue 17). One edge (`mtls-edge run`, Envoy
// with one worker) signs people in with the test IdP (a real OpenID Connect provider, oidc-provider, in this
// process); the same upstream is behind a public route and a signed-in one (a policy on the ID token's email
// domain). A session is signed in once, as alice, the browser's part played over HTTPS; then each side is loaded
// over keep-alive connections, the signed-in side with the session's cookies on every request: Envoy's oauth2
// filter checks the cookies' HMAC and decrypts the ID token, jwt_authn verifies its signature, issuer, audience and
// expiry, RBAC decides on its claims, and the session's cookies are taken out before the upstream. The sides
// alternate in rounds (the machine is small and shared: a drift weighs on both); the figure is the ratio of their
// request rates, target >= 0.9.
// It lives under test/ rather than control-plane/bench/ because it imports test/support (the IdP, the browser's
// part), which the Docker build does not have (.dockerignore leaves out test/, and tsconfig.build.json compiles
// control-plane/ with whatever it imports).
import { randomUUID } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runBench, type BenchChecks } from '../../control-plane/bench/checks.js';
import { median } from '../../control-plane/bench/load.js';
import { edgePorts, startEdge, startUpstream, type RunningEdge } from '../../control-plane/bench/processes.js';
import { createRootCa, issueServerCertificate } from '../../control-plane/src/pki/index.js';
import { startIdp, type StartedIdp } from '../support/oidc-idp.js';
import { COUNTERS, measure, MODES, type Counter, type Mode, type Run, type Side, type Target } from './sign-in-load.js';
import { checkAnswers, signIn } from './sign-in-session.js';

const SECONDS = Number(process.env['SIGN_IN_BENCH_SECONDS'] ?? 2);
const ROUNDS = Number(process.env['SIGN_IN_BENCH_ROUNDS'] ?? 5);
const WARM_UP_SECONDS = 1;
const TARGET = 0.9;
const HOST = 'sign-in.bench.test';
const CLIENT = { clientId: 'mtls-edge-bench', clientSecret: randomUUID() };
const ROUTES = { public: '/public/', signedIn: '/signed-in/' };

await runBench(async (checks) => {
  const dir = mkdtempSync(join(tmpdir(), 'mtls-edge-sign-in-bench-'));
  const ca = await createRootCa({ commonName: 'sign-in bench CA' });
  const server = await issueServerCertificate(ca, { dnsNames: [HOST] });
  writeFileSync(join(dir, 'server.pem'), server.chainPem);
  writeFileSync(join(dir, 'server-key.pem'), server.keyPem);
  const ports = await edgePorts();
  const logPath = join(dir, 'edge.log');
  const logFd = openSync(logPath, 'a');
  let idp: StartedIdp | undefined;
  let upstream: Awaited<ReturnType<typeof startUpstream>> | undefined;
  let edge: RunningEdge | undefined;
  try {
    // The redirect URI names the edge's port, so the IdP registers it before the edge starts.
    idp = await startIdp({
      users: [{ id: 'alice', email: 'alice@example.com', groups: ['staff'] }],
      clients: [{ ...CLIENT, redirectUris: [`https://${HOST}:${ports.port}/.pomerium/callback`] }],
    });
    upstream = await startUpstream(`sign-in bench upstream ${randomUUID()}`);
    const config = join(dir, 'sign-in.yaml');
    writeFileSync(config, configYaml(ports.yaml, idp.issuer, upstream.port));
    try {
      edge = await startEdge(config, ports.admin, ['ignore', logFd, logFd]);
    } catch (err) {
      throw new Error(`the edge did not start (${(err as Error).message}); its log is ${logPath}`, { cause: err });
    }
    const status = (await (await fetch(`http://127.0.0.1:${ports.admin}/status`)).json()) as { envoyPid: number };
    const target: Target = {
      port: ports.port,
      host: HOST,
      ca: ca.certPem,
      envoyAdmin: ports.envoyAdmin,
      envoyPid: status.envoyPid,
      body: upstream.body,
      idpTokenRequests: () => idp!.counts.token,
    };
    const cookie = await signIn(checks, target, idp.issuer, ROUTES.signedIn, 'alice');
    checks.stopIfFailed('sign-in');
    await checkAnswers(checks, target, ROUTES, cookie!);
    checks.stopIfFailed('answers');
    console.log(
      `\nwhat a signed-in route costs through Envoy (1 worker): host ${HOST}, the same upstream behind\n` +
        `  ${ROUTES.public.padEnd(12)} allow_public_unauthenticated_access, no cookies sent\n` +
        `  ${ROUTES.signedIn.padEnd(12)} policy domain is example.com, alice's session cookies on every request ` +
        `(${cookie!.length} bytes: oauth2 HMAC + decrypt, jwt_authn RS256, RBAC on the claims, ` +
        `the session cookies removed)\n` +
        `checks: signed in as alice through the IdP's login form; ${ROUTES.signedIn} answers the upstream with ` +
        `the cookies and 401 without them, renews a session whose ID token was altered at the IdP (refuses it ` +
        `without the refresh token); ${ROUTES.public} answers the upstream\n` +
        `per mode: ${WARM_UP_SECONDS} s warm-up a side, then ${ROUNDS} rounds of ${SECONDS} s a side, the order ` +
        `alternating; target: median rps ratio signed-in/public >= ${TARGET}`,
    );
    const sides: Side[] = [
      { name: 'public', path: ROUTES.public, headers: { accept: '*/*' } },
      { name: 'signed-in', path: ROUTES.signedIn, headers: { accept: '*/*', cookie: cookie! } },
    ];
    for (const mode of MODES) await compare(checks, target, mode, sides);
  } finally {
    await edge?.stop();
    closeSync(logFd);
    await idp?.stop();
    await upstream?.stop();
  }
});

function configYaml(addresses: string[], issuer: string, upstreamPort: number): string {
  const route = (path: string) => [
    `  - from: https://${HOST}`,
    `    prefix: ${path}`,
    `    to: http://127.0.0.1:${upstreamPort}`,
  ];
  return [
    ...addresses,
    'certificate_file: server.pem',
    'certificate_key_file: server-key.pem',
    `idp_provider_url: ${issuer}`,
    `idp_client_id: ${CLIENT.clientId}`,
    `idp_client_secret: ${CLIENT.clientSecret}`,
    'idp_scopes: openid email profile groups',
    `cookie_secret: ${Buffer.alloc(32, 7).toString('base64')}`,
    'routes:',
    ...route(ROUTES.public),
    '    allow_public_unauthenticated_access: true',
    ...route(ROUTES.signedIn),
    '    policy:',
    '      allow:',
    '        or:',
    '          - domain: { is: example.com }',
    '',
  ].join('\n');
}

/** Each side's runs in one mode, checked, printed round by round, then the medians and the verdict. */
async function compare(checks: BenchChecks, t: Target, mode: Mode, sides: Side[]): Promise<void> {
  const run = async (side: Side, seconds: number): Promise<Run> => {
    const r = await measure(t, mode, side, seconds);
    checks.noErrors(`${mode} ${side.name}`, r);
    checkCounters(checks, `${mode} ${side.name}`, side, r);
    return r;
  };
  for (const side of sides) await run(side, WARM_UP_SECONDS);
  const widths = [6, 7, 7, 12];
  const row = (cells: string[]) => cells.map((c, i) => c.padStart(widths[i]!)).join(' ');
  const cells = (r: Run) =>
    row([r.rps.toFixed(0), r.p50.toFixed(2), r.p99.toFixed(2), r.envoyMicrosPerRequest.toFixed(0)]);
  const header = row(['rps', 'p50 ms', 'p99 ms', 'Envoy µs/req']);
  console.log(`\n${mode}\n      | ${'public'.padEnd(header.length)} | ${'signed-in'.padEnd(header.length)} |`);
  console.log(`round | ${header} | ${header} | ratio`);
  const rounds: Array<Record<Side['name'], Run>> = [];
  for (let i = 0; i < ROUNDS; i++) {
    const runs = {} as Record<Side['name'], Run>;
    for (const side of i % 2 === 0 ? sides : [...sides].reverse()) runs[side.name] = await run(side, SECONDS);
    rounds.push(runs);
    const ratio = (runs['signed-in'].rps / runs.public.rps).toFixed(3);
    console.log(`${String(i + 1).padStart(5)} | ${cells(runs.public)} | ${cells(runs['signed-in'])} | ${ratio}`);
  }
  const ratios = rounds.map((r) => r['signed-in'].rps / r.public.rps);
  const ratio = median(ratios);
  const of = (side: Side['name'], pick: (r: Run) => number) => median(rounds.map((r) => pick(r[side])));
  const both = (pick: (r: Run) => number, digits: number) =>
    `${of('public', pick).toFixed(digits)} / ${of('signed-in', pick).toFixed(digits)}`;
  const cpu = [of('public', (r) => r.envoyMicrosPerRequest), of('signed-in', (r) => r.envoyMicrosPerRequest)];
  console.log(
    `ratio signed-in/public rps: median ${ratio.toFixed(3)}, range ${Math.min(...ratios).toFixed(3)}–` +
      `${Math.max(...ratios).toFixed(3)}\nmedians public / signed-in: rps ${both((r) => r.rps, 0)}, ` +
      `p50 ${both((r) => r.p50, 2)} ms, p99 ${both((r) => r.p99, 2)} ms, Envoy CPU per request ` +
      `${cpu[0]!.toFixed(0)} / ${cpu[1]!.toFixed(0)} µs (+${(cpu[1]! - cpu[0]!).toFixed(0)} µs)`,
  );
  checks.target(
    ratio >= TARGET,
    (word) => `${mode}: signed-in/public rps median ${ratio.toFixed(3)} >= ${TARGET}: ${word}`,
  );
}

/**
 * The signed-in side's every request went through the oauth2 filter, jwt_authn and RBAC (each counter grew by the
 * requests made), the public side's through none of them; no session was renewed at the IdP (the oauth2 filter counts
 * a renewal as a success too, and it would time the IdP).
 */
function checkCounters(checks: BenchChecks, what: string, side: Side, r: Run): void {
  const made = r.requests + r.errors;
  checks.expect(r.idpTokenRequests === 0, `${what}: ${r.idpTokenRequests} sessions renewed at the IdP (want none)`);
  const want = side.name === 'signed-in' ? made : 0;
  for (const counter of Object.keys(COUNTERS) as Counter[])
    checks.expect(
      r.counted[counter] === want,
      `${what}: Envoy's ${counter} grew by ${r.counted[counter]} over ${made} requests (want ${want})`,
    );
}
