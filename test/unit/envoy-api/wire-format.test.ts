import { test } from 'node:test';
import assert from 'node:assert/strict';
import protobuf from 'protobufjs';
import { ResourceCodec, loadResourceRoot } from '../../../control-plane/src/envoy-api/index.js';
import { MessageEncoder } from '../../../control-plane/src/envoy-api/encoder.js';

// The codec writes protobuf itself (envoy-api/encoder.ts, wire-writer.ts). For every message of the API the edge
// loads, objects made up from its fields (every scalar type, negative and 64-bit numbers, enums by name and by
// number, packed lists, maps, nested Anys) must encode to the bytes protobufjs writes for the same object.

const PREFIX = 'type.googleapis.com/';
const root = loadResourceRoot();
const codec = new ResourceCodec(root);
const ANY = root.lookupType('google.protobuf.Any');

function allTypes(ns: protobuf.NamespaceBase, out: protobuf.Type[] = []): protobuf.Type[] {
  for (const nested of ns.nestedArray) {
    if (nested instanceof protobuf.Type) out.push(nested);
    if (nested instanceof protobuf.Namespace || nested instanceof protobuf.Type) allTypes(nested, out);
  }
  return out;
}
const TYPES = allTypes(root);

/** A small seeded generator (mulberry32): a failure names its seed and reproduces. */
function generator(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)]!;
  return { next, pick };
}
type Gen = ReturnType<typeof generator>;

const SCALARS: Readonly<Record<string, readonly unknown[]>> = {
  string: ['', 'a', 'héllo ✓ 𝄞', 'café', 'x'.repeat(300), 'nul\u0000byte', '\u007f\u0080'],
  bool: [true, false],
  bytes: [new Uint8Array([1, 2, 3]), 'AQID', '', Buffer.alloc(200, 7)],
  double: [0, 1.5, -2.25, 1e300, -0.0001],
  int32: [0, 1, -1, 300, 2 ** 31 - 1, -(2 ** 31)],
  uint32: [0, 1, 127, 128, 16384, 2 ** 32 - 1],
  int64: [0, 30, -3, 2 ** 40, '123456789012345', '-5', { low: 5, high: 1 }],
  uint64: [0, 30, 2 ** 40, '18446744073709551615', { low: -1, high: 7 }],
};
const KEYS: Record<string, readonly string[]> = { string: ['', 'k', 'ключ'], int64: ['0', '7', '-2', '4294967296'] };

function scalar(g: Gen, type: string): unknown {
  const values = SCALARS[type];
  if (!values) throw new Error(`no sample values for ${type}: add them`);
  return g.pick(values);
}

function valueOf(g: Gen, field: protobuf.FieldBase, depth: number): unknown {
  const resolved = field.resolvedType;
  if (resolved instanceof protobuf.Enum) {
    const names = Object.keys(resolved.values);
    return g.next() < 0.5 ? g.pick(names) : resolved.values[g.pick(names)];
  }
  if (resolved instanceof protobuf.Type) return message(g, resolved, depth + 1);
  return scalar(g, field.type);
}

function message(g: Gen, type: protobuf.Type, depth: number): Record<string, unknown> {
  if (type === ANY && depth < 4) {
    const inner = g.pick(TYPES.filter((t) => t !== ANY));
    return { '@type': PREFIX + inner.fullName.slice(1), ...message(g, inner, depth) };
  }
  const out: Record<string, unknown> = {};
  const oneofChosen = new Set<protobuf.OneOf>();
  for (const field of type.fieldsArray) {
    const isMessage = field.resolvedType instanceof protobuf.Type;
    if ((isMessage || field.repeated) && depth >= 4) continue;
    if (g.next() < 0.4) continue;
    if (field.partOf) {
      if (oneofChosen.has(field.partOf)) continue;
      oneofChosen.add(field.partOf);
    }
    if (field instanceof protobuf.MapField) {
      const entries: Record<string, unknown> = {};
      const keys = KEYS[field.keyType];
      if (!keys) throw new Error(`no sample keys for ${field.keyType}: add them`);
      for (let i = Math.floor(g.next() * 3); i > 0; i--) entries[g.pick(keys)] = valueOf(g, field, depth);
      out[field.name] = entries;
    } else if (field.repeated) {
      out[field.name] = Array.from({ length: Math.floor(g.next() * 4) }, () => valueOf(g, field, depth));
    } else {
      out[field.name] = valueOf(g, field, depth);
    }
  }
  return out;
}

test(`objects made up for each of the ${TYPES.length} messages encode to protobufjs's bytes`, () => {
  assert.ok(TYPES.length > 300, `only ${TYPES.length} messages found`);
  let checked = 0;
  for (const [index, type] of TYPES.entries()) {
    for (let round = 0; round < 4; round++) {
      const seed = index * 4 + round;
      const value = message(generator(seed), type, 0);
      const typeUrl = PREFIX + type.fullName.slice(1);
      const mine = codec.encode(typeUrl, value).value;
      const theirs = Buffer.from(type.encode(type.fromObject(value)).finish());
      assert.ok(
        mine.equals(theirs),
        `${type.fullName} (seed ${seed}): ${mine.toString('hex')} != ${theirs.toString('hex')}`,
      );
      checked++;
    }
  }
  assert.ok(checked >= TYPES.length * 4);
});

