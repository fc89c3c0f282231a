import type { Diagnostics } from '../source/diagnostics.js';
import { checkKeys, readList, readStringOrList, scalarString, type MapValue } from '../source/fields.js';
import { describeKind, type SourceValue } from '../source/source.js';
import { hostNameValue, anyValue, type MatcherValue } from './matcher-values.js';
import { pinnedCertificateFingerprint } from './pinned-certificate.js';
import { TEXT, textOrList, type JsonSchema } from '../source/json-schema.js';
import type { CertificateCondition, CriterionName, SanType, StringMatcher } from './types.js';

/** What a criterion takes (what follows its name): how the validator reads it, and its JSON Schema for editors. */
/** What a reader may need beyond the value: the key's sub path (`claim/NAME`), and the sign-in settings. */
export interface OperandContext {
  subPath?: string;
  groupsClaim?: string;
}

export interface Operand<Operands> {
  /** The value read into the criterion's operands; undefined, with errors reported, if it cannot be. */
  read: (value: SourceValue, name: CriterionName, diag: Diagnostics, context: OperandContext) => Operands | undefined;
  /** The same shape for the config schema, beside the reader so that the two are written together. */
  schema: JsonSchema;
}

const MATCHER_OPS = ['is', 'starts_with', 'ends_with', 'contains', 'not', 'in'] as const;
const CERTIFICATE_KEYS = [
  'fingerprint',
  'spki_hash',
  'certificate',
  'san_dns',
  'san_email',
  'san_uri',
  'san_user_principal_name',
] as const;
const SAN_KEYS: Readonly<Record<string, SanType>> = {
  san_dns: 'dns',
  san_email: 'email',
  san_uri: 'uri',
  san_user_principal_name: 'user_principal_name',
};

const FINGERPRINT_SHORT = /^[0-9a-f]{64}$/;
const FINGERPRINT_LONG = /^[0-9A-F]{2}(?::[0-9A-F]{2}){31}$/;
// Standard base64 with padding of 32 bytes: 43 characters and one "=".
const SPKI_HASH = /^[A-Za-z0-9+/]{43}=$/;

/** Pomerium ignores the value of these criteria: `accept: false` would still accept. Only `true` is taken. */
export const TRUE_ONLY: Operand<Record<never, never>> = {
  read: requireTrue,
  schema: { const: true, description: 'only true: to negate it, put it under not' },
};

function requireTrue(value: SourceValue, name: string, diag: Diagnostics): Record<never, never> | undefined {
  if (value.kind === 'scalar' && value.value === true) return {};
  if (value.kind === 'scalar' && value.value === false) {
    diag.error(
      value.at,
      `must be true: Pomerium ignores this value, so "${name}: false" would still mean ${name}; to ` +
        `negate it, put "${name}: true" under not`,
    );
  } else {
    diag.error(value.at, `expected true, got ${describeKind(value)}`);
  }
  return undefined;
}

/** A criterion whose operand is a string matcher, with values kept as `valueFor` says. */
export function stringMatcher(valueFor: MatcherValue): Operand<{ match: StringMatcher[] }> {
  return {
    read: (value, _name, diag) => {
      const match = readMatchers(value, diag, valueFor);
      return match && { match };
    },
    schema: { $ref: '#/$defs/string_matcher' },
  };
}

/** Pomerium's certificate matcher: every condition given must hold. */
export const CERTIFICATE_MATCHER: Operand<{ conditions: CertificateCondition[] }> = {
  read: readCertificateMatcher,
  schema: { $ref: '#/$defs/certificate_matcher' },
};

/** The shapes the operands' schemas refer to (`#/$defs/…`). */
export function operandSchemaDefinitions(): Record<string, JsonSchema> {
  const operator: JsonSchema = { type: ['string', 'number'] };
  const ops: Record<string, JsonSchema> = {};
  for (const op of MATCHER_OPS) ops[op] = op === 'in' ? { type: 'array', minItems: 1, items: operator } : operator;
  const matcher: JsonSchema = {
    description: `a value (is), or a mapping of ${MATCHER_OPS.join(', ')}: all given must match`,
    anyOf: [operator, { type: 'object', properties: ops, additionalProperties: false, minProperties: 1 }],
  };
  const certificate: Record<string, JsonSchema> = {};
  for (const key of CERTIFICATE_KEYS) {
    if (key === 'fingerprint' || key === 'spki_hash') certificate[key] = textOrList();
    else if (key === 'certificate') certificate[key] = { ...TEXT, description: 'a PEM certificate to pin' };
    else certificate[key] = { $ref: '#/$defs/string_matcher' };
  }
  return {
    string_matcher: matcher,
    certificate_matcher: {
      description: 'every condition given must hold',
      type: 'object',
      properties: certificate,
      additionalProperties: false,
      minProperties: 1,
    },
  };
}

