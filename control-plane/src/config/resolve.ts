import { Diagnostics, type Result } from './diagnostics.js';
import { overlayEnvironment } from './env.js';
import { checkKeys, readList, readStringOrList, type MapValue } from './fields.js';
import { readInlineOrFile, toCertificateBundle, withReadCache, type FileAccess } from './inputs.js';
import { DOWNSTREAM_MTLS_ENV_KEYS, readGlobalClientCa } from './downstream-mtls.js';
import { readRoute } from './route.js';
import { readAddress, readServerCertificates } from './server.js';
import { parseYamlSource, type SourceValue } from './source.js';
import { rootCertificates } from 'node:tls';
import type { Config, ForwardedCertField } from './types.js';

export const SCALAR_KEYS = [
  'address', 'admin_address', 'xds_address', 'envoy_admin_address',
  'certificate', 'certificate_key', 'certificate_file', 'certificate_key_file',
  'client_ca', 'client_ca_file', 'certificate_authority', 'certificate_authority_file',
] as const;
export const STRUCTURED_KEYS = ['certificates', 'routes', 'forward_client_cert'] as const;
const TOP_LEVEL_KEYS: readonly string[] = [...SCALAR_KEYS, ...STRUCTURED_KEYS, 'downstream_mtls'];
const FORWARDED_CERT_FIELDS: readonly ForwardedCertField[] = ['subject', 'uri', 'dns', 'cert', 'chain'];

export interface ConfigInput {
  /** YAML text and its path (for messages); absent when the config is environment only. */
  yaml?: { text: string; file: string };
  env: Readonly<Record<string, string | undefined>>;
  files: FileAccess;
  /** PEM roots that https upstreams are verified against by default (Node's Mozilla store unless a test says otherwise). */
  systemRoots?: readonly string[];
}

/** YAML text + environment → a validated Config, or every error found. Pure apart from `files.readFile`. */
export function resolveConfig(input: ConfigInput): Result<Config> {
  const file = input.yaml?.file ?? '(environment)';
  let root: MapValue = { kind: 'map', entries: new Map(), at: { file, line: 1, key: '(document)' } };
  if (input.yaml) {
    const parsed = parseYamlSource(input.yaml.text, file);
    if (parsed.errors.length > 0) return { ok: false, errors: parsed.errors };
    const doc = parsed.value;
    if (doc && doc.kind === 'map') root = doc;
    else if (doc && !(doc.kind === 'scalar' && doc.value === null)) {
      return { ok: false, errors: [{ ...doc.at, message: 'the config must be a mapping of options' }] };
    }
  }
  const overlaid = overlayEnvironment(root, input.env, { scalar: SCALAR_KEYS, structured: STRUCTURED_KEYS, nested: { downstream_mtls: DOWNSTREAM_MTLS_ENV_KEYS } });
  if (overlaid.errors.length > 0) return { ok: false, errors: overlaid.errors };
  return buildConfig(overlaid.value, file, withReadCache(input.files), input.systemRoots ?? rootCertificates);
}

function buildConfig(root: MapValue, sourceFile: string, files: FileAccess, systemRoots: readonly string[]): Result<Config> {
  const diag = new Diagnostics();
  checkKeys(root, TOP_LEVEL_KEYS, diag);
  const address = readAddress(root, 'address', ':443', diag);
  const adminAddress = readAddress(root, 'admin_address', '127.0.0.1:9902', diag);
  const xdsAddress = readAddress(root, 'xds_address', '127.0.0.1:18000', diag);
  const envoyAdminAddress = readAddress(root, 'envoy_admin_address', '127.0.0.1:9901', diag);
  const certificates = readServerCertificates(root, files, diag);
  if (certificates.length === 0 && !hasAnyCertificateKey(root)) {
    diag.error(root.at, 'no server certificate: set certificate_file and certificate_key_file (or certificate / certificate_key, or certificates)');
  }
  const { ca: clientCa, caSet: clientCaSet, rules: clientCertificateRules } = readGlobalClientCa(root, files, diag);
  const routeItems: SourceValue[] = readList(root, 'routes', diag) ?? [];
  if (!root.entries.has('routes')) diag.error(root.at, 'no routes: add a "routes" list');
  const routes = routeItems.map((item, i) => readRoute(item, i, clientCa, clientCaSet, files, diag));
  // As in Pomerium, certificate_authority adds to the system roots (a route's tls_custom_ca replaces both).
  const extraUpstreamCaInput = readInlineOrFile(root, 'certificate_authority', 'certificate_authority_file', files, diag);
  const extraUpstreamCa = extraUpstreamCaInput && toCertificateBundle(extraUpstreamCaInput, diag);
  const upstreamTrustPem = [...systemRoots.map((pem) => pem.trim() + '\n'), extraUpstreamCa?.pem ?? ''].join('');

  const forwardClientCert: ForwardedCertField[] = [];
  for (const f of readStringOrList(root, 'forward_client_cert', diag) ?? []) {
    if ((FORWARDED_CERT_FIELDS as readonly string[]).includes(f.value)) forwardClientCert.push(f.value as ForwardedCertField);
    else diag.error(f.at, `expected fields from ${FORWARDED_CERT_FIELDS.join(', ')}, got ${JSON.stringify(f.value)}`);
  }

  if (!diag.ok || !address || !adminAddress || !xdsAddress || !envoyAdminAddress) return { ok: false, errors: diag.errors };
  return {
    ok: true,
    value: {
      sourceFile,
      address,
      adminAddress,
      xdsAddress,
      envoyAdminAddress,
      certificates,
      clientCa,
      clientCertificateRules,
      forwardClientCert,
      upstreamTrustPem,
      routes: routes.filter((r) => r !== undefined),
    },
  };
}

function hasAnyCertificateKey(root: MapValue): boolean {
  return ['certificate', 'certificate_key', 'certificate_file', 'certificate_key_file', 'certificates'].some((k) => root.entries.has(k));
}
