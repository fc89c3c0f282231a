import type { ErrorOut, KoaContextWithOIDC } from 'oidc-provider';

/** The pages the test IdP shows a browser: plain, with stable ids, so that a browser test can fill and click them. */

function escapeHtml(text: string): string {
  const entities: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
  return text.replace(/[&<>"']/g, (c) => entities[c] ?? c);
}

const page = (title: string, body: string) =>
  `<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head>` +
  `<body><h1>${escapeHtml(title)}</h1>${body}</body></html>\n`;

/** The sign-in form of interaction `uid`, again with the refused name and why after a failed attempt. */
export function loginPage(uid: string, failed?: { login: string; error: string }): string {
  const error = failed ? `<p id="error" role="alert">${escapeHtml(failed.error)}</p>` : '';
  return page(
    'Sign in to the test IdP',
    `${error}<form method="post" action="/interaction/${encodeURIComponent(uid)}">` +
      `<label for="login">User (id or email)</label> ` +
      `<input id="login" name="login" autocomplete="off" autofocus value="${escapeHtml(failed?.login ?? '')}">` +
      `<button id="submit" type="submit">Sign in</button></form>`,
  );
}

/**
 * RP-initiated logout's confirmation, answered "yes" without a click: a browser test that follows the RP's
 * logout ends the IdP session too. `form` is oidc-provider's (it holds the XSRF token); the hidden `logout=yes`
 * makes it end the whole session, not only the client's part of it. The button is there for a browser without
 * scripts, and for a test that wants to click.
 */
export function logoutSource(ctx: KoaContextWithOIDC, form: string): void {
  const yes = form.replace('</form>', '<input type="hidden" name="logout" value="yes"/></form>');
  ctx.type = 'html';
  ctx.body = page(
    'Sign out of the test IdP',
    `${yes}<button id="logout" type="submit" form="op.logoutForm">Sign out</button>` +
      `<script>document.getElementById('op.logoutForm').submit();</script>`,
  );
}

export function postLogoutSuccessSource(ctx: KoaContextWithOIDC): void {
  ctx.type = 'html';
  ctx.body = page('Signed out of the test IdP', '<p id="signed-out">You are signed out.</p>');
}

/** oidc-provider's errors for the browser, with the error and its description for a test to read. */
export function renderError(ctx: KoaContextWithOIDC, out: ErrorOut): void {
  ctx.type = 'html';
  ctx.body = errorPage(out.error, out.error_description ?? '');
}

export function errorPage(error: string, description: string): string {
  return page(
    'Test IdP error',
    `<p id="error">${escapeHtml(error)}</p><p id="error-description">${escapeHtml(description)}</p>`,
  );
}
