// `npm run bench` (fourth part): what a route policy costs through Envoy. One host that requires a client
// certificate (client_ca_file, so reject_connection), the same upstream behind four routes told apart by
// prefix: no policy; a certificate-only policy Envoy's RBAC filter decides; a policy only the control
// plane's ext_authz service can decide (`user`); and the RBAC policy plus pass_identity_headers (ext_authz
// signs an ES256 JWT per certificate; Envoy keeps the allows per certificate and route). Twenty client
// certificates, the requests spread across them. Requests per second (over the measured time) and p99 per route
// and the ratios with the no-policy route, measured in one run (the machine is small and noisy: compare ratios);
// then each target's two routes alone in alternating cycles, and /envoy and /none again at a fixed request rate
// for Envoy's CPU per request (policy-bench-cycles.ts); then the decision cache's
// hit rate from the control plane's /metrics and Envoy's ext_authz stats. Checked before the load: each route's
// answers (200 from the upstream, 403 to a certificate outside the policies, the JWT only on /identity); during
// it: every request a 200 from the upstream, and the ext_authz service answering at most one check per hundred
// requests on /extauthz and /identity, and none for /none and /envoy. A failed check prints no
// verdict, and the bench exits with code 1.
import { randomUUID } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRootCa, issueClientCertificate, issueServerCertificate } from '../src/pki/index.js';
import { inProcessCheckMicros, verificationCost } from './verify-cost.js';
import { runBench } from './checks.js';
import { COMPARISONS, compareCpuAtFixedRate, compareInCycles } from './policy-bench-cycles.js';
import { average, type LoadResult, type Tls } from './load.js';
import {
  checkRoutes,
  hitRate,
  HOST,
  measure,
  MODES,
  readMetrics,
  ROUTES,
  SECONDS,
  type Mode,
  type Route,
} from './policy-bench-routes.js';
import { edgePorts, startEdge, startUpstream } from './processes.js';

const CLIENTS = 20;

