// `npm run bench` (start-up, its first part): how long a fresh Node process takes to load the Envoy API it
// encodes with (envoy-api/load.ts: the resources' root and the ADS/ext_authz service definitions). Run as a child
// of startup-bench.ts, once per run: the load happens once per process, so a warm repeat would measure nothing.
// Modules are imported before the clock starts; what is timed is what start-up pays for the API itself.
import { loadResourceRoot, loadServiceDefinitions } from '../src/envoy-api/index.js';

export interface ApiLoadRun {
  wallMs: number;
  /** User + system time of every thread (the garbage collector's and compilers' too). */
  cpuMs: number;
  resourcesMs: number;
  servicesMs: number;
}

const cpu = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};

const cpu0 = cpu();
const t0 = performance.now();
const root = loadResourceRoot();
const t1 = performance.now();
const services = loadServiceDefinitions();
const t2 = performance.now();
const cpuMs = cpu() - cpu0;
// What was loaded is what start-up needs: a missing part makes the run fail, not look fast.
if (!root.lookupType('envoy.config.listener.v3.Listener') || !services['envoy.service.auth.v3.Authorization']) {
  throw new Error('the Envoy API loaded without the listener type or the ext_authz service');
}
const run: ApiLoadRun = { wallMs: t2 - t0, cpuMs, resourcesMs: t1 - t0, servicesMs: t2 - t1 };
process.stdout.write(JSON.stringify(run));
