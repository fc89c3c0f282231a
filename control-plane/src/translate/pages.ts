/**
 * The pages the edge answers itself (403, 404, 421, 495): one look, readable on a phone, each saying what happened in
 * words and what to do next. The texts may hold Envoy formatter commands (`%LOCAL_REPLY_BODY%`) or Lua
 * concatenations: they are pasted as they are, so nothing here may hold a `%` of its own.
 */
import { pageHtml } from '../html/page.js';

export interface ErrorPage {
  status: number;
  title: string;
  /** What happened: HTML text (no markup from the request ever reaches it: see authz/check-wire.ts `denied`). */
  reason: string;
  /** What to do next. */
  next: string;
}

/** The HTML of an error page. */
export function errorPageHtml(page: ErrorPage): string {
  const main =
    `<p class="status">${page.status}</p><h1>${page.title}</h1>\n` +
    `<p>${page.reason}</p>\n<p class="next">${page.next}</p>`;
  return pageHtml(`${page.status} ${page.title}`, main);
}

export { INSTALL_CERTIFICATE_TEXT as INSTALL_CERTIFICATE } from '../policy/index.js';

export const ASK_ADMINISTRATOR = "If you think you should have access, send this page to the site's administrator.";
