// The layers of docs/architecture.md, enforced: each folder of control-plane/src imports only the folders
// listed for it here (type-only imports too: a type from a higher layer ties the layers together all the same).
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const SRC = fileURLToPath(new URL('../../../../control-plane/src/', import.meta.url));

const VOCABULARIES = ['envoy-api', 'certificates', 'source'] as const;

/** Folder → the project folders it may import. The pipeline reads down; xds/ sees only the Envoy API. */
const ALLOWED: Record<string, readonly string[]> = {
  'envoy-api': [],
  certificates: [],
  source: [],
  identity: ['certificates'],
  policy: ['certificates', 'identity', 'source', 'envoy-api'],
  config: [...VOCABULARIES, 'identity', 'policy'],
  model: [...VOCABULARIES, 'identity', 'policy', 'config'],
  translate: [...VOCABULARIES, 'identity', 'policy', 'config', 'model', 'html'],
  xds: ['envoy-api', 'certificates'],
  authz: [...VOCABULARIES, 'identity', 'policy', 'config', 'model'],
  pki: ['certificates'],
  certs: [],
  html: [],
  demo: ['html'],
  runtime: [...VOCABULARIES, 'identity', 'policy', 'config', 'model', 'translate', 'xds', 'authz', 'pki', 'certs'],
  admin: [...VOCABULARIES, 'identity', 'policy', 'config', 'model', 'translate', 'xds', 'authz', 'runtime'],
  commands: [
    ...VOCABULARIES,
    ...['identity', 'policy', 'config', 'model', 'translate', 'xds', 'authz', 'pki', 'certs', 'runtime', 'admin'],
    'demo',
  ],
  // The command line: the table of commands, their help and completion, over the commands themselves.
  cli: [...VOCABULARIES, 'config', 'runtime', 'commands'],
};

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return name.endsWith('.ts') ? [path] : [];
  });
}

/** The top-level folders of control-plane/src that `file` (inside `folder`) imports. */
function importedFolders(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const folders = new Set<string>();
  for (const m of text.matchAll(/(?:from|import)\s*\(?\s*'(\.[^']*)'/g)) {
    const target = join(file, '..', m[1]!);
    if (!target.startsWith(SRC)) continue;
    const top = target.slice(SRC.length).split('/')[0]!;
    if (!top.endsWith('.js')) folders.add(top);
  }
  return [...folders];
}

test('every folder of control-plane/src has a place in the layers', () => {
  const folders = readdirSync(SRC).filter((n) => statSync(join(SRC, n)).isDirectory());
  assert.deepEqual(
    folders.filter((f) => !(f in ALLOWED)),
    [],
  );
});

test('each folder imports only the folders beneath it', () => {
  const violations: string[] = [];
  for (const [folder, allowed] of Object.entries(ALLOWED)) {
    for (const file of sourceFiles(join(SRC, folder))) {
      for (const imported of importedFolders(file)) {
        if (imported !== folder && !allowed.includes(imported)) {
          violations.push(`${file.slice(SRC.length)} imports ${imported}/`);
        }
      }
    }
  }
  assert.deepEqual(violations, []);
});

test('the checker sees an import that breaks the layers', () => {
  // Guards the regex: a checker that finds no import at all would pass every tree.
  assert.ok(importedFolders(join(SRC, 'xds', 'snapshot.ts')).includes('envoy-api'));
  assert.ok(importedFolders(join(SRC, 'model', 'build-model.ts')).includes('config'));
});
