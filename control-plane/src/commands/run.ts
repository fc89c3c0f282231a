import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createAdminApp, createMetrics, listen } from '../admin/server.js';
import { summarize } from '../pipeline.js';
import { readBootstrapTemplate, renderBootstrap } from '../runtime/bootstrap.js';
import { EnvoyProcess } from '../runtime/envoy-process.js';
import { findEnvoy } from '../runtime/find-envoy.js';
import { createLogger } from '../runtime/logger.js';
import { AdsServer } from '../xds/index.js';
import { DEFAULT_NODE_ID } from './bootstrap.js';
import { loadAndCompile, printErrors } from './load.js';

export interface RunOptions {
  configPath: string | undefined;
  nodeId: string | undefined;
  startEnvoy: boolean;
  envoyConcurrency: number | undefined;
  drainTimeSeconds: number | undefined;
}

/** Control plane + (optionally) Envoy, until SIGINT/SIGTERM or Envoy's exit. */
export async function runCommand(o: RunOptions): Promise<number> {
  const log = createLogger();
  const result = loadAndCompile(o.configPath);
  if ('errors' in result) {
    printErrors(result.errors);
    for (const e of result.errors) log.error({ file: e.file, line: e.line, key: e.key }, e.message);
    return 1;
  }
  const { config, compiled } = result;
  const envoyBinary = o.startEnvoy ? findEnvoy(process.env) : undefined;
  if (envoyBinary && 'error' in envoyBinary) {
    log.error({}, envoyBinary.error);
    process.stderr.write(`mtls-edge: ${envoyBinary.error}\n`);
    return 1;
  }

  const ads = new AdsServer(log);
  const metrics = createMetrics(ads);
  ads.onChange((event) => {
    if (event === 'nack') metrics.nacks.inc();
  });
  ads.setSnapshot(compiled.snapshot);
  metrics.snapshots.inc();
  log.info({ version: compiled.snapshot.version, ...summarize(compiled), config: config.sourceFile }, 'config loaded');

  const xdsPort = await ads.listen(config.xdsAddress);
  let envoy: EnvoyProcess | undefined;
  const admin: Server = await listen(createAdminApp(ads, { configFile: config.sourceFile, envoyPid: () => envoy?.pid }, metrics), config.adminAddress);
  log.info({ xds: `${config.xdsAddress.host}:${xdsPort}`, admin: `${config.adminAddress.host}:${config.adminAddress.port}` }, 'control plane listening');

  let workDir: string | undefined;
  let resolveDone: (code: number) => void = () => {};
  const done = new Promise<number>((resolve) => (resolveDone = resolve));
  if (envoyBinary && 'path' in envoyBinary) {
    workDir = mkdtempSync(join(tmpdir(), 'mtls-edge-'));
    const bootstrapPath = join(workDir, 'bootstrap.yaml');
    writeFileSync(bootstrapPath, renderBootstrap(readBootstrapTemplate(), { nodeId: o.nodeId ?? DEFAULT_NODE_ID, xds: { ...config.xdsAddress, port: xdsPort }, envoyAdmin: config.envoyAdminAddress }));
    envoy = new EnvoyProcess({ binary: envoyBinary.path, bootstrapPath, concurrency: o.envoyConcurrency, drainTimeSeconds: o.drainTimeSeconds }, log);
    envoy.start((code, signal) => {
      log.error({ code, signal }, 'envoy exited unexpectedly; stopping');
      resolveDone(1);
    });
  }

  const onSignal = (signal: NodeJS.Signals) => {
    log.info({ signal }, 'shutting down');
    resolveDone(0);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  const code = await done;
  await envoy?.stop();
  await ads.close();
  admin.closeAllConnections();
  await new Promise<void>((resolve) => admin.close(() => resolve()));
  if (workDir) rmSync(workDir, { recursive: true, force: true });
  log.info({ code }, 'stopped');
  return code;
}
