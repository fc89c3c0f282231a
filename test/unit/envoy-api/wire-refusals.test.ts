import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EncodeError, ResourceCodec, loadResourceRoot } from '../../../control-plane/src/envoy-api/index.js';

// Values protobufjs would have wrapped, clamped, repaired or dropped without a word; the codec refuses each one
// and says where it is and why (found by the review of the codec's own writer).

const PREFIX = 'type.googleapis.com/';
const codec = new ResourceCodec(loadResourceRoot());

function problems(typeName: string, value: object): string[] {
  try {
    codec.encode(PREFIX + typeName, value);
  } catch (e) {
    assert.ok(e instanceof EncodeError, String(e));
    return e.problems;
  }
  return [];
}

test('integers: out of range, not integers, or not decimal are refused; the extremes are not', () => {
  const seconds = (v: unknown) => problems('google.protobuf.Duration', { seconds: v });
  assert.deepEqual(seconds('12abc'), ['duration.seconds: expected int64, got string "12abc"']);
  assert.deepEqual(seconds(Number.NaN), ['duration.seconds: expected int64, got number NaN (not an integer)']);
  assert.deepEqual(seconds(1.5), ['duration.seconds: expected int64, got number 1.5 (not an integer)']);
  // 2^64 and 1e300 wrapped to 0 (no timeout) on the wire; protobufjs clamped them.
  for (const v of [2 ** 64, 1e300, 2 ** 63, '9223372036854775808', '99999999999999999999999'])
    assert.match(seconds(v)[0] ?? 'accepted', /\(out of range\)$/, String(v));
  for (const v of [-(2 ** 63), '9223372036854775807', '-9223372036854775808', 0]) assert.deepEqual(seconds(v), []);

  const uint64 = (v: unknown) => problems('google.protobuf.UInt64Value', { value: v });
  assert.deepEqual(uint64(-1), ['uInt64Value.value: expected uint64, got number -1 (out of range)']);
  assert.deepEqual(uint64('18446744073709551616'), [
    'uInt64Value.value: expected uint64, got string "18446744073709551616" (out of range)',
  ]);
  assert.deepEqual(uint64('18446744073709551615'), []);

  const uint32 = (v: unknown) => problems('google.protobuf.UInt32Value', { value: v });
  assert.deepEqual(uint32(-1), ['uInt32Value.value: expected uint32, got number -1 (out of range)']);
  assert.deepEqual(uint32(2 ** 32), ['uInt32Value.value: expected uint32, got number 4294967296 (out of range)']);
  assert.deepEqual(uint32('5'), ['uInt32Value.value: expected uint32, got string "5"']);
  assert.deepEqual(uint32(2 ** 32 - 1), []);
});

test('bytes given as text must be standard base64', () => {
  const inline = (v: string) => problems('envoy.config.core.v3.DataSource', { inline_bytes: v });
  for (const v of ['a-b_', 'A', '!!!!', 'QU I=', 'QQ==QQ=='])
    assert.deepEqual(inline(v), [
      `dataSource.inline_bytes: expected bytes, got string ${JSON.stringify(v)}, which is not standard base64`,
    ]);
  for (const v of ['', 'AQID', 'AQI', 'AQI=', 'QQ==']) assert.deepEqual(inline(v), [], v);
});

test('a string or map key with a lone surrogate is refused (it has no UTF-8 form); a surrogate pair is fine', () => {
  assert.deepEqual(problems('google.protobuf.StringValue', { value: 'x\ud800y' }), [
    'stringValue.value: expected string, got string "x\\ud800y", which holds a lone surrogate (no UTF-8 form)',
  ]);
  assert.equal(problems('google.protobuf.StringValue', { value: '\udc00' }).length, 1);
  assert.deepEqual(problems('google.protobuf.StringValue', { value: 'smile \ud83d\ude00' }), []);
  assert.deepEqual(problems('google.protobuf.Struct', { fields: { '\ud800': { string_value: 'x' } } }), [
    'struct.fields["\\ud800"]: the key holds a lone surrogate (no UTF-8 form)',
  ]);
});

test('map keys must be of the key type', () => {
  const withKey = (key: string) => ({ positions: { [key]: 3 } });
  const expr = 'google.api.expr.v1alpha1.SourceInfo';
  assert.deepEqual(problems(expr, withKey('12')), []);
  assert.deepEqual(problems(expr, withKey('twelve')), ['sourceInfo.positions["twelve"]: the key is not an int64']);
  assert.deepEqual(problems(expr, withKey('9223372036854775808')), [
    'sourceInfo.positions["9223372036854775808"]: the key is not an int64',
  ]);
});

test("an Any's type must be named in full: a partial name protobufjs would resolve is not a type Envoy knows", () => {
  for (const name of ['Duration', '.google.protobuf.Duration', 'protobuf.Duration']) {
    const typeUrl = `${PREFIX}${name}`;
    assert.deepEqual(problems('envoy.config.core.v3.TypedExtensionConfig', { typed_config: { '@type': typeUrl } }), [
      `typedExtensionConfig.typed_config['@type']: ${typeUrl} is not a message of the Envoy API this edge loads`,
    ]);
  }
  const full = { typed_config: { '@type': `${PREFIX}google.protobuf.Duration`, seconds: 1 } };
  assert.deepEqual(problems('envoy.config.core.v3.TypedExtensionConfig', full), []);
});
