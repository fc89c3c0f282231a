import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { DecisionCache, LruCache } from '../../../control-plane/src/authz/index.js';
import { and, criterion, is, or, route, tableOf } from './fixtures.js';

const allow = { allowed: true, reason: 'allowed by allow rule 1: accept (anyone)' };

describe('LruCache', () => {
  test('drops the least recently used entry when full', () => {
    const lru = new LruCache<number>(2);
    lru.set('a', 1);
    lru.set('b', 2);
    assert.equal(lru.get('a'), 1); // a is now the most recent
    lru.set('c', 3);
    assert.equal(lru.get('b'), undefined);
    assert.equal(lru.get('a'), 1);
    assert.equal(lru.get('c'), 3);
    assert.equal(lru.size, 2);
  });

  test('setting an existing key replaces it without growing', () => {
    const lru = new LruCache<number>(2);
    lru.set('a', 1);
    lru.set('a', 2);
    assert.equal(lru.size, 1);
    assert.equal(lru.get('a'), 2);
  });

  test('refuses a size below one', () => {
    assert.throws(() => new LruCache(0));
  });
});

describe('DecisionCache', () => {
  const plain = route('route-1', { allow: [or(criterion.email(is('a@b')))], deny: [] });
  const byMethod = route('route-2', { allow: [or(criterion.accept())], deny: [and(criterion.method(is('DELETE')))] });

  test('key: route and fingerprint, plus method and path only for policies that use them', () => {
    assert.equal(DecisionCache.key(plain, 'ab12', 'GET', '/x'), 'route-1\0ab12');
    assert.equal(DecisionCache.key(plain, undefined, 'GET', '/x'), 'route-1\0-');
    assert.equal(DecisionCache.key(byMethod, 'ab12', 'GET', '/x'), 'route-2\0ab12\0GET\0/x');
    assert.notEqual(
      DecisionCache.key(byMethod, 'ab12', 'GET', '/x'),
      DecisionCache.key(byMethod, 'ab12', 'DELETE', '/x'),
    );
  });

  test('counts hits and misses; an entry only serves the route object it was made for', () => {
    const cache = new DecisionCache(10);
    cache.useTable(tableOf(plain));
    const key = DecisionCache.key(plain, 'ab12', 'GET', '/');
    assert.equal(cache.get(key, plain), undefined);
    cache.set(key, plain, allow);
    assert.deepEqual(cache.get(key, plain), allow);
    assert.equal(cache.get(key, { ...plain }), undefined);
    assert.deepEqual(cache.stats(), { hits: 1, misses: 2, size: 1 });
  });

  test('a different table empties it; the same table does not', () => {
    const cache = new DecisionCache(10);
    const table = tableOf(plain);
    assert.equal(cache.useTable(table), false); // the first table is no change
    const key = DecisionCache.key(plain, 'ab12', 'GET', '/');
    cache.set(key, plain, allow);
    assert.equal(cache.useTable(table), false);
    assert.equal(cache.stats().size, 1);
    assert.equal(cache.useTable(tableOf(plain)), true);
    assert.equal(cache.stats().size, 0);
  });

  test('bounded', () => {
    const cache = new DecisionCache(3);
    for (let i = 0; i < 10; i++) cache.set(DecisionCache.key(plain, `f${i}`, 'GET', '/'), plain, allow);
    assert.equal(cache.stats().size, 3);
  });
});
