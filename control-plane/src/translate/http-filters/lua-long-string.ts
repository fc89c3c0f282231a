/** A Lua long string holding `text` verbatim: its bracket level is one that `text` cannot close early. */
export function luaLongString(text: string): string {
  let level = 1;
  // `text + ']'`: a text ending in "]=" would otherwise close "]=]" with the closing bracket's own "]".
  while (`${text}]`.includes(`]${'='.repeat(level)}]`)) level++;
  const eq = '='.repeat(level);
  return `[${eq}[${text}]${eq}]`;
}
