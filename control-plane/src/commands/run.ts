import { loadResourceRoot, ResourceCodec } from '../envoy-api/index.js';
import type { Server } from 'node:http';
import { createAdminApp, createMetrics, listen } from '../admin/server.js';
import { AuthorizationService, loadAuthorizationService } from '../authz/index.js';
import { authorizationState } from './authorization-state.js';
import type { XdsProtocol } from '../runtime/bootstrap.js';
import { DEFAULT_DRAIN_SECONDS } from '../runtime/envoy-process.js';
import type { LocalEnvoy } from '../runtime/adopted-envoy.js';
import { findEnvoyPlace, leaveEnvoyPlace, releaseEnvoyPlace, startLocalEnvoy } from '../runtime/local-envoy.js';
import { drainBeforeStop } from './drain.js';
import { collectGarbageIfGrown } from '../runtime/collect-garbage.js';
import { FileWatcher } from '../runtime/file-watcher.js';
import { openNetworkChannel, openPrivateChannel, type ControlChannel } from '../runtime/control-channel.js';
import { findEnvoy } from '../runtime/find-envoy.js';
import { createLogger, writesToTerminal } from '../runtime/logger.js';
import { ConfigReloader } from '../runtime/reloader.js';
import { AdsServer, PeerPolicy } from '../xds/index.js';
import { DEFAULT_NODE_ID } from './bootstrap.js';
import { printErrors } from './load.js';
import { startedWith, warnIfRestartNeeded } from './started-with.js';

/** One save touches a file several times within a millisecond or two; cert + key rotations land together. */
const RELOAD_DEBOUNCE_MS = 15;
/** Signals closer together than this are one Ctrl-C delivered twice. */
const SAME_SIGNAL_MS = 500;

export interface RunOptions {
  configPath: string | undefined;
  nodeId: string | undefined;
  startEnvoy: boolean;
  watch: boolean;
  envoyConcurrency: number | undefined;
  /** Envoy's --log-level; by default `warning` on a terminal, `info` otherwise. */
  envoyLogLevel?: string;
  drainTimeSeconds: number | undefined;
  xdsProtocol: XdsProtocol;
}

/** Control plane + (optionally) Envoy, until SIGINT/SIGTERM or Envoy's exit. Config edits hot-reload. */
export async function runCommand(o: RunOptions): Promise<number> {
  // The wait is in a function of its own: an async function's suspended frame keeps every value its registers held
  // (here, the first config and its translation), for as long as it waits.
  const started = await startRun(o);
  return typeof started === 'number' ? started : started.untilStopped();
}

