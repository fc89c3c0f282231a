import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Node } from 'yaml';
import type { ConfigError, Location } from './diagnostics.js';

/**
 * A YAML (or environment) value with the place it came from. The rest of the
 * config stage never touches `yaml` nodes, so every error it reports can name
 * the file, the key and the line.
 */
export type SourceValue =
  | { kind: 'scalar'; value: string | number | boolean | null; at: Location; fromEnv: boolean }
  | { kind: 'map'; entries: Map<string, SourceValue>; at: Location }
  | { kind: 'list'; items: SourceValue[]; at: Location };

export function parseYamlSource(text: string, file: string, rootKey = ''): { value?: SourceValue; errors: ConfigError[] } {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const errors: ConfigError[] = doc.errors.map((e) => ({
    file,
    // linePos is only filled in with prettyErrors, which would also rewrite the message; use the offset.
    line: lineCounter.linePos(e.pos[0]).line,
    key: rootKey || '(document)',
    message: `YAML syntax: ${e.message.split(' at line ')[0]}`,
  }));
  if (errors.length > 0) return { errors };
  const lineOf = (node: Node | null | undefined): number | undefined =>
    node?.range ? lineCounter.linePos(node.range[0]).line : undefined;

  const convert = (node: unknown, key: string, line: number | undefined): SourceValue => {
    const at: Location = { file, line, key: key || '(document)' };
    if (isMap(node)) {
      const entries = new Map<string, SourceValue>();
      for (const pair of node.items) {
        const keyNode = pair.key as Node | null;
        const name = isScalar(keyNode) ? String(keyNode.value) : String(keyNode);
        const childKey = key ? `${key}.${name}` : name;
        entries.set(name, convert(pair.value, childKey, lineOf(keyNode)));
      }
      return { kind: 'map', entries, at };
    }
    if (isSeq(node)) {
      const items = node.items.map((item, i) => convert(item, `${key}[${i}]`, lineOf(item as Node) ?? line));
      return { kind: 'list', items, at };
    }
    if (isScalar(node)) {
      const v = node.value;
      const value = v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' ? v : String(v);
      return { kind: 'scalar', value, at, fromEnv: false };
    }
    // An empty document or a key with no value.
    return { kind: 'scalar', value: null, at, fromEnv: false };
  };
  return { value: convert(doc.contents, rootKey, lineOf(doc.contents as Node | null) ?? 1), errors: [] };
}

export function describeKind(v: SourceValue): string {
  if (v.kind === 'map') return 'a mapping';
  if (v.kind === 'list') return 'a list';
  if (v.value === null) return 'empty';
  return `${typeof v.value} ${JSON.stringify(v.value)}`;
}
