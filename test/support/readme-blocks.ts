// The README's code blocks, as the docs test reads them: each with its language and the heading above it.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './kubernetes.js';

export interface ReadmeBlock {
  lang: string;
  text: string;
  /** The nearest heading above the block, without its #s. */
  heading: string;
}

export function readmeBlocks(markdown = readFileSync(join(ROOT, 'README.md'), 'utf8')): ReadmeBlock[] {
  const blocks: ReadmeBlock[] = [];
  let heading = '';
  let open: { lang: string; lines: string[] } | undefined;
  for (const line of markdown.split('\n')) {
    if (open) {
      if (line.startsWith('```')) {
        blocks.push({ lang: open.lang, text: open.lines.join('\n') + '\n', heading });
        open = undefined;
      } else open.lines.push(line);
    } else if (line.startsWith('```')) open = { lang: line.slice(3).trim(), lines: [] };
    else if (line.startsWith('#')) heading = line.replace(/^#+\s*/, '');
  }
  return blocks;
}

/** A `console` block's commands (`$ …`) and the lines the README shows each printing. */
export function consoleSteps(block: ReadmeBlock): Array<{ command: string; shows: string[] }> {
  const steps: Array<{ command: string; shows: string[] }> = [];
  for (const line of block.text.split('\n')) {
    if (line.startsWith('$ ')) steps.push({ command: line.slice(2), shows: [] });
    else if (line.trim() !== '') steps.at(-1)?.shows.push(line);
  }
  return steps;
}

/** The block under the heading that starts with `prefix`; fails loudly when the README has none. */
export function blockUnder(blocks: readonly ReadmeBlock[], prefix: string, lang: string): ReadmeBlock {
  const found = blocks.find((b) => b.heading.startsWith(prefix) && b.lang === lang);
  if (!found) throw new Error(`README: no \`\`\`${lang} block under a heading starting "${prefix}"`);
  return found;
}
