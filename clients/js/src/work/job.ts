// One item as a worker's handler gets it, with the answers it can give for it.
import { decodeBody } from "../codec/msgpack.js";
import type { ItemId } from "./producer.js";

/** What a handler decided about its job (the worker sends it when the handler returns). */
export type JobOutcome =
  | { type: "ack" }
  | { type: "nack"; delayMs: number; reason: string }
  | { type: "reject"; reason: string };

export class Job {
  /** @internal: the outcome the handler chose, if it chose one. */
  outcome: JobOutcome | null = null;
  private decoded = false;
  private value: unknown;

  /** @internal */
  constructor(
    /** The item's queue. */
    readonly queue: string,
    /** The item's id (the one its producer was given). */
    readonly id: ItemId,
    /** This delivery's number for the item: 1 the first time. */
    readonly delivery: number,
    /** The lease the item is held under. */
    readonly lease: ItemId,
    /** A `sendAll` copy rather than a shared item. */
    readonly broadcast: boolean,
    /** The raw body (MessagePack as the producer sent it). */
    readonly data: Uint8Array,
    /** @internal: how often the worker extends the lease while the handler runs, in ms. */
    readonly progressEvery: number,
    private readonly extend: (lease: ItemId, extendMs: number) => void,
  ) {}

  /** The body decoded from MessagePack (`null` for an empty body); throws if it is not. */
  get body(): unknown {
    if (!this.decoded) {
      this.value = decodeBody(this.data);
      this.decoded = true;
    }
    return this.value;
  }

  /** Done (the default when the handler returns without choosing). */
  ack(): void {
    this.outcome ??= { type: "ack" };
  }

  /** Failed: deliver it again, not before `delayMs` (counts against the item's deliveries). */
  nack(reason: string, { delayMs = 0 }: { delayMs?: number } = {}): void {
    this.outcome ??= { type: "nack", delayMs: Math.max(0, Math.round(delayMs)), reason };
  }

  /** Will never succeed: to the queue's error queue at once. */
  reject(reason: string): void {
    this.outcome ??= { type: "reject", reason };
  }

  /** Extends the lease now, to `extendMs` from now (0: the queue's visibility time). The
   * worker already does this every third of the visibility time while the handler runs. */
  progress(extendMs = 0): void {
    this.extend(this.lease, extendMs);
  }
}
