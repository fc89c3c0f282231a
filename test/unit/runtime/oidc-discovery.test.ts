// OpenID Connect discovery over real HTTP on 127.0.0.1: a provider's document and JWKS read into one typed value,
// retries only where the failure may pass (network, timeout, 5xx), and the watcher that notices rotated keys.
import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, type JsonWebKey } from 'node:crypto';
import {
  discoverProvider,
  MAX_ANSWER_BYTES,
  ProviderWatcher,
  type DiscoveredProvider,
  type DiscoveryOptions,
} from '../../../control-plane/src/runtime/oidc-discovery.js';
import type { ConfigError, Result } from '../../../control-plane/src/source/diagnostics.js';
import { TestIdp, WELL_KNOWN } from '../../support/oidc-test-provider.js';

/** Fast retries: the tests count attempts, they do not wait for production's back-off. */
const FAST: DiscoveryOptions = { retryDelayMs: 5, timeoutMs: 2000, source: { file: 'config.yaml', line: 7 } };

const keys: Record<'rsa' | 'ec' | 'ec2' | 'rsaPrivate', JsonWebKey> = {} as never;
const idps: TestIdp[] = [];

before(() => {
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  keys.rsa = { ...rsa.publicKey.export({ format: 'jwk' }), kid: 'rsa-1', alg: 'RS256', use: 'sig' };
  keys.rsaPrivate = { ...rsa.privateKey.export({ format: 'jwk' }), kid: 'rsa-1' };
  keys.ec = { ...generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'jwk' }), kid: 'ec-1' };
  keys.ec2 = { ...generateKeyPairSync('ec', { namedCurve: 'P-384' }).publicKey.export({ format: 'jwk' }), kid: 'ec-2' };
});
afterEach(async () => {
  for (const idp of idps.splice(0)) await idp.close();
});

async function idp(): Promise<TestIdp> {
  const started = await TestIdp.start([keys.rsa, keys.ec]);
  idps.push(started);
  return started;
}

/** The one error of a failed discovery, checked to be at idp_provider_url in config.yaml:7. */
function failure(result: Result<DiscoveredProvider>): string {
  assert.equal(result.ok, false, `expected an error, got ${JSON.stringify(result)}`);
  if (result.ok) return '';
  assert.equal(result.errors.length, 1, JSON.stringify(result.errors));
  const [e] = result.errors;
  assert.deepEqual([e!.file, e!.line, e!.key], ['config.yaml', 7, 'idp_provider_url']);
  return e!.message;
}

