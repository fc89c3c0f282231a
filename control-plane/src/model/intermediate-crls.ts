import { acceptsIntermediates, clientCaSubjects, type Config, type ConfigError } from '../config/index.js';
import type { EdgeHost } from './types.js';

/**
 * An intermediate's CRL (issued by no client CA) goes to every trust that accepts intermediates, since nothing
 * in the config says which CA the intermediate is under (config/downstream-mtls.ts). Two problems only the
 * hosts show:
 * - no such trust on any host (every host with a client CA is shared by routes with different CAs, which
 *   accept direct issuers only): the CRL would be checked nowhere;
 * - several such trusts, and one whose CAs have no CRL of their own: Envoy, now checking CRLs there, would
 *   refuse every certificate under those CAs, though the CRL may belong to another CA's intermediate. With a
 *   single such trust the intermediate can only be under it, and its certificates are what the CRL is for.
 */
export function intermediateCrlErrors(config: Config, hosts: readonly EdgeHost[]): ConfigError[] {
  const rules = config.clientCertificateRules;
  if (rules.crls.length === 0 || !acceptsIntermediates(rules.maxVerifyDepth)) return [];
  const caSubjects = clientCaSubjects([config.clientCa, ...config.routes.map((r) => r.clientCa)]);
  const orphans = rules.crls.map((c, i) => ({ ...c, n: i + 1 })).filter((c) => !caSubjects.has(c.issuer));
  if (orphans.length === 0) return [];
  const which = orphans.map((c) => `CRL ${c.n} (issuer ${c.issuer})`).join(', ');

  // One entry per trust (the content id), with the first host that has it.
  const accepting = new Map<string, EdgeHost>();
  for (const h of hosts) {
    const r = h.requirement;
    if ('ca' in r && r.validation.checkedPerRoute !== true && !accepting.has(r.id)) accepting.set(r.id, h);
  }
  const at = rules.crlAt ?? config.routes[0]?.at ?? { file: config.sourceFile, key: 'downstream_mtls.crl' };
  if (accepting.size === 0) {
    return [{ ...at, message: `${which}: issued by none of the client CAs, so it can only be an intermediate CA's, and every host with a client CA is shared by routes with different CAs, which accept only certificates issued directly by their CAs: it would never be checked. Give those routes hosts of their own, add its issuer to a client CA file, or remove it` }];
  }
  if (accepting.size === 1) return [];
  const errors: ConfigError[] = [];
  for (const host of accepting.values()) {
    const r = host.requirement;
    if (!('ca' in r)) continue;
    const own = clientCaSubjects([r.ca]);
    if (rules.crls.some((c) => own.has(c.issuer))) continue;
    const route = config.routes.find((x) => x.from.host === host.name);
    errors.push({
      ...(route?.at ?? at),
      message: `host ${host.name}: ${which} is an intermediate's, which every client CA that accepts intermediates gets (nothing tells whose intermediate it is), and this host's CAs (${r.ca.origin}) have no CRL: Envoy would refuse every certificate under them. Add their CRLs and those of their intermediates (empty ones will do)`,
    });
  }
  return errors;
}
