import { X509Certificate } from 'node:crypto';
import type { Server } from 'node:http';
import express from 'express';
import { text, verifyPageHtml, type VerifyView } from './verify-page.js';

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

/** The validity of x-forwarded-client-cert's Cert (with forward_client_cert: cert), as ISO dates. */
function certificateValidity(pem: string | undefined): { notBefore: string | null; notAfter: string | null } {
  if (!pem) return { notBefore: null, notAfter: null };
  try {
    const cert = new X509Certificate(pem);
    return { notBefore: iso(cert.validFrom), notAfter: iso(cert.validTo) };
  } catch {
    return { notBefore: null, notAfter: null };
  }
}

const iso = (openSslDate: string): string | null => {
  const ms = Date.parse(openSslDate);
  return isNaN(ms) ? null : new Date(ms).toISOString();
};

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
      ...certificateValidity(certificate['Cert']),
    };
    // verified: false — this app only decodes the JWT; it says so, and where the key to check it is.
    const assertion = jwt === undefined ? null : { verified: false as const, jwks: JWKS_PATH, claims: claims ?? null };
    const body: VerifyView = {
      identity,
      assertion,
      claimHeaders,
      method: req.method,
      path: req.originalUrl,
      headers: req.headers,
    };
    if (req.accepts(['html', 'json']) === 'json') return void res.json(body);
    res.type('html').send(verifyPageHtml(body));
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
