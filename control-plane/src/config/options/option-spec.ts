import type { JsonSchema } from '../../source/json-schema.js';

/**
 * One config option as people read about it: the shape its value takes (JSON Schema, for editors and the
 * reference), what it does, and its default in words. The tables that hold these are typed by the validator's
 * own key lists, so an option the validator reads without an entry here, or an entry it does not read, is a
 * compile error.
 */
export interface OptionSpec {
  schema: JsonSchema;
  /** One or two sentences, Markdown. */
  summary: string;
  /** The default in words (`:443`, `off`); absent when there is none. */
  default?: string;
  /** Its environment variable, when the upper-case name is not it (or `none`). */
  env?: string;
}

export type OptionTable<K extends string> = { readonly [key in K]: OptionSpec };
