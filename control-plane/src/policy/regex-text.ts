/** RE2 with every character taken literally. */
export function quoteRegex(text: string): string {
  return text.replace(/[\\^$.|?*+()[\]{}-]/g, '\\$&');
}

/**
 * Literal text, ASCII letters in either case. (Not RE2's (?i): it folds Unicode case too, so that the
 * Kelvin sign would pass for "k" in a host name; and applied to a whole subject it would also let "cn"
 * pass for "CN" in the attribute types. JavaScript, which tests these regexes, lacks (?i) as well.)
 */
export function caselessQuote(text: string): string {
  return [...text].map((c) => (/[a-z]/i.test(c) ? `[${c.toLowerCase()}${c.toUpperCase()}]` : quoteRegex(c))).join('');
}
