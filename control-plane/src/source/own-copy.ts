/**
 * The same text in a string of its own. A value js-yaml read (and any part of it a regular expression captured) is a
 * slice of the whole file's text and keeps all of it alive: a value kept past the reload that read it, in a cache or
 * for the process's life, would keep that version of the file (1 MiB at 10,000 routes).
 */
export function ownCopy(text: string): string {
  return JSON.parse(JSON.stringify(text)) as string;
}
