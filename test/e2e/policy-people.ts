// Shared setup of the policy e2e tests: people with certificates, routes with every criterion and operator,
// and who each route admits.
import { createHash, X509Certificate } from 'node:crypto';
import { issueClientCertificate } from '../../control-plane/src/pki/index.js';
import { HOSTS, type ClientCert, type TestPki } from '../support/pki-fixture.js';
import { type TestUpstream } from '../support/upstream.js';

export const SERVER = 'certificate_file: server.pem\ncertificate_key_file: server-key.pem\n';

export interface People {
  /** CN alice, email SAN alice@example.com */
  alice: ClientCert;
  /** CN bob@example.com, no SAN: the email comes from the common name */
  bob: ClientCert;
  /** CN carol; UPN carol@corp.example; emails carol@example.org, second@example.com; a DNS and a URI SAN */
  carol: ClientCert;
  /** CN dan; no email at all */
  dan: ClientCert;
}

export async function issuePeople(pki: TestPki): Promise<People> {
  const ca = pki.caAuthority;
  const pair = (c: { certPem: string; keyPem: string }): ClientCert => ({ cert: c.certPem, key: c.keyPem });
  return {
    alice: pki.clientA,
    bob: pair(await issueClientCertificate(ca, { commonName: 'bob@example.com' })),
    carol: pair(
      await issueClientCertificate(ca, {
        commonName: 'carol',
        email: 'carol@example.org',
        moreEmails: ['second@example.com'],
        dnsNames: ['device1.corp.example'],
        uris: ['spiffe://corp.example/carol'],
        userPrincipalNames: ['carol@corp.example'],
      }),
    ),
    dan: pair(await issueClientCertificate(ca, { commonName: 'dan' })),
  };
}

export const fingerprint = (pem: string) => createHash('sha256').update(new X509Certificate(pem).raw).digest('hex');
export const spkiHash = (pem: string) =>
  createHash('sha256')
    .update(new X509Certificate(pem).publicKey.export({ type: 'spki', format: 'der' }))
    .digest('base64');

/** A route on host x for each criterion and operator; `policy` is YAML indented for a route. */
export function policyRoute(up: TestUpstream, prefix: string, policy: string, extra = ''): string {
  return `  - from: https://${HOSTS.x}\n    to: ${up.url}\n    prefix: ${prefix}\n${extra}    policy:\n${policy}`;
}

/** One criterion each: tested as the only allow rule, and as the only deny rule beside `accept`. */
export const SINGLE_CRITERIA: Array<[string, (people: People) => string]> = [
  ['/email-is', () => 'email: { is: alice@example.com }'],
  ['/email-bare', () => 'email: alice@example.com'],
  ['/email-starts', () => 'email: { starts_with: ali }'],
  ['/email-ends', () => 'email: { ends_with: "@example.com" }'],
  ['/email-contains', () => 'email: { contains: "ob@ex" }'],
  ['/email-in', () => 'email: { in: [bob@example.com, zed@example.com] }'],
  ['/email-not', () => 'email: { not: alice@example.com }'],
  ['/domain', () => 'domain: { is: example.com }'],
  ['/user-cn', () => 'user: { is: alice }'],
  ['/user-upn', () => 'user: { is: carol@corp.example }'],
  ['/fingerprint', (people) => `client_certificate: { fingerprint: "${fingerprint(people.alice.cert)}" }`],
  [
    '/long-fingerprint',
    (people) => `client_certificate: { fingerprint: "${new X509Certificate(people.bob.cert).fingerprint256}" }`,
  ],
  ['/spki', (people) => `client_certificate: { spki_hash: "${spkiHash(people.alice.cert)}" }`],
  [
    '/certificate',
    (people) =>
      `client_certificate:\n              certificate: |\n${people.bob.cert
        .trim()
        .split('\n')
        .map((l) => `                ${l}`)
        .join('\n')}`,
  ],
  ['/san-dns', () => 'client_certificate: { san_dns: { ends_with: .corp.example } }'],
  ['/san-uri', () => 'client_certificate: { san_uri: { starts_with: "spiffe://corp.example/" } }'],
  ['/san-email', () => 'client_certificate: { san_email: second@example.com }'],
  ['/san-upn', () => 'client_certificate: { san_user_principal_name: { ends_with: "@corp.example" } }'],
  ['/method', () => 'http_method: { in: [GET, HEAD] }'],
  ['/path', () => 'http_path: { contains: /open/ }'],
  ['/accept', () => 'accept: true'],
  ['/reject', () => 'reject: true'],
  ['/authenticated', () => 'authenticated_user: true'],
];