/** Pomerium's string matcher: a bare string (`is`) or a mapping of operators, all of which must match. */
function readMatchers(value: SourceValue, diag: Diagnostics, valueFor: MatcherValue): StringMatcher[] | undefined {
  const before = diag.errors.length;
  const take = (op: StringMatcher['op'], v: SourceValue): string | undefined => {
    const s = scalarString(v, diag);
    if (!s) return undefined;
    const kept = valueFor(op, s.value);
    if ('error' in kept) {
      diag.error(s.at, kept.error);
      return undefined;
    }
    return kept.value;
  };
  if (value.kind === 'scalar' && (typeof value.value === 'string' || typeof value.value === 'number')) {
    const s = take('is', value);
    return s === undefined ? undefined : [{ op: 'is', value: s }];
  }
  if (value.kind !== 'map') {
    diag.error(
      value.at,
      `expected a string or a matcher (a mapping of ${MATCHER_OPS.join(', ')}), got ${describeKind(value)}`,
    );
    return undefined;
  }
  checkKeys(value, MATCHER_OPS, diag);
  if (value.entries.size === 0) diag.error(value.at, `empty matcher: give at least one of ${MATCHER_OPS.join(', ')}`);
  const out: StringMatcher[] = [];
  for (const [op, v] of value.entries) {
    if (op === 'in') {
      const items = readList(value, 'in', diag);
      if (!items) continue;
      if (items.length === 0) {
        diag.error(v.at, 'expected at least one value');
        continue;
      }
      const values = items.map((item) => take('in', item)).filter((s): s is string => s !== undefined);
      out.push({ op: 'in', values });
    } else if ((MATCHER_OPS as readonly string[]).includes(op)) {
      const s = take(op as Exclude<StringMatcher['op'], 'in'>, v);
      if (s !== undefined) out.push({ op: op as Exclude<StringMatcher['op'], 'in'>, value: s });
    }
  }
  return diag.errors.length > before ? undefined : out;
}

function readCertificateMatcher(
  value: SourceValue,
  _name: string,
  diag: Diagnostics,
): { conditions: CertificateCondition[] } | undefined {
  if (value.kind !== 'map') {
    diag.error(
      value.at,
      `expected a certificate matcher (a mapping of ${CERTIFICATE_KEYS.join(', ')}), got ${describeKind(value)}`,
    );
    return undefined;
  }
  const before = diag.errors.length;
  checkKeys(value, CERTIFICATE_KEYS, diag);
  if (value.entries.size === 0)
    diag.error(value.at, `empty certificate matcher: give at least one of ${CERTIFICATE_KEYS.join(', ')}`);
  const conditions: CertificateCondition[] = [];
  for (const [key, v] of value.entries) {
    if (key === 'fingerprint') {
      const values = readEach(value, key, diag, normaliseFingerprint);
      if (values) conditions.push({ kind: 'fingerprint', values });
    } else if (key === 'spki_hash') {
      const values = readEach(value, key, diag, normaliseSpkiHash);
      if (values) conditions.push({ kind: 'spki_hash', values });
    } else if (key === 'certificate') {
      const fp = certificateFingerprint(value, diag);
      if (fp) conditions.push({ kind: 'fingerprint', values: [fp] });
    } else if (SAN_KEYS[key]) {
      const match = readMatchers(v, diag, SAN_KEYS[key] === 'dns' ? hostNameValue : anyValue);
      if (match) conditions.push({ kind: 'san', san: SAN_KEYS[key], match });
    }
  }
  return diag.errors.length > before ? undefined : { conditions };
}

/** A string or a list of strings, each normalised (or refused with a message naming it). */
function readEach(
  map: MapValue,
  key: string,
  diag: Diagnostics,
  normalise: (v: string) => string | { error: string },
): string[] | undefined {
  const reads = readStringOrList(map, key, diag);
  if (!reads) return undefined;
  const out: string[] = [];
  for (const r of reads) {
    const n = normalise(r.value);
    if (typeof n === 'string') out.push(n);
    else diag.error(r.at, n.error);
  }
  return out.length === reads.length && out.length > 0 ? out : undefined;
}

/** Pomerium takes 64 lower-case hex digits, or 32 upper-case byte pairs joined by colons (as openssl prints). */
function normaliseFingerprint(v: string): string | { error: string } {
  if (FINGERPRINT_SHORT.test(v)) return v;
  if (FINGERPRINT_LONG.test(v)) return v.replace(/:/g, '').toLowerCase();
  return {
    error:
      `${JSON.stringify(v)} is not a SHA-256 fingerprint: expected 64 lower-case hex digits, or 32 ` +
      `upper-case hex pairs separated by colons (as printed by openssl x509 -noout -fingerprint -sha256)`,
  };
}

/** Base64 of the 32-byte SHA-256 of the SubjectPublicKeyInfo; kept in canonical base64. */
function normaliseSpkiHash(v: string): string | { error: string } {
  if (SPKI_HASH.test(v)) {
    const bytes = Buffer.from(v, 'base64');
    if (bytes.length === 32) return bytes.toString('base64');
  }
  return {
    error:
      `${JSON.stringify(v)} is not an SPKI hash: expected the base64 of a 32-byte SHA-256 (44 ` +
      `characters ending in "=")`,
  };
}

/** `certificate: <PEM>` pins that one certificate: it becomes the SHA-256 fingerprint of its DER. */
function certificateFingerprint(map: MapValue, diag: Diagnostics): string | undefined {
  const read = scalarString(map.entries.get('certificate')!, diag);
  if (!read) return undefined;
  const pinned = pinnedCertificateFingerprint(read.value);
  if ('error' in pinned) {
    diag.error(read.at, pinned.error);
    return undefined;
  }
  return pinned.fingerprint;
}
