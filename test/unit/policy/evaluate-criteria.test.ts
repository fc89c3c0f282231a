// Evaluating a route policy against the facts of a request.
// Here: every criterion and the string matchers.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import type { StringMatcher } from '../../../control-plane/src/config/index.js';
import { alice, device, facts, is, c, holds } from './evaluate-fixture.js';

describe('criteria', () => {
  test('accept and reject', () => {
    assert.equal(holds(c.accept(), facts({ identity: undefined })), true);
    assert.equal(holds(c.reject()), false);
  });

  test('authenticated_user: a valid client certificate', () => {
    assert.equal(holds(c.authenticated()), true);
    assert.equal(holds(c.authenticated(), facts({ identity: undefined })), false);
  });

  test('invalid_client_certificate follows the fact', () => {
    assert.equal(holds(c.invalidCert(), facts({ identity: undefined, invalidClientCertificate: true })), true);
    assert.equal(holds(c.invalidCert(), facts({ identity: undefined, invalidClientCertificate: false })), false);
    assert.equal(holds(c.invalidCert()), false);
  });

  test('email, domain and user match the identity fields', () => {
    assert.equal(holds(c.email(is('alice@example.com'))), true);
    assert.equal(holds(c.email(is('bob@example.com'))), false);
    assert.equal(holds(c.domain(is('example.com'))), true);
    assert.equal(holds(c.domain(is('example.org'))), false);
    assert.equal(holds(c.user(is('alice@corp'))), true);
    assert.equal(holds(c.user(is('device-7')), facts({ identity: device })), true);
  });

  test('an absent identity field never matches, not even `not`', () => {
    assert.equal(holds(c.email({ op: 'not', value: 'x@y' }), facts({ identity: device })), false);
    assert.equal(holds(c.domain({ op: 'contains', value: '' }), facts({ identity: device })), false);
    assert.equal(holds(c.email({ op: 'not', value: 'x@y' }), facts({ identity: undefined })), false);
    assert.equal(holds(c.user({ op: 'starts_with', value: '' }), facts({ identity: undefined })), false);
  });

  test('several matchers in one criterion must all match', () => {
    assert.equal(
      holds(c.email({ op: 'starts_with', value: 'alice' }, { op: 'ends_with', value: '@example.com' })),
      true,
    );
    assert.equal(
      holds(c.email({ op: 'starts_with', value: 'alice' }, { op: 'ends_with', value: '@example.org' })),
      false,
    );
  });

  test('http_method and http_path look at the request', () => {
    assert.equal(holds(c.method(is('GET'))), true);
    assert.equal(holds(c.method(is('GET')), facts({ method: 'POST' })), false);
    assert.equal(holds(c.path({ op: 'starts_with', value: '/admin' }), facts({ path: '/admin/users' })), true);
    assert.equal(holds(c.path({ op: 'starts_with', value: '/admin' }), facts({ path: '/public' })), false);
    // No identity needed for request criteria.
    assert.equal(holds(c.method(is('GET')), facts({ identity: undefined })), true);
  });

  test('client_certificate fingerprint and spki_hash: the value is one of the list', () => {
    assert.equal(holds(c.cert({ kind: 'fingerprint', values: ['00'.repeat(32), alice.fingerprint] })), true);
    assert.equal(holds(c.cert({ kind: 'fingerprint', values: [device.fingerprint] })), false);
    assert.equal(holds(c.cert({ kind: 'spki_hash', values: [alice.spkiHash] })), true);
    assert.equal(holds(c.cert({ kind: 'spki_hash', values: [device.spkiHash] })), false);
  });

  test('client_certificate san: some SAN of the type matches every matcher', () => {
    assert.equal(holds(c.cert({ kind: 'san', san: 'dns', match: [{ op: 'ends_with', value: '.example.com' }] })), true);
    assert.equal(holds(c.cert({ kind: 'san', san: 'email', match: [is('alice@example.com')] })), true);
    assert.equal(
      holds(c.cert({ kind: 'san', san: 'uri', match: [{ op: 'starts_with', value: 'spiffe://example.com/' }] })),
      true,
    );
    assert.equal(holds(c.cert({ kind: 'san', san: 'user_principal_name', match: [is('alice@corp')] })), true);
    // The DNS name is not an email SAN.
    assert.equal(holds(c.cert({ kind: 'san', san: 'email', match: [is('alice.example.com')] })), false);
    // No SAN of the type at all.
    assert.equal(
      holds(c.cert({ kind: 'san', san: 'dns', match: [{ op: 'contains', value: '' }] }), facts({ identity: device })),
      false,
    );
  });

  test(
    'DNS SANs compare as host names: in lower case, and one ' + 'that is no host name matches nothing, not even `not`',
    () => {
      const withDns = (...dns: string[]) => facts({ identity: { ...alice, sans: { ...alice.sans, dns } } });
      const dns = (...match: StringMatcher[]) => c.cert({ kind: 'san', san: 'dns', match });
      assert.equal(holds(dns(is('victim.ex')), withDns('WWW.Victim.EX', 'Victim.EX')), true);
      // One SAN "evil.ex,victim.ex" is not two, and is no host name.
      for (const m of [
        is('victim.ex'),
        is('evil.ex'),
        { op: 'ends_with', value: '.ex' } as const,
        { op: 'contains', value: 'victim' } as const,
        { op: 'not', value: 'x.ex' } as const,
      ]) {
        assert.equal(holds(dns(m), withDns('evil.ex,victim.ex')), false, JSON.stringify(m));
      }
      for (const lookalike of ['victim.\u0435x', 'ｖictim.ex', 'victim\u3002ex', '*.victim.ex', 'victim.ex.']) {
        assert.equal(holds(dns({ op: 'ends_with', value: 'victim.ex' }), withDns(lookalike)), false, lookalike);
      }
      assert.equal(
        holds(dns({ op: 'not', value: 'victim.ex' }), withDns('evil.ex,victim.ex', 'other.ex')),
        true,
        'another SAN is a host name',
      );
      // Email and URI SANs compare as written, commas and all: per SAN, never per piece.
      const withUri = facts({ identity: { ...alice, sans: { ...alice.sans, uri: ['spiffe://example.com/a,b'] } } });
      assert.equal(holds(c.cert({ kind: 'san', san: 'uri', match: [is('spiffe://example.com/a,b')] }), withUri), true);
      assert.equal(holds(c.cert({ kind: 'san', san: 'uri', match: [is('b')] }), withUri), false);
    },
  );

  test('client_certificate: every condition must hold, and it needs a certificate', () => {
    const both = c.cert(
      { kind: 'fingerprint', values: [alice.fingerprint] },
      { kind: 'san', san: 'email', match: [is('alice@example.com')] },
    );
    assert.equal(holds(both), true);
    const mixed = c.cert(
      { kind: 'fingerprint', values: [alice.fingerprint] },
      { kind: 'san', san: 'email', match: [is('bob@example.com')] },
    );
    assert.equal(holds(mixed), false);
    assert.equal(
      holds(c.cert({ kind: 'fingerprint', values: [alice.fingerprint] }), facts({ identity: undefined })),
      false,
    );
  });
});

