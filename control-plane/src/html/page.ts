/**
 * The one look of the pages this project serves itself: the edge's own answers (translate/pages.ts) and the demo's
 * verify app. Envoy pastes the edge's pages into a formatter string and a Lua long string, so nothing here may hold a
 * `%` or `]]`.
 */
const PAGE_STYLE =
  'body{font-family:system-ui,-apple-system,sans-serif;margin:0;background:#f6f7f9;color:#1f2328;line-height:1.5}' +
  'main{max-width:36rem;margin:12vh auto 2rem;padding:1.5rem 1.75rem;background:#fff;border:1px solid #d8dee4;' +
  'border-radius:12px}' +
  '.status{margin:0;color:#59636e;font-size:.9rem;letter-spacing:.05em}' +
  'h1{margin:.25rem 0 1rem;font-size:1.4rem}p{margin:.75rem 0}.next{color:#59636e}' +
  '@media (max-width:40rem){main{margin:0;border:0;border-radius:0;min-height:100vh}}';

/** A whole page: `title` and `main` are HTML already; `style` adds to the shared look. */
export function pageHtml(title: string, main: string, style = ''): string {
  return (
    '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">' +
    '<meta name="viewport" content="width=device-width, initial-scale=1">' +
    `<title>${title}</title><style>${PAGE_STYLE}${style}</style></head>\n` +
    `<body><main>${main}</main></body></html>\n`
  );
}

// C0 and C1 controls, DEL, and the bidirectional overrides and isolates, which can make text read as other text.
// eslint-disable-next-line no-control-regex -- finding control characters is its purpose
const INVISIBLE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

/**
 * Text made safe for HTML content and quoted attributes. Characters that would vanish or reorder the text are shown
 * as `\uXXXX`, so a value reads as what it holds.
 */
export function escapeHtml(text: string): string {
  return text
    .replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)
    .replace(INVISIBLE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
