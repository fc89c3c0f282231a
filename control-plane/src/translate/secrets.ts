import type { ClientCaRequirement, EdgeModel } from '../model/index.js';
import { usesUpstreamTrust } from './cluster.js';
import {
  clientCaSecretName,
  serverCertificateSecretName,
  UPSTREAM_TRUST_SECRET,
  upstreamClientCertificateSecretName,
} from './names.js';
import type { envoy_extensions_transport_sockets_tls_v3 as tls_v3 } from '../envoy-api/index.js';
import type { NamedResource } from '../envoy-api/index.js';

const UPN_OID = '1.3.6.1.4.1.311.20.2.3';
const SAN_TYPE = {
  dns: 'DNS',
  email: 'EMAIL',
  ip_address: 'IP_ADDRESS',
  uri: 'URI',
  user_principal_name: 'OTHER_NAME',
} as const;

/** A client CA with Pomerium's downstream_mtls rules: CRLs (leaf issuer only), chain depth, SAN matchers. */
function buildClientValidationContext(
  r: Extract<ClientCaRequirement, { ca: unknown }>,
): tls_v3.CertificateValidationContext {
  const v = r.validation;
  return {
    trusted_ca: { inline_string: r.ca.pem },
    ...(v.crlPem ? { crl: { inline_string: v.crlPem }, only_verify_leaf_cert_crl: true } : {}),
    ...(v.maxVerifyDepth > 0 ? { max_verify_depth: { value: v.maxVerifyDepth } } : {}),
    ...(v.matchSubjectAltNames.length > 0
      ? {
          match_typed_subject_alt_names: v.matchSubjectAltNames.map((m) => ({
            san_type: SAN_TYPE[m.type],
            matcher: { safe_regex: { regex: m.regex } },
            ...(m.type === 'user_principal_name' ? { oid: UPN_OID } : {}),
          })),
        }
      : {}),
    // Under the two policy enforcements an invalid certificate still completes the handshake, marked
    // as not validated, so that the request can be answered with a 495 page instead of a TLS alert.
    ...(v.enforcement === 'reject_connection' && !v.checkedPerRoute
      ? {}
      : { trust_chain_verification: 'ACCEPT_UNTRUSTED' }),
  };
}

/** Server certificates and client CAs as SDS secrets, so that rotating one never rebuilds a listener. */
export function buildSecrets(model: EdgeModel): NamedResource<'secret'>[] {
  const secrets: NamedResource<'secret'>[] = model.serverCertificates.map((cert, i) => {
    const name = serverCertificateSecretName(i);
    return {
      name,
      resource: {
        name,
        tls_certificate: {
          certificate_chain: { inline_string: cert.certPem },
          private_key: { inline_string: cert.keyPem },
        },
      },
    };
  });
  for (const tlsClass of model.classes) {
    const r = tlsClass.requirement;
    if (!('ca' in r)) continue;
    const name = clientCaSecretName(r);
    secrets.push({ name, resource: { name, validation_context: buildClientValidationContext(r) } });
  }
  // One secret per source, however many clusters present it.
  const clientCertificates = new Map<string, tls_v3.TlsCertificate>();
  for (const upstream of model.upstreams) {
    const cert = upstream.tls?.clientCertificate;
    if (!cert) continue;
    clientCertificates.set(upstreamClientCertificateSecretName(cert), {
      certificate_chain: { inline_string: cert.certPem },
      private_key: { inline_string: cert.keyPem },
    });
  }
  for (const [name, tls_certificate] of clientCertificates) secrets.push({ name, resource: { name, tls_certificate } });
  if (model.upstreams.some(usesUpstreamTrust)) {
    const name = UPSTREAM_TRUST_SECRET;
    secrets.push({
      name,
      resource: { name, validation_context: { trusted_ca: { inline_string: model.upstreamTrustPem } } },
    });
  }
  return secrets;
}
