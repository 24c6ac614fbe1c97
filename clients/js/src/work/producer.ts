// A producer: enqueues items on a dispatcher's work queues and resolves with their ids once
// stored (docs/work-queue.md, "Producers"; docs/protocol.md, 12.1 ENQUEUE / ENQUEUED).
import type { Fields } from "../codec/envelopes.js";
import { EnqueueFlag, Kind } from "../codec/kinds.js";
import { encodeBody } from "../codec/msgpack.js";
import { ConnectionClosedError, ConnectionLostError, errorForCode, FrameTooLargeError, InvalidBodyError, TimeoutError, type HubwireError } from "../errors.js";
import { WorkLink, type WorkConnectOptions } from "./link.js";

export interface ProducerOptions extends WorkConnectOptions {
  /** Time for an enqueue's answer, in ms (30000). */
  enqueueTimeout?: number;
}

export interface EnqueueOptions {
  /** Time for this enqueue's answer, in ms (the producer's enqueueTimeout). */
  timeout?: number;
  /** Send each body as these bytes exactly (a Uint8Array), not encoded as MessagePack. */
  raw?: boolean;
}

/** An item id: a number, or a BigInt past 2^53 (send_all copies count from 2^63). */
export type ItemId = number | bigint;

interface Waiting {
  resolve(ids: ItemId[]): void;
  reject(error: unknown): void;
  timer: ReturnType<typeof setTimeout>;
}

export class Producer {
  private readonly waiting = new Map<number, Waiting>();
  private nextReference = 1;
  private lostReason: string | null = null;
  private link!: WorkLink;

  private constructor(private readonly timeout: number) {}

  /** @internal: use `connectProducer()`. */
  static async open(options: ProducerOptions): Promise<Producer> {
    const producer = new Producer(options.enqueueTimeout ?? 30_000);
    producer.link = await WorkLink.open(options, "hubwire-js-producer/0.1.0", {
      frame: (kind, fields) => producer.onFrame(kind, fields),
      unreadable: () => undefined,
      closed: (reason) => producer.onClosed(reason),
    });
    return producer;
  }

  /** Enqueues one item on `queue`; resolves with its id once the dispatcher stored it. */
  async enqueue(queue: string, body: unknown, options: EnqueueOptions = {}): Promise<ItemId> {
    return (await this.send(queue, 0, [body], options))[0];
  }

  /** Enqueues several items in one frame; resolves with their ids, in order. */
  enqueueMany(queue: string, bodies: unknown[], options: EnqueueOptions = {}): Promise<ItemId[]> {
    return this.send(queue, 0, bodies, options);
  }

  /** Sends a copy of `body` to every worker taking `queue` now (not stored); resolves with
   * the copy's id. */
  async sendAll(queue: string, body: unknown, options: EnqueueOptions = {}): Promise<ItemId> {
    return (await this.send(queue, EnqueueFlag.SEND_ALL, [body], options))[0];
  }

  /** Closes the connection; enqueues still waiting fail with ConnectionClosedError (their
   * items may or may not have been stored). */
  close(): void {
    this.closing = true;
    this.link.close("producer closing");
  }

  private closing = false;

  private send(queue: string, flags: number, bodies: unknown[], options: EnqueueOptions): Promise<ItemId[]> {
    if (this.link.isClosed) return Promise.reject(new ConnectionClosedError(this.lostReason ?? undefined));
    let items: Uint8Array[];
    try {
      items = bodies.map((body) => (options.raw ? rawBytes(body) : encodeBody(body)));
    } catch (error) {
      return Promise.reject(new InvalidBodyError(`an item for ${queue} cannot be encoded: ${(error as Error).message}`));
    }
    const size = items.reduce((sum, item) => sum + item.length + 5, 16 + queue.length * 3);
    if (size > this.link.maxFrame) {
      return Promise.reject(new FrameTooLargeError(`an enqueue of about ${size} bytes is over the dispatcher's maximum frame of ${this.link.maxFrame} bytes (not sent)`));
    }
    const reference = this.nextReference++;
    const timeout = options.timeout ?? this.timeout;
    return new Promise<ItemId[]>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(reference);
        reject(new TimeoutError(`enqueue to ${queue} not answered within ${timeout} ms (the items may have been stored)`));
      }, timeout);
      this.waiting.set(reference, { resolve, reject, timer });
      this.link.send(Kind.ENQUEUE, { reference, queue, flags, items });
    });
  }

  private onFrame(kind: number, fields: Fields): void {
    if (kind === Kind.ENQUEUED) this.settle(fields.reference, (w) => w.resolve(fields.ids));
    else if (kind === Kind.ERROR && fields.id !== null) {
      this.settle(fields.id, (w) => w.reject(errorForCode(fields.code, fields.message)));
    }
  }

  private settle(reference: number | bigint, how: (waiting: Waiting) => void): void {
    const waiting = this.waiting.get(Number(reference));
    if (!waiting) return;
    this.waiting.delete(Number(reference));
    clearTimeout(waiting.timer);
    how(waiting);
  }

  private onClosed(reason: string): void {
    this.lostReason = reason;
    const maybe = "the items may or may not have been stored";
    const error: () => HubwireError = this.closing
      ? () => new ConnectionClosedError(`the producer was closed (${maybe})`)
      : () => new ConnectionLostError(`${reason} (${maybe})`);
    for (const [reference, waiting] of this.waiting) {
      this.waiting.delete(reference);
      clearTimeout(waiting.timer);
      waiting.reject(error());
    }
  }
}

function rawBytes(body: unknown): Uint8Array {
  if (!(body instanceof Uint8Array)) throw new TypeError("with raw: true, each body must be a Uint8Array");
  return body;
}
