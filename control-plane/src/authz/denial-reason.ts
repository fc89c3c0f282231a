import { criterionSpec, INSTALL_CERTIFICATE_TEXT, type RoutePolicy } from '../policy/index.js';

/** What the request showed of a certificate, for the words of a denial (`not-asked`: the route trusts no CA). */
export type CertificateShown = 'valid' | 'none' | 'not-valid' | 'not-asked';

/**
 * A denial in words a person can act on: when the policy reads the certificate and none (or none valid) came with
 * the request, that is what to fix, whatever rule failed; the rule follows.
 */
export function denialReason(reason: string, shown: CertificateShown, policy: RoutePolicy): string {
  if (shown === 'valid' || shown === 'not-asked' || !readsCertificate(policy)) return reason;
  const what =
    shown === 'none'
      ? 'Your browser did not send a client certificate, and this page lets in only people whose certificate its ' +
        'rules accept'
      : 'The client certificate your browser sent is not valid for this page: it is expired, revoked, or not ' +
        'issued by an authority this page trusts';
  return `${what}. ${capitalised(reason)}. ${INSTALL_CERTIFICATE_TEXT}`;
}

function readsCertificate(policy: RoutePolicy): boolean {
  return [...policy.allow, ...policy.deny].some((clause) =>
    clause.criteria.some((c) => criterionSpec(c.kind).readsCertificate),
  );
}

const capitalised = (text: string): string => text.charAt(0).toUpperCase() + text.slice(1);
