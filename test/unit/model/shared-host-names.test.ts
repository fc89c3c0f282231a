// The CA names of a host whose routes trust different CAs (model/shared-host.ts): each route checks the
// issuer Envoy prints (%DOWNSTREAM_PEER_ISSUER%), so the names are printed with the one printer
// (certificates/distinguished-name.ts), and only names that print as their plain text are accepted.
import assert from 'node:assert/strict';
import { webcrypto, X509Certificate } from 'node:crypto';
import { describe, it } from 'node:test';
import * as x509 from '@peculiar/x509';
import type { CertificateBundle, Config, RouteConfig } from '../../../control-plane/src/config/index.js';
import { buildEdgeModel } from '../../../control-plane/src/model/index.js';
import { issuerNames } from '../../../control-plane/src/model/shared-host.js';
import { der } from '../identity/certs.js';
import { edgeConfig, routeConfig } from './config-fixtures.js';

const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;

/** The DER of a Name: RDNs in DER order, each a list of [attribute OID as DER content bytes, UTF8String value]. */
function rawName(rdns: Array<Array<[number[], string]>>): x509.Name {
  const atv = ([oid, value]: [number[], string]) =>
    der(0x30, Buffer.concat([der(0x06, Buffer.from(oid)), der(0x0c, Buffer.from(value, 'utf8'))]));
  return new x509.Name(
    new Uint8Array(der(0x30, Buffer.concat(rdns.map((rdn) => der(0x31, Buffer.concat(rdn.map(atv))))))),
  );
}
const CN = [0x55, 0x04, 0x03];
const O = [0x55, 0x04, 0x0a];
const ORGANIZATION_IDENTIFIER = [0x55, 0x04, 0x61];

/** A self-signed CA certificate with this subject, as a bundle of its own. */
async function caBundle(subject: x509.Name | string, origin: string): Promise<CertificateBundle> {
  const keys = await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify']);
  const name = typeof subject === 'string' ? rawName([[[CN, subject]]]) : subject;
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: '01',
    subject: name,
    issuer: name,
    notBefore: new Date(Date.now() - 60_000),
    notAfter: new Date(Date.now() + 86_400_000),
    publicKey: keys.publicKey,
    signingKey: keys.privateKey,
    signingAlgorithm: ALG,
    extensions: [new x509.BasicConstraintsExtension(true, undefined, true)],
  });
  const pem = cert.toString('pem') + '\n';
  return { pem, fingerprints: [new X509Certificate(pem).fingerprint256], origin };
}

function sharedHost(a: CertificateBundle, b: CertificateBundle): Config {
  const route = (index: number, clientCa: CertificateBundle): RouteConfig =>
    routeConfig('s.test', index, { match: { kind: 'prefix', value: `/r${index}` }, clientCa });
  const rules = {
    enforcement: 'policy_with_default_deny' as const,
    maxVerifyDepth: 1,
    crls: [],
    matchSubjectAltNames: [],
  };
  return edgeConfig([route(0, a), route(1, b)], { clientCertificateRules: rules });
}

function errorsOf(config: Config): string[] {
  const m = buildEdgeModel(config);
  return m.ok ? [] : m.errors.map((e) => e.message);
}

describe("a shared host's CA names", () => {
  it('plain names are accepted and printed as Envoy prints the issuer, most specific RDN first', async () => {
    const plain = await caBundle(rawName([[[O, "Org (Test) 1.0/x:y-z_w@q'"]], [[CN, 'Plain CA']]]), 'plain.pem');
    const other = await caBundle('Other CA', 'other.pem');
    assert.deepEqual(errorsOf(sharedHost(plain, other)), []);
    assert.deepEqual(issuerNames(plain), ["CN=Plain CA,O=Org (Test) 1.0/x:y-z_w@q'"]);
  });

  const refused: Array<[string, () => x509.Name]> = [
    ['a comma', () => rawName([[[CN, 'A, Inc']]])],
    ['a plus sign', () => rawName([[[CN, 'A+B']]])],
    [
      'a multi-valued RDN',
      () =>
        rawName([
          [
            [CN, 'x'],
            [O, 'y'],
          ],
        ]),
    ],
    ['non-ASCII', () => rawName([[[CN, 'Müller CA']]])],
    [
      'a type Envoy prints as #hex (organizationIdentifier)',
      () => rawName([[[ORGANIZATION_IDENTIFIER, 'VAT1']], [[CN, 'Id CA']]]),
    ],
    ['a leading "#"', () => rawName([[[CN, '#1 CA']]])],
  ];
  for (const [what, name] of refused) {
    it(`a name with ${what} is refused`, async () => {
      const errors = errorsOf(sharedHost(await caBundle('Plain CA', 'plain.pem'), await caBundle(name(), 'odd.pem')));
      assert.equal(errors.length, 1, JSON.stringify(errors));
      assert.match(errors[0]!, /has a name with characters .* that the per-route check cannot compare reliably/);
    });
  }

  it('two CAs with the same printed name are refused, the name printed as Envoy prints it', async () => {
    const subject = rawName([[[O, 'Org']], [[CN, 'Same CA']]]);
    const errors = errorsOf(sharedHost(await caBundle(subject, 'one.pem'), await caBundle(subject, 'two.pem')));
    assert.equal(errors.length, 1, JSON.stringify(errors));
    assert.match(errors[0]!, /two of those CAs have the same subject \(CN=Same CA,O=Org\)/);
  });
});
