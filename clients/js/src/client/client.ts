// The client: one connection at a time to one of the servers, reconnected with jittered
// back-off; route calls, and a pub/sub spoke (subscriptions replayed after every connect).
import { CodecError } from "../codec/codec-error.js";
import { encodeFrame, type Frame } from "../codec/frames.js";
import { publishFrameShared, sharedFrameBytes } from "../codec/fast-frames.js";
import { decodePayload } from "../codec/envelopes.js";
import { Flag, Kind, SubscribeFlag } from "../codec/kinds.js";
import { encodeBody } from "../codec/msgpack.js";
import { checkGroup, normalChannel, canonicalPattern, TextError } from "../codec/text.js";
import {
  ConnectError,
  ConnectionClosedError,
  ConnectionLostError,
  errorForCode,
  FrameTooLargeError,
  HubwireError,
  InvalidBodyError,
  NotConnectedError,
  ProtocolError,
  TimeoutError,
} from "../errors.js";
import { CallBook, type CallOptions, type PendingCall } from "./calls.js";
import { Message } from "./message.js";
import { reconnectDelay, resolveOptions, type ConnectOptions, type ResolvedOptions } from "./options.js";
import { answerCall, type ProvideOptions, type ProvideHandler, ProviderCalls } from "./provider.js";
import { inboxToken, RpcBook, type RequestOptions } from "./rpc.js";
import { dial, type Link } from "./dial.js";
import type { StatusEvent } from "./status.js";
import { PushStream } from "./stream.js";
import { Subscription, type SubscribeOptions } from "./subscription.js";

export interface PublishOptions {
  /** Keep as the channel's retained message (an empty body clears it). */
  retain?: boolean;
  /** Do not deliver to this client's own subscriptions. */
  noEcho?: boolean;
  headers?: Record<string, string>;
  /** Where answers go (for a hand-made call; `request` does this for you). */
  replyTo?: string;
}

const NO_HEADERS: Record<string, string> = Object.freeze({}) as Record<string, string>;

type State = "connecting" | "connected" | "reconnecting" | "draining" | "closed";

/** Connects to the first server that answers (see ConnectOptions); rejects with ConnectError
 * when none does. */
export async function connectWith(options: ConnectOptions): Promise<HubwireClient> {
  const client = new HubwireClient(resolveOptions(options));
  await client.start();
  return client;
}

export class HubwireClient {
  private state: State = "connecting";
  private link: Link | null = null;
  private readonly calls = new CallBook();
  private readonly subs = new Map<number, Subscription>();
  private nextSid = 1;
  private nextNonce = 1;
  private readonly pings = new Map<number, { resolve(): void; reject(e: unknown): void; timer?: ReturnType<typeof setTimeout> }>();
  private rpc: RpcBook | null = null;
  private inboxReady: Promise<void> | null = null;
  private readonly providers = new ProviderCalls();
  private spoke = false;
  /** Settles once the subscription list sent after the last connect is applied. */
  private subscribed: Promise<void> = Promise.resolve();
  private readonly statusStreams = new Set<PushStream<StatusEvent>>();
  private keepalive: ReturnType<typeof setInterval> | null = null;
  private sawTraffic = false;
  private pingsOut = 0;
  private reconnectTimer: ReturnType<typeof setTimeout> | null = null;
  private attempt = 0;
  private everConnected = false;
  private settleClosed!: (error: HubwireError | undefined) => void;
  private readonly closedPromise = new Promise<HubwireError | undefined>((resolve) => (this.settleClosed = resolve));

  /** @internal: use `connect()`. */
  constructor(private readonly options: ResolvedOptions) {}

  // ---------------------------------------------------------------- connection life

  /** @internal: the first connection; rejects (and closes the client) when no server answers. */
  async start(): Promise<void> {
    try {
      await this.dialAny();
    } catch (error) {
      this.finishClose(error as HubwireError);
      throw error;
    }
  }

  /** The server connected to, or null while reconnecting. */
  get server(): string | null {
    return this.link ? this.link.server.href : null;
  }

  /** Whether the client is closed (close(), drain(), or reconnects used up). */
  get isClosed(): boolean {
    return this.state === "closed";
  }

  /** Settles when the client is closed: with the error that closed it, or undefined. */
  closed(): Promise<HubwireError | undefined> {
    return this.closedPromise;
  }

