import type { Diagnostics } from '../source/diagnostics.js';
import { asMap, checkKeys, readList, readString, type MapValue } from '../source/fields.js';
import { readInlineOrFile, toCertificateBundle, type FileAccess, type PemInput } from './inputs.js';
import { certificateBlocks, certificateSubject, crlIssuerName, pemBlocks, pemDer } from '../certificates/index.js';
import type { ConfiguredClientCas } from './client-ca-chains.js';
import type { CertificateBundle, ClientCertificateRules, Enforcement, SanMatcher } from './types.js';

export const DOWNSTREAM_MTLS_KEYS = [
  'ca',
  'ca_file',
  'crl',
  'crl_file',
  'enforcement',
  'match_subject_alt_names',
  'max_verify_depth',
] as const;
/** The keys Pomerium also reads from DOWNSTREAM_MTLS_<KEY>. */
export const DOWNSTREAM_MTLS_ENV_KEYS = [
  'ca',
  'ca_file',
  'crl',
  'crl_file',
  'enforcement',
  'max_verify_depth',
] as const;

export const ENFORCEMENTS: readonly Enforcement[] = ['policy_with_default_deny', 'policy', 'reject_connection'];
export const SAN_TYPES: ReadonlyArray<SanMatcher['type']> = [
  'dns',
  'email',
  'ip_address',
  'uri',
  'user_principal_name',
];

export interface GlobalClientCa {
  ca?: CertificateBundle;
  /** Set, even if it failed to load (that failure is reported on its own). */
  caSet: boolean;
  rules: ClientCertificateRules;
}

/**
 * The global client CA, from `downstream_mtls.ca[_file]` (Pomerium's current form) or `client_ca[_file]`
 * (its older one), and the rules every client certificate is checked against.
 */
export function readGlobalClientCa(root: MapValue, files: FileAccess, diag: Diagnostics): GlobalClientCa {
  const legacy = readInlineOrFile(root, 'client_ca', 'client_ca_file', files, diag);
  const block = root.entries.get('downstream_mtls');
  const map = block ? asMap(block, diag) : undefined;
  if (map) checkKeys(map, DOWNSTREAM_MTLS_KEYS, diag);
  const modern = map ? readInlineOrFile(map, 'ca', 'ca_file', files, diag) : undefined;
  if (legacy && modern)
    diag.error(
      modern.at,
      `set the client CA once: downstream_mtls.${modern.origin.startsWith('ca_file') ? 'ca_file' : 'ca'} ` +
        `or ${legacy.at.key}, not both`,
    );
  const caInput = modern ?? legacy;
  const ca = caInput && toCertificateBundle(caInput, diag);
  const caSet =
    root.entries.has('client_ca') ||
    root.entries.has('client_ca_file') ||
    Boolean(map?.entries.has('ca') || map?.entries.has('ca_file'));

  const enforcementRead = map && readString(map, 'enforcement', diag);
  let enforcement: Enforcement = modern ? 'policy_with_default_deny' : 'reject_connection';
  if (enforcementRead) {
    if ((ENFORCEMENTS as readonly string[]).includes(enforcementRead.value))
      enforcement = enforcementRead.value as Enforcement;
    else
      diag.error(
        enforcementRead.at,
        `expected one of ${ENFORCEMENTS.join(', ')}, got ${JSON.stringify(enforcementRead.value)}`,
      );
  }
  const depthRead = map && readString(map, 'max_verify_depth', diag);
  // Pomerium's default of 1 (certificates issued directly by a CA of the bundle) comes with the block;
  // the older client_ca options never limited the depth.
  let maxVerifyDepth = map ? 1 : 0;
  if (depthRead) {
    // Digits only (Pomerium reads a whole number): `1e1` or `0x2` would pass Number().
    const n = /^\s*\d+\s*$/.test(depthRead.value) ? Number(depthRead.value) : NaN;
    if (Number.isInteger(n) && n >= 0 && n <= 100) maxVerifyDepth = n;
    else
      diag.error(
        depthRead.at,
        `expected a whole number from 0 (no limit) to 100, got ${JSON.stringify(depthRead.value)}`,
      );
  }
  const crlInput = map ? readInlineOrFile(map, 'crl', 'crl_file', files, diag) : undefined;
  const rules: ClientCertificateRules = {
    enforcement,
    maxVerifyDepth,
    crls: crlInput ? readCrls(crlInput, diag) : [],
    matchSubjectAltNames: map ? readSanMatchers(map, diag) : [],
  };
  if (crlInput) rules.crlAt = crlInput.at;
  return { ca, caSet, rules };
}

function readCrls(input: PemInput, diag: Diagnostics): ClientCertificateRules['crls'] {
  const blocks = pemBlocks(input.text).filter((b) => b.type === 'X509 CRL');
  if (blocks.length === 0)
    diag.error(input.at, `${input.origin}: no PEM CRL found (expected "-----BEGIN X509 CRL-----")`);
  const out: ClientCertificateRules['crls'] = [];
  for (const [i, b] of blocks.entries()) {
    try {
      out.push({ pem: b.pem + '\n', issuer: crlIssuerName(b.pem) });
    } catch (e) {
      diag.error(input.at, `${input.origin}: CRL ${i + 1} does not parse: ${(e as Error).message}`);
    }
  }
  return out;
}

