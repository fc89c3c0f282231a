// Writes config.schema.json and docs/configuration.md from the option tables (control-plane/src/config/options/),
// after a build. test/unit/config/schema-files.test.ts fails when the committed files differ from what this writes.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stdout } from 'node:process';
import { fileURLToPath } from 'node:url';
import { configFiles } from '../dist/control-plane/src/config/options/files.js';

const root = fileURLToPath(new globalThis.URL('..', import.meta.url));
for (const file of configFiles()) {
  writeFileSync(join(root, file.path), file.text);
  stdout.write(`wrote ${file.path}\n`);
}
