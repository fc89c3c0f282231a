import type { Diagnostics, Location } from '../source/diagnostics.js';
import { asMap, checkKeys, readList, readString, type MapValue } from '../source/fields.js';
import { ownCopy } from '../source/own-copy.js';
import { readInlineOrFile, readReferencedFile, type FileAccess, type PemInput } from './inputs.js';
import { certificateDnsNames, certificatesToPem, parseCertificates, parsePrivateKey } from '../certificates/index.js';
import type { ServerCertificate, SocketAddress } from './types.js';

/** `:443`, `0.0.0.0:443`, `[::1]:8443`, `localhost:9901`; an empty host means every interface. */
export function parseAddress(text: string, at: Location, diag: Diagnostics): SocketAddress | undefined {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(text.trim());
  const port = m ? Number(m[3]) : NaN;
  if (!m || port < 1 || port > 65535) {
    diag.error(at, `expected an address "host:port" or ":port", got ${JSON.stringify(text)}`);
    return undefined;
  }
  const host = m[1] ?? (m[2] || '0.0.0.0');
  // `run` keeps the addresses it started with for its whole life.
  return { host: host === 'localhost' ? '127.0.0.1' : ownCopy(host), port };
}

export function readAddress(
  map: MapValue,
  key: string,
  fallback: string,
  diag: Diagnostics,
): SocketAddress | undefined {
  const v = readString(map, key, diag);
  return parseAddress(v?.value ?? fallback, v?.at ?? { file: '(default)', key }, diag);
}

/** An address that is off unless set (the Envoy health and metrics listeners). */
export function readOptionalAddress(map: MapValue, key: string, diag: Diagnostics): SocketAddress | undefined {
  const v = readString(map, key, diag);
  return v && parseAddress(v.value, v.at, diag);
}

/** Server certificates from `certificate[_file]` + `certificate_key[_file]` and the `certificates` list. */
export function readServerCertificates(root: MapValue, files: FileAccess, diag: Diagnostics): ServerCertificate[] {
  const out: ServerCertificate[] = [];
  const cert = readInlineOrFile(root, 'certificate', 'certificate_file', files, diag);
  const key = readInlineOrFile(root, 'certificate_key', 'certificate_key_file', files, diag);
  // Only when the other half is absent: when it is set but unreadable, that error is already reported.
  const has = (...keys: string[]) => keys.some((k) => root.entries.has(k));
  if (cert && !key && !has('certificate_key', 'certificate_key_file'))
    diag.error(cert.at, `${cert.origin} is set but certificate_key / certificate_key_file is not`);
  if (key && !cert && !has('certificate', 'certificate_file'))
    diag.error(key.at, `${key.origin} is set but certificate / certificate_file is not`);
  if (cert && key) pushPair(cert, key, out, diag);

  for (const item of readList(root, 'certificates', diag) ?? []) {
    const entry = asMap(item, diag);
    if (!entry) continue;
    checkKeys(entry, ['cert', 'key'], diag);
    // Pomerium's `certificates` entries name files; base64 PEM is accepted too.
    const certIn = readPairPart(entry, 'cert', files, diag);
    const keyIn = readPairPart(entry, 'key', files, diag);
    if (!certIn || !keyIn) {
      if (!entry.entries.has('cert') || !entry.entries.has('key'))
        diag.error(entry.at, 'each certificates entry needs both cert and key');
      continue;
    }
    pushPair(certIn, keyIn, out, diag);
  }
  return out;
}

function readPairPart(entry: MapValue, key: string, files: FileAccess, diag: Diagnostics): PemInput | undefined {
  const v = readString(entry, key, diag);
  if (!v) return undefined;
  if (v.value.trim().startsWith('-----BEGIN')) return { text: v.value, origin: v.at.key, at: v.at };
  if (/^[A-Za-z0-9+/=\s]{64,}$/.test(v.value))
    return { text: Buffer.from(v.value, 'base64').toString('utf8'), origin: v.at.key, at: v.at };
  const text = readReferencedFile(v.value, v.at, files, diag);
  return text === undefined ? undefined : { text, origin: `${v.at.key} (${v.value})`, at: v.at };
}

function pushPair(cert: PemInput, key: PemInput, out: ServerCertificate[], diag: Diagnostics): void {
  const parsedCert = parseCertificates(cert.text);
  if ('error' in parsedCert) return diag.error(cert.at, `${cert.origin}: ${parsedCert.error}`);
  const parsedKey = parsePrivateKey(key.text);
  if ('error' in parsedKey) return diag.error(key.at, `${key.origin}: ${parsedKey.error}`);
  const leaf = parsedCert.certs[0]!;
  if (!leaf.checkPrivateKey(parsedKey.key)) {
    return diag.error(
      key.at,
      `${key.origin} does not match the certificate in ${cert.origin} (subject ${leaf.subject.replace(/\n/g, ', ')})`,
    );
  }
  out.push({
    certPem: certificatesToPem(parsedCert.certs),
    keyPem: parsedKey.key.export({ type: 'pkcs8', format: 'pem' }).toString(),
    dnsNames: certificateDnsNames(leaf),
    notAfter: new Date(leaf.validTo),
    at: cert.at,
  });
}
