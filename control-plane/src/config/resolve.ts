import { Diagnostics, errorAt, type Location, type Result } from '../source/diagnostics.js';
import { overlayEnvironment } from './env.js';
import { checkKeys, readList, readStringOrList, scalarString, type MapValue } from '../source/fields.js';
import { readInlineOrFile, toCertificateBundle, withReadCache, type FileAccess } from './inputs.js';
import { checkIntermediateCrls, DOWNSTREAM_MTLS_ENV_KEYS, readGlobalClientCa } from './downstream-mtls.js';
import { isHeaderName, readRoute } from './route.js';
import { readAddress, readOptionalAddress, readServerCertificates } from './server.js';
import {
  checkControlChannelCaApart,
  CONTROL_CHANNEL_KEYS,
  CONTROL_CHANNEL_LIST_KEYS,
  readControlChannelTls,
} from './control-channel.js';
import { describeKind, parseYamlSource, type SourceValue } from '../source/source.js';
import { rootCertificates } from 'node:tls';
import { INTERNAL_HEADER_PREFIX } from '../policy/index.js';
import type { Config, ForwardedCertField } from './types.js';
import { readSigningKey } from './signing-key.js';
import { readAccessLogFields } from './access-log-fields.js';
import {
  checkAuthenticateHost,
  IDENTITY_PROVIDER_KEYS,
  IDENTITY_PROVIDER_LIST_KEYS,
  readIdentityProvider,
} from './identity-provider.js';

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
  const jwtClaimsHeaders = readJwtClaimsHeaders(root, diag);
  const accessLogFields = readAccessLogFields(root, diag);

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
    },
  };
}

function hasAnyCertificateKey(root: MapValue): boolean {
  return ['certificate', 'certificate_key', 'certificate_file', 'certificate_key_file', 'certificates'].some((k) =>
    root.entries.has(k),
  );
}

/** What mtls-edge can put in a claim header: what the client certificate says, and the JWT's own claims. */
export const JWT_CLAIMS: readonly string[] = [
  'email',
  'user',
  'domain',
  'sub',
  'fingerprint',
  'spki_hash',
  'subject',
  'issuer',
  'common_name',
  'san_dns',
  'san_email',
  'san_uri',
  'san_ip_address',
  'san_user_principal_name',
  'iss',
  'aud',
];

/** Why a (lower-case) header name cannot carry a claim: undefined when it can, else the end of the message. */
function reservedClaimHeader(lower: string): string | undefined {
  if (lower === 'host' || lower === 'x-pomerium-jwt-assertion') return '';
  if (lower.startsWith(INTERNAL_HEADER_PREFIX)) {
    return (
      `: headers starting with ${INTERNAL_HEADER_PREFIX} are internal to mtls-edge, and removed ` +
      `before the request reaches the upstream`
    );
  }
  if (lower === 'x-forwarded-client-cert')
    return ': Envoy sets (or removes) x-forwarded-client-cert itself; see forward_client_cert';
  return undefined;
}

/** Pomerium's header for a claim: `given_name` → `X-Pomerium-Claim-Given-Name`. */
export function claimHeaderName(claim: string): string {
  const words = claim.split(/[-_]/).filter((w) => w !== '');
  return `X-Pomerium-Claim-${words.map((w) => w.charAt(0).toUpperCase() + w.slice(1).toLowerCase()).join('-')}`;
}

/**
 * `jwt_claims_headers` (JWT_CLAIMS_HEADERS), in Pomerium's three forms: a mapping of header name to claim,
 * a list of claims, or a comma-separated string of claims (each claim then gets its X-Pomerium-Claim-* header).
 */
function readJwtClaimsHeaders(root: MapValue, diag: Diagnostics): Array<[string, string]> {
  const v = root.entries.get('jwt_claims_headers');
  if (!v) return [];
  const given: Array<{ header?: string; claim: string; at: Location }> = [];
  if (v.kind === 'map') {
    for (const [header, item] of v.entries) {
      const claim = scalarString(item, diag);
      if (claim) given.push({ header, claim: claim.value.trim(), at: item.at });
    }
  } else if (v.kind === 'list') {
    for (const item of v.items) {
      const claim = scalarString(item, diag);
      if (claim) given.push({ claim: claim.value.trim(), at: item.at });
    }
  } else if (v.kind === 'scalar' && typeof v.value === 'string') {
    const claims = v.value.split(',').map((c) => c.trim());
    if (claims.some((c) => c === ''))
      diag.error(v.at, `expected claim names separated by commas, got ${JSON.stringify(v.value)}`);
    for (const claim of claims.filter((c) => c !== '')) given.push({ claim, at: v.at });
  } else {
    diag.error(
      v.at,
      `expected a mapping of header name to claim, a list of claims, or claims separated by commas; got ` +
        `${describeKind(v)}`,
    );
  }
  const out: Array<[string, string]> = [];
  const seen = new Set<string>();
  for (const g of given) {
    if (!JWT_CLAIMS.includes(g.claim)) {
      diag.error(
        g.at,
        `unknown claim ${JSON.stringify(g.claim)}: the claims mtls-edge has (from the client ` +
          `certificate) are ${JWT_CLAIMS.join(', ')}`,
      );
      continue;
    }
    const header = g.header ?? claimHeaderName(g.claim);
    const lower = header.toLowerCase();
    const reserved = reservedClaimHeader(lower);
    if (!isHeaderName(header)) diag.error(g.at, `${JSON.stringify(header)} is not a valid HTTP header name`);
    else if (reserved !== undefined) diag.error(g.at, `cannot use ${header} as a claim header${reserved}`);
    else if (seen.has(lower)) diag.error(g.at, `header ${header} is given twice (header names are case-insensitive)`);
    else {
      seen.add(lower);
      out.push([header, g.claim]);
    }
  }
  return out;
}
