import type { TypedConfigs } from './generated/index.js';

/** A message packed in an `Any`, as protobufjs reads it: the message's own fields plus '@type'. */
export type TypedAny<T extends keyof TypedConfigs> = TypedConfigs[T] & { '@type': `type.googleapis.com/${T}` };

/** `typed('envoy.extensions.filters.http.router.v3.Router', {...})`: the config is checked against its message. */
export function typed<T extends keyof TypedConfigs>(typeName: T, value: TypedConfigs[T]): TypedAny<T> {
  return { '@type': `type.googleapis.com/${typeName}`, ...value };
}
