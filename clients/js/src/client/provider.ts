// Answering calls (docs/protocol.md, 10.5): ACK as soon as the call is in, at the latest at the
// end of the read pass; ACK|REPLY in one answer when the reply is ready by then.
import { Flag } from "../codec/kinds.js";
import { encodeBody, encodeValue } from "../codec/msgpack.js";
import { HubwireError } from "../errors.js";
import type { Message } from "./message.js";

export interface ProvideOptions {
  /** A queue group: each call goes to one provider of the group. */
  group?: string;
}

/** Answers one call: the reply value, or a thrown error (a HubwireError keeps its code). */
export type ProvideHandler = (body: unknown, message: Message) => unknown | Promise<unknown>;

type Answer = (replyTo: string, flags: number, body: Uint8Array) => void;

/** Calls being answered, and those not yet acknowledged in this read pass. */
export class ProviderCalls {
  private running = 0;
  private unacked = new Map<object, string>();

  get size(): number {
    return this.running;
  }

  /** @internal */
  begin(call: object, replyTo: string): void {
    this.running++;
    this.unacked.set(call, replyTo);
  }

  /** @internal: true when the call still needs its ACK (the answer then carries it). */
  end(call: object): boolean {
    this.running--;
    return this.unacked.delete(call);
  }

  /** Acknowledges every call still unanswered once the read pass that brought it is over
   * (after the handlers' synchronous work and the promises it settled). */
  endOfReadPass(ack: (replyTo: string) => void): void {
    if (this.unacked.size === 0) return;
    const pass = [...this.unacked];
    setTimeout(() => {
      for (const [call, replyTo] of pass) {
        if (this.unacked.delete(call)) ack(replyTo);
      }
    }, 0);
  }
}

export function answerCall(calls: ProviderCalls, message: Message, handler: ProvideHandler, answer: Answer): void {
  const replyTo = message.replyTo!;
  const call = {};
  calls.begin(call, replyTo);
  const finish = (flags: number, body: Uint8Array) => {
    const needsAck = calls.end(call);
    answer(replyTo, needsAck ? flags | Flag.ACK : flags, body);
  };
  let request: unknown;
  try {
    request = message.body;
  } catch (error) {
    finish(Flag.ERROR, encodeValue([300, `the request body is not MessagePack: ${(error as Error).message}`]));
    return;
  }
  new Promise((resolve) => resolve(handler(request, message))).then(
    (value) => {
      let body: Uint8Array;
      try {
        body = encodeBody(value);
      } catch (error) {
        finish(Flag.ERROR, encodeValue([600, `the reply cannot be encoded: ${(error as Error).message}`]));
        return;
      }
      finish(Flag.REPLY, body);
    },
    (error: unknown) => {
      const code = error instanceof HubwireError && error.code > 0 ? error.code : 600;
      const text = error instanceof Error ? error.message : String(error);
      finish(Flag.ERROR, encodeValue([code, text]));
    },
  );
}
