// Small ECDSA P-256 PKI for tests and the `certs` CLI: root/intermediate CAs,
// server and client leaves, and CRLs, all accepted by OpenSSL and BoringSSL (Envoy).
import { createPrivateKey, createPublicKey, KeyObject, randomBytes, webcrypto, X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';
import * as x509 from '@peculiar/x509';

// The library's typings use DOM globals (Crypto, CryptoKey) that are absent without lib "DOM"
// and subtly differ from @types/node's with it. This module uses Node's types and casts to the
// library's at the boundary, so it compiles either way. At runtime they are the same objects.
type LibCrypto = ReturnType<typeof x509.cryptoProvider.get>;
type LibCryptoKey = Parameters<typeof x509.X509CrlGenerator.create>[0]['signingKey'];
const libKey = (key: webcrypto.CryptoKey): LibCryptoKey => key as unknown as LibCryptoKey;

x509.cryptoProvider.set(webcrypto as unknown as LibCrypto);

type KeyPair = webcrypto.CryptoKeyPair;

export interface Issued {
  certPem: string;
  /** PKCS#8, "-----BEGIN PRIVATE KEY-----". */
  keyPem: string;
  /** Lower-case hex, exactly as encoded in the certificate (no leading 00). */
  serialHex: string;
}

export interface CertificateAuthority extends Issued {
  /** Own cert followed by the intermediates above it, never the root; for a root just its own cert. */
  chainPem: string;
  /** True for a self-signed root: its cert is the trust anchor, so it is never sent in chains. */
  isRoot: boolean;
  cert: x509.X509Certificate;
  keys: KeyPair;
}

export interface Validity {
  notBefore?: Date;
  notAfter?: Date;
}

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

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
const KEY_ALG = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const SIGNING_ALG = { name: 'ECDSA', hash: 'SHA-256' } as const;
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
    keys: { privateKey, publicKey } as KeyPair,
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

export async function createCrl(
  issuer: CertificateAuthority,
  revokedSerialsHex: string[],
  opts: { thisUpdate?: Date; nextUpdate?: Date } = {},
): Promise<string> {
  const now = Date.now();
  // Backdated like certificates, to tolerate clock skew between generator and proxy. Whole
  // seconds because the invalidityDate below is written with any milliseconds as a fraction,
  // which RFC 5280 forbids.
  const thisUpdate = new Date(Math.floor((opts.thisUpdate?.getTime() ?? now - HOUR_MS) / 1000) * 1000);
  // An expired CRL makes BoringSSL reject every client, so default to the certificates' lifetime.
  const nextUpdate = opts.nextUpdate ?? new Date(now + 365 * DAY_MS);
  const crl = await x509.X509CrlGenerator.create({
    issuer: issuer.cert.subjectName,
    thisUpdate,
    nextUpdate,
    signingKey: libKey(issuer.keys.privateKey),
    signingAlgorithm: SIGNING_ALG,
    // RFC 5280 requires both; the CRL number is time-based so successive CRLs increase.
    extensions: [
      new x509.AuthorityKeyIdentifierExtension(subjectKeyId(issuer.cert)),
      new x509.Extension('2.5.29.20', false, derPositiveInteger(Math.floor(thisUpdate.getTime() / 1000).toString(16))),
    ],
    entries: revokedSerialsHex.map((serial) => ({
      // The generator copies entry serials verbatim, so they must already be minimal DER.
      serialNumber: Buffer.from(derPositiveInteger(serial).subarray(2)).toString('hex'),
      revocationDate: thisUpdate,
      // Without any entry extension the generator writes an empty crlEntryExtensions SEQUENCE,
      // which BoringSSL (Envoy: "Failed to load CRL") rejects; an invalidityDate equal to the
      // revocation date is truthful and keeps the list non-empty. OpenSSL accepts either.
      invalidity: thisUpdate,
    })),
  });
  return toPem(crl.rawData, 'X509 CRL');
}

// ---- internals ----

interface SignParams {
  subject: x509.Name;
  keys: KeyPair;
  /** Omitted for a self-signed certificate. */
  issuer?: CertificateAuthority;
  extensions: x509.Extension[];
  validity: Validity;
}

async function sign(p: SignParams): Promise<Issued & { cert: x509.X509Certificate }> {
  const now = Date.now();
  const serialHex = randomSerialHex();
  const extensions = [...p.extensions, await x509.SubjectKeyIdentifierExtension.create(libKey(p.keys.publicKey))];
  if (p.issuer) extensions.push(new x509.AuthorityKeyIdentifierExtension(subjectKeyId(p.issuer.cert)));

  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serialHex,
    subject: p.subject,
    // Reuse the issuer's encoded Name so issuer/subject bytes match exactly for chain building.
    issuer: p.issuer ? p.issuer.cert.subjectName : p.subject,
    // Backdated to tolerate clock skew between generator and peers.
    notBefore: p.validity.notBefore ?? new Date(now - HOUR_MS),
    notAfter: p.validity.notAfter ?? new Date(now + 365 * DAY_MS),
    publicKey: libKey(p.keys.publicKey),
    signingKey: libKey((p.issuer?.keys ?? p.keys).privateKey),
    signingAlgorithm: SIGNING_ALG,
    extensions,
  });
  return { cert, certPem: toPem(cert.rawData, 'CERTIFICATE'), keyPem: pkcs8Pem(p.keys.privateKey), serialHex };
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

function subjectKeyId(cert: x509.X509Certificate): string {
  const ski = cert.getExtension(x509.SubjectKeyIdentifierExtension);
  if (!ski) throw new Error(`CA certificate ${cert.subject} has no subjectKeyIdentifier`);
  return ski.keyId;
}

async function generateKeys(): Promise<KeyPair> {
  return (await webcrypto.subtle.generateKey(KEY_ALG, true, ['sign', 'verify'])) as KeyPair;
}

function pkcs8Pem(key: webcrypto.CryptoKey): string {
  return KeyObject.from(key).export({ type: 'pkcs8', format: 'pem' }) as string;
}

function randomSerialHex(): string {
  const bytes = randomBytes(16);
  // Clear the sign bit (serials must be positive) and avoid a leading zero byte, which DER
  // would strip, so the value stays 16 bytes and serialHex equals what the cert encodes.
  bytes[0] = bytes.readUInt8(0) & 0x7f || 0x01;
  return bytes.toString('hex');
}

/** DER INTEGER (tag + length + minimal positive content) from hex such as "0A:1B" or "a1b". */
function derPositiveInteger(hex: string) {
  let digits = hex.replace(/[:\s]/g, '').toLowerCase();
  if (!/^[0-9a-f]+$/.test(digits)) throw new Error(`not a hex serial number: ${hex}`);
  digits = digits.replace(/^0+(?=.)/, '');
  if (digits.length % 2 === 1) digits = `0${digits}`;
  let content = Buffer.from(digits, 'hex');
  if (content.readUInt8(0) & 0x80) content = Buffer.concat([Buffer.of(0), content]);
  if (content.length > 127) throw new Error(`serial number too long: ${hex}`);
  // A fresh Uint8Array: DOM typings reject a Buffer (possibly pooled memory) as BufferSource.
  return new Uint8Array(Buffer.concat([Buffer.of(0x02, content.length), content]));
}

function toPem(der: ArrayBuffer, label: string): string {
  const lines =
    Buffer.from(der)
      .toString('base64')
      .match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}
