// A subscription: an async iterator of messages, or a callback for speed.
import type { HubwireError } from "../errors.js";
import type { Message } from "./message.js";
import { PushStream } from "./stream.js";

export interface SubscribeOptions {
  /** A queue group: each message goes to one member of the group (docs/pubsub.md). */
  group?: string;
  /** Do not replay retained messages to this subscription. */
  noRetained?: boolean;
  /** Called for each message instead of queueing it for the iterator (faster). An error
   * (a refusal, or the client closing with one) is passed once as the first argument. */
  callback?: (error: HubwireError | null, message: Message | null) => void;
  /** Messages held for a slow iterator before new ones are dropped (client's maxPendingMessages). */
  maxPending?: number;
}

/** What a subscription asks of its client. */
export interface SubscriptionHost {
  unsubscribe(sid: number): void;
  slowConsumer(sid: number, dropped: number): void;
}

export class Subscription implements AsyncIterable<Message> {
  /** Messages delivered (to the iterator or the callback). */
  received = 0;
  /** Messages dropped because the iterator was not reading (see maxPending). */
  dropped = 0;
  private readonly stream: PushStream<Message> | null;
  private readonly callback: SubscribeOptions["callback"];
  private ended = false;
  private settle!: (error: HubwireError | undefined) => void;
  /** Settles when the subscription ends: with the error that ended it, or undefined. */
  readonly closed: Promise<HubwireError | undefined>;

  constructor(
    private readonly host: SubscriptionHost,
    /** The subscription id, unique for the client's life (never reused across reconnects). */
    readonly sid: number,
    /** The pattern, in canonical form. */
    readonly pattern: string,
    readonly group: string | null,
    readonly flags: number,
    options: SubscribeOptions,
    maxPending: number,
  ) {
    this.callback = options.callback;
    this.stream = this.callback ? null : new PushStream<Message>(options.maxPending ?? maxPending, () => this.unsubscribe());
    this.closed = new Promise((resolve) => (this.settle = resolve));
  }

  /** Ends the subscription: the hub stops sending, and the iterator finishes. */
  unsubscribe(): void {
    if (this.ended) return;
    this.host.unsubscribe(this.sid);
    this.end();
  }

  get isClosed(): boolean {
    return this.ended;
  }

  [Symbol.asyncIterator](): AsyncIterator<Message> {
    if (!this.stream) throw new TypeError("a subscription with a callback has no iterator");
    return this.stream;
  }

  /** @internal */
  deliver(message: Message): void {
    if (this.ended) return;
    if (this.callback) {
      this.received++;
      this.callback(null, message);
    } else if (this.stream!.push(message)) {
      this.received++;
    } else {
      this.dropped++;
      this.host.slowConsumer(this.sid, this.dropped);
    }
  }

  /** @internal: ends it without telling the hub (closing, refused, drained). */
  end(error?: HubwireError): void {
    if (this.ended) return;
    this.ended = true;
    if (this.callback) {
      if (error) this.callback(error, null);
    } else {
      this.stream!.end(error);
    }
    this.settle(error);
  }
}
