import type protobuf from 'protobufjs';
import { MessageEncoder } from './encoder.js';
import type { EnvoyJson } from './resources.js';

export interface EncodedAny {
  type_url: string;
  value: Buffer;
}

/** A resource the Envoy API does not describe: each problem names its path in the resource. */
export class EncodeError extends Error {
  constructor(
    readonly typeUrl: string,
    readonly problems: string[],
  ) {
    super(`${typeUrl.slice(typeUrl.lastIndexOf('/') + 1)}: ${problems.join('; ')}`);
    this.name = 'EncodeError';
  }
}

/** Turns resources as proto3 objects (snake_case, `Any` with '@type') into protobuf bytes, and back for tests. */
export class ResourceCodec {
  private readonly types = new Map<string, protobuf.Type>();
  private readonly encoder: MessageEncoder;

  constructor(private readonly root: protobuf.Root) {
    this.encoder = new MessageEncoder(root);
  }

  private typeOf(typeUrl: string): protobuf.Type {
    let type = this.types.get(typeUrl);
    if (!type) {
      type = this.root.lookupType(typeUrl.slice(typeUrl.lastIndexOf('/') + 1));
      this.types.set(typeUrl, type);
    }
    return type;
  }

  /** What `encode` would refuse, one line per place: the path from the resource down. */
  problems(typeUrl: string, resource: object): string[] {
    const type = this.typeOf(typeUrl);
    return this.encoder.problemsOf(type, resource, type.name[0]!.toLowerCase() + type.name.slice(1));
  }

  /** Throws EncodeError for anything the type does not declare, where protobufjs alone would drop it. */
  encode(typeUrl: string, resource: object): EncodedAny {
    const value = this.encoder.encode(this.typeOf(typeUrl), resource);
    if (value === undefined) throw new EncodeError(typeUrl, this.problems(typeUrl, resource));
    return { type_url: typeUrl, value };
  }

  /** Back to objects with `Any` expanded: what Envoy will see. */
  decode(any: EncodedAny): EnvoyJson {
    const type = this.typeOf(any.type_url);
    const options = { json: true, enums: String, longs: Number, defaults: false };
    return type.toObject(type.decode(any.value), options);
  }
}
