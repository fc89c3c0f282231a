import { escapeHtml, pageHtml } from '../html/page.js';

/** What the verify app shows, as its JSON form carries it. */
export interface VerifyView {
  identity: Record<string, string | null>;
  assertion: { verified: false; jwks: string; claims: Record<string, unknown> | null } | null;
  claimHeaders: Record<string, unknown>;
  method: string;
  path: string;
  headers: Record<string, unknown>;
}

/** Claims that are times in seconds since 1970 (RFC 7519, OpenID Connect). */
const TIME_CLAIMS = new Set(['iat', 'exp', 'nbf', 'auth_time']);
/** Identity fields that hold an ISO date (the certificate's validity). */
const DATE_FIELDS = new Set(['notBefore', 'notAfter']);
/** Longer values fold into a <details>, so a certificate or a JWT does not fill the screen. */
const FOLD_AT = 160;
const FOLDED_PREVIEW = 40;

export const text = (v: unknown): string | null =>
  v === null || v === undefined
    ? null
    : Array.isArray(v)
      ? v.map(String).join(', ')
      : typeof v === 'string'
        ? v
        : JSON.stringify(v); // numbers and booleans print as String() prints them

// Wider than an error page: header names and values sit side by side. On a phone each name goes above its value.
// Long values break anywhere, so nothing scrolls sideways.
const VERIFY_STYLE =
  'main{max-width:52rem;margin-top:2rem}h2{font-size:1.05rem;margin:1.75rem 0 .5rem}' +
  'table{width:100%;border-collapse:collapse;table-layout:fixed}' +
  'th,td{text-align:left;vertical-align:top;padding:.3rem 0;border-top:1px solid #eaeef2}' +
  'th{width:14rem;padding-right:1rem;font-size:.9rem;font-weight:600;overflow-wrap:anywhere}' +
  'td,code{font-family:ui-monospace,monospace;font-size:.85rem;overflow-wrap:anywhere}' +
  '.raw,.none,summary small{color:#59636e}summary{cursor:pointer;overflow-wrap:anywhere}' +
  'details[open] summary{margin-bottom:.25rem}' +
  '@media (max-width:40rem){main{margin:0;padding:1rem}th,td{display:block;width:auto}' +
  'th{border-top:1px solid #eaeef2;padding-bottom:0}td{border-top:0}}';

/** An instant (milliseconds) as `2026-12-03 12:15:00 UTC`. */
function utc(ms: number): string {
  return new Date(ms)
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d+Z$/, ' UTC');
}

function timeCell(ms: number, raw?: string): string {
  const iso = new Date(ms).toISOString();
  const rawText = raw === undefined ? '' : ` <span class="raw">(${escapeHtml(raw)})</span>`;
  return `<time datetime="${iso}">${utc(ms)}</time>${rawText}`;
}

/** One value, escaped; a long one folded with its start and length showing. */
function valueHtml(value: string): string {
  if (value.length <= FOLD_AT) return escapeHtml(value);
  const preview = escapeHtml(value.slice(0, FOLDED_PREVIEW));
  return (
    `<details><summary>${preview}… <small>(${value.length} characters)</small></summary>` +
    `<code>${escapeHtml(value)}</code></details>`
  );
}

/** Which fields of a table are dates: a JWT's time claims, or the certificate's validity. */
type Dates = 'claims' | 'certificate' | 'none';
/** The largest instant a Date holds; a larger claim shows as the number it is. */
const MAX_MS = 8.64e15;

function cellHtml(name: string, value: unknown, dates: Dates): string {
  if (dates === 'claims' && TIME_CLAIMS.has(name) && typeof value === 'number' && Math.abs(value * 1000) <= MAX_MS)
    return timeCell(value * 1000, String(value));
  if (dates === 'certificate' && DATE_FIELDS.has(name) && typeof value === 'string' && !isNaN(Date.parse(value)))
    return timeCell(Date.parse(value));
  const shown = text(value);
  if (shown === null) return '<span class="none">—</span>';
  return shown === '' ? '<span class="none">(empty)</span>' : valueHtml(shown);
}

function table(o: Record<string, unknown>, dates: Dates = 'none'): string {
  const rows = Object.entries(o).map(([k, v]) => `<tr><th>${escapeHtml(k)}</th><td>${cellHtml(k, v, dates)}</td></tr>`);
  return `<table>${rows.join('\n')}</table>`;
}

/** The verify app's page: the identity first, then the JWT's claims, the claim headers and every request header. */
export function verifyPageHtml(view: VerifyView): string {
  const { identity, assertion, claimHeaders } = view;
  const who = identity['email'] ?? identity['user'] ?? identity['subject'];
  const heading = who ? `Hello, ${escapeHtml(who)}` : 'No client identity';
  // The certificate's dates show only when the edge forwards the certificate (forward_client_cert: cert).
  const shownIdentity = Object.fromEntries(
    Object.entries(identity).filter(([k, v]) => !DATE_FIELDS.has(k) || v !== null),
  );
  const jwks = assertion ? `<a href="${escapeHtml(assertion.jwks)}">${escapeHtml(assertion.jwks)}</a>` : '';
  const asserted = !assertion
    ? '<p>No X-Pomerium-Jwt-Assertion header (the route has no <code>pass_identity_headers: true</code>).</p>'
    : `<p>Decoded, not verified: verify it with the JWKS at ${jwks}.</p>` +
      (assertion.claims ? table(assertion.claims, 'claims') : '<p>The header is not a JWT.</p>');
  const claimTable = Object.keys(claimHeaders).length ? table(claimHeaders) : '<p class="none">None.</p>';
  const main =
    `<p class="status">mtls-edge verify · ${escapeHtml(view.method)} ${escapeHtml(view.path)}</p>` +
    `<h1>${heading}</h1>\n` +
    `<h2>Identity (as the edge verified it)</h2>${table(shownIdentity, 'certificate')}\n` +
    `<h2>JWT claims (X-Pomerium-Jwt-Assertion)</h2>${asserted}\n` +
    `<h2>Claim headers (X-Pomerium-Claim-*)</h2>${claimTable}\n` +
    `<h2>Request headers</h2>${table(view.headers)}\n` +
    '<p class="next">This page as JSON: send <code>Accept: application/json</code>.</p>';
  return pageHtml('mtls-edge verify', main, VERIFY_STYLE);
}
