import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { StringMatcher } from '../../../control-plane/src/config/index.js';
import { hostNameValue } from '../../../control-plane/src/policy/matcher-values.js';
import { comparableHostName, isMailAddress } from '../../../control-plane/src/certificates/host-names.js';
import { matches } from '../../../control-plane/src/policy/matching.js';
import {
  HOST_NAME_REGEX,
  hostNameRegex,
  MAIL_ADDRESS_REGEX,
} from '../../../control-plane/src/policy/host-name-regex.js';
import { propertyRuns } from '../../support/property-runs.js';

// Envoy matches a whole value; RE2 and JavaScript agree on everything these regexes use.
const full = (re: string) => new RegExp(`^(?:${re})$`);

/** Characters that make host names valid, invalid, or look-alikes. */
const HOST_CHARS = [
  'a',
  'b',
  'x',
  'A',
  'B',
  '0',
  '7',
  '-',
  '.',
  '.',
  ',',
  '*',
  '_',
  ' ',
  'ü',
  '\u0435',
  'ｖ',
  '\u212A',
  '\u3002',
  '\0',
  '\n',
];
const label = fc
  .array(fc.constantFrom('a', 'b', 'x', 'A', 'B', '0', '7', '-'), { minLength: 1, maxLength: 4 })
  .map((cs) => cs.join(''));
/** Mostly names that are (nearly) host names, some with one odd character put in, some anything at all. */
const hostish = fc.oneof(
  fc.array(label, { minLength: 1, maxLength: 4 }).map((ls) => ls.join('.')),
  fc
    .tuple(fc.array(label, { minLength: 1, maxLength: 3 }), fc.constantFrom(...HOST_CHARS), fc.nat())
    .map(([ls, c, at]) => {
      const name = ls.join('.');
      const i = at % (name.length + 1);
      return name.slice(0, i) + c + name.slice(i);
    }),
  fc.array(fc.constantFrom(...HOST_CHARS), { maxLength: 12 }).map((cs) => cs.join('')),
);
const OPS = ['is', 'not', 'starts_with', 'ends_with', 'contains', 'in'] as const;

/** A matcher as the config loader keeps it (lower case, A-labels), or nothing when the loader would refuse it. */
function keptMatcher(op: (typeof OPS)[number], values: string[]): StringMatcher | undefined {
  const kept = values.map((v) => hostNameValue(op, v));
  const good = kept.flatMap((k) => ('value' in k ? [k.value] : []));
  if (op === 'in') return good.length > 0 ? { op, values: good } : undefined;
  return good[0] === undefined ? undefined : { op, value: good[0] };
}

/** A SAN and a matcher, whose value is often a piece of the SAN (in another case), so that matches happen. */
const sanAndMatcher = fc
  .tuple(
    hostish,
    fc.constantFrom(...OPS),
    fc.array(hostish, { minLength: 1, maxLength: 3 }),
    fc.nat(),
    fc.nat(),
    fc.boolean(),
  )
  .map(([san, op, others, i, j, related]) => {
    const [from, to] = [i % (san.length + 1), j % (san.length + 1)].sort((x, y) => x - y) as [number, number];
    const piece =
      op === 'is' || op === 'not' || op === 'in'
        ? san
        : op === 'starts_with'
          ? san.slice(0, to)
          : op === 'ends_with'
            ? san.slice(from)
            : san.slice(from, to);
    return { san, m: keptMatcher(op, related ? [piece.toUpperCase(), ...others] : others) };
  });

describe('host-name regexes say what certificates/host-names.ts says', () => {
  it('a host name, and a mail address: the regex and the function agree', () => {
    fc.assert(
      fc.property(hostish, hostish, (a, b) => {
        assert.equal(full(HOST_NAME_REGEX).test(a), comparableHostName(a) !== undefined, JSON.stringify(a));
        const address = `${a.replace(/\./g, '')}@${b}`;
        assert.equal(full(MAIL_ADDRESS_REGEX).test(address), isMailAddress(address), JSON.stringify(address));
      }),
      propertyRuns(2000),
    );
    for (const address of ["!#$%&'*+-/=?^_`{|}~@x", 'a.b@c', 'a..b@c', '.a@c', 'a.@c', '"a"@c', 'a,b@c', 'a;b@c']) {
      assert.equal(full(MAIL_ADDRESS_REGEX).test(address), isMailAddress(address), address);
    }
  });

  it('a DNS SAN meets a matcher in Envoy exactly when it does in the evaluator (any case; never a non-host)', () => {
    fc.assert(
      fc.property(sanAndMatcher, ({ san, m }) => {
        // A generated matcher the config would drop is no case: fast-check counts it as skipped, not as a pass.
        fc.pre(m !== undefined);
        const value = comparableHostName(san);
        const evaluator = value !== undefined && matches(value, m.op === 'not' ? { op: 'is', value: m.value } : m);
        assert.equal(full(hostNameRegex(m)).test(san), evaluator, `${JSON.stringify(san)} ${JSON.stringify(m)}`);
      }),
      propertyRuns(5000),
    );
  });

  it('examples: case, look-alikes, commas, label boundaries', () => {
    const cases: Array<[string, StringMatcher, boolean]> = [
      ['WWW.Victim.EX', { op: 'ends_with', value: '.victim.ex' }, true],
      ['evil.ex,victim.ex', { op: 'ends_with', value: '.victim.ex' }, false],
      ['evil.ex,victim.ex', { op: 'contains', value: 'victim' }, false],
      ['victim.\u0435x', { op: 'is', value: 'victim.ex' }, false],
      ['\u212Aey.ex', { op: 'is', value: 'key.ex' }, false],
      ['xn--bcher-kva.example', { op: 'is', value: 'xn--bcher-kva.example' }, true],
      ['bücher.example', { op: 'is', value: 'xn--bcher-kva.example' }, false],
      ['a-.b', { op: 'starts_with', value: 'a' }, false],
      ['ab-c.d', { op: 'contains', value: '-' }, true],
      ['a.b', { op: 'in', values: [] }, false],
    ];
    for (const [san, m, want] of cases)
      assert.equal(full(hostNameRegex(m)).test(san), want, `${san} ${JSON.stringify(m)}`);
  });
});
