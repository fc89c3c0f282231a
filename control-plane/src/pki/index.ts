// Small ECDSA P-256 PKI for tests and the `certs` CLI: root/intermediate CAs,
// server and client leaves, and CRLs, all accepted by OpenSSL and BoringSSL (Envoy).
import { createPrivateKey, createPublicKey, webcrypto, X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';
import * as x509 from '@peculiar/x509';
import {
  generateKeys,
  KEY_ALG,
  sign,
  toPem,
  type CertificateAuthority,
  type Issued,
  type Validity,
} from './signing.js';

export { createCrl } from './crl.js';
export type { CertificateAuthority, Issued } from './signing.js';

export interface CaOptions extends Validity {
  commonName: string;
  /** Max number of intermediates allowed below this CA; unlimited when omitted. */
  pathLength?: number;
}

export interface ServerCertOptions extends Validity {
  dnsNames: string[];
  ipAddresses?: string[];
}

export interface ClientCertOptions extends Validity {
  commonName: string;
  email?: string;
  /** More SANs, for certificates that policies match on (email first, then these, in this order). */
  moreEmails?: string[];
  dnsNames?: string[];
  uris?: string[];
  /** Microsoft UPN SANs (otherName 1.3.6.1.4.1.311.20.2.3), as smart cards and AD CS issue them. */
  userPrincipalNames?: string[];
  /** More common names after `commonName`, each its own RDN (the last is the most specific). */
  moreCommonNames?: string[];
  extendedKeyUsage?: 'clientAuth' | 'serverAuth' | 'none';
}

// RFC 5280 ub-common-name; a longer CN would make the certificate non-conformant.
const MAX_CN_LENGTH = 64;

export async function createRootCa(opts: CaOptions): Promise<CertificateAuthority> {
  const keys = await generateKeys();
  const issued = await sign({
    subject: cnName(opts.commonName),
    keys,
    extensions: caExtensions(opts.pathLength),
    validity: opts,
  });
  return { ...issued, chainPem: issued.certPem, isRoot: true, keys };
}

/**
 * A CA written earlier (by `mtls-edge certs ca`): its certificate and PKCS#8 key, ECDSA P-256.
 * Throws with a message for people when the files do not fit together.
 */
export async function loadCertificateAuthority(certPem: string, keyPem: string): Promise<CertificateAuthority> {
  const cert = new x509.X509Certificate(certPem);
  const nodeKey = createPrivateKey(keyPem);
  if (!new X509Certificate(certPem).checkPrivateKey(nodeKey))
    throw new Error('the CA key does not belong to the CA certificate');
  if (nodeKey.asymmetricKeyType !== 'ec')
    throw new Error('only ECDSA P-256 CAs are supported (as made by `mtls-edge certs ca`)');
  const privateKey = await webcrypto.subtle.importKey('jwk', nodeKey.export({ format: 'jwk' }), KEY_ALG, true, [
    'sign',
  ]);
  const publicKey = await webcrypto.subtle.importKey(
    'jwk',
    createPublicKey(nodeKey).export({ format: 'jwk' }),
    KEY_ALG,
    true,
    ['verify'],
  );
  return {
    cert,
    certPem: toPem(cert.rawData, 'CERTIFICATE'),
    keyPem,
    serialHex: cert.serialNumber.toLowerCase(),
    chainPem: certPem,
    isRoot: cert.subject === cert.issuer,
    keys: { privateKey, publicKey },
  };
}

export async function createIntermediateCa(
  issuer: CertificateAuthority,
  opts: CaOptions,
): Promise<CertificateAuthority> {
  const keys = await generateKeys();
  const issued = await sign({
    subject: cnName(opts.commonName),
    keys,
    issuer,
    extensions: caExtensions(opts.pathLength),
    validity: opts,
  });
  return { ...issued, chainPem: issued.certPem + upperChain(issuer), isRoot: false, keys };
}

export async function issueServerCertificate(
  issuer: CertificateAuthority,
  opts: ServerCertOptions,
): Promise<Issued & { chainPem: string }> {
  const ips = opts.ipAddresses ?? [];
  const names = [...opts.dnsNames, ...ips];
  const first = names[0];
  if (first === undefined) throw new Error('server certificate needs at least one DNS name or IP address');

  // Clients match on the SAN; the CN is only informational, so drop it rather than exceed its limit.
  const subject = first.length <= MAX_CN_LENGTH ? cnName(first) : new x509.Name([]);
  const san = new x509.SubjectAlternativeNameExtension(
    [
      ...opts.dnsNames.map((value) => ({ type: 'dns' as const, value })),
      ...ips.map((ip) => ({ type: 'ip' as const, value: sanIpAddress(ip) })),
    ],
    first.length > MAX_CN_LENGTH, // RFC 5280: SAN must be critical when the subject is empty.
  );
  return issueLeaf(issuer, subject, opts, [
    san,
    new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
  ]);
}

export async function issueClientCertificate(
  issuer: CertificateAuthority,
  opts: ClientCertOptions,
): Promise<Issued & { chainPem: string }> {
  const extensions: x509.Extension[] = [];
  const names: x509.JsonGeneralName[] = [
    ...[...(opts.email !== undefined ? [opts.email] : []), ...(opts.moreEmails ?? [])].map((value) => ({
      type: 'email' as const,
      value,
    })),
    ...(opts.dnsNames ?? []).map((value) => ({ type: 'dns' as const, value })),
    ...(opts.uris ?? []).map((value) => ({ type: 'url' as const, value })),
    ...(opts.userPrincipalNames ?? []).map((value) => ({ type: 'upn' as const, value })),
  ];
  if (names.length > 0) extensions.push(new x509.SubjectAlternativeNameExtension(names));
  const eku = opts.extendedKeyUsage ?? 'clientAuth';
  if (eku !== 'none') {
    extensions.push(new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage[eku]]));
  }
  const subject = opts.moreCommonNames?.length
    ? new x509.Name([opts.commonName, ...opts.moreCommonNames].map((cn) => ({ CN: [{ utf8String: cn }] })))
    : cnName(opts.commonName);
  return issueLeaf(issuer, subject, opts, extensions);
}