  /** The connection's events (disconnect, reconnect, stale connection, server errors, slow
   * consumer...), from now on, until the client closes. */
  status(): AsyncIterableIterator<StatusEvent> {
    const stream: PushStream<StatusEvent> = new PushStream<StatusEvent>(10_000, () => this.statusStreams.delete(stream));
    if (this.state === "closed") stream.end();
    else this.statusStreams.add(stream);
    return stream;
  }

  private emit(event: StatusEvent): void {
    for (const stream of this.statusStreams) stream.push(event);
  }

  private async dialAny(): Promise<void> {
    const failures: string[] = [];
    for (const server of this.options.servers) {
      if (this.state === "closed" || this.state === "draining") throw new ConnectionClosedError();
      try {
        await dial(server, this.options, {
          established: (link) => this.connected(link),
          frames: (link, frames) => this.onFrames(link, frames),
          closed: (link, error) => this.onClosed(link, error),
        });
        return;
      } catch (error) {
        failures.push(`${server.href}: ${(error as Error).message}`);
        if (error instanceof HubwireError && (error.code === 101 || error.code === 200)) throw error;
      }
    }
    throw new ConnectError(`cannot connect: ${failures.join("; ")}`);
  }

  private connected(link: Link): void {
    if (this.state === "closed") {
      // close() came while this attempt was in flight.
      link.transport.close();
      return;
    }
    const again = this.everConnected;
    this.everConnected = true;
    this.link = link;
    this.attempt = 0;
    if (this.state === "connecting" || this.state === "reconnecting") this.state = "connected";
    this.sawTraffic = true;
    this.pingsOut = 0;
    this.startKeepalive();
    // The first connection is connect()'s answer; status() can only hear later ones.
    if (again) this.emit({ type: "reconnect", server: link.server.href });
    if (this.spoke) this.sendSubscriptions();
    this.calls.pump(this.callLink());
  }

  // The spoke is the source of truth: after every connect it sends its whole list, and a
  // PING behind it tells when the hub has applied it (docs/protocol.md, 10.1 and 10.3).
  private sendSubscriptions(): void {
    const subscriptions = [...this.subs.values()].map((s) => ({ sid: s.sid, pattern: s.pattern, group: s.group, flags: s.flags }));
    if (this.rpc) {
      subscriptions.push({ sid: this.inboxSid, pattern: this.rpc.pattern, group: null, flags: SubscribeFlag.NO_RETAINED });
    }
    subscriptions.sort((a, b) => a.sid - b.sid);
    this.send(encodeFrame(Kind.SUBSCRIPTIONS, { subscriptions }));
    const count = subscriptions.length;
    this.subscribed = this.ping(this.options.timeout).then(
      () => this.emit({ type: "subscribed", count }),
      () => undefined,
    );
  }

  private startKeepalive(): void {
    this.stopKeepalive();
    if (this.options.pingInterval <= 0) return;
    this.keepalive = setInterval(() => this.keepaliveTick(), this.options.pingInterval);
    (this.keepalive as { unref?: () => void }).unref?.();
  }

  private stopKeepalive(): void {
    if (this.keepalive) clearInterval(this.keepalive);
    this.keepalive = null;
  }

  private keepaliveTick(): void {
    const link = this.link;
    if (!link) return;
    if (this.sawTraffic) {
      this.sawTraffic = false;
      this.pingsOut = 0;
      return;
    }
    if (this.pingsOut >= this.options.maxPingsOut) {
      this.emit({ type: "staleConnection", server: link.server.href, pingsOut: this.pingsOut });
      link.disconnectReason = `stale connection: ${this.pingsOut} PINGs unanswered`;
      link.transport.close();
      return;
    }
    this.pingsOut++;
    this.send(encodeFrame(Kind.PING, { nonce: this.nextNonce++ }));
  }

  private onClosed(link: Link, error?: Error): void {
    if (this.link !== link) return;
    this.link = null;
    this.stopKeepalive();
    const reason = link.disconnectReason ?? error?.message ?? "closed";
    this.calls.connectionLost(() => new ConnectionLostError(reason), () => new NotConnectedError());
    this.rpc?.failAll(() => new ConnectionLostError(reason));
    this.failPings(() => new ConnectionLostError(reason));
    this.emit({ type: "disconnect", server: link.server.href, reason });
    if (this.state === "closed") return;
    if (this.state === "draining") {
      this.finishClose();
      return;
    }
    if (!this.options.reconnect) {
      this.finishClose(new ConnectionLostError(reason));
      return;
    }
    this.state = "reconnecting";
    this.scheduleReconnect(reason);
  }

