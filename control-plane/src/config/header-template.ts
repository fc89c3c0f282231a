import type { Diagnostics, Location } from '../source/diagnostics.js';
import type { HeaderValuePart } from './types.js';

const CLIENT_CERT_VARIABLES = {
  'pomerium.client_cert_fingerprint': 'fingerprint',
  'pomerium.client_cert_san_dns': 'san_dns',
  'pomerium.client_cert_san_email': 'san_email',
} as const;

/**
 * Pomerium's `set_request_headers` values: text with `${pomerium.client_cert_…}` and
 * `${pomerium.request.headers["Name"]}` substitutions, and `$$` for a literal `$`.
 */
export function parseHeaderTemplate(value: string, at: Location, diag: Diagnostics): HeaderValuePart[] {
  const parts: HeaderValuePart[] = [];
  let text = '';
  const re = /\$\$|\$\{([^}]*)\}/g;
  let last = 0;
  for (let m = re.exec(value); m; m = re.exec(value)) {
    text += value.slice(last, m.index);
    last = re.lastIndex;
    if (m[0] === '$$') {
      text += '$';
      continue;
    }
    const name = (m[1] ?? '').trim();
    const header = /^pomerium\.request\.headers\["([!#$%&'*+.^_`|~0-9A-Za-z-]+)"\]$/.exec(name)?.[1];
    const cert = Object.hasOwn(CLIENT_CERT_VARIABLES, name)
      ? CLIENT_CERT_VARIABLES[name as keyof typeof CLIENT_CERT_VARIABLES]
      : undefined;
    if (!cert && !header) {
      diag.error(
        at,
        `\${${name}} is not available: use ${Object.keys(CLIENT_CERT_VARIABLES)
          .map((k) => `\${${k}}`)
          .join(', ')} or \${pomerium.request.headers["Name"]}` +
          (/token|jwt/.test(name) ? ' (tokens need an identity provider, which mtls-edge does not use)' : ''),
      );
      continue;
    }
    if (text) parts.push({ text });
    text = '';
    parts.push(cert ? { clientCert: cert } : { requestHeader: header! });
  }
  text += value.slice(last);
  if (text) parts.push({ text });
  return parts;
}
