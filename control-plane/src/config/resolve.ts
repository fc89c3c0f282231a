import { Diagnostics, errorAt, type Result } from '../source/diagnostics.js';
import { overlayEnvironment } from './env.js';
import { checkKeys, readList, readStringOrList, type MapValue } from '../source/fields.js';
import { readInlineOrFile, toCertificateBundle, withReadCache, type FileAccess } from './inputs.js';
import { checkIntermediateCrls, DOWNSTREAM_MTLS_ENV_KEYS, readGlobalClientCa } from './downstream-mtls.js';
import { readRoute } from './route.js';
import { readAddress, readOptionalAddress, readServerCertificates } from './server.js';
import {
  checkControlChannelCaApart,
  CONTROL_CHANNEL_KEYS,
  CONTROL_CHANNEL_LIST_KEYS,
  readControlChannelTls,
} from './control-channel.js';
import { describeKind, parseYamlSource, type SourceValue } from '../source/source.js';
import { rootCertificates } from 'node:tls';
import type { Config, ForwardedCertField } from './types.js';
import { readSigningKey } from './signing-key.js';
import { readAccessLogFields } from './access-log-fields.js';
import {
  checkAuthenticateHost,
  IDENTITY_PROVIDER_KEYS,
  IDENTITY_PROVIDER_LIST_KEYS,
  readIdentityProvider,
} from './identity-provider.js';
import { readJwtClaimsHeaders } from './jwt-claims-headers.js';

export { claimHeaderName, JWT_CLAIMS } from './jwt-claims-headers.js';

export const SCALAR_KEYS = [
  'address',
  'admin_address',
  'xds_address',
  'envoy_admin_address',
  'envoy_health_address',
  'metrics_address',
  'certificate',
  'certificate_key',
  'certificate_file',
  'certificate_key_file',
  'client_ca',
  'client_ca_file',
  'certificate_authority',
  'certificate_authority_file',
  'signing_key',
  'signing_key_file',
  'public_https_port',
  ...CONTROL_CHANNEL_KEYS,
  ...IDENTITY_PROVIDER_KEYS,
] as const;
export const STRUCTURED_KEYS = ['certificates', 'routes', 'forward_client_cert'] as const;
/** Structured, but JWT_CLAIMS_HEADERS is never base64 (`user` would pass for it): a list, a mapping or `email,user`. */
const PLAIN_STRUCTURED_KEYS = [
  'jwt_claims_headers',
  'access_log_fields',
  ...CONTROL_CHANNEL_LIST_KEYS,
  ...IDENTITY_PROVIDER_LIST_KEYS,
] as const;
/** Every top-level key; config/options/top-level.ts describes each (its schema and its reference entry). */
export const TOP_LEVEL_KEYS = [
  ...SCALAR_KEYS,
  ...STRUCTURED_KEYS,
  ...PLAIN_STRUCTURED_KEYS,
  'downstream_mtls',
] as const;
export const FORWARDED_CERT_FIELDS: readonly ForwardedCertField[] = ['subject', 'uri', 'dns', 'cert', 'chain'];

/** The environment variables that set a config option (names, upper case): none means no option comes from there. */
export function configVariablesSet(env: Readonly<Record<string, string | undefined>>): string[] {
  const names = [
    ...[...SCALAR_KEYS, ...STRUCTURED_KEYS, ...PLAIN_STRUCTURED_KEYS].map((k) => k.toUpperCase()),
    ...DOWNSTREAM_MTLS_ENV_KEYS.map((k) => `DOWNSTREAM_MTLS_${k.toUpperCase()}`),
  ];
  return names.filter((name) => env[name] !== undefined && env[name] !== '');
}

export interface ConfigInput {
  /** YAML text and its path (for messages); absent when the config is environment only. */
  yaml?: { text: string; file: string };
  env: Readonly<Record<string, string | undefined>>;
  files: FileAccess;
  /**
   * PEM roots that https upstreams are verified against by default (Node's Mozilla store unless a test says otherwise).
   */
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
      return { ok: false, errors: [errorAt(doc.at, 'the config must be a mapping of options')] };
    }
  }
  const overlaid = overlayEnvironment(root, input.env, {
    scalar: SCALAR_KEYS,
    structured: STRUCTURED_KEYS,
    plain: PLAIN_STRUCTURED_KEYS,
    nested: { downstream_mtls: DOWNSTREAM_MTLS_ENV_KEYS },
  });
  if (overlaid.errors.length > 0) return { ok: false, errors: overlaid.errors };
  return buildConfig(overlaid.value, file, withReadCache(input.files), input.systemRoots ?? rootCertificates);
}

