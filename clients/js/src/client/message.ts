// A message delivered to a subscription.
import { Flag } from "../codec/kinds.js";
import { decodeBody } from "../codec/msgpack.js";

export class Message {
  private decoded = false;
  private value: unknown;

  constructor(
    /** The channel it was published to, in normal form. */
    readonly channel: string,
    /** The raw body (the MessagePack bytes, or whatever the publisher sent). */
    readonly data: Uint8Array,
    /** The publisher's headers (read-only: without headers, a shared frozen empty object). */
    readonly headers: Record<string, string>,
    /** Flags as the hub sent them (docs/protocol.md, section 10.2). */
    readonly flags: number,
    /** Where answers go, for a call. */
    readonly replyTo: string | null,
    /** The subscription it was delivered to. */
    readonly sid: number,
  ) {}

  /** The body decoded from MessagePack (`null` for an empty body); throws if it is not. */
  get body(): unknown {
    if (!this.decoded) {
      this.value = decodeBody(this.data);
      this.decoded = true;
    }
    return this.value;
  }

  /** A retained message replayed to a new subscription. */
  get retained(): boolean {
    return (this.flags & Flag.RETAINED) !== 0;
  }

  /** A call (RPC) waiting for an answer on `replyTo`. */
  get isRequest(): boolean {
    return (this.flags & Flag.REQUEST) !== 0;
  }
}
