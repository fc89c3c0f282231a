import type { AuthorizationTable, ClientTrust } from './types.js';

/** HTTP 495 (SSL Certificate Error), as the edge answers a certificate that is not valid for a route. */
export const CERTIFICATE_ERROR_STATUS = 495;

export type TrustVerdict = { ok: true } | { ok: false; reason: string };

/** Verifies a leaf (and the intermediates the client sent) against a trust; the identity module's verifier. */
export type CertificateVerifier = (leafPem: string, chainPems: string[], trust: ClientTrust) => TrustVerdict;

/**
 * The check of a request on a connection made under an older trust generation (`context_extensions.verify`
 * names the route's current trust, translate/stale-route-configuration.ts). Envoy verified the certificate at
 * the handshake, against the trust of then; it must still pass the trust of now. A request without a
 * certificate, or whose certificate Envoy already marked invalid, is left to the route (its policy, or its
 * 495 check in Envoy): the trust change cannot have made it any better.
 */
export function checkCurrentTrust(
  table: AuthorizationTable,
  trustName: string,
  certificate: { leafPem: string; chainPems: string[] } | undefined,
  verify: CertificateVerifier,
): TrustVerdict {
  if (!certificate) return { ok: true };
  const trust = table.get(trustName)?.trust;
  // A route configuration older than anything this process knows: fail closed; a new connection will do.
  if (!trust) return { ok: false, reason: 'the trust this connection was made under has changed; open a new connection' };
  const verdict = verify(certificate.leafPem, certificate.chainPems, trust);
  return verdict.ok ? verdict : { ok: false, reason: `The certificate your browser sent is no longer valid here (${verdict.reason}).` };
}

const PAGE_TITLE = 'A valid client certificate is required';

/** The 495 page Envoy's own check shows (translate/http-filters.ts), for the same answer from the service. */
export function certificateErrorPage(reason: string): string {
  const text = reason.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>495 ${PAGE_TITLE}</title>
<style>body{font-family:system-ui,sans-serif;max-width:40rem;margin:4rem auto;padding:0 1rem;color:#222}h1{font-size:1.4rem}</style>
</head><body><h1>${PAGE_TITLE}</h1><p>${text}</p>
<p>Your connection was made before this site's trusted certificate authorities or revocation list changed.
Open the page again with a valid client certificate (you may need to restart the browser).</p></body></html>
`;
}