  private scheduleReconnect(lastError: string): void {
    const max = this.options.maxReconnectAttempts;
    if (max >= 0 && this.attempt >= max) {
      this.finishClose(new ConnectError(`gave up after ${this.attempt} reconnect attempts: ${lastError}`));
      return;
    }
    const delay = reconnectDelay(this.attempt, this.options.reconnectTimeWait, this.options.reconnectJitter);
    this.attempt++;
    this.emit({ type: "reconnecting", attempt: this.attempt, delay, lastError });
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      if (this.state !== "reconnecting") return;
      this.dialAny().catch((error: Error) => {
        if (this.state === "reconnecting") this.scheduleReconnect(error.message);
      });
    }, delay);
  }

  /** Closes now: every pending call, request and flush fails with closed, subscriptions end,
   * the connection is closed. Settles when done. */
  async close(): Promise<void> {
    if (this.state === "closed") return;
    const link = this.link;
    if (link) {
      this.send(encodeFrame(Kind.DISCONN, { reason: "client closing" }));
    }
    this.finishClose();
    link?.transport.close();
  }

  /** Closes gracefully: unsubscribes everything, waits until the hub has applied that, lets
   * calls, requests and provider answers in flight finish (each within its own timeout),
   * then closes. New calls and publishes fail with closed meanwhile. */
  async drain(): Promise<void> {
    if (this.state === "closed" || this.state === "draining") return this.closedPromise.then(() => undefined);
    const wasConnected = this.state === "connected";
    this.state = "draining";
    for (const sub of [...this.subs.values()]) {
      this.subs.delete(sub.sid);
      if (this.link) this.send(encodeFrame(Kind.UNSUBSCRIBE, { sid: sub.sid }));
      sub.end();
    }
    if (wasConnected && this.link) {
      await this.ping(this.options.timeout).catch(() => undefined);
    }
    while (this.state === "draining" && (this.calls.size > 0 || (this.rpc?.size ?? 0) > 0 || this.providers.size > 0)) {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    await this.close();
  }

  private finishClose(error?: HubwireError): void {
    if (this.state === "closed") return;
    this.state = "closed";
    this.stopKeepalive();
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    const closed = () => new ConnectionClosedError(error ? `the client is closed: ${error.message}` : undefined);
    this.calls.failAll(closed);
    this.rpc?.failAll(closed);
    this.failPings(closed);
    for (const sub of this.subs.values()) sub.end(error);
    this.subs.clear();
    const link = this.link;
    this.link = null;
    link?.transport.close();
    this.emit({ type: "close", error });
    for (const stream of this.statusStreams) stream.end();
    this.statusStreams.clear();
    this.settleClosed(error);
  }

  // ---------------------------------------------------------------- frames in

  private onFrames(link: Link, frames: Frame[]): void {
    if (this.link !== link) return;
    this.sawTraffic = true;
    for (const frame of frames) {
      try {
        this.onFrame(link, frame);
      } catch (error) {
        if (!(error instanceof CodecError)) throw error;
        // A frame we cannot read is skipped (its framing is intact); say so.
        this.emit({ type: "error", error: new ProtocolError(`a frame of kind ${frame.kind} could not be read: ${error.message}`) });
      }
    }
    this.providers.endOfReadPass((replyTo) => this.publishAnswer(replyTo, Flag.ACK, new Uint8Array(0)));
  }

  private onFrame(link: Link, frame: Frame): void {
    switch (frame.kind) {
      case Kind.RESPONSE: {
        const response = decodePayload(Kind.RESPONSE, frame.payload);
        this.calls.answer(response.id, response.body);
        this.calls.pump(this.callLink());
        return;
      }
      case Kind.ERROR: {
        const error = decodePayload(Kind.ERROR, frame.payload);
        if (error.id === null) {
          this.onConnectionError(link, error.code, error.message);
        } else {
          this.calls.refuse(error.id, errorForCode(error.code, error.message));
          this.calls.pump(this.callLink());
        }
        return;
      }
      case Kind.MESSAGE:
        this.onMessage(decodePayload(Kind.MESSAGE, frame.payload));
        return;
      case Kind.PING:
        this.send(encodeFrame(Kind.PONG, { nonce: decodePayload(Kind.PING, frame.payload).nonce }));
        return;
      case Kind.PONG: {
        const nonce = decodePayload(Kind.PONG, frame.payload).nonce;
        const ping = this.pings.get(nonce);
        if (ping) {
          this.pings.delete(nonce);
          if (ping.timer) clearTimeout(ping.timer);
          ping.resolve();
        }
        return;
      }
      case Kind.REFUSED:
        this.onRefused(decodePayload(Kind.REFUSED, frame.payload));
        return;
      case Kind.DISCONN:
        link.disconnectReason = `the server said goodbye: ${decodePayload(Kind.DISCONN, frame.payload).reason}`;
        return;
      default:
        return; // a kind this client does not know (a newer server's): skipped
    }
  }

  private onConnectionError(link: Link, code: number, message: string): void {
    const error = errorForCode(code, message);
    if (code === 500 && /slow consumer/i.test(message)) {
      this.emit({ type: "slowConsumer", message });
    } else {
      this.emit({ type: "error", error });
    }
    link.disconnectReason = `${error.name}: ${message}`;
  }

  private onMessage(fields: Record<string, any>): void {
    for (const sid of fields.sids as number[]) {
      const message = new Message(fields.channel, fields.body, fields.headers, fields.flags, fields.reply_to, sid);
      if (sid === this.inboxSid && this.rpc) {
        this.rpc.answer(message);
        continue;
      }
      this.subs.get(sid)?.deliver(message);
    }
  }

  private onRefused(fields: Record<string, any>): void {
    const error = errorForCode(fields.code, fields.message);
    const sub = fields.sid === null ? undefined : this.subs.get(fields.sid);
    if (sub) {
      // Dropped from the list: it would be refused again on every reconnect.
      this.subs.delete(sub.sid);
      this.emit({ type: "refused", sid: sub.sid, pattern: sub.pattern, error });
      sub.end(error);
    } else {
      this.emit({ type: "error", error });
    }
  }

  // ---------------------------------------------------------------- frames out

  private send(frame: Uint8Array): void {
    this.link?.transport.send(frame);
  }

  private callLink() {
    const link = this.link;
    if (!link || this.state === "closed") return null;
    const limit = this.options.maxInFlight ?? (link.maxInFlight > 0 ? link.maxInFlight : Infinity);
    return { send: (frame: Uint8Array) => link.transport.send(frame), maxFrame: link.maxFrame, limit };
  }

  /** Sends a PING and resolves on its PONG: everything sent before it has been processed. */
  private ping(timeout: number): Promise<void> {
    if (!this.link) return Promise.reject(new NotConnectedError());
    const nonce = this.nextNonce++;
    return new Promise<void>((resolve, reject) => {
      const entry: { resolve(): void; reject(e: unknown): void; timer?: ReturnType<typeof setTimeout> } = { resolve, reject };
      entry.timer = setTimeout(() => {
        this.pings.delete(nonce);
        reject(new TimeoutError(`no PONG within ${timeout} ms`));
      }, timeout);
      this.pings.set(nonce, entry);
      this.send(encodeFrame(Kind.PING, { nonce }));
    });
  }

  private failPings(error: () => unknown): void {
    for (const [nonce, ping] of this.pings) {
      this.pings.delete(nonce);
      if (ping.timer) clearTimeout(ping.timer);
      ping.reject(error());
    }
  }

  private refuseWhenUnusable(): HubwireError | null {
    if (this.state === "closed") return new ConnectionClosedError();
    if (this.state === "draining") return new ConnectionClosedError("the client is draining");
    if (!this.link) return new NotConnectedError();
    return null;
  }

  // ---------------------------------------------------------------- requests

  /** Calls `route` with `body` (encoded as MessagePack) and resolves with the decoded reply.
   * Fails with a HubwireError: the server's code, timeout, not-connected, connection-lost. */
  call(route: string, body?: unknown, options: CallOptions = {}): Promise<unknown> {
    const refusal = this.refuseWhenUnusable();
    if (refusal && !(refusal instanceof NotConnectedError && options.waitForConnection)) return Promise.reject(refusal);
    if (options.signal?.aborted) return Promise.reject(options.signal.reason);
    let bytes: Uint8Array;
    try {
      bytes = encodeBody(body);
    } catch (error) {
      return Promise.reject(new InvalidBodyError(`the body of ${route} cannot be encoded: ${(error as Error).message}`));
    }
    const timeout = options.timeout ?? this.options.callTimeout;
    return new Promise((resolve, reject) => {
      const call: PendingCall = {
        route,
        body: bytes,
        headers: options.headers ?? {},
        deadline: Date.now() + timeout,
        waitForConnection: options.waitForConnection ?? false,
        raw: options.raw ?? false,
        id: 0,
        resolve,
        reject,
        cleanup: () => {
          clearTimeout(timer);
          options.signal?.removeEventListener("abort", onAbort);
        },
      };
      const giveUp = (error: unknown) => {
        if (this.calls.fail(call, error)) this.send(encodeFrame(Kind.CANCEL, { id: call.id }));
        this.calls.pump(this.callLink());
      };
      const timer = setTimeout(() => giveUp(new TimeoutError(`call to ${route} timed out after ${timeout} ms`)), timeout);
      const onAbort = () => giveUp(options.signal!.reason);
      options.signal?.addEventListener("abort", onAbort, { once: true });
      this.calls.add(call);
      this.calls.pump(this.callLink());
    });
  }

  /** Enqueues `body` on a queued route and resolves with `{id}` (the stored item's id). The
   * idempotency key (a fresh random one unless given) makes retries safe: until `timeout`,
   * a lost connection or a reconnect is retried with the same key, so the item is stored once. */
  async enqueue(route: string, body: unknown, options: CallOptions & { idempotencyKey?: string } = {}): Promise<unknown> {
    const key = options.idempotencyKey ?? `js-${inboxToken()}`;
    const timeout = options.timeout ?? this.options.callTimeout;
    const deadline = Date.now() + timeout;
    for (;;) {
      const left = deadline - Date.now();
      if (left <= 0) throw new TimeoutError(`enqueue to ${route} not confirmed within ${timeout} ms`);
      try {
        return await this.call(route, body, {
          ...options,
          timeout: left,
          waitForConnection: true,
          headers: { ...options.headers, "idempotency-key": key },
        });
      } catch (error) {
        if (!(error instanceof ConnectionLostError)) throw error;
      }
    }
  }

  // ---------------------------------------------------------------- pub/sub

  /** Subscribes to `pattern` (wildcards `*` and `**`). Iterate the subscription, or pass a
   * callback. A refusal by the hub ends it with the error (see flush() to wait for it). */
  subscribe(pattern: string, options: SubscribeOptions = {}): Subscription {
    if (this.state === "closed" || this.state === "draining") throw new ConnectionClosedError();
    const canonical = checked(() => canonicalPattern(pattern));
    const group = options.group ?? null;
    if (group !== null) checked(() => checkGroup(group));
    const flags = options.noRetained ? SubscribeFlag.NO_RETAINED : 0;
    const sid = this.nextSid++;
    const host = {
      unsubscribe: (s: number) => {
        if (this.subs.delete(s) && this.link) this.send(encodeFrame(Kind.UNSUBSCRIBE, { sid: s }));
      },
      slowConsumer: (s: number, dropped: number) => {
        if (dropped === 1 || dropped % 1000 === 0) {
          this.emit({ type: "slowConsumer", sid: s, dropped, message: `subscription ${s} is not read fast enough: ${dropped} messages dropped` });
        }
      },
    };
    const sub = new Subscription(host, sid, canonical, group, flags, options, this.options.maxPendingMessages);
    this.subs.set(sid, sub);
    this.becomeSpoke();
    if (this.link) this.send(encodeFrame(Kind.SUBSCRIBE, { sid, pattern: canonical, group, flags }));
    return sub;
  }

  /** Publishes `body` (encoded as MessagePack; a Uint8Array is sent as `bin`) to `channel`.
   * At most once: while the client is reconnecting it throws not-connected. */
  publish(channel: string, body?: unknown, options: PublishOptions = {}): void {
    const refusal = this.refuseWhenUnusable();
    if (refusal) throw refusal;
    // The last channel's normal form is kept: a publisher mostly repeats its channels.
    let normal: string;
    if (channel === this.lastChannel) normal = this.lastNormal;
    else {
      normal = checked(() => normalChannel(channel));
      this.lastChannel = channel;
      this.lastNormal = normal;
    }
    const replyTo = options.replyTo === undefined ? null : checked(() => normalChannel(options.replyTo!));
    const flags = (options.retain ? Flag.RETAIN : 0) | (options.noEcho ? Flag.NO_ECHO : 0);
    this.spoke = true;
    // Bytes are written into the frame as MessagePack bin directly, not encoded apart first.
    if (body instanceof Uint8Array) this.sendPublish(normal, flags, replyTo, options.headers ?? NO_HEADERS, body, true);
    else this.sendPublish(normal, flags, replyTo, options.headers ?? NO_HEADERS, encodeBody(body));
  }

  private lastChannel: string | null = null;
  private lastNormal = "";

  private sendPublish(channel: string, flags: number, replyTo: string | null, headers: Record<string, string>, body: Uint8Array, bodyIsRaw = false): void {
    const link = this.link!;
    const length = publishFrameShared(channel, flags, replyTo, headers, body, bodyIsRaw);
    if (length - 4 > link.maxFrame) {
      throw new FrameTooLargeError(`publish of ${length - 4} bytes is over the hub's maximum frame of ${link.maxFrame} bytes (not sent)`);
    }
    const transport = link.transport;
    if (transport.sendPart) transport.sendPart(sharedFrameBytes(), length);
    else transport.send(sharedFrameBytes().slice(0, length));
  }

  /** Resolves once the server has processed everything sent before: subscriptions made
   * before it are applied (or refused) and publishes routed. */
  flush(timeout = this.options.callTimeout): Promise<void> {
    const refusal = this.refuseWhenUnusable();
    if (refusal) return Promise.reject(refusal);
    return this.ping(timeout);
  }

  /** Calls a provider over pub/sub. Rejects with NoRespondersError, NotAcknowledgedError,
   * RemoteError (the provider's code), TimeoutError (acknowledged, no reply in time), or the
   * connection errors. */
  async request(channel: string, body?: unknown, options: RequestOptions = {}): Promise<unknown> {
    const refusal = this.refuseWhenUnusable();
    if (refusal) throw refusal;
    const normal = checked(() => normalChannel(channel));
    const bytes = encodeBody(body);
    const timeout = options.timeout ?? this.options.callTimeout;
    const deadline = Date.now() + timeout;
    this.becomeSpoke();
    await this.ensureInbox(timeout);
    const left = deadline - Date.now();
    const again = this.refuseWhenUnusable();
    if (again) throw again;
    if (left <= 0) throw new TimeoutError(`call to ${channel}: the inbox was not ready within ${timeout} ms`);
    const { replyTo, answer } = this.rpc!.start(normal, left, options);
    const headers = { ...options.headers };
    if (!("deadline-ms" in headers)) headers["deadline-ms"] = String(Math.ceil(left));
    try {
      this.sendPublish(normal, Flag.REQUEST, replyTo, headers, bytes);
    } catch (error) {
      this.rpc!.fail(Number(replyTo.slice(replyTo.lastIndexOf("/") + 1)), error);
    }
    return answer;
  }

  private inboxSid = 0;

  // One inbox subscription serves every call; the first call waits for the hub to apply it,
  // and calls after a reconnect wait for the replayed list.
  private async ensureInbox(timeout: number): Promise<void> {
    if (!this.rpc) {
      this.rpc = new RpcBook();
      this.inboxSid = this.nextSid++;
      this.send(encodeFrame(Kind.SUBSCRIBE, { sid: this.inboxSid, pattern: this.rpc.pattern, group: null, flags: SubscribeFlag.NO_RETAINED }));
      this.inboxReady = this.ping(timeout).catch((error) => {
        this.inboxReady = null;
        throw error;
      });
    }
    if (!this.inboxReady) this.inboxReady = this.ping(timeout);
    await this.inboxReady;
    await this.subscribed;
  }

  /** Answers calls on `pattern` with `handler` (its return value, or a thrown HubwireError's
   * code; any other throw is handler-failure, 600). With `group`, each call goes to one
   * provider of the group. Returns the subscription (unsubscribe to stop). */
  provide(pattern: string, handler: ProvideHandler, options: ProvideOptions = {}): Subscription {
    return this.subscribe(pattern, {
      group: options.group,
      noRetained: true,
      callback: (error, message) => {
        if (error || !message || !message.isRequest || !message.replyTo) return;
        answerCall(this.providers, message, handler, (replyTo, flags, body) => this.publishAnswer(replyTo, flags, body));
      },
    });
  }

  private publishAnswer(replyTo: string, flags: number, body: Uint8Array): void {
    if (!this.link || this.state === "closed") return; // at most once: the caller will time out
    try {
      this.sendPublish(replyTo, flags, null, {}, body);
    } catch (error) {
      this.emit({ type: "error", error: error as HubwireError });
    }
  }

  private becomeSpoke(): void {
    this.spoke = true;
  }
}

function checked<T>(parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    if (error instanceof TextError) throw new InvalidBodyError(error.message);
    throw error;
  }
}