await runBench(async (checks) => {
  const dir = mkdtempSync(join(tmpdir(), 'mtls-edge-policy-bench-'));
  const ca = await createRootCa({ commonName: 'policy bench CA' });
  writeFileSync(join(dir, 'ca.pem'), ca.certPem);
  const server = await issueServerCertificate(ca, { dnsNames: [HOST] });
  writeFileSync(join(dir, 'server.pem'), server.chainPem);
  writeFileSync(join(dir, 'server-key.pem'), server.keyPem);
  const clients: Tls[] = [];
  for (let i = 0; i < CLIENTS; i++) {
    const c = await issueClientCertificate(ca, { commonName: `bench-${i}`, email: `bench-${i}@example.com` });
    clients.push({ ca: ca.certPem, cert: c.certPem, key: c.keyPem });
  }
  // A certificate every policy refuses (user "outsider", domain example.org), to check the policies are enforced.
  const outsiderCert = await issueClientCertificate(ca, { commonName: 'outsider', email: 'outsider@example.org' });
  const outsider: Tls = { ca: ca.certPem, cert: outsiderCert.certPem, key: outsiderCert.keyPem };
  const upstream = await startUpstream(`policy-bench upstream ${randomUUID()}`);

  const ports = await edgePorts();
  const config = join(dir, 'policy.yaml');
  const routeYaml = ROUTES.flatMap((r) => [
    `  - from: https://${HOST}`,
    `    prefix: ${r.prefix}`,
    `    to: http://127.0.0.1:${upstream.port}`,
    ...r.yaml,
  ]);
  writeFileSync(
    config,
    [
      ...ports.yaml,
      'certificate_file: server.pem',
      'certificate_key_file: server-key.pem',
      'client_ca_file: ca.pem',
      'routes:',
      ...routeYaml,
      '',
    ].join('\n'),
  );
  const logPath = join(dir, 'edge.log');
  const logFd = openSync(logPath, 'a');

  console.log(
    `\nwhat a route policy costs through Envoy (1 worker): one host (${HOST}, client_ca_file, ` +
      `reject_connection), the same upstream behind four routes:`,
  );
  for (const r of ROUTES) console.log(`  ${r.prefix.padEnd(10)} ${r.what}`);
  console.log(
    `${CLIENTS} client certificates (CN bench-0..${CLIENTS - 1}, bench-i@example.com), requests spread ` +
      `across them; requests/s and p99 (ms) per route`,
  );
  console.log(
    `(two ${SECONDS} s runs each, after a warm-up, in the order none..identity, identity..none) and the ` +
      `ratios route/none.`,
  );
  console.log(`targets (median rps ratios of alternating cycles, after the table):`);
  for (const c of COMPARISONS) console.log(`  /${c.other} >= ${c.target} × /${c.base}: ${c.why}`);

  let edge: Awaited<ReturnType<typeof startEdge>> | undefined;
  try {
    try {
      edge = await startEdge(config, ports.admin, ['ignore', logFd, logFd]);
    } catch (err) {
      throw new Error(`the edge did not start (${(err as Error).message}); its log is ${logPath}`, { cause: err });
    }
    await checkRoutes(checks, ports.port, clients[0]!, outsider, upstream.body);
    checks.stopIfFailed('routes');
    console.log(
      'checks: every route answers the upstream to bench-0 (only /identity passes a JWT upstream) and ' +
        'the three policies answer 403 to outsider@example.org',
    );

    const before = await readMetrics(ports.admin);
    const perMode: Array<{ mode: Mode; hits: number; misses: number }> = [];
    console.log('\nmode             | route     |    rps | p99 ms | rps ratio | p99 ratio');
    for (const mode of MODES) {
      const start = await readMetrics(ports.admin);
      const all: Array<[Route, LoadResult]> = [];
      const run = async (r: Route) => {
        const result = await measure(mode, ports.port, r, clients, upstream.body);
        checks.noErrors(`${mode} ${r.prefix}`, result);
        all.push([r, result]);
        return result;
      };
      for (const r of ROUTES) await run(r); // warm-up
      const first: LoadResult[] = [];
      const second: LoadResult[] = [];
      for (const r of ROUTES) first.push(await run(r));
      for (const r of [...ROUTES].reverse()) second.unshift(await run(r));
      const results = ROUTES.map((_, i) => average(first[i]!, second[i]!));
      const base = results[0]!;
      for (const [i, r] of ROUTES.entries()) {
        const res = results[i]!;
        console.log(
          `${mode.padEnd(16)} | ${r.name.padEnd(9)} | ${res.rps.toFixed(0).padStart(6)} | ` +
            `${res.p99.toFixed(1).padStart(6)} | ${(res.rps / base.rps).toFixed(2).padStart(9)} | ` +
            `${(res.p99 / base.p99).toFixed(2).padStart(9)}`,
        );
      }
      const end = await readMetrics(ports.admin);
      perMode.push({ mode, hits: end.hits - start.hits, misses: end.misses - start.misses });
      // Envoy keeps the service's allows (its identity cache): a check per certificate and route, again when an
      // entry expires (after five minutes at most): at most one per hundred requests on /extauthz and /identity.
      const onExtAuthz = all.reduce((n, [r, res]) => n + (r.extAuthz ? res.requests : 0), 0);
      checks.expect(
        (end.checks - start.checks) * 100 <= onExtAuthz,
        `${mode}: the ext_authz service answered ${end.checks - start.checks} checks for ${onExtAuthz} ` +
          `requests on /extauthz and /identity (at most one per hundred)`,
      );
    }

    // The table's ratios move by ±10 % from run to run on this machine: each target compares its two routes alone,
    // in alternating cycles (policy-bench-cycles.ts).
    const envoyPid = (
      (await (await fetch(`http://127.0.0.1:${ports.admin}/status`)).json()) as { envoyPid: number | null }
    ).envoyPid;
    if (envoyPid === null) throw new Error('the control plane reports no Envoy process');
    for (const comparison of COMPARISONS)
      await compareInCycles(checks, comparison, {
        port: ports.port,
        admin: ports.admin,
        envoyPid,
        clients,
        body: upstream.body,
      });
    await compareCpuAtFixedRate(checks, { port: ports.port, envoyPid, clients, body: upstream.body });

    const after = await readMetrics(ports.admin);
    const hits = after.hits - before.hits;
    const misses = after.misses - before.misses;
    console.log(
      `\next_authz decision cache (control plane /metrics, mtls_edge_authz_cache_{hits,misses}_total), ` +
        `during the load:`,
    );
    for (const m of perMode)
      console.log(`  ${m.mode.padEnd(16)} hit rate ${hitRate(m.hits, m.misses)} (hits ${m.hits}, misses ${m.misses})`);
    console.log(
      `  all modes        hit rate ${hitRate(hits, misses)} (hits ${hits}, misses ${misses}); since ` +
        `start, with the checks: hits ${after.hits}, misses ${after.misses}`,
    );
    for (const line of after.decisions) console.log(`  ${line}`);
    const stats = await (await fetch(`http://127.0.0.1:${ports.envoyAdmin}/stats?filter=ext_authz`)).text();
    const lines = stats.split('\n').filter((l) => l.trim() !== '' && !/: 0$/.test(l));
    console.log(`Envoy /stats?filter=ext_authz (non-zero, since start):`);
    for (const l of lines.length ? lines : ['(none)']) console.log(`  ${l}`);
  } finally {
    await edge?.stop();
    closeSync(logFd);
    await upstream.stop();
  }

  console.log(
    `\next_authz check() in-process, no gRPC (cached identity, verification verdict and decision): ` +
      `${(await inProcessCheckMicros(clients[0]!, HOST)).toFixed(2)} µs per check`,
  );
  console.log('client certificate verification in the ext_authz service (in-process, no gRPC):');
  for (const line of await verificationCost()) console.log(`  ${line}`);
});
