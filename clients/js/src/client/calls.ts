// The ledger of route calls: waiting to be sent, and in flight by id (docs/protocol.md, 5).
import { encodeFrame } from "../codec/frames.js";
import { Kind } from "../codec/kinds.js";
import { decodeBody } from "../codec/msgpack.js";
import { FrameTooLargeError, HubwireError, ProtocolError } from "../errors.js";

export interface CallOptions {
  /** Time for the call, in ms (the client's callTimeout, 10 s); also sent as `deadline-ms`. */
  timeout?: number;
  /** Abort the call (it fails with the signal's reason; a CANCEL goes to the server). */
  signal?: AbortSignal;
  /** Request headers (lower-case keys; `deadline-ms` given here replaces the computed one). */
  headers?: Record<string, string>;
  /** Wait for a connection instead of failing at once with not-connected (within timeout). */
  waitForConnection?: boolean;
  /** Resolve with the reply's raw bytes instead of the decoded value. */
  raw?: boolean;
}

export interface PendingCall {
  route: string;
  body: Uint8Array;
  headers: Record<string, string>;
  deadline: number;
  waitForConnection: boolean;
  raw: boolean;
  id: number;
  resolve(value: unknown): void;
  reject(error: unknown): void;
  cleanup(): void;
}

/** What the ledger needs from the connection. */
export interface CallLink {
  send(frame: Uint8Array): void;
  maxFrame: number;
  limit: number;
}

export class CallBook {
  private nextId = 1;
  readonly waiting: PendingCall[] = [];
  readonly inFlight = new Map<number, PendingCall>();

  get size(): number {
    return this.waiting.length + this.inFlight.size;
  }

  add(call: PendingCall): void {
    this.waiting.push(call);
  }

  /** Sends waiting calls while there is room in flight. */
  pump(link: CallLink | null): void {
    while (link && this.waiting.length > 0 && this.inFlight.size < link.limit) {
      const call = this.waiting.shift()!;
      this.send(call, link);
    }
  }

  private send(call: PendingCall, link: CallLink): void {
    const headers = { ...call.headers };
    if (!("deadline-ms" in headers)) {
      headers["deadline-ms"] = String(Math.max(0, Math.ceil(call.deadline - Date.now())));
    }
    const id = this.nextId++;
    const frame = encodeFrame(Kind.REQUEST, { id, route: call.route, headers, body: call.body });
    if (frame.length - 4 > link.maxFrame) {
      this.fail(call, new FrameTooLargeError(
        `request of ${frame.length - 4} bytes is over the server's maximum frame of ${link.maxFrame} bytes (not sent)`,
      ));
      return;
    }
    call.id = id;
    this.inFlight.set(id, call);
    link.send(frame);
  }

  /** A RESPONSE for `id`: the call's reply. */
  answer(id: number, body: Uint8Array): void {
    const call = this.inFlight.get(id);
    if (!call) return; // cancelled, timed out: a late reply is ignored
    this.inFlight.delete(id);
    call.cleanup();
    if (call.raw) {
      call.resolve(body);
      return;
    }
    let value: unknown;
    try {
      value = decodeBody(body);
    } catch (error) {
      call.reject(new ProtocolError(`the reply of ${call.route} is not MessagePack: ${(error as Error).message}`));
      return;
    }
    call.resolve(value);
  }

  /** An ERROR for `id`. */
  refuse(id: number, error: HubwireError): void {
    const call = this.inFlight.get(id);
    if (!call) return;
    this.inFlight.delete(id);
    call.cleanup();
    call.reject(error);
  }

  /** Ends `call` with `error` wherever it is; returns whether it was in flight (so a CANCEL is due). */
  fail(call: PendingCall, error: unknown): boolean {
    const wasInFlight = call.id > 0 && this.inFlight.get(call.id) === call;
    if (wasInFlight) this.inFlight.delete(call.id);
    const at = this.waiting.indexOf(call);
    if (at >= 0) this.waiting.splice(at, 1);
    call.cleanup();
    call.reject(error);
    return wasInFlight;
  }

  /** Fails every call in flight (the connection is gone), and those waiting that did not ask to. */
  connectionLost(inFlightError: () => unknown, notConnected: () => unknown): void {
    for (const call of [...this.inFlight.values()]) this.fail(call, inFlightError());
    for (const call of [...this.waiting]) if (!call.waitForConnection) this.fail(call, notConnected());
  }

  failAll(error: () => unknown): void {
    for (const call of [...this.inFlight.values(), ...this.waiting]) this.fail(call, error());
  }
}
