/**
 * The pages the edge answers itself (403, 404, 421, 495): one look, readable on a phone, each saying what happened in
 * words and what to do next. The texts may hold Envoy formatter commands (`%LOCAL_REPLY_BODY%`) or Lua
 * concatenations: they are pasted as they are, so nothing here may hold a `%` of its own.
 */
export interface ErrorPage {
  status: number;
  title: string;
  /** What happened: HTML text (no markup from the request ever reaches it: see authz/check-wire.ts `denied`). */
  reason: string;
  /** What to do next. */
  next: string;
}

const PAGE_STYLE =
  'body{font-family:system-ui,-apple-system,sans-serif;margin:0;background:#f6f7f9;color:#1f2328;line-height:1.5}' +
  'main{max-width:36rem;margin:12vh auto 2rem;padding:1.5rem 1.75rem;background:#fff;border:1px solid #d8dee4;' +
  'border-radius:12px}' +
  '.status{margin:0;color:#59636e;font-size:.9rem;letter-spacing:.05em}' +
  'h1{margin:.25rem 0 1rem;font-size:1.4rem}p{margin:.75rem 0}.next{color:#59636e}' +
  '@media (max-width:40rem){main{margin:0;border:0;border-radius:0;min-height:100vh}}';

/** The HTML of an error page. */
export function errorPageHtml(page: ErrorPage): string {
  return (
    '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">' +
    '<meta name="viewport" content="width=device-width, initial-scale=1">' +
    `<title>${page.status} ${page.title}</title><style>${PAGE_STYLE}</style></head>\n` +
    `<body><main><p class="status">${page.status}</p><h1>${page.title}</h1>\n` +
    `<p>${page.reason}</p>\n<p class="next">${page.next}</p></main></body></html>\n`
  );
}

export { INSTALL_CERTIFICATE_TEXT as INSTALL_CERTIFICATE } from '../policy/index.js';

export const ASK_ADMINISTRATOR = "If you think you should have access, send this page to the site's administrator.";
