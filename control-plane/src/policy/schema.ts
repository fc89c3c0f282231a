import type { JsonSchema } from '../source/json-schema.js';
import { CRITERIA, WRITTEN_CRITERION_NAMES } from './criteria.js';
import { ACTIONS, OPERATORS } from './parse.js';
import { operandSchemaDefinitions } from './parse-operands.js';

/**
 * PPL as JSON Schema, from the tables the policy reader uses: the actions and operators of parse.ts and each
 * criterion's operand in criteria.ts. `policy` refers to `#/$defs/policy`; the other definitions come with it.
 */
export function policySchemaDefinitions(): Record<string, JsonSchema> {
  const criteria: Record<string, JsonSchema> = {};
  for (const name of WRITTEN_CRITERION_NAMES) {
    // `claim` is written with the claim's name: `claim/department`.
    if (name !== 'claim') criteria[name] = CRITERIA[name].operand.schema;
  }
  const operators: Record<string, JsonSchema> = {};
  for (const op of OPERATORS) operators[op] = { type: 'array', minItems: 1, items: { $ref: '#/$defs/criterion' } };
  const actions: Record<string, JsonSchema> = {};
  for (const action of ACTIONS) {
    actions[action] = { type: 'object', properties: operators, additionalProperties: false, minProperties: 1 };
  }
  const rule: JsonSchema = {
    description: 'allow and/or deny, each a mapping of and, or, not, nor to lists of criteria',
    type: 'object',
    properties: actions,
    additionalProperties: false,
    minProperties: 1,
  };
  return {
    policy: {
      description: 'Pomerium Policy Language: one rule or a list of rules',
      anyOf: [rule, { type: 'array', minItems: 1, items: rule }],
    },
    criterion: {
      description: 'one criterion: a mapping with exactly one key, its name',
      type: 'object',
      properties: criteria,
      patternProperties: { '^claim/[^\\s/]+$': CRITERIA.claim.operand.schema },
      additionalProperties: false,
      minProperties: 1,
      maxProperties: 1,
    },
    ...operandSchemaDefinitions(),
  };
}
