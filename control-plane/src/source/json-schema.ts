/**
 * The part of JSON Schema (draft 2020-12) the config schema uses. The schema is generated from the tables the
 * validator reads its keys from (config/options/, policy/schema.ts), so the two cannot disagree on which keys
 * exist; the tests (test/unit/config/schema.test.ts) hold them to the same verdict on a corpus of configs.
 */
export interface JsonSchema {
  $schema?: string;
  $id?: string;
  $ref?: string;
  $defs?: Record<string, JsonSchema>;
  title?: string;
  description?: string;
  markdownDescription?: string;
  type?: JsonType | JsonType[];
  const?: unknown;
  enum?: readonly unknown[];
  default?: unknown;
  pattern?: string;
  minLength?: number;
  minimum?: number;
  maximum?: number;
  minItems?: number;
  items?: JsonSchema;
  properties?: Record<string, JsonSchema>;
  patternProperties?: Record<string, JsonSchema>;
  additionalProperties?: boolean | JsonSchema;
  propertyNames?: JsonSchema;
  required?: readonly string[];
  minProperties?: number;
  maxProperties?: number;
  oneOf?: JsonSchema[];
  anyOf?: JsonSchema[];
}

type JsonType = 'string' | 'number' | 'integer' | 'boolean' | 'object' | 'array' | 'null';

/** Text: the validator takes a YAML number as its text too (`tls_server_name: 10.0.0.1` is a string anyway). */
export const TEXT: JsonSchema = { type: ['string', 'number'], minLength: 1 };
export const BOOLEAN: JsonSchema = { type: 'boolean' };

/** One text or a non-empty list of them (Pomerium's `to`, `remove_request_headers`, …). */
export function textOrList(item: JsonSchema = TEXT): JsonSchema {
  return { anyOf: [item, { type: 'array', minItems: 1, items: item }] };
}