/** Starts everything; returns the exit code of a start that failed, or how to wait for the stop. */
async function startRun(o: RunOptions): Promise<number | { untilStopped: () => Promise<number> }> {
  // performance.now() counts from the process's start: Node's own start and loading the modules come before this.
  const modulesLoadedMs = performance.now();
  const log = createLogger();
  const envoyBinary = o.startEnvoy ? findEnvoy(process.env) : undefined;
  let allowedNodeIds: readonly string[] = [];
  const peers = new PeerPolicy(() => allowedNodeIds);
  const ads = new AdsServer(log, peers);
  // The ext_authz service shares the xDS gRPC server: Envoy reaches both over its one control-plane cluster.
  const authz = authorizationState();
  const authzService = new AuthorizationService({
    table: () => authz.table,
    signer: () => authz.signer,
    log,
    onDecision: (d) => authz.onDecision(d),
  });
  ads.addService(loadAuthorizationService(), authzService.implementation());
  let codec: ResourceCodec | undefined;
  const reloader = new ConfigReloader(
    o.configPath,
    process.env,
    () => (codec ??= new ResourceCodec(loadResourceRoot())),
    ads,
    log,
    (compiled, key) => authz.apply(compiled.model.authorizationRoutes, key),
    !o.startEnvoy,
  );
  // The config is read first, and translated only once Envoy is starting: Envoy's own start (~150 ms to its first
  // xDS request) then overlaps loading the Envoy API and the first translation (issue 14, point 3).
  const loaded = await reloader.load();
  if (!loaded.ok) {
    printErrors(loaded.errors);
    return 1;
  }
  const configReadMs = performance.now();
  if (envoyBinary && 'error' in envoyBinary) {
    log.error({}, envoyBinary.error);
    process.stderr.write(`mtls-edge: ${envoyBinary.error}\n`);
    return 1;
  }
  const { config } = loaded;
  const started = startedWith(config);
  allowedNodeIds = config.xdsTls?.nodeIds ?? [];
  peers.setClientCa(config.xdsTls?.clientCaPem);
  const metrics = createMetrics(ads, reloader.state, () => authzService.stats());
  authz.onDecision = (d) =>
    metrics.authzDecisions.inc({ decision: d.allowed ? 'allow' : 'deny', cached: String(d.cached) });
  ads.onChange((event) => {
    if (event === 'nack') metrics.nacks.inc();
    if (event === 'snapshot') metrics.snapshots.inc();
    if (event === 'settled') collectGarbageIfGrown();
  });

  // The child Envoy's private channel and its bootstrap live in a folder only this user can enter, named after the
  // Envoy's admin address: an Envoy a killed run left serving is found there and adopted (runtime/local-envoy.ts).
  const place = envoyBinary ? findEnvoyPlace(config) : undefined;
  if (place && 'error' in place) {
    log.error({}, place.error);
    process.stderr.write(`mtls-edge: ${place.error}\n`);
    return 1;
  }
  const workDir = place?.dir;
  // On a failed start, release what did bind (an open gRPC server would keep the process alive) and the folder
  // (unless an adopted Envoy still serves from it: the next run adopts it then).
  const release = async () => {
    await ads.close();
    if (place?.survivor) releaseEnvoyPlace(place);
    else leaveEnvoyPlace(place);
  };
  let envoy: LocalEnvoy | undefined;
  let privateSocket: string | undefined;
  try {
    const opened = await openPrivateChannel(ads, config, workDir);
    if ('error' in opened) {
      log.error({}, opened.error);
      process.stderr.write(`mtls-edge: ${opened.error}\n`);
      await release();
      return 1;
    }
    privateSocket = opened.privateSocket;
  } catch (e) {
    await release();
    throw e;
  }

  let resolveDone: (code: number) => void = () => {};
  const done = new Promise<number>((resolve) => (resolveDone = resolve));
  const spawnEnvoy = () => {
    if (!(envoyBinary && 'path' in envoyBinary && place && privateSocket)) return;
    const options = {
      place,
      privateSocket,
      binary: envoyBinary.path,
      nodeId: o.nodeId ?? DEFAULT_NODE_ID,
      protocol: o.xdsProtocol,
      concurrency: o.envoyConcurrency,
      drainTimeSeconds: o.drainTimeSeconds,
      // A person at a terminal sees Envoy's warnings and errors, not its start-up chatter (hundreds of lines).
      logLevel: o.envoyLogLevel ?? (writesToTerminal(log) ? 'warning' : 'info'),
    };
    envoy = startLocalEnvoy(started, options, log, (code, signal) => {
      log.error({ code, signal }, 'envoy exited unexpectedly; stopping');
      resolveDone(1);
    });
  };

  // The first signal stops gracefully; a second one (an impatient Ctrl-C) stops Envoy at once. One Ctrl-C can arrive
  // twice, from the terminal and again from a parent that passes it on (npm start, the demo): not a second press.
  let stoppingSince: number | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stoppingSince !== undefined) {
      if (performance.now() - stoppingSince < SAME_SIGNAL_MS) return;
      envoy?.killNow();
      process.exit(130);
    }
    stoppingSince = performance.now();
    log.info({ signal }, 'shutting down');
    resolveDone(0);
  };
  const onCrash = (error: unknown) => {
    log.fatal({ err: error instanceof Error ? error.stack : String(error) }, 'unexpected error; stopping');
    resolveDone(1);
  };
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, onSignal);
  process.on('uncaughtException', onCrash);
  process.on('unhandledRejection', onCrash);
  process.on('exit', () => envoy?.killNow());

  // A new Envoy starts as soon as its socket listens, and translating the first config overlaps its start. One a
  // killed run left serving is adopted only once the config compiled (a failed start leaves it serving as it was).
  if (!place?.survivor) spawnEnvoy();
  const envoyStartedMs = performance.now();
  /** A start that fails from here on stops the Envoy it started. */
  const abandon = async () => {
    await envoy?.stop(1000);
    envoy = undefined;
    await release();
  };
  let first: ReturnType<ConfigReloader['apply']>;
  try {
    first = reloader.apply(loaded);
  } catch (e) {
    // A bug, or the Envoy API failing to load: nothing may keep running without its control plane, and the error
    // that says why is the one to report.
    await abandon().catch(() => {});
    throw e;
  }
  const firstConfigMs = performance.now();
  if (!first.ok) {
    printErrors(first.errors);
    await abandon(); // its Envoy never got a config
    return 1;
  }
  let channel: ControlChannel;
  let admin: Server;
  try {
    channel = await openNetworkChannel(ads, config, log);
    admin = await listen(
      createAdminApp(
        ads,
        {
          configFile: config.sourceFile,
          envoyPid: () => envoy?.pid,
          envoyAdopted: () => envoy?.adopted ?? false,
          reload: reloader.state,
        },
        metrics,
      ),
      config.adminAddress,
    );
  } catch (e) {
    await abandon(); // a port in use, say
    throw e;
  }
  const xds = channel.tcpPort === undefined ? undefined : `${config.xdsAddress.host}:${channel.tcpPort}`;
  log.info(
    { xds, xdsPrivateSocket: privateSocket, admin: `${config.adminAddress.host}:${config.adminAddress.port}` },
    'control plane listening',
  );
  if (place?.survivor) spawnEnvoy();
  // What each step of a start costs, in ms since the process started (the start-up bench prints them).
  log.info(
    {
      modulesLoadedMs: Math.round(modulesLoadedMs),
      configReadMs: Math.round(configReadMs),
      envoyStartedMs: Math.round(envoyStartedMs),
      firstConfigMs: Math.round(firstConfigMs),
    },
    'start-up steps',
  );

  // Addresses and the bootstrap are fixed at start; everything Envoy gets over xDS follows the files.
  let stopping = false;
  const onFilesChanged = async () => {
    const outcome = await reloader.reload();
    // A stop began while this reload awaited its signing keys: the server it would feed is closing.
    if (stopping) return;
    if (outcome.ok) {
      channel.apply(outcome.config);
      warnIfRestartNeeded(started, outcome.config, log);
      if (outcome.config.xdsTls) {
        allowedNodeIds = outcome.config.xdsTls.nodeIds;
        peers.setClientCa(outcome.config.xdsTls.clientCaPem);
        ads.recheckStreams(); // an Envoy the new CA or node list leaves out loses its open stream too
      }
    }
    watcher.setFiles(outcome.files);
    // A refused edit leaves the serving config's watch as it was.
    if (outcome.ok) reloader.providers.watch(outcome.config, () => void onFilesChanged());
  };
  // The identity provider is read again every idp_refresh_interval: a change (a new key, or a provider that was down
  // at start and now answers) reloads, and the new keys reach Envoy.
  reloader.providers.watch(first.config, () => void onFilesChanged());
  // A reload reports its errors itself; anything it throws is a bug and ends the process, as before it was async.
  const watcher = new FileWatcher(
    () => void onFilesChanged(),
    RELOAD_DEBOUNCE_MS,
    (dir, e) => log.warn({ dir, err: e.message }, 'cannot watch folder'),
  );
  if (o.watch) watcher.setFiles(first.files);
  // A certificate that expires ends its stream too (Envoy then reconnects with its renewed one, or not at all).
  const expiryCheck = setInterval(() => ads.recheckStreams(), 60_000);
  expiryCheck.unref();

  const untilStopped = async (): Promise<number> => {
    const code = await done;
    clearInterval(expiryCheck);
    stopping = true;
    watcher.close();
    reloader.providers.stopWatching();
    await reloader.whenIdle();
    // Envoy goes first, while the control plane still answers its ext_authz Checks.
    const drains = envoy !== undefined && stoppingSince !== undefined;
    if (drains) await drainBeforeStop(started, o.drainTimeSeconds ?? DEFAULT_DRAIN_SECONDS, log);
    await envoy?.stop();
    await ads.close();
    admin.closeAllConnections();
    await new Promise<void>((resolve) => admin.close(() => resolve()));
    leaveEnvoyPlace(place);
    log.info({ code }, 'stopped');
    return code;
  };
  return { untilStopped };
}