test('every sample value of every scalar type, in a field of that type, encodes to the bytes protobufjs writes', () => {
  const swept = new Set<string>();
  for (const type of TYPES) {
    for (const field of type.fieldsArray) {
      const scalarType = field.resolvedType === null ? field.type : undefined;
      if (scalarType === undefined || field.map || swept.has(`${scalarType}:${field.repeated}`)) continue;
      swept.add(`${scalarType}:${field.repeated}`);
      for (const sample of SCALARS[scalarType] ?? []) {
        const value = { [field.name]: field.repeated ? [sample, sample] : sample };
        const mine = codec.encode(PREFIX + type.fullName.slice(1), value).value;
        const theirs = Buffer.from(type.encode(type.fromObject(value)).finish());
        assert.ok(mine.equals(theirs), `${type.fullName}.${field.name} = ${String(sample)}: ${mine.toString('hex')}`);
      }
    }
  }
  for (const scalarType of ['string', 'bool', 'bytes', 'double', 'int32', 'uint32', 'int64', 'uint64'])
    assert.ok(swept.has(`${scalarType}:false`), `no ${scalarType} field swept`);
});

test('scalar types the Envoy API does not use here (sint, fixed, float, negative enums) match protobufjs too', () => {
  const extra = ['float', 'sint32', 'sint64', 'fixed32', 'sfixed32', 'fixed64', 'sfixed64'];
  const fields: Record<string, protobuf.IField & { rule?: string }> = { e: { type: 'Sign', id: 1 } };
  for (const [i, type] of [...Object.keys(SCALARS), ...extra].entries()) {
    fields[type] = { type, id: 2 + i * 2 };
    fields[`many_${type}`] = { type, id: 3 + i * 2, rule: 'repeated' };
  }
  const testRoot = protobuf.Root.fromJSON({
    nested: { t: { nested: { Sign: { values: { ZERO: 0, MINUS: -2 } }, All: { fields } } } },
  });
  const all = testRoot.lookupType('t.All');
  const encoder = new MessageEncoder(testRoot);
  const samples: Record<string, readonly unknown[]> = {
    ...SCALARS,
    float: [0, 1.5, -2.25, 3.25e10],
    sint32: [0, -1, 1, -(2 ** 31), 2 ** 31 - 1],
    sint64: [0, -1, '-9223372036854775808', 2 ** 40],
    fixed32: [0, 1, 2 ** 32 - 1],
    sfixed32: [0, -1, -(2 ** 31)],
    fixed64: [0, '18446744073709551615', 2 ** 40],
    sfixed64: [0, -1, '-9223372036854775808'],
  };
  for (const e of ['ZERO', 'MINUS', -2]) {
    for (const [type, values] of Object.entries(samples)) {
      for (const v of values) {
        const value = { e, [type]: v, [`many_${type}`]: [v, v] };
        const mine = encoder.encode(all, value);
        const theirs = Buffer.from(all.encode(all.fromObject(value)).finish());
        assert.ok(mine?.equals(theirs), `${type} = ${String(v)}, e = ${e}: ${mine?.toString('hex') ?? 'refused'}`);
      }
    }
  }
});

test('a resource larger than the scratch buffer is written whole', () => {
  const routes = Array.from({ length: 3000 }, (_, i) => ({ name: `route-${i}`, match: { prefix: `/p${i}/` } }));
  const resource = { name: 'big', virtual_hosts: [{ name: 'vh', domains: ['*'], routes }] };
  const typeUrl = `${PREFIX}envoy.config.route.v3.RouteConfiguration`;
  const encoded = codec.encode(typeUrl, resource);
  assert.ok(encoded.value.length > 64 * 1024, `only ${encoded.value.length} bytes`);
  assert.deepEqual(codec.decode(encoded), resource);
});

test('an Any object shared by many routes is written like copies of it, also across a buffer that grows', () => {
  const perRoute = (key: string) => ({
    'envoy.filters.http.ext_authz': {
      '@type': `${PREFIX}envoy.extensions.filters.http.ext_authz.v3.ExtAuthzPerRoute`,
      check_settings: { context_extensions: { route: key } },
    },
  });
  const shared = perRoute('trust.0123456789abcdef');
  const route = (i: number, config: object) => ({
    name: `route-${i}`,
    match: { prefix: `/p${i}/` },
    direct_response: { status: 200 },
    typed_per_filter_config: config,
  });
  // Enough routes that the scratch buffer grows (and moves) while the shared object's first bytes are in it.
  const sharing = Array.from({ length: 3000 }, (_, i) => route(i, i % 7 === 0 ? perRoute(`own-${i}`) : shared));
  const copies = sharing.map((r) =>
    r.typed_per_filter_config === shared ? { ...r, typed_per_filter_config: structuredClone(shared) } : r,
  );
  const typeUrl = `${PREFIX}envoy.config.route.v3.RouteConfiguration`;
  const encode = (routes: object[]) =>
    codec.encode(typeUrl, { name: 'shared', virtual_hosts: [{ name: 'vh', domains: ['*'], routes }] }).value;
  const mine = encode(sharing);
  assert.ok(mine.length > 4 * 64 * 1024, `only ${mine.length} bytes`);
  assert.ok(mine.equals(encode(copies)));
  // And each resource starts afresh: the next encoding of the same object is not taken from the last one's buffer.
  assert.ok(encode(sharing.slice(0, 10)).equals(encode(copies.slice(0, 10))));
});