/** Where each single criterion is also a deny rule: `/deny-as/email-is` and so on. */
export const DENY_AS = '/deny-as';

export function policyRoutes(up: TestUpstream, people: People): string {
  const allow = (criterion: string) => `      allow:\n        or:\n          - ${criterion}\n`;
  const denyBesideAccept = (criterion: string) =>
    `      allow:\n        or:\n          - accept: true\n      deny:\n        or:\n          - ${criterion}\n`;
  return [
    ...SINGLE_CRITERIA.flatMap(([path, criterion]) => [
      policyRoute(up, path, allow(criterion(people))),
      policyRoute(up, DENY_AS + path, denyBesideAccept(criterion(people))),
    ]),
    policyRoute(
      up,
      '/and',
      '      allow:\n        and:\n          - domain: example.com\n          - http_method: GET\n',
    ),
    policyRoute(
      up,
      '/not',
      '      allow:\n        not:\n          - email: alice@example.com\n          - email: bob@example.com\n',
    ),
    policyRoute(
      up,
      '/nor',
      '      allow:\n        nor:\n          - email: alice@example.com\n          - http_method: GET\n',
    ),
    policyRoute(
      up,
      '/deny-wins',
      '      - allow:\n          or:\n            - accept: true\n' +
        '      - deny:\n          or:\n            - email: alice@example.com\n',
    ),
    policyRoute(
      up,
      '/deny-and',
      '      allow:\n        or:\n          - accept: true\n      deny:\n' +
        '        and:\n          - domain: example.com\n          - http_method: GET\n',
    ),
    policyRoute(
      up,
      '/deny-not',
      '      allow:\n        or:\n          - accept: true\n      deny:\n        not:\n' +
        '          - email: alice@example.com\n          - email: bob@example.com\n',
    ),
    policyRoute(
      up,
      '/any-user-but-bob',
      '      deny:\n        or:\n          - email: bob@example.com\n',
      '    allow_any_authenticated_user: true\n',
    ),
    policyRoute(
      up,
      '/two-rules',
      '      - allow:\n          or:\n            - email: alice@example.com\n' +
        '      - allow:\n          or:\n            - user: dan\n',
    ),
  ].join('');
}

/** path → who gets 200 (everyone else among alice, bob, carol and dan gets 403). */
export const EXPECTED: Array<[string, Array<keyof People>]> = [
  ['/email-is', ['alice']],
  ['/email-bare', ['alice']],
  ['/email-starts', ['alice']],
  ['/email-ends', ['alice', 'bob']],
  ['/email-contains', ['bob']],
  ['/email-in', ['bob']],
  // dan has no email: a matcher on an absent value does not hold.
  ['/email-not', ['bob', 'carol']],
  // carol's first email SAN is at example.org; the second one does not count.
  ['/domain', ['alice', 'bob']],
  ['/user-cn', ['alice']],
  ['/user-upn', ['carol']],
  ['/fingerprint', ['alice']],
  ['/long-fingerprint', ['bob']],
  ['/spki', ['alice']],
  ['/certificate', ['bob']],
  ['/san-dns', ['carol']],
  ['/san-uri', ['carol']],
  ['/san-email', ['carol']],
  ['/san-upn', ['carol']],
  ['/method', ['alice', 'bob', 'carol', 'dan']],
  ['/accept', ['alice', 'bob', 'carol', 'dan']],
  ['/reject', []],
  ['/authenticated', ['alice', 'bob', 'carol', 'dan']],
  ['/and', ['alice', 'bob']],
  ['/not', ['carol', 'dan']],
  // nor = at least one does not hold: with GET, everyone but alice.
  ['/nor', ['bob', 'carol', 'dan']],
  ['/deny-wins', ['bob', 'carol', 'dan']],
  ['/deny-and', ['carol', 'dan']],
  ['/deny-not', ['alice', 'bob']],
  ['/any-user-but-bob', ['alice', 'carol', 'dan']],
  ['/two-rules', ['alice', 'dan']],
];
