import type { Diagnostics, Location } from '../source/diagnostics.js';
import { readStringOrList, type MapValue } from '../source/fields.js';
import { readInlineOrFile, toCertificateBundle, type FileAccess } from './inputs.js';
import { certificatesToPem, parseCertificates, parsePrivateKey } from '../certificates/index.js';
import type { CertificateBundle, ControlChannelTls, SocketAddress } from './types.js';

/** The keys of the control channel's TLS; each also as an environment variable in upper case. */
export const CONTROL_CHANNEL_KEYS = [
  'xds_certificate',
  'xds_certificate_file',
  'xds_certificate_key',
  'xds_certificate_key_file',
  'xds_client_ca',
  'xds_client_ca_file',
] as const;
export const CONTROL_CHANNEL_LIST_KEYS = ['xds_node_ids'] as const;

/** What to tell a user who must secure the control channel. */
export const CONTROL_CHANNEL_HOW_TO =
  'set xds_certificate_file, xds_certificate_key_file and xds_client_ca_file (or XDS_CERTIFICATE_FILE, ' +
  'XDS_CERTIFICATE_KEY_FILE, XDS_CLIENT_CA_FILE); ' +
  '`mtls-edge certs control-plane HOST…` creates them and `mtls-edge certs envoy NODE_ID` a certificate for each Envoy';

/** A node id as it may appear in a certificate's URI SAN and in Envoy's bootstrap: no separators, no spaces. */
export const NODE_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/**
 * `xds_certificate[_file]`, `xds_certificate_key[_file]`, `xds_client_ca[_file]`, `xds_node_ids`: the control channel
 * (xDS and ext_authz) over mutual TLS. All three PEMs or none; a reachable `xds_address` without them is an error,
 * because the channel hands out private keys (SDS) and signs identities (ext_authz).
 */
export function readControlChannelTls(
  root: MapValue,
  xdsAddress: SocketAddress | undefined,
  files: FileAccess,
  diag: Diagnostics,
): ControlChannelTls | undefined {
  const cert = readInlineOrFile(root, 'xds_certificate', 'xds_certificate_file', files, diag);
  const key = readInlineOrFile(root, 'xds_certificate_key', 'xds_certificate_key_file', files, diag);
  const ca = readInlineOrFile(root, 'xds_client_ca', 'xds_client_ca_file', files, diag);
  const nodeIds = readNodeIds(root, diag);
  const present = [cert, key, ca].filter((p) => p !== undefined);
  const anySet = CONTROL_CHANNEL_KEYS.some((k) => root.entries.has(k));
  if (!anySet) {
    if (xdsAddress && !isLoopback(xdsAddress.host)) {
      const at = root.entries.get('xds_address')?.at ?? { file: '(default)', key: 'xds_address' };
      const shown = xdsAddress.host.includes(':')
        ? `[${xdsAddress.host}]:${xdsAddress.port}`
        : `${xdsAddress.host}:${xdsAddress.port}`;
      diag.error(
        at,
        `${shown} is reachable from other machines, and the control channel hands out private keys and ` +
          `signs identities: ${CONTROL_CHANNEL_HOW_TO}`,
      );
    }
    if (nodeIds.length > 0)
      diag.error(
        root.entries.get('xds_node_ids')!.at,
        'xds_node_ids needs the control channel certificates: ' + CONTROL_CHANNEL_HOW_TO,
      );
    return undefined;
  }
  if (present.length < 3) {
    // A part that is set but unreadable has its own error already; name only the parts nobody set.
    const unset = ['xds_certificate', 'xds_certificate_key', 'xds_client_ca'].filter(
      (k) => !root.entries.has(k) && !root.entries.has(`${k}_file`),
    );
    if (unset.length > 0) {
      const names = unset.map((k) => `${k}_file`);
      diag.error(
        firstAt(root),
        `the control channel needs its certificate, its key and the CA that issues the Envoys' ` +
          `certificates: set ${names.join(' and ')} too`,
      );
    }
    return undefined;
  }
  const parsedCert = parseCertificates(cert!.text);
  if ('error' in parsedCert) return void diag.error(cert!.at, `${cert!.origin}: ${parsedCert.error}`);
  const parsedKey = parsePrivateKey(key!.text);
  if ('error' in parsedKey) return void diag.error(key!.at, `${key!.origin}: ${parsedKey.error}`);
  const leaf = parsedCert.certs[0]!;
  if (!leaf.checkPrivateKey(parsedKey.key))
    return void diag.error(key!.at, `${key!.origin} does not match the certificate in ${cert!.origin}`);
  const eku = leaf.keyUsage;
  if (eku && eku.length > 0 && !eku.includes('1.3.6.1.5.5.7.3.1')) {
    return void diag.error(
      cert!.at,
      `${cert!.origin}: the certificate may not be used by a TLS server (its extended key usage lacks serverAuth)`,
    );
  }
  const bundle = toCertificateBundle(ca!, diag);
  if (!bundle) return undefined;
  return {
    certPem: certificatesToPem(parsedCert.certs),
    keyPem: parsedKey.key.export({ type: 'pkcs8', format: 'pem' }).toString(),
    clientCaPem: bundle.pem,
    clientCaFingerprints: bundle.fingerprints,
    nodeIds,
  };
}

function readNodeIds(root: MapValue, diag: Diagnostics): string[] {
  const out: string[] = [];
  for (const item of readStringOrList(root, 'xds_node_ids', diag) ?? []) {
    // XDS_NODE_IDS=edge-1,edge-2 arrives as one string.
    for (const id of item.value.split(',').map((s) => s.trim())) {
      if (NODE_ID_PATTERN.test(id)) out.push(id);
      else
        diag.error(
          item.at,
          `${JSON.stringify(id)} is not a node id: letters, digits, ".", "_" and "-", starting with a letter or digit`,
        );
    }
  }
  return [...new Set(out)].sort();
}

/** 127.0.0.0/8 and ::1: only this machine can connect. */
function isLoopback(host: string): boolean {
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host) || host === '::1' || host === 'localhost';
}

function firstAt(root: MapValue): Location {
  for (const k of CONTROL_CHANNEL_KEYS) {
    const v = root.entries.get(k);
    if (v) return v.at;
  }
  return root.at;
}

/**
 * The control channel's CA must issue Envoys' certificates only: if it also issued users' certificates (a global or
 * route client CA), any user's certificate would open the control channel.
 */
export function checkControlChannelCaApart(
  root: MapValue,
  tls: ControlChannelTls | undefined,
  userCas: Array<CertificateBundle | undefined>,
  diag: Diagnostics,
): void {
  if (!tls) return;
  const shared = userCas.find((ca) => ca?.fingerprints.some((f) => tls.clientCaFingerprints.includes(f)));
  if (!shared) return;
  const at = (root.entries.get('xds_client_ca_file') ?? root.entries.get('xds_client_ca'))?.at ?? root.at;
  diag.error(
    at,
    `shares a CA with ${shared.origin}, which issues users' certificates: any user could then open the ` +
      `control channel. Give the control channel a CA of its own (\`mtls-edge certs control-plane HOST…\`)`,
  );
}
