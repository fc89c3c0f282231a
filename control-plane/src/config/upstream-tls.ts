import { createHash } from 'node:crypto';
import type { Diagnostics, Location } from '../source/diagnostics.js';
import { readBool, readString, type MapValue, type Read } from '../source/fields.js';
import {
  certificatesToPem,
  OID_CLIENT_AUTH,
  parseCertificate,
  parseCertificates,
  parsePrivateKey,
} from '../certificates/index.js';
import { readInlineOrFile, toCertificateBundle, type FileAccess, type PemInput } from './inputs.js';
import type { UpstreamClientCertificate, UpstreamTls, UpstreamUrl } from './types.js';

/**
 * How a route speaks TLS to its upstream: verification (`tls_skip_verify`, `tls_custom_ca[_file]`), the name it asks
 * for (`tls_upstream_server_name`, or its older name `tls_server_name`), renegotiation, and the client certificate
 * the edge presents (`tls_client_cert[_file]` + `tls_client_key[_file]`). `to` is absent when it did not parse.
 */
export function readUpstreamTls(
  map: MapValue,
  to: UpstreamUrl[] | undefined,
  files: FileAccess,
  diag: Diagnostics,
): UpstreamTls {
  const customCaInput = readInlineOrFile(map, 'tls_custom_ca', 'tls_custom_ca_file', files, diag);
  const customCa = customCaInput && toCertificateBundle(customCaInput, diag);
  const skipVerify = readBool(map, 'tls_skip_verify', diag);
  const serverName = readServerName(map, diag);
  const allowRenegotiation = readBool(map, 'tls_upstream_allow_renegotiation', diag);
  const certInput = readInlineOrFile(map, 'tls_client_cert', 'tls_client_cert_file', files, diag);
  const keyInput = readInlineOrFile(map, 'tls_client_key', 'tls_client_key_file', files, diag);
  const clientCertificate = readClientCertificate(map, certInput, keyInput, diag);
  if (to && to.every((u) => u.scheme === 'http')) {
    const set = [
      skipVerify?.at,
      serverName?.at,
      customCaInput?.at,
      allowRenegotiation?.at,
      certInput?.at,
      keyInput?.at,
    ];
    for (const at of set) {
      if (at) diag.error(at, 'applies only to https upstreams, but every "to" URL of this route is http');
    }
  }
  return {
    skipVerify: skipVerify?.value ?? false,
    serverName: serverName?.value,
    customCa,
    clientCertificate,
    allowRenegotiation: allowRenegotiation?.value ?? false,
  };
}

/** Pomerium renamed `tls_server_name` to `tls_upstream_server_name`; two names for one setting must not disagree. */
function readServerName(map: MapValue, diag: Diagnostics): Read<string> | undefined {
  const current = readString(map, 'tls_upstream_server_name', diag);
  const older = readString(map, 'tls_server_name', diag);
  // The same value under both names is a config halfway through Pomerium's rename: Pomerium takes it, so do we.
  if (current && older && current.value !== older.value) {
    diag.error(
      older.at,
      'set either tls_upstream_server_name or its older name tls_server_name, not both ' +
        `with different values (tls_upstream_server_name is set at ${describe(current.at)})`,
    );
    return undefined;
  }
  return current ?? older;
}

function readClientCertificate(
  map: MapValue,
  cert: PemInput | undefined,
  key: PemInput | undefined,
  diag: Diagnostics,
): UpstreamClientCertificate | undefined {
  // Only when the other half is absent: when it is set but unreadable, that error is already reported.
  const has = (...keys: string[]) => keys.some((k) => map.entries.has(k));
  if (cert && !key && !has('tls_client_key', 'tls_client_key_file'))
    diag.error(cert.at, `${cert.origin} is set but tls_client_key / tls_client_key_file is not`);
  if (key && !cert && !has('tls_client_cert', 'tls_client_cert_file'))
    diag.error(key.at, `${key.origin} is set but tls_client_cert / tls_client_cert_file is not`);
  if (!cert || !key) return undefined;

  const parsedCert = parseCertificates(cert.text);
  if ('error' in parsedCert) return void diag.error(cert.at, `${cert.origin}: ${parsedCert.error}`);
  const parsedKey = parsePrivateKey(key.text);
  if ('error' in parsedKey) return void diag.error(key.at, `${key.origin}: ${parsedKey.error}`);
  const leaf = parsedCert.certs[0]!;
  const subject = leaf.subject.replace(/\n/g, ', ');
  if (!leaf.checkPrivateKey(parsedKey.key))
    return void diag.error(
      key.at,
      `${key.origin} does not match the certificate in ${cert.origin} (subject ${subject})`,
    );
  // OpenSSL and BoringSSL upstreams refuse a client certificate whose extendedKeyUsage lacks clientAuth, even one
  // with anyExtendedKeyUsage (Go would take that one): refuse it here, where the error can name its file.
  const usages = parseCertificate(new Uint8Array(leaf.raw)).extendedKeyUsage;
  if (usages && !usages.includes(OID_CLIENT_AUTH))
    return void diag.error(
      cert.at,
      `${cert.origin}: certificate "${subject}" may not be used by a TLS client ` +
        '(its extended key usage lacks clientAuth), so OpenSSL- and BoringSSL-based upstreams refuse it',
    );
  return {
    certPem: certificatesToPem(parsedCert.certs),
    keyPem: parsedKey.key.export({ type: 'pkcs8', format: 'pem' }).toString(),
    // Files by their paths as written (one config's paths all resolve against one folder): the same on every replica
    // and checkout, and a rotation keeps the name. Inline text by the hash of its whole chain: two chains that share a
    // leaf are two secrets. Tagged, so that no file name can pass for inline text.
    source: JSON.stringify({
      cert: cert.file === undefined ? { inline: sha256Hex(certificatesToPem(parsedCert.certs)) } : { file: cert.file },
      key: key.file === undefined ? 'inline' : { file: key.file },
    }),
    subject,
  };
}

function describe(at: Location): string {
  return at.line === undefined ? at.file : `${at.file}:${at.line}`;
}

const sha256Hex = (text: string): string => createHash('sha256').update(text).digest('hex');