function readSanMatchers(map: MapValue, diag: Diagnostics): SanMatcher[] {
  const out: SanMatcher[] = [];
  for (const item of readList(map, 'match_subject_alt_names', diag) ?? []) {
    const entry = asMap(item, diag);
    if (!entry) continue;
    checkKeys(entry, SAN_TYPES, diag);
    if (entry.entries.size !== 1) {
      diag.error(entry.at, `each entry names one SAN type (${SAN_TYPES.join(', ')}) and its regular expression`);
      continue;
    }
    const type = [...entry.entries.keys()][0] as SanMatcher['type'];
    const regex = readString(entry, type, diag);
    if (!regex || !SAN_TYPES.includes(type)) continue;
    try {
      new RegExp(regex.value);
      out.push({ type, regex: regex.value });
    } catch (e) {
      diag.error(regex.at, `not a valid regular expression: ${(e as Error).message}`);
    }
  }
  return out;
}

const subjectsByBundle = new Map<string, Set<string>>();

function bundleSubjects(bundle: CertificateBundle): Set<string> {
  let subjects = subjectsByBundle.get(bundle.pem);
  if (!subjects) {
    subjects = new Set(certificateBlocks(bundle.pem).map((pem) => certificateSubject(pemDer(pem)).rfc2253));
    if (subjectsByBundle.size > 256) subjectsByBundle.clear();
    subjectsByBundle.set(bundle.pem, subjects);
  }
  return subjects;
}

/**
 * The CAs of a bundle that no CRL covers, when some are covered: Envoy, told to check CRLs, would refuse
 * every certificate those CAs issue directly (it finds no CRL for the leaf's issuer). Only CRLs of the
 * bundle's own CAs count: an intermediate's CRL says nothing about which roots the user meant to cover.
 */
export function casWithoutCrl(crls: ClientCertificateRules['crls'], bundle: CertificateBundle): string[] {
  if (crls.length === 0) return [];
  const issuers = new Set(crls.map((c) => c.issuer));
  const subjects = [...bundleSubjects(bundle)];
  const missing = subjects.filter((s) => !issuers.has(s));
  return missing.length < subjects.length ? missing : [];
}

/**
 * The CRLs Envoy and the ext_authz verifier get for a bundle: those issued by one of its CAs (Envoy would
 * otherwise demand a CRL from every CA it is given) and, when the trust accepts intermediates (`configured`
 * given), those of intermediates: issued by no configured client CA (an intermediate the config does not
 * show), or by a configured CA that chains up to this bundle (an intermediate that is also some route's CA).
 * Envoy ignores a CRL whose issuer is not on the chain, and checks its signature with that issuer; left out,
 * a certificate that intermediate revoked would pass. Another bundle's CA's CRL never applies here.
 */
export function crlsForBundle(
  crls: ClientCertificateRules['crls'],
  bundle: CertificateBundle,
  configured?: ConfiguredClientCas,
): string {
  if (crls.length === 0) return '';
  const subjects = bundleSubjects(bundle);
  const applies = (issuer: string) =>
    subjects.has(issuer) ||
    (configured !== undefined && (!configured.subjects.has(issuer) || configured.issuedUnder(issuer, bundle)));
  return crls
    .filter((c) => applies(c.issuer))
    .map((c) => c.pem)
    .join('');
}

/** Whether a trust with this max_verify_depth accepts certificates issued by an intermediate (0: no limit). */
export function acceptsIntermediates(maxVerifyDepth: number): boolean {
  return maxVerifyDepth !== 1;
}

/**
 * A CRL from none of the client CAs when there is no client CA at all would be checked against nothing: refused.
 * (At depth 1 such a CRL is an intermediate's that can never apply, as no certificate an intermediate issued
 * is accepted: harmless, and kept out of every trust, so that one file may hold all of a PKI's CRLs.)
 */
export function checkIntermediateCrls(
  global: GlobalClientCa,
  routeCas: Iterable<CertificateBundle | undefined>,
  diag: Diagnostics,
): void {
  const { crls, crlAt } = global.rules;
  if (!crlAt || crls.length === 0) return;
  const bundles = [global.ca, ...routeCas].filter((b): b is CertificateBundle => b !== undefined);
  if (bundles.length > 0) return;
  const which = crls.map((c, i) => `CRL ${i + 1} (issuer ${c.issuer})`).join(', ');
  diag.error(
    crlAt,
    `${which}: no client CA is configured (downstream_mtls.ca_file, client_ca_file or a route's ` +
      `tls_downstream_client_ca_file), so no certificate would ever be checked against it: configure the ` +
      `CA, or remove the CRL`,
  );
}