async function issueLeaf(
  issuer: CertificateAuthority,
  subject: x509.Name,
  validity: Validity,
  extensions: x509.Extension[],
): Promise<Issued & { chainPem: string }> {
  const keys = await generateKeys();
  const { certPem, keyPem, serialHex } = await sign({
    subject,
    keys,
    issuer,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      ...extensions,
    ],
    validity,
  });
  return { certPem, keyPem, serialHex, chainPem: certPem + upperChain(issuer) };
}

function caExtensions(pathLength: number | undefined): x509.Extension[] {
  return [
    new x509.BasicConstraintsExtension(true, pathLength, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
  ];
}

/** What to append below a cert issued by `issuer`: its chain, unless it is the (never sent) root. */
function upperChain(issuer: CertificateAuthority): string {
  return issuer.isRoot ? '' : issuer.chainPem;
}

function sanIpAddress(ip: string): string {
  const version = isIP(ip);
  // A zone ("fe80::1%eth0") is host-local and cannot be encoded; the library would drop it silently.
  if (version === 0 || ip.includes('%')) throw new Error(`not an IP address: ${ip}`);
  if (version === 4) return ip;
  // The library's IPv6 encoder misreads a dotted IPv4 tail ("::ffff:1.2.3.4"), so make it two hex groups.
  return ip.replace(/(\d+)\.(\d+)\.(\d+)\.(\d+)$/, (_m, a: string, b: string, c: string, d: string) =>
    [(Number(a) << 8) | Number(b), (Number(c) << 8) | Number(d)].map((n) => n.toString(16)).join(':'),
  );
}

function cnName(commonName: string): x509.Name {
  // The object form is the only one taken literally: plain strings, even in the JSON form, get
  // quotes stripped, backslashes unescaped and a leading '#' read as hex. UTF8String per RFC 5280.
  return new x509.Name([{ CN: [{ utf8String: commonName }] }]);
}
