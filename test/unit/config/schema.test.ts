// The JSON Schema editors use (config.schema.json) and the validator judge the same configs alike: every good
// config of the corpus passes both, every bad one fails both at the same key. The good corpus uses every option
// and criterion the tables define, so no option's schema goes unchecked against a value the validator takes.
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { parse } from 'yaml';
import { CRITERION_NAMES } from '../../../control-plane/src/policy/criteria.js';
import { formatError } from '../../../control-plane/src/config/index.js';
import { DOWNSTREAM_MTLS_OPTIONS } from '../../../control-plane/src/config/options/downstream-mtls.js';
import { ROUTE_OPTIONS } from '../../../control-plane/src/config/options/route.js';
import { TOP_LEVEL_OPTIONS } from '../../../control-plane/src/config/options/top-level.js';
import {
  corpusFiles,
  corpusMaterial,
  errorKeys,
  fillPlaceholders,
  schemaErrorKey,
  schemaJudge,
  validate,
  validatorErrors,
  type CorpusMaterial,
} from '../../support/config-corpus.js';

let material: CorpusMaterial;
const judge = schemaJudge();
before(async () => {
  material = await corpusMaterial();
});

test('every good config passes the validator and the schema', () => {
  const good = corpusFiles('good');
  assert.ok(good.length >= 3);
  for (const { name, text } of good) {
    const filled = fillPlaceholders(text, material);
    assert.doesNotMatch(filled, /\{\{/, `${name}: a placeholder the test does not fill`);
    const errors = validatorErrors(filled, material);
    assert.deepEqual(errors.map(formatError), [], `${name}: the validator refuses it`);
    assert.deepEqual(judge(parse(filled)), [], `${name}: the schema refuses it`);
  }
});

test('the good configs use every option, route key and criterion', () => {
  const used = {
    top: new Set<string>(),
    mtls: new Set<string>(),
    route: new Set<string>(),
    criteria: new Set<string>(),
  };
  for (const { text } of corpusFiles('good')) {
    // The criteria as the validator reads them: with sign-in, `email` is the session's (session_email).
    const config = validate(fillPlaceholders(text, material), material);
    for (const route of config.ok ? config.value.routes : [])
      for (const clause of [...(route.policy?.allow ?? []), ...(route.policy?.deny ?? [])])
        for (const criterion of clause.criteria) used.criteria.add(criterion.kind);
    const doc = parse(text) as Record<string, unknown>;
    for (const key of Object.keys(doc)) used.top.add(key);
    for (const key of Object.keys((doc.downstream_mtls as object | undefined) ?? {})) used.mtls.add(key);
    for (const route of (doc.routes as Array<Record<string, unknown>> | undefined) ?? []) {
      for (const key of Object.keys(route)) used.route.add(key);
    }
  }
  const missing = (all: readonly string[], seen: Set<string>) => all.filter((k) => !seen.has(k));
  assert.deepEqual(missing(Object.keys(TOP_LEVEL_OPTIONS), used.top), []);
  assert.deepEqual(missing(Object.keys(DOWNSTREAM_MTLS_OPTIONS), used.mtls), []);
  assert.deepEqual(missing(Object.keys(ROUTE_OPTIONS), used.route), []);
  assert.deepEqual(missing(CRITERION_NAMES, used.criteria), []);
});

test('every bad config fails the validator and the schema, at the key its first line names', () => {
  const bad = corpusFiles('bad');
  assert.ok(bad.length >= 20);
  for (const { name, text } of bad) {
    const expected = /^# rejected at: (\S+)$/m.exec(text)?.[1];
    assert.ok(expected, `${name}: no "# rejected at:" line`);
    const validatorKeys = errorKeys(validatorErrors(text, material));
    assert.ok(validatorKeys.includes(expected), `${name}: validator errors at ${validatorKeys.join(', ') || 'none'}`);
    const schemaKeys = judge(parse(text)).map(schemaErrorKey);
    assert.ok(schemaKeys.includes(expected), `${name}: schema errors at ${schemaKeys.join(', ') || 'none'}`);
  }
});

/** The criterion names a parsed `policy` uses: rule → action → operator → list of one-key mappings. */
