import jsYaml from 'js-yaml';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Node } from 'yaml';
import type { ConfigError, Location } from './diagnostics.js';

/**
 * A YAML (or environment) value with the place it came from. The rest of the
 * config stage never touches a YAML library, so every error it reports can name
 * the file, the key and the line.
 */
export type SourceValue =
  | { kind: 'scalar'; value: string | number | boolean | null; at: Location; fromEnv: boolean }
  | { kind: 'map'; entries: Map<string, SourceValue>; at: Location }
  | { kind: 'list'; items: SourceValue[]; at: Location };

/**
 * Values come from js-yaml, which parses 10,000 routes in tens of milliseconds. Line numbers come from
 * `yaml`, which keeps source positions but is ten times slower, so they are computed only when an
 * error first asks for one: a valid config never pays for them.
 */
export function parseYamlSource(
  text: string,
  file: string,
  rootKey = '',
): { value?: SourceValue; errors: ConfigError[] } {
  let data: unknown;
  try {
    // The core schema, as in YAML 1.2: `yes` and `2024-01-01` stay strings.
    data = jsYaml.load(text, { schema: jsYaml.CORE_SCHEMA, filename: file });
  } catch (e) {
    // A broken file is rare: ask `yaml` too, whose messages and positions are the more precise.
    const precise = syntaxErrors(text, file, rootKey);
    if (precise.length > 0) return { errors: precise };
    const err = e as jsYaml.YAMLException;
    return {
      errors: [
        {
          file,
          line: err.mark ? err.mark.line + 1 : undefined,
          ...(err.mark ? { column: err.mark.column + 1 } : {}),
          key: rootKey || '(document)',
          message: `YAML syntax: ${err.reason ?? err.message}`,
        },
      ],
    };
  }
  return { value: convert(data, rootKey, file, new LineLookup(text, rootKey)), errors: [] };
}

/** The line and column of each option in a YAML text, worked out once, when a location's line is first read. */
class LineLookup {
  #index: ReadonlyMap<string, Position> | undefined;
  constructor(
    private readonly text: string,
    private readonly rootKey: string,
  ) {}

  positionOf(key: string): Position | undefined {
    this.#index ??= lineIndex(this.text, this.rootKey);
    return this.#index.get(key);
  }
}

interface Position {
  line: number;
  column: number;
}

/**
 * A YAML value's location. Its line is looked up only when read, and the lookup is shared by the document's values:
 * a class rather than an object with its own getter, which cost a closure per value (a third of the config stage's
 * allocations at 10,000 routes). Copy one with `errorAt`: a spread would drop the line.
 * `toJSON` prints it as before.
 */
class YamlLocation implements Location {
  readonly #lines: LineLookup;
  constructor(
    readonly file: string,
    readonly key: string,
    lines: LineLookup,
  ) {
    this.#lines = lines;
  }

  get line(): number | undefined {
    return this.#lines.positionOf(this.key)?.line;
  }

  get column(): number | undefined {
    return this.#lines.positionOf(this.key)?.column;
  }

  toJSON(): Location {
    return { file: this.file, key: this.key, line: this.line };
  }
}

function convert(data: unknown, key: string, file: string, lines: LineLookup): SourceValue {
  const at = new YamlLocation(file, key || '(document)', lines);
  if (Array.isArray(data)) {
    const items: SourceValue[] = new Array<SourceValue>(data.length);
    for (let i = 0; i < data.length; i++) items[i] = convert(data[i], `${key}[${i}]`, file, lines);
    return { kind: 'list', items, at };
  }
  if (data !== null && typeof data === 'object') {
    const entries = new Map<string, SourceValue>();
    const object = data as Record<string, unknown>;
    for (const name of Object.keys(object))
      entries.set(name, convert(object[name], key ? `${key}.${name}` : name, file, lines));
    return { kind: 'map', entries, at };
  }
  // js-yaml's core schema yields only these scalars and null (undefined: an empty document).
  const value = typeof data === 'string' || typeof data === 'number' || typeof data === 'boolean' ? data : null;
  return { kind: 'scalar', value, at, fromEnv: false };
}

function syntaxErrors(text: string, file: string, rootKey: string): ConfigError[] {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  return doc.errors.map((e) => ({
    file,
    // linePos is only filled in with prettyErrors, which would also rewrite the message; use the offset.
    ...position(lineCounter, e.pos[0]),
    key: rootKey || '(document)',
    message: `YAML syntax: ${e.message.split(' at line ')[0]}`,
  }));
}

function position(lineCounter: LineCounter, offset: number): Position {
  const { line, col } = lineCounter.linePos(offset);
  return { line, column: col };
}

/** Option path (`routes[2].from`) → line and column of its key, or of the list item. */
function lineIndex(text: string, rootKey: string): ReadonlyMap<string, Position> {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: false });
  const index = new Map<string, Position>([[rootKey || '(document)', { line: 1, column: 1 }]]);
  const lineOf = (node: Node | null | undefined): Position | undefined =>
    node?.range ? position(lineCounter, node.range[0]) : undefined;
  const walk = (node: unknown, key: string): void => {
    if (isMap(node)) {
      for (const pair of node.items) {
        const keyNode = pair.key as Node | null;
        const name = isScalar(keyNode) ? String(keyNode.value) : String(keyNode);
        const childKey = key ? `${key}.${name}` : name;
        const line = lineOf(keyNode);
        if (line !== undefined) index.set(childKey, line);
        walk(pair.value, childKey);
      }
    } else if (isSeq(node)) {
      node.items.forEach((item, i) => {
        const line = lineOf(item as Node);
        if (line !== undefined) index.set(`${key}[${i}]`, line);
        walk(item, `${key}[${i}]`);
      });
    }
  };
  walk(doc.contents, rootKey);
  return index;
}

export function describeKind(v: SourceValue): string {
  if (v.kind === 'map') return 'a mapping';
  if (v.kind === 'list') return 'a list';
  if (v.value === null) return 'empty';
  return `${typeof v.value} ${JSON.stringify(v.value)}`;
}
