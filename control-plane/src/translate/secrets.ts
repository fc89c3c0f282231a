import type { EdgeModel } from '../model/index.js';
import { usesUpstreamTrust } from './cluster.js';
import { clientCaSecretName, serverCertificateSecretName, UPSTREAM_TRUST_SECRET } from './names.js';
import type { NamedResource } from './types.js';

/** Server certificates and client CAs as SDS secrets, so that rotating one never rebuilds a listener. */
export function buildSecrets(model: EdgeModel): NamedResource[] {
  const secrets: NamedResource[] = model.serverCertificates.map((cert, i) => {
    const name = serverCertificateSecretName(i);
    return {
      name,
      resource: {
        name,
        tls_certificate: { certificate_chain: { inline_string: cert.certPem }, private_key: { inline_string: cert.keyPem } },
      },
    };
  });
  for (const tlsClass of model.classes) {
    const r = tlsClass.requirement;
    if (!('ca' in r)) continue;
    const name = clientCaSecretName(r);
    secrets.push({ name, resource: { name, validation_context: { trusted_ca: { inline_string: r.ca.pem } } } });
  }
  if (model.upstreams.some(usesUpstreamTrust)) {
    const name = UPSTREAM_TRUST_SECRET;
    secrets.push({ name, resource: { name, validation_context: { trusted_ca: { inline_string: model.upstreamTrustPem } } } });
  }
  return secrets;
}