describe('discoverProvider', () => {
  test('reads the document and the JWKS into one typed value', async () => {
    const p = await idp();
    const result = await discoverProvider(p.url, FAST);
    assert.ok(result.ok, JSON.stringify(result));
    const { jwksJson, ...rest } = result.value;
    assert.deepEqual(rest, {
      issuer: p.url,
      authorizationEndpoint: `${p.url}/auth`,
      tokenEndpoint: `${p.url}/token`,
      endSessionEndpoint: `${p.url}/logout`,
      jwksUri: `${p.url}/jwks`,
      algorithms: ['RS256', 'ES256'],
    });
    assert.deepEqual(JSON.parse(jwksJson), { keys: [keys.ec, keys.rsa] });
    assert.deepEqual(p.requests, [WELL_KNOWN, '/jwks']);
  });

  test('the same keys served in another order give byte-identical jwksJson', async () => {
    const p = await idp();
    const first = await discoverProvider(p.url, FAST);
    p.keys = [Object.fromEntries(Object.entries(keys.ec).reverse()), keys.rsa];
    const second = await discoverProvider(p.url, FAST);
    assert.ok(first.ok && second.ok);
    assert.equal(second.value.jwksJson, first.value.jwksJson);
  });

  test('a trailing slash on idp_provider_url or on the issuer is no difference', async () => {
    const p = await idp();
    const configured = await discoverProvider(`${p.url}/`, FAST);
    assert.ok(configured.ok && configured.value.issuer === p.url);
    p.document['issuer'] = `${p.url}/`;
    const served = await discoverProvider(p.url, FAST);
    assert.ok(served.ok && served.value.issuer === `${p.url}/`, 'the issuer as the document says');
    assert.deepEqual([...new Set(p.requests)], [WELL_KNOWN, '/jwks']);
  });

  test('an issuer that is not idp_provider_url is an error', async () => {
    const p = await idp();
    p.document['issuer'] = 'https://idp.example.com';
    assert.match(
      failure(await discoverProvider(p.url, FAST)),
      new RegExp(`^issuer "https://idp.example.com" in the discovery document \\S+ is not idp_provider_url "${p.url}"`),
    );
  });

  test('a 404 is not tried again', async () => {
    const p = await idp();
    p.reply = () => ({ status: 404, body: 'no such realm' });
    assert.equal(
      failure(await discoverProvider(p.url, FAST)),
      `cannot read ${p.url}${WELL_KNOWN}: the server answered 404 Not Found (is the identity provider running, ` +
        'and is idp_provider_url its issuer URL?)',
    );
    assert.equal(p.requests.length, 1);
  });

  test('a 500 is tried again, and a later 200 serves', async () => {
    const p = await idp();
    p.reply = (path, nth) => (nth === 1 ? { status: 500, body: 'busy' } : p.standard(path));
    assert.ok((await discoverProvider(p.url, FAST)).ok);
    assert.deepEqual(p.requests, [WELL_KNOWN, WELL_KNOWN, '/jwks', '/jwks']);
  });

  test('a 503 every time is an error after the attempts', async () => {
    const p = await idp();
    p.reply = () => ({ status: 503, body: '' });
    const message = failure(await discoverProvider(p.url, { ...FAST, attempts: 4 }));
    assert.match(message, /: the server answered 503 Service Unavailable after 4 attempts \(/);
    assert.equal(p.requests.length, 4);
  });

  test('a refused connection is an error after the attempts, waiting longer before each', async () => {
    const p = await idp();
    const url = p.url;
    await p.close();
    const started = Date.now();
    const result = await discoverProvider(url, { ...FAST, retryDelayMs: 40 });
    assert.equal(
      failure(result),
      `cannot read ${url}${WELL_KNOWN}: connection refused after 3 attempts (is the identity provider running, ` +
        'and is idp_provider_url its issuer URL?)',
    );
    assert.ok(Date.now() - started >= 40 + 80 - 5, 'waits 40 ms, then 80 ms');
  });

  test('a server that never answers times out, per attempt', async () => {
    const p = await idp();
    p.reply = () => 'hang';
    const started = Date.now();
    const message = failure(await discoverProvider(p.url, { ...FAST, timeoutMs: 200, attempts: 2 }));
    assert.match(message, /: no complete answer within 200 ms after 2 attempts/);
    assert.equal(p.requests.length, 2);
    assert.ok(Date.now() - started < 2000, 'each attempt stopped at its deadline');
  });

  test('an answer that is not JSON is an error, not tried again', async () => {
    const p = await idp();
    p.reply = () => ({ status: 200, body: '<html>Welcome</html>' });
    assert.match(failure(await discoverProvider(p.url, FAST)), /is not JSON .*; it begins "<html>Welcome<\/html>"$/);
    assert.equal(p.requests.length, 1);
  });

  test('an answer larger than the limit is an error, not read to its end', async () => {
    const p = await idp();
    p.reply = () => ({ status: 200, body: ' '.repeat(MAX_ANSWER_BYTES + 1) });
    assert.match(failure(await discoverProvider(p.url, FAST)), /: the answer is larger than 1048576 bytes \(/);
    assert.equal(p.requests.length, 1);
  });

  test('a document without token_endpoint is an error', async () => {
    const p = await idp();
    delete p.document['token_endpoint'];
    assert.match(failure(await discoverProvider(p.url, FAST)), /has no token_endpoint/);
    assert.deepEqual(p.requests, [WELL_KNOWN]);
  });

  test('a JWKS with a private key is an error', async () => {
    const p = await idp();
    p.keys = [keys.ec, keys.rsaPrivate];
    assert.match(failure(await discoverProvider(p.url, FAST)), /publishes private key material \("d", /);
  });

  test('a JWKS with no keys, or only encryption keys, is an error', async () => {
    const p = await idp();
    for (const served of [[], [{ ...keys.rsa, use: 'enc' }]]) {
      p.keys = served;
      assert.match(failure(await discoverProvider(p.url, FAST)), /has no keys Envoy can verify ID tokens with/);
    }
  });

  test('a JWKS that cannot be read names jwks_uri', async () => {
    const p = await idp();
    p.document['jwks_uri'] = `${p.url}/gone`;
    assert.equal(
      failure(await discoverProvider(p.url, FAST)),
      `cannot read jwks_uri ${p.url}/gone: the server answered 404 Not Found (the discovery document names it)`,
    );
  });

  test('an idp_provider_url that is not http(s) is an error before any request', async () => {
    assert.match(failure(await discoverProvider('ftp://idp.example.com', FAST)), /an absolute http or https URL/);
  });
});

describe('ProviderWatcher', () => {
  const watchers: ProviderWatcher[] = [];
  after(() => watchers.forEach((w) => w.stop()));

  /** Calls to onChange and onError, and a way to wait for the next of either. */
  function watch(p: TestIdp) {
    const calls: Array<{ change: DiscoveredProvider } | { errors: ConfigError[] }> = [];
    let wake = () => {};
    const next = () => new Promise<void>((resolve) => (wake = resolve));
    const record = (call: (typeof calls)[number]) => {
      calls.push(call);
      wake();
    };
    const watcher = new ProviderWatcher(p.url, 20, (change) => record({ change }), {
      ...FAST,
      attempts: 1,
      onError: (errors) => record({ errors }),
    });
    watchers.push(watcher);
    return { watcher, calls, next };
  }

  /** Until `n` more runs of discovery have ended (each reads the document, then the JWKS). */
  async function runs(p: TestIdp, n: number): Promise<void> {
    const target = p.count(WELL_KNOWN) + n;
    while (p.count(WELL_KNOWN) < target || p.count('/jwks') < target) await new Promise((r) => setTimeout(r, 5));
    await new Promise((r) => setTimeout(r, 5));
  }

  test('calls onChange when the keys change, and not while they stay the same', async () => {
    const p = await idp();
    const initial = await discoverProvider(p.url, FAST);
    assert.ok(initial.ok);
    const w = watch(p);
    w.watcher.start(initial.value);
    await runs(p, 3);
    assert.equal(w.calls.length, 0, 'unchanged keys');
    const changed = w.next();
    p.keys = [keys.rsa, keys.ec, keys.ec2];
    await changed;
    assert.equal(w.calls.length, 1);
    const [call] = w.calls;
    assert.ok(call && 'change' in call);
    assert.deepEqual(call.change.algorithms, ['RS256', 'ES256', 'ES384']);
    await runs(p, 2);
    assert.equal(w.calls.length, 1, 'the new keys again are no change');
    w.watcher.stop();
  });

  test('calls onError on failure, keeps the last good provider, and nothing after stop()', async () => {
    const p = await idp();
    const initial = await discoverProvider(p.url, FAST);
    assert.ok(initial.ok);
    const w = watch(p);
    w.watcher.start(initial.value);
    const failed = w.next();
    p.reply = () => ({ status: 404, body: '' });
    await failed;
    const [call] = w.calls;
    assert.ok(call && 'errors' in call);
    assert.match(call.errors[0]!.message, /answered 404/);
    // Back to the provider the watcher started with: that is no change.
    p.reply = (path) => p.standard(path);
    w.calls.length = 0;
    await runs(p, 2);
    assert.equal(w.calls.length, 0);
    // A run under way when stop() comes is stopped too: its answer is never reported.
    p.reply = (path) => (path === WELL_KNOWN ? 'hang' : p.standard(path));
    p.keys = [keys.ec2];
    const requests = p.requests.length;
    while (p.requests.length === requests) await new Promise((r) => setTimeout(r, 5));
    w.watcher.stop();
    p.reply = (path) => p.standard(path);
    const stopped = p.requests.length;
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(p.requests.length, stopped, 'no run after stop()');
    // Dropping the connection it was waiting on ends that run at once, if stop() had not: still nothing is called.
    await p.close();
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(w.calls.length, 0);
  });
});
