import { acceptsIntermediates, configuredClientCas, errorAt, type Config, type ConfigError } from '../config/index.js';
import type { EdgeHost } from './types.js';

/**
 * A CRL issued by no configured client CA is an intermediate's the config does not show, and goes to every trust
 * that accepts intermediates (config/downstream-mtls.ts), since nothing says which CA it is under. With several
 * such trusts, one whose CAs have no CRL of their own would then check CRLs too, and Envoy would refuse every
 * certificate its CAs issue directly, though the CRL may belong to another CA's intermediate: refused, naming
 * the host. With a single such trust the intermediate can only be under it, and checking CRLs there is what the
 * CRL asks for. Where no trust accepts intermediates (depth 1, shared hosts) the CRL can never apply: harmless.
 */
export function intermediateCrlErrors(config: Config, hosts: readonly EdgeHost[]): ConfigError[] {
  const rules = config.clientCertificateRules;
  if (rules.crls.length === 0 || !acceptsIntermediates(rules.maxVerifyDepth)) return [];
  const caSubjects = configuredClientCas([config.clientCa, ...config.routes.map((r) => r.clientCa)]).subjects;
  const orphans = rules.crls.map((c, i) => ({ ...c, n: i + 1 })).filter((c) => !caSubjects.has(c.issuer));
  if (orphans.length === 0) return [];
  const which = orphans.map((c) => `CRL ${c.n} (issuer ${c.issuer})`).join(', ');

  // One entry per trust (the content id), with the first host that has it.
  const accepting = new Map<string, EdgeHost>();
  for (const h of hosts) {
    const r = h.requirement;
    if ('ca' in r && r.validation.checkedPerRoute !== true && !accepting.has(r.id)) accepting.set(r.id, h);
  }
  if (accepting.size <= 1) return [];
  const errors: ConfigError[] = [];
  for (const host of accepting.values()) {
    const r = host.requirement;
    if (!('ca' in r)) continue;
    const own = configuredClientCas([r.ca]).subjects;
    if (rules.crls.some((c) => own.has(c.issuer))) continue;
    const route = config.routes.find((x) => x.from.host === host.name);
    errors.push(
      errorAt(
        route?.at ?? rules.crlAt ?? { file: config.sourceFile, key: 'downstream_mtls.crl' },
        `host ${host.name}: ${which} is an intermediate's, which every client CA that accepts ` +
          `intermediates gets (nothing tells whose intermediate it is), and this host's CAs ` +
          `(${r.ca.origin}) have no CRL: Envoy would refuse every certificate under them. Add their CRLs ` +
          `and those of their intermediates (empty ones will do)`,
      ),
    );
  }
  return errors;
}