describe('string matchers', () => {
  const email = (m: StringMatcher): boolean => holds(c.email(m));
  test('is', () => {
    assert.equal(email({ op: 'is', value: 'alice@example.com' }), true);
    assert.equal(email({ op: 'is', value: 'Alice@example.com' }), false);
  });
  test('starts_with', () => {
    assert.equal(email({ op: 'starts_with', value: 'alice@' }), true);
    assert.equal(email({ op: 'starts_with', value: 'bob@' }), false);
  });
  test('ends_with', () => {
    assert.equal(email({ op: 'ends_with', value: '@example.com' }), true);
    assert.equal(email({ op: 'ends_with', value: '@example.org' }), false);
  });
  test('contains', () => {
    assert.equal(email({ op: 'contains', value: 'ce@ex' }), true);
    assert.equal(email({ op: 'contains', value: 'bob' }), false);
  });
  test('not', () => {
    assert.equal(email({ op: 'not', value: 'bob@example.com' }), true);
    assert.equal(email({ op: 'not', value: 'alice@example.com' }), false);
  });
  test('in', () => {
    assert.equal(email({ op: 'in', values: ['bob@example.com', 'alice@example.com'] }), true);
    assert.equal(email({ op: 'in', values: ['bob@example.com'] }), false);
    assert.equal(email({ op: 'in', values: [] }), false);
  });
});
