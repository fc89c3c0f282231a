// Policy errors in criterion values: host names, client_certificate matchers, identity-provider criteria.
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { pems, loadTestPems, withPolicy, policyOf, errorsOf, shape, only } from './policy-fixture.js';

before(loadTestPems);

describe('policy errors', () => {
  test('domain and san_dns values are host names as certificates carry them: lower case, A-labels', () => {
    const dnsOf = (matcher: string) =>
      shape(policyOf(`allow:\n  or:\n    - client_certificate:\n        san_dns: ${matcher}\n`).allow);
    const domainOf = (matcher: string) => shape(policyOf(`allow:\n  or:\n    - domain: ${matcher}\n`).allow);
    const dns = (...match: unknown[]) => [
      { or: [{ kind: 'client_certificate', conditions: [{ kind: 'san', san: 'dns', match }] }] },
    ];
    const domain = (...match: unknown[]) => [{ or: [{ kind: 'domain', match }] }];
    assert.deepEqual(dnsOf('Victim.EX'), dns({ op: 'is', value: 'victim.ex' }));
    assert.deepEqual(dnsOf('bücher.example'), dns({ op: 'is', value: 'xn--bcher-kva.example' }));
    assert.deepEqual(
      dnsOf('BÜCHER.example.'),
      dns({ op: 'is', value: 'xn--bcher-kva.example' }),
      'upper case and the final dot of a FQDN',
    );
    assert.deepEqual(
      dnsOf('{in: [a.example, Straße.example]}'),
      dns({ op: 'in', values: ['a.example', 'xn--strae-oqa.example'] }),
    );
    assert.deepEqual(dnsOf('{ends_with: .Bücher.example}'), dns({ op: 'ends_with', value: '.xn--bcher-kva.example' }));
    assert.deepEqual(dnsOf('{starts_with: "Host-"}'), dns({ op: 'starts_with', value: 'host-' }));
    assert.deepEqual(dnsOf('{contains: "-7.corp."}'), dns({ op: 'contains', value: '-7.corp.' }));
    assert.deepEqual(domainOf('{not: XN--BCHER-KVA.example}'), domain({ op: 'not', value: 'xn--bcher-kva.example' }));
    assert.deepEqual(domainOf('bücher.example'), domain({ op: 'is', value: 'xn--bcher-kva.example' }));
  });

  test('a domain or san_dns value no host name can match is an error, with its line', () => {
    const dnsKey = 'routes[0].policy.allow.or[0].client_certificate.san_dns';
    const cases: Array<[string, string, RegExp]> = [
      ['"evil.ex,victim.ex"', '', /^in "evil\.ex,victim\.ex", "ex,victim" is not a DNS label/],
      ['"*.example.com"', '', /^in "\*\.example\.com", "\*" is not a DNS label/],
      ['"a..b"', '', /^in "a\.\.b", "" is not a DNS label/],
      ['"-a.example"', '', /"-a" is not a DNS label/],
      ['"xn--zz.example"', '', /"xn--zz" is not a valid A-label/],
      ['"ｅｘａｍｐｌｅ.com"', '', /"ｅｘａｍｐｌｅ" is not in IDNA normal form \(it maps to "example"\)/],
      ['"e\u0301.example"', '', /is not in IDNA normal form/],
      ['"victim\u3002ex"', '', /is not in IDNA normal form/],
      ['{contains: "ürg"}', '.contains', /^"ürg" is part of an internationalised label/],
      ['{ends_with: "bücher.example"}', '.ends_with', /is part of an internationalised label: write whole labels/],
      ['{starts_with: "a_b"}', '.starts_with', /^"a_b" can never be part of a host name/],
      ['{in: [a.example, "b .example"]}', '.in[1]', /"b " is not a DNS label/],
    ];
    for (const [matcher, suffix, message] of cases) {
      only(errorsOf(withPolicy(`allow:\n  or:\n    - client_certificate:\n        san_dns: ${matcher}\n`)), {
        key: `${dnsKey}${suffix}`,
        line: 11,
        message,
      });
    }
    only(errorsOf(withPolicy('allow:\n  or:\n    - domain: "exa mple.com"\n')), {
      key: 'routes[0].policy.allow.or[0].domain',
      line: 10,
      message:
        /^in "exa mple\.com", "exa mple" is not a DNS label .*\(host names are compared in lower case, internationalised labels as A-labels\)$/,
    });
  });

  test('a domain value with "@" is an email address: an error under every operator', () => {
    const key = 'routes[0].policy.allow.or[0].domain';
    const message =
      /^domain takes a domain \(such as example\.com\), not an email address like "alice@example\.com": use email$/;
    only(errorsOf(withPolicy('allow:\n  or:\n    - domain: alice@example.com\n')), { key, line: 10, message });
    only(errorsOf(withPolicy('allow:\n  or:\n    - domain:\n        not: Alice@Example.com\n')), {
      key: `${key}.not`,
      line: 11,
      message: /not an email address like "Alice@Example\.com": use email$/,
    });
    only(errorsOf(withPolicy('allow:\n  or:\n    - domain:\n        ends_with: "@example.com"\n')), {
      key: `${key}.ends_with`,
      line: 11,
      message: /not an email address like "@example\.com": use email$/,
    });
    only(errorsOf(withPolicy('allow:\n  or:\n    - domain:\n        in: [example.com, bob@example.org]\n')), {
      key: `${key}.in[1]`,
      line: 11,
      message: /like "bob@example\.org": use email$/,
    });
    // email itself takes addresses, and a domain without "@" stays a domain.
    assert.deepEqual(
      shape(policyOf('allow:\n  or:\n    - email: alice@example.com\n    - domain: {ends_with: .Example.com}\n').allow),
      [
        {
          or: [
            { kind: 'email', match: [{ op: 'is', value: 'alice@example.com' }] },
            { kind: 'domain', match: [{ op: 'ends_with', value: '.example.com' }] },
          ],
        },
      ],
    );
  });

  test('client_certificate: empty, unknown key, not a mapping', () => {
    const key = 'routes[0].policy.allow.or[0].client_certificate';
    only(errorsOf(withPolicy('allow:\n  or:\n    - client_certificate: {}\n')), {
      key,
      line: 10,
      message: /^empty certificate matcher: give at least one of fingerprint, spki_hash, certificate, san_dns/,
    });
    only(errorsOf(withPolicy('allow:\n  or:\n    - client_certificate:\n        san_ip_address: 10.0.0.1\n')), {
      key: `${key}.san_ip_address`,
      line: 11,
      message: /^unknown key/,
    });
    only(errorsOf(withPolicy('allow:\n  or:\n    - client_certificate:\n        fingerprnt: abc\n')), {
      key: `${key}.fingerprnt`,
      line: 11,
      message: /^unknown key \(did you mean "fingerprint"\?\)$/,
    });
    only(errorsOf(withPolicy('allow:\n  or:\n    - client_certificate: abc\n')), {
      key,
      line: 10,
      message: /^expected a certificate matcher/,
    });
  });

  test('client_certificate: fingerprints and SPKI hashes that are not, each named', () => {
    const key = 'routes[0].policy.allow.or[0].client_certificate';
    const upper = 'AB'.repeat(32);
    const lowerPairs = Array(32).fill('ab').join(':');
    const errors = errorsOf(
      withPolicy(
        `allow:\n  or:\n    - client_certificate:\n        fingerprint:\n          - ` +
          `${'a'.repeat(64)}\n          - ${upper}\n          - "${lowerPairs}"\n          - abc\n`,
      ),
    );
    assert.deepEqual(
      errors.map((e) => [e.key, e.line]),
      [
        [`${key}.fingerprint[1]`, 13],
        [`${key}.fingerprint[2]`, 14],
        [`${key}.fingerprint[3]`, 15],
      ],
    );
    assert.match(
      errors[0]!.message,
      new RegExp(
        `^"${upper}" is not a SHA-256 fingerprint: expected 64 lower-case ` +
          `hex digits, or 32 upper-case hex pairs separated by colons`,
      ),
    );
    assert.match(errors[2]!.message, /^"abc" is not a SHA-256 fingerprint/);
    only(errorsOf(withPolicy('allow:\n  or:\n    - client_certificate:\n        fingerprint: []\n')), {
      key: `${key}.fingerprint`,
      line: 11,
      message: /^expected at least one entry$/,
    });

    const short = Buffer.alloc(16).toString('base64');
    only(errorsOf(withPolicy(`allow:\n  or:\n    - client_certificate:\n        spki_hash: ${short}\n`)), {
      key: `${key}.spki_hash`,
      line: 11,
      message: new RegExp(
        `^"${short.replace(/[+/]/g, '\\$&')}" is not an SPKI hash: expected the base64 of a 32-byte SHA-256`,
      ),
    });
    only(errorsOf(withPolicy('allow:\n  or:\n    - client_certificate:\n        spki_hash: [not-base64!]\n')), {
      key: `${key}.spki_hash[0]`,
      line: 11,
      message: /is not an SPKI hash/,
    });
  });

  test('client_certificate: certificate that is not one valid PEM certificate', () => {
    const key = 'routes[0].policy.allow.or[0].client_certificate.certificate';
    only(errorsOf(withPolicy('allow:\n  or:\n    - client_certificate:\n        certificate: not a certificate\n')), {
      key,
      line: 11,
      message: /^no PEM certificate found/,
    });
    const two = (pems.clientCert.trim() + '\n' + pems.ca.trim())
      .split('\n')
      .map((l) => ' '.repeat(10) + l)
      .join('\n');
    only(errorsOf(withPolicy('allow:\n  or:\n    - client_certificate:\n        certificate: |\n' + two + '\n')), {
      key,
      line: 11,
      message: /^expected a single certificate, got 2/,
    });
    const broken = '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----'
      .split('\n')
      .map((l) => ' '.repeat(10) + l)
      .join('\n');
    only(errorsOf(withPolicy('allow:\n  or:\n    - client_certificate:\n        certificate: |\n' + broken + '\n')), {
      key,
      line: 11,
      message: /^the certificate does not parse/,
    });
  });

  test('criteria that need sign-in say how to configure it; those mtls-edge never reads name the closest one', () => {
    const signIn = /no identity provider is configured: set idp_provider_url, idp_client_id, idp_client_secret/;
    const cases: Array<[string, RegExp]> = [
      ['groups: {has: admins}', new RegExp(`^"groups" reads the signed-in user's ID token, and ${signIn.source}`)],
      ['claim/groups: admins', new RegExp(`^"claim/groups" reads the signed-in user's ID token, and ${signIn.source}`)],
      ['claims/user: alice', /^"claims\/user" is not supported: write claim\/NAME: value/],
      ['device: {is: d1}', /^"device" is not supported: .*client_certificate \(fingerprint or spki_hash\)/],
      ['emails: [a@example.com]', /^"emails" is not supported: use "email" \(with "in" for several values\)/],
      ['users: [alice]', /^"users" is not supported: use "user" \(with "in"/],
      ['domains: [example.com]', /^"domains" is not supported: use "domain" \(with "in"/],
      ['pomerium_routes: true', /^"pomerium_routes" is not supported/],
    ];
    for (const [criterion, message] of cases) {
      const name = criterion.split(':')[0]!;
      only(errorsOf(withPolicy(`allow:\n  or:\n    - ${criterion}\n`)), {
        key: `routes[0].policy.allow.or[0].${name}`,
        line: 10,
        message,
      });
    }
  });
});
