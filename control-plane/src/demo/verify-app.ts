import type { Server } from 'node:http';
import express from 'express';

/** The parts of x-forwarded-client-cert Envoy sets (By, Hash, Subject, URI, DNS, Cert, Chain). */
function parseForwardedClientCert(header: string | undefined): Array<Record<string, string>> {
  if (!header) return [];
  return header.split(/,(?=(?:[^"]*"[^"]*")*[^"]*$)/).map((element) => {
    const fields: Record<string, string> = {};
    for (const pair of element.split(/;(?=(?:[^"]*"[^"]*")*[^"]*$)/)) {
      const eq = pair.indexOf('=');
      if (eq > 0)
        fields[pair.slice(0, eq).trim()] = decodeURIComponent(
          pair
            .slice(eq + 1)
            .trim()
            .replace(/^"|"$/g, ''),
        );
    }
    return fields;
  });
}

const escape = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export const JWKS_PATH = '/.well-known/pomerium/jwks.json';
const CLAIM_HEADER_PREFIX = 'x-pomerium-claim-';

/**
 * The payload of a JWT (its middle part, base64url JSON), decoded but NOT verified: a demo shows it; an
 * upstream that trusts it must verify the signature with the edge's JWKS. Undefined if it is not a JWT.
 */
export function decodeJwtPayload(jwt: string | undefined): Record<string, unknown> | undefined {
  const parts = jwt?.split('.');
  if (parts?.length !== 3 || !parts[1]) return undefined;
  try {
    const payload: unknown = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
    return payload !== null && typeof payload === 'object' && !Array.isArray(payload)
      ? (payload as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

const text = (v: unknown): string | null =>
  v === null || v === undefined
    ? null
    : Array.isArray(v)
      ? v.map(String).join(', ')
      : typeof v === 'string'
        ? v
        : JSON.stringify(v); // numbers and booleans print as String() prints them

const PAGE_STYLE =
  'body{font-family:system-ui,sans-serif;max-width:48rem;margin:3rem auto;padding:0 1rem}' +
  'th{text-align:left;padding-right:1rem;vertical-align:top}td{font-family:monospace;word-break:break-all}';

/**
 * A demo upstream in the spirit of Pomerium's verify app: it shows who the edge says the client is (the
 * X-Pomerium-Jwt-Assertion claims and X-Pomerium-Claim-* headers of pass_identity_headers, and the
 * client-certificate details the config forwards) and every header it received. JSON on request.
 */
function createVerifyApp(): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.use((req, res) => {
    const certificate = parseForwardedClientCert(req.get('x-forwarded-client-cert'))[0] ?? {};
    const jwt = req.get('x-pomerium-jwt-assertion');
    const claims = decodeJwtPayload(jwt);
    const claimHeaders = Object.fromEntries(
      Object.entries(req.headers).filter(([name]) => name.startsWith(CLAIM_HEADER_PREFIX)),
    );
    const identity = {
      email: req.get(`${CLAIM_HEADER_PREFIX}email`) ?? text(claims?.['email']) ?? req.get('x-client-email') ?? null,
      user: req.get(`${CLAIM_HEADER_PREFIX}user`) ?? text(claims?.['user']) ?? null,
      fingerprint: text(claims?.['fingerprint']) ?? req.get('x-client-fingerprint') ?? certificate['Hash'] ?? null,
      subject: text(claims?.['subject']) ?? certificate['Subject'] ?? null,
      dns: certificate['DNS'] ?? text(claims?.['san_dns']),
      uri: certificate['URI'] ?? text(claims?.['san_uri']),
    };
    // verified: false — this app only decodes the JWT; it says so, and where the key to check it is.
    const assertion = jwt === undefined ? null : { verified: false, jwks: JWKS_PATH, claims: claims ?? null };
    const body = { identity, assertion, claimHeaders, method: req.method, path: req.originalUrl, headers: req.headers };
    if (req.accepts(['html', 'json']) === 'json') return void res.json(body);
    const rows = (o: Record<string, unknown>) =>
      Object.entries(o)
        .map(([k, v]) => `<tr><th>${escape(k)}</th><td>${escape(text(v) ?? '—')}</td></tr>`)
        .join('');
    const who = identity.email ?? identity.user ?? identity.subject;
    const asserted = !assertion
      ? '<p>No X-Pomerium-Jwt-Assertion header (the route has no <code>pass_identity_headers: true</code>).</p>'
      : `<p>Decoded, not verified: verify it with the JWKS at <a href="${JWKS_PATH}">${JWKS_PATH}</a>.</p>` +
        (claims ? `<table>${rows(claims)}</table>` : '<p>The header is not a JWT.</p>');
    const claimTable = Object.keys(claimHeaders).length ? `<table>${rows(claimHeaders)}</table>` : '<p>None.</p>';
    res.type('html').send(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>mtls-edge verify</title>
<style>${PAGE_STYLE}</style></head>
<body><h1>${who ? `Hello, ${escape(who)}` : 'No client identity'}</h1>
<h2>Identity (as the edge verified it)</h2><table>${rows(identity)}</table>
<h2>JWT claims (X-Pomerium-Jwt-Assertion)</h2>${asserted}
<h2>Claim headers (X-Pomerium-Claim-*)</h2>${claimTable}
<h2>Request headers</h2><table>${rows(req.headers)}</table></body></html>`);
  });
  return app;
}

export function startVerifyApp(host: string, port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createVerifyApp().listen(port, host);
    server.once('listening', () => resolve(server));
    server.once('error', reject);
  });
}
