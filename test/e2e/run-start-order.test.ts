// Issue 14 (3): `run` reads the config, listens and starts Envoy, and only then loads the Envoy API and translates,
// while Envoy starts. A config that reads well but cannot be translated (a value Envoy's API cannot carry) must then
// still end the start cleanly: the new Envoy is stopped, and an Envoy a killed run left serving is not touched.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { runCli, startEdge, startedEnvoys, type RunningEdge } from '../support/edge.js';
import { httpsGet } from '../support/https-client.js';
import { createTestPki, HOSTS, type TestPki } from '../support/pki-fixture.js';
import { startUpstream, type TestUpstream } from '../support/upstream.js';
import { isAlive } from '../../control-plane/src/runtime/envoy-home.js';

const yaml = (upstream: TestUpstream, value: string) => `
certificate_file: server.pem
certificate_key_file: server-key.pem
routes:
  - from: https://${HOSTS.z}
    to: ${upstream.url}
    allow_public_unauthenticated_access: true
    set_request_headers:
      x-team: "${value}"
`;
/** Reads and validates, but has no UTF-8 form: only the translation to Envoy's API refuses it. */
const UNTRANSLATABLE = 'x\\ud800y';

/** One `run` to its end; one that does not end in 20 s is killed, and what it printed is still returned. */
const runOnce = (edge: RunningEdge) =>
  runCli(['run', '--config', edge.configPath, '--envoy-concurrency', '1', '--drain-time-s', '1'], {}, 20_000).catch(
    (e: unknown) => ({ code: null, stdout: e instanceof Error ? e.message : String(e), stderr: '' }),
  );

describe('run starts Envoy before it translates the config', () => {
  let pki: TestPki;
  let upstream: TestUpstream;
  let edge: RunningEdge;
  const leftovers: number[] = [];

  before(async () => {
    pki = await createTestPki();
    upstream = await startUpstream('order');
  });
  after(async () => {
    await edge?.stop();
    for (const pid of leftovers) if (isAlive(pid)) process.kill(pid, 'SIGKILL');
    await upstream?.close();
  });

  it('Envoy is spawned before the first config is translated, and serves it', async () => {
    edge = await startEdge({ dir: pki.dir, yaml: yaml(upstream, 'one') });
    const log = edge.output();
    const spawned = log.indexOf('"msg":"envoy started"');
    const translated = log.indexOf('"msg":"config applied"');
    assert.ok(spawned >= 0 && translated > spawned, `envoy started at ${spawned}, config translated at ${translated}`);
    const res = await httpsGet({ port: edge.httpsPort, servername: HOSTS.z, path: '/', ca: pki.caA });
    assert.equal(res.status, 200);
  });

  it('a config that cannot be translated: run exits 1 naming the file and key, and its new Envoy is gone', async () => {
    assert.equal(await edge.stop(), 0);
    edge.writeConfig(yaml(upstream, UNTRANSLATABLE));
    const res = await runOnce(edge);
    // First: an Envoy left running must be stopped by this test, whatever fails below.
    const pids = startedEnvoys(res.stdout);
    leftovers.push(...pids);
    assert.equal(res.code, 1, res.stderr || res.stdout);
    assert.match(res.stderr, /config\.yaml/);
    assert.match(res.stderr, /request_headers_to_add\[0\]\.header\.value.*lone surrogate/);
    assert.equal(pids.length, 1, 'it had started one');
    // Stopped by run before it exited: not left running, and not gone by chance (its folder removed under it).
    assert.equal(isAlive(pids[0]!), false, `Envoy ${pids[0]} was stopped`);
    assert.match(res.stdout, /"msg":"envoy exited"/);
    assert.doesNotMatch(res.stdout, /envoy exited unexpectedly/);
    // Nothing is left behind either: the same config, fixed, starts at once.
    edge = await startEdge({ dir: pki.dir, yaml: yaml(upstream, 'two') });
    assert.equal((await httpsGet({ port: edge.httpsPort, servername: HOSTS.z, path: '/', ca: pki.caA })).status, 200);
  });

  it('an Envoy a killed run left serving is not adopted, stopped or changed by a run whose config fails', async () => {
    const survivor = (await edge.status()).envoyPid!;
    leftovers.push(survivor);
    assert.equal(await edge.stop('SIGKILL'), null);
    edge.writeConfig(yaml(upstream, UNTRANSLATABLE));
    const res = await runOnce(edge);
    leftovers.push(...startedEnvoys(res.stdout));
    assert.equal(res.code, 1, res.stderr || res.stdout);
    assert.deepEqual(startedEnvoys(res.stdout), [], 'no Envoy started beside the survivor');
    assert.doesNotMatch(res.stdout, /adopted the Envoy/);
    assert.ok(isAlive(survivor), 'the survivor serves on');
    const served = await httpsGet({ port: edge.httpsPort, servername: HOSTS.z, path: '/', ca: pki.caA });
    assert.equal(served.status, 200);
    assert.equal(upstream.seen.at(-1)?.headers['x-team'], 'two', 'with the config it had');
  });
});
