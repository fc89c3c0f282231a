import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EncodeError, ResourceCodec, TYPE_URL, loadResourceRoot } from '../../../control-plane/src/envoy-api/index.js';

// Review finding: the strict codec looks fields up with `fields[key]` and enum names with `name in values`, so a
// key or enum name that is a property of Object.prototype passes the check, and protobufjs then drops it.

const codec = new ResourceCodec(loadResourceRoot());

function refused(resource: object): boolean {
  try {
    codec.encode(TYPE_URL.cluster, resource);
    return false;
  } catch (e) {
    assert.ok(e instanceof EncodeError, String(e));
    return true;
  }
}

for (const key of ['constructor', 'toString', 'hasOwnProperty', 'valueOf']) {
  test(`a field named ${key} is refused, not dropped`, () => {
    assert.ok(refused({ name: 'c', [key]: 1 }));
  });
}

for (const name of ['constructor', 'toString']) {
  test(`an enum value named ${name} is refused, not dropped`, () => {
    assert.ok(refused({ name: 'c', lb_policy: name }));
  });
}
