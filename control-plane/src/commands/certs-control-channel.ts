import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { NODE_ID_PATTERN } from '../config/control-channel.js';
import { isIpAddress } from '../model/hostnames.js';
import {
  createRootCa,
  issueClientCertificate,
  issueServerCertificate,
  loadCertificateAuthority,
  type CertificateAuthority,
} from '../pki/index.js';
import { FLEET_URI_PREFIX, NODE_URI_PREFIX } from '../xds/index.js';
import { writeAllOrNothing, type PlannedFile } from '../certs/files.js';
import { file, secret, show, type CertsOptions, type Out } from './certs-output.js';

const CA_FILE = 'control-plane-ca.pem';
const CA_KEY_FILE = 'control-plane-ca-key.pem';
const YEAR_MS = 365 * 24 * 3600 * 1000;
const HOST = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/i;

/**
 * `certs control-plane HOST…`: the control channel's own CA (kept apart from the users' CA: an Envoy certificate
 * must never open a route, nor a user certificate the control plane) and the control plane's server certificate.
 */
export async function makeControlPlaneCertificate(o: CertsOptions, hosts: string[]): Promise<Out> {
  if (hosts.length === 0)
    return {
      ok: false,
      error: 'control-plane needs the names Envoys dial, e.g. certs control-plane control-plane.internal 10.0.0.5',
    };
  const bad = hosts.find((h) => !isIpAddress(h) && !HOST.test(h));
  if (bad) return { ok: false, error: `not a host name or IP address: ${JSON.stringify(bad)}` };
  const { ca, planned } = await controlPlaneCa(o, true);
  const server = await issueServerCertificate(ca, {
    dnsNames: hosts.filter((h) => !isIpAddress(h)).map((h) => h.toLowerCase()),
    ipAddresses: hosts.filter(isIpAddress),
    notAfter: new Date(Date.now() + YEAR_MS),
  });
  const written = writeAllOrNothing(
    [...planned, file(o, 'control-plane.pem', server.chainPem), secret(o, 'control-plane-key.pem', server.keyPem)],
    o.force,
  );
  if (written.error) return { ok: false, error: written.error };
  const caFiles = planned.length > 0 ? [CA_FILE, CA_KEY_FILE] : [];
  const writtenNames = [...caFiles, 'control-plane.pem', 'control-plane-key.pem'];
  const reused = planned.length > 0 ? '' : ` (reusing the CA in ${show(o, CA_FILE)})`;
  return {
    ok: true,
    lines: [
      `wrote ${writtenNames.map((n) => show(o, n)).join(', ')} for ${hosts.join(', ')}${reused}`,
      '',
      'config (xDS and ext_authz over mutual TLS; Envoys need a certificate from this CA: certs envoy NODE_ID):',
      `  xds_certificate_file: ${show(o, 'control-plane.pem')}`,
      `  xds_certificate_key_file: ${show(o, 'control-plane-key.pem')}`,
      `  xds_client_ca_file: ${show(o, CA_FILE)}`,
    ],
  };
}

/** `certs envoy NODE_ID` or `certs envoy --fleet NAME`: an Envoy's client certificate for the control channel. */
export async function makeEnvoyCertificate(o: CertsOptions, args: string[]): Promise<Out> {
  const [nodeId, ...extra] = args;
  const fleet = o.fleet;
  if (extra.length > 0 || (nodeId === undefined) === (fleet === undefined))
    return { ok: false, error: 'envoy needs exactly one NODE_ID, or --fleet NAME, e.g. certs envoy edge-1' };
  const name = nodeId ?? fleet!;
  if (!NODE_ID_PATTERN.test(name))
    return {
      ok: false,
      error:
        `${JSON.stringify(name)} is not usable: letters, digits, ".", "_" and "-", starting with a ` +
        `letter or digit`,
    };
  const { ca } = await controlPlaneCa(o, false);
  const uri = nodeId ? NODE_URI_PREFIX + nodeId : FLEET_URI_PREFIX + fleet!;
  const cert = await issueClientCertificate(ca, {
    commonName: nodeId ?? `fleet ${fleet!}`,
    uris: [uri],
    extendedKeyUsage: 'clientAuth',
    notAfter: new Date(Date.now() + YEAR_MS),
  });
  const base = nodeId ? `envoy-${nodeId}` : `envoy-fleet-${fleet!}`;
  const written = writeAllOrNothing(
    [file(o, `${base}.pem`, cert.certPem), secret(o, `${base}-key.pem`, cert.keyPem)],
    o.force,
  );
  if (written.error) return { ok: false, error: written.error };
  const flags =
    `--xds-client-cert ${show(o, `${base}.pem`)} --xds-client-key ` +
    `${show(o, `${base}-key.pem`)} --xds-ca ${show(o, CA_FILE)}`;
  return {
    ok: true,
    lines: [
      `wrote ${show(o, `${base}.pem`)} and ${show(o, `${base}-key.pem`)} (${uri})`,
      '',
      nodeId
        ? `bootstrap for this Envoy: mtls-edge bootstrap --config FILE --node-id ${nodeId} ${flags}`
        : `list each member's node id in the config (xds_node_ids: [edge-1, edge-2]), then per member: ` +
          `mtls-edge bootstrap --config FILE --node-id edge-1 ${flags}`,
    ],
  };
}

/**
 * The control-plane CA: reused when present (a new one would orphan every Envoy certificate), else made when allowed.
 */
async function controlPlaneCa(
  o: CertsOptions,
  create: boolean,
): Promise<{ ca: CertificateAuthority; planned: PlannedFile[] }> {
  const certPath = join(o.dir, CA_FILE);
  if (existsSync(certPath)) {
    try {
      return {
        ca: await loadCertificateAuthority(
          readFileSync(certPath, 'utf8'),
          readFileSync(join(o.dir, CA_KEY_FILE), 'utf8'),
        ),
        planned: [],
      };
    } catch (e) {
      throw new Error(`cannot use the control-plane CA in ${show(o, CA_FILE)}: ${(e as Error).message}`, { cause: e });
    }
  }
  if (!create)
    throw new Error(`no control-plane CA in ${show(o, CA_FILE)}: run \`mtls-edge certs control-plane HOST…\` first`);
  const ca = await createRootCa({
    commonName: 'mtls-edge control channel CA',
    notAfter: new Date(Date.now() + 10 * YEAR_MS),
  });
  return { ca, planned: [file(o, CA_FILE, ca.certPem), secret(o, CA_KEY_FILE, ca.keyPem)] };
}
