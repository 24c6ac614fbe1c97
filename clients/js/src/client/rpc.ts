// Calls over pub/sub (docs/protocol.md, 10.5): one inbox subscription for all calls, each call
// `n` answered on `_inbox/<token>/<n>`; four outcomes besides the reply.
import { Flag } from "../codec/kinds.js";
import { decodeBody } from "../codec/msgpack.js";
import {
  NoRespondersError,
  NotAcknowledgedError,
  ProtocolError,
  RemoteError,
  TimeoutError,
} from "../errors.js";
import type { Message } from "./message.js";

export interface RequestOptions {
  /** Time for the call, in ms (the client's callTimeout); also sent as `deadline-ms`. */
  timeout?: number;
  /** Fail with not-acknowledged when no provider acknowledges within this many ms (by
   * default that is judged at the timeout). */
  ackTimeout?: number;
  headers?: Record<string, string>;
  /** Resolve with the reply's raw bytes instead of the decoded value. */
  raw?: boolean;
}

interface PendingRequest {
  channel: string;
  acked: boolean;
  raw: boolean;
  resolve(value: unknown): void;
  reject(error: unknown): void;
  timers: ReturnType<typeof setTimeout>[];
}

/** A random 128-bit token as 32 lower-case hex digits. */
export function inboxToken(): string {
  const bytes = new Uint8Array(16);
  globalThis.crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

export class RpcBook {
  readonly token = inboxToken();
  private nextCall = 1;
  private readonly pending = new Map<number, PendingRequest>();

  get size(): number {
    return this.pending.size;
  }

  get pattern(): string {
    return `_inbox/${this.token}/*`;
  }

  /** Registers call number `n` and returns its reply-to and the promise of its answer. */
  start(channel: string, timeout: number, options: RequestOptions): { replyTo: string; answer: Promise<unknown> } {
    const n = this.nextCall++;
    let request!: PendingRequest;
    const answer = new Promise<unknown>((resolve, reject) => {
      request = { channel, acked: false, raw: options.raw ?? false, resolve, reject, timers: [] };
    });
    request.timers.push(
      setTimeout(() => {
        this.finish(n, request.acked
          ? new TimeoutError(`call to ${channel} was acknowledged but not answered within ${timeout} ms`)
          : new NotAcknowledgedError(`nobody acknowledged the call to ${channel} within ${timeout} ms`));
      }, timeout),
    );
    if (options.ackTimeout !== undefined && options.ackTimeout < timeout) {
      request.timers.push(
        setTimeout(() => {
          if (!request.acked) {
            this.finish(n, new NotAcknowledgedError(`nobody acknowledged the call to ${channel} within ${options.ackTimeout} ms`));
          }
        }, options.ackTimeout),
      );
    }
    this.pending.set(n, request);
    return { replyTo: `_inbox/${this.token}/${n}`, answer };
  }

  /** An answer on the inbox. */
  answer(message: Message): void {
    const last = message.channel.slice(message.channel.lastIndexOf("/") + 1);
    const n = Number(last);
    const request = this.pending.get(n);
    if (!request) return; // late, or a second final answer
    const flags = message.flags;
    if (flags & Flag.ERROR) {
      let code = 999;
      let text = "";
      try {
        const body = decodeBody(message.data);
        if (Array.isArray(body) && typeof body[0] === "number") {
          code = body[0];
          text = String(body[1] ?? "");
        }
      } catch {
        text = "an ERROR answer whose body is not [code, message]";
      }
      const acked = request.acked || (flags & Flag.ACK) !== 0;
      this.finish(n, code === 400 && !acked ? new NoRespondersError(text) : new RemoteError(code, text));
    } else if (flags & Flag.REPLY) {
      if (request.raw) return this.finish(n, undefined, message.data);
      let value: unknown;
      try {
        value = decodeBody(message.data);
      } catch (error) {
        return this.finish(n, new ProtocolError(`the reply from ${request.channel} is not MessagePack: ${(error as Error).message}`));
      }
      this.finish(n, undefined, value);
    } else if (flags & Flag.ACK) {
      request.acked = true;
    }
  }

  /** Fails every call waiting (connection lost, closed). */
  failAll(error: () => unknown): void {
    for (const n of [...this.pending.keys()]) this.finish(n, error());
  }

  /** Fails call `n` if it is waiting. */
  fail(n: number, error: unknown): void {
    this.finish(n, error);
  }

  private finish(n: number, error: unknown, value?: unknown): void {
    const request = this.pending.get(n);
    if (!request) return;
    this.pending.delete(n);
    for (const timer of request.timers) clearTimeout(timer);
    if (error !== undefined) request.reject(error);
    else request.resolve(value);
  }
}
