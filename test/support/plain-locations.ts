/**
 * `value` with each YAML location (a class whose line is looked up when read, control-plane/src/source/source.ts)
 * as the plain `{ file, key, line }` it stands for, so that tests compare it with object literals.
 */
export function plainLocations<T>(value: T): T {
  return plain(value) as T;
}

function plain(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(plain);
  if (value === null || typeof value !== 'object') return value;
  if (Object.getPrototypeOf(value) !== Object.prototype) {
    const toJSON = (value as { toJSON?: unknown }).toJSON;
    const isLocation = typeof toJSON === 'function' && 'file' in value && 'key' in value;
    return isLocation ? (toJSON as () => unknown).call(value) : value;
  }
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]));
}