function buildConfig(
  root: MapValue,
  sourceFile: string,
  files: FileAccess,
  systemRoots: readonly string[],
): Result<Config> {
  const diag = new Diagnostics();
  checkKeys(root, TOP_LEVEL_KEYS, diag);
  const address = readAddress(root, 'address', ':443', diag);
  const adminAddress = readAddress(root, 'admin_address', '127.0.0.1:9902', diag);
  const xdsAddress = readAddress(root, 'xds_address', '127.0.0.1:18000', diag);
  const envoyAdminAddress = readAddress(root, 'envoy_admin_address', '127.0.0.1:9901', diag);
  const envoyHealthAddress = readOptionalAddress(root, 'envoy_health_address', diag);
  const metricsAddress = readOptionalAddress(root, 'metrics_address', diag);
  const xdsTls = readControlChannelTls(root, xdsAddress, files, diag);
  const certificates = readServerCertificates(root, files, diag);
  if (certificates.length === 0 && !hasAnyCertificateKey(root)) {
    diag.error(
      root.at,
      'no server certificate: set certificate_file and certificate_key_file (or certificate / ' +
        'certificate_key, or certificates)',
    );
  }
  const globalClientCa = readGlobalClientCa(root, files, diag);
  const { ca: clientCa, caSet: clientCaSet, rules: clientCertificateRules } = globalClientCa;
  const routeItems: SourceValue[] = readList(root, 'routes', diag) ?? [];
  if (!root.entries.has('routes')) diag.error(root.at, 'no routes: add a "routes" list');
  const identityProvider = readIdentityProvider(root, files, diag);
  const publicHttpsPort = readPublicHttpsPort(root, diag);
  // An idp_* key that failed still makes email & co. sign-in criteria: their errors would mislead otherwise.
  const signIn =
    identityProvider || root.entries.has('idp_provider_url')
      ? { groupsClaim: identityProvider?.groupsClaim ?? 'groups' }
      : undefined;
  const routes = routeItems.map((item, i) => readRoute(item, i, clientCa, clientCaSet, files, diag, { signIn }));
  checkAuthenticateHost(root, identityProvider, routes, diag);
  checkControlChannelCaApart(root, xdsTls, [clientCa, ...routes.map((r) => r?.clientCa)], diag);
  checkIntermediateCrls(
    globalClientCa,
    routes.map((r) => r?.clientCa),
    diag,
  );
  // As in Pomerium, certificate_authority adds to the system roots (a route's tls_custom_ca replaces both).
  const extraUpstreamCaInput = readInlineOrFile(
    root,
    'certificate_authority',
    'certificate_authority_file',
    files,
    diag,
  );
  const extraUpstreamCa = extraUpstreamCaInput && toCertificateBundle(extraUpstreamCaInput, diag);
  const upstreamTrustPem = [...systemRoots.map((pem) => pem.trim() + '\n'), extraUpstreamCa?.pem ?? ''].join('');

  const forwardClientCert: ForwardedCertField[] = [];
  for (const f of readStringOrList(root, 'forward_client_cert', diag) ?? []) {
    if ((FORWARDED_CERT_FIELDS as readonly string[]).includes(f.value))
      forwardClientCert.push(f.value as ForwardedCertField);
    else diag.error(f.at, `expected fields from ${FORWARDED_CERT_FIELDS.join(', ')}, got ${JSON.stringify(f.value)}`);
  }

  const signingKey = readSigningKey(root, files, diag);
  const jwtClaimsHeaders = readJwtClaimsHeaders(root, diag, signIn !== undefined);
  const accessLogFields = readAccessLogFields(root, diag, signIn !== undefined);

  if (!diag.ok || !address || !adminAddress || !xdsAddress || !envoyAdminAddress)
    return { ok: false, errors: diag.errors };
  return {
    ok: true,
    value: {
      sourceFile,
      address,
      adminAddress,
      xdsAddress,
      xdsAddressConfigured: root.entries.has('xds_address'),
      xdsTls,
      envoyAdminAddress,
      envoyHealthAddress,
      metricsAddress,
      certificates,
      clientCa,
      clientCertificateRules,
      forwardClientCert,
      upstreamTrustPem,
      routes: routes.filter((r) => r !== undefined),
      signingKey,
      jwtClaimsHeaders,
      accessLogFields,
      identityProvider,
      ...(publicHttpsPort !== undefined ? { publicHttpsPort } : {}),
    },
  };
}

/** `public_https_port`: the port browsers reach the edge on, when a load balancer in front listens on another. */
function readPublicHttpsPort(root: MapValue, diag: Diagnostics): number | undefined {
  const v = root.entries.get('public_https_port');
  if (v === undefined) return undefined;
  const text = v.kind === 'scalar' ? String(v.value) : '';
  if (/^[0-9]{1,5}$/.test(text) && Number(text) >= 1 && Number(text) <= 65535) return Number(text);
  diag.error(v.at, `expected a port number (1–65535), such as 443, got ${describeKind(v)}`);
  return undefined;
}

function hasAnyCertificateKey(root: MapValue): boolean {
  return ['certificate', 'certificate_key', 'certificate_file', 'certificate_key_file', 'certificates'].some((k) =>
    root.entries.has(k),
  );
}
