import { configReference } from './reference.js';
import { configSchema, SCHEMA_FILE } from './schema.js';

/** The files generated from the option tables, by path from the repository's root. */
export function configFiles(): Array<{ path: string; text: string }> {
  return [
    { path: SCHEMA_FILE, text: JSON.stringify(configSchema(), null, 2) + '\n' },
    { path: 'docs/configuration.md', text: configReference() },
  ];
}
