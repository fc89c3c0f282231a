// The session Envoy sends with a Check (metadata_context, namespace envoy.filters.http.jwt_authn): a
// google.protobuf.Struct through the real codec, as the service receives it, decoded back to the ID token's payload.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type * as grpc from '@grpc/grpc-js';
import { loadAuthorizationService, type CheckRequest } from '../../../control-plane/src/authz/index.js';
import { sessionPayload, structObject } from '../../../control-plane/src/authz/check-wire.js';
import { SESSION_METADATA_NAMESPACE, SESSION_PAYLOAD_KEY } from '../../../control-plane/src/policy/index.js';

/** The CheckRequest as the service's handler gets it: encoded as Envoy would, decoded by proto-loader. */
function overTheWire(request: object): CheckRequest {
  const check = loadAuthorizationService()['Check'] as grpc.MethodDefinition<object, CheckRequest>;
  return check.requestDeserialize(check.requestSerialize(request));
}

/** A Check whose metadata_context carries `struct` under the session's namespace (and an unrelated one). */
function withMetadata(namespaceFields: Record<string, unknown>): object {
  return {
    attributes: {
      context_extensions: { route: 'route-0.x' },
      metadata_context: {
        filter_metadata: {
          [SESSION_METADATA_NAMESPACE]: { fields: namespaceFields },
          'envoy.filters.http.other': { fields: { sub: { string_value: 'not-the-session' } } },
        },
      },
    },
  };
}

const str = (v: string) => ({ string_value: v });
const num = (v: number) => ({ number_value: v });

describe('the session in a Check', () => {
  test('every kind of Struct value decodes to its JSON value', () => {
    const payload = {
      fields: {
        sub: str('alice'),
        email: str('alice@example.com'),
        email_verified: { bool_value: true },
        blocked: { bool_value: false },
        exp: num(1_900_000_000),
        zero: num(0),
        empty: str(''),
        groups: { list_value: { values: [str('admins'), str('staff')] } },
        none: { list_value: {} },
        mixed: { list_value: { values: [num(1), str('x'), { null_value: 'NULL_VALUE' }] } },
        address: { struct_value: { fields: { country: str('NZ'), lines: { list_value: { values: [str('a')] } } } } },
        nothing: { struct_value: {} },
        missing: { null_value: 'NULL_VALUE' },
        ['__proto__']: { struct_value: { fields: { polluted: { bool_value: true } } } },
      },
    };
    const request = overTheWire(withMetadata({ [SESSION_PAYLOAD_KEY]: { struct_value: payload } }));
    const session = sessionPayload(request);
    assert.ok(session);
    assert.deepEqual(
      { ...session, ['__proto__']: undefined },
      {
        sub: 'alice',
        email: 'alice@example.com',
        email_verified: true,
        blocked: false,
        exp: 1_900_000_000,
        zero: 0,
        empty: '',
        groups: ['admins', 'staff'],
        none: [],
        mixed: [1, 'x', null],
        address: { country: 'NZ', lines: ['a'] },
        nothing: {},
        missing: null,
        ['__proto__']: undefined,
      },
    );
    // A claim named __proto__ is an own property of the payload, not its prototype.
    assert.equal(Object.getPrototypeOf(session), Object.prototype);
    assert.deepEqual(Object.getOwnPropertyDescriptor(session, '__proto__')?.value, { polluted: true });
    assert.equal((session as { polluted?: boolean }).polluted, undefined);
  });

  test('no metadata, another namespace only, or no payload key: no session', () => {
    assert.equal(sessionPayload(overTheWire({ attributes: { context_extensions: { route: 'r' } } })), undefined);
    assert.equal(sessionPayload(overTheWire(withMetadata({ other_key: { struct_value: { fields: {} } } }))), undefined);
    assert.equal(sessionPayload(overTheWire(withMetadata({ [SESSION_PAYLOAD_KEY]: str('not a struct') }))), undefined);
    assert.equal(sessionPayload({}), undefined);
    assert.equal(sessionPayload({ attributes: null }), undefined);
  });

  test('an empty payload is a session with no claims', () => {
    const session = sessionPayload(overTheWire(withMetadata({ [SESSION_PAYLOAD_KEY]: { struct_value: {} } })));
    assert.deepEqual(session, {});
    assert.deepEqual(structObject({ fields: null }), {});
  });
});
