import type { JsonSchema } from '../../source/json-schema.js';
import { policySchemaDefinitions } from '../../policy/schema.js';
import { DOWNSTREAM_MTLS_OPTIONS } from './downstream-mtls.js';
import type { OptionSpec, OptionTable } from './option-spec.js';
import { ROUTE_OPTIONS } from './route.js';
import { TOP_LEVEL_OPTIONS } from './top-level.js';

/** Where the generated schema is kept in the repository (and what examples name in their first line). */
export const SCHEMA_FILE = 'config.schema.json';

/** The config file's JSON Schema (draft 2020-12), for editors: generated, never edited by hand (`npm run schema`). */
export function configSchema(): JsonSchema {
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    title: 'mtls-edge config',
    description:
      'The YAML file mtls-edge run reads (Pomerium-style). Generated from the tables the validator uses; ' +
      '`mtls-edge validate` checks what a schema cannot (files, certificates, hosts).',
    ...objectOf(TOP_LEVEL_OPTIONS),
    $defs: {
      route: { ...objectOf(ROUTE_OPTIONS), required: ['from', 'to'] },
      downstream_mtls: objectOf(DOWNSTREAM_MTLS_OPTIONS),
      ...policySchemaDefinitions(),
    },
  };
}

function objectOf<K extends string>(table: OptionTable<K>): JsonSchema {
  const properties: Record<string, JsonSchema> = {};
  for (const [key, option] of Object.entries(table) as Array<[K, OptionSpec]>) properties[key] = documented(option);
  return { type: 'object', properties, additionalProperties: false };
}

/** Editors show `description` (plain) or `markdownDescription`: both say what the option does and its default. */
function documented(option: OptionSpec): JsonSchema {
  const summary = option.default ? `${option.summary}. Default: ${option.default}.` : `${option.summary}.`;
  // Links point into docs/, which an editor's hover cannot follow: their text stays.
  const markdown = summary.replace(/\[([^\]]+)\]\([^)]*\)/g, '$1');
  return { ...option.schema, description: markdown.replace(/`/g, ''), markdownDescription: markdown };
}
