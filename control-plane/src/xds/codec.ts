import type protobuf from 'protobufjs';
import type { EnvoyJson } from '../translate/index.js';

export interface EncodedAny {
  type_url: string;
  value: Buffer;
}

/**
 * Turns translator JSON into protobuf bytes. protobufjs drops fields the proto does not have, so the
 * translator's tests decode every resource again and compare (see test/unit/translate).
 */
export class ResourceCodec {
  constructor(private readonly root: protobuf.Root) {}

  encode(typeUrl: string, resource: EnvoyJson): EncodedAny {
    const type = this.root.lookupType(typeUrl.slice(typeUrl.lastIndexOf('/') + 1));
    const message = type.fromObject(resource);
    return { type_url: typeUrl, value: Buffer.from(type.encode(message).finish()) };
  }

  /** Back to JSON with `Any` expanded: what Envoy will see. Used by tests to prove nothing was dropped. */
  decode(any: EncodedAny): EnvoyJson {
    const type = this.root.lookupType(any.type_url.slice(any.type_url.lastIndexOf('/') + 1));
    return type.toObject(type.decode(any.value), { json: true, enums: String, longs: Number, defaults: false }) as EnvoyJson;
  }
}
