// The generated files are committed (editors and readers use them without a build) and must be what the tables
// say now; every shipped config names the schema in its first line and passes it.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { test } from 'node:test';
import { parse } from 'yaml';
import { configFiles } from '../../../control-plane/src/config/options/files.js';
import { ROOT, schemaErrorKey, schemaJudge } from '../../support/config-corpus.js';
import { readmeBlocks } from '../../support/readme-blocks.js';

test('config.schema.json and docs/configuration.md are what `npm run schema` writes', () => {
  for (const file of configFiles()) {
    const committed = readFileSync(join(ROOT, file.path), 'utf8');
    assert.ok(committed === file.text, `${file.path} is out of date: run \`npm run schema\` and commit it`);
  }
});

const SHIPPED_CONFIGS = [
  'examples/demo/config.yaml',
  'examples/compose/config.yaml',
  'deploy/kubernetes/base/config.yaml',
  'deploy/kubernetes/overlays/production/config.yaml',
];

test('every shipped config names the schema in its first line, and passes it', () => {
  const judge = schemaJudge();
  for (const path of SHIPPED_CONFIGS) {
    const text = readFileSync(join(ROOT, path), 'utf8');
    const named = /^# yaml-language-server: \$schema=(\S+)\n/.exec(text)?.[1];
    assert.ok(named, `${path}: no "# yaml-language-server: $schema=…" first line`);
    assert.equal(resolve(dirname(join(ROOT, path)), named), join(ROOT, 'config.schema.json'), path);
    assert.deepEqual(judge(parse(text)).map(schemaErrorKey), [], path);
  }
});

test('every config in docs/ passes the schema (Kubernetes manifests aside)', () => {
  const judge = schemaJudge();
  let checked = 0;
  for (const file of readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md'))) {
    for (const block of readmeBlocks(readFileSync(join(ROOT, 'docs', file), 'utf8'))) {
      if (block.lang !== 'yaml') continue;
      const doc: unknown = parse(block.text);
      if (doc === null || typeof doc !== 'object' || 'apiVersion' in doc || 'kind' in doc) continue;
      assert.deepEqual(judge(doc).map(schemaErrorKey), [], `docs/${file}, under "${block.heading}"`);
      checked++;
    }
  }
  assert.ok(checked >= 4, `only ${checked} configs found in docs/`);
});
