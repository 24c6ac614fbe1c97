// Framing (docs/protocol.md, section 1): length u32 BE | kind u16 BE | payload.
import { CodecError } from "./codec-error.js";
import { encodePayload, type Fields } from "./envelopes.js";
import { publishFrame, requestFrame } from "./fast-frames.js";
import { Kind } from "./kinds.js";

/** The default largest frame `length`, 1 MiB. */
export const DEFAULT_MAX_FRAME = 1_048_576;

/** One whole frame: its kind and its payload (a view into the read buffer). */
export interface Frame {
  kind: number;
  payload: Uint8Array;
}

/** Wraps `payload` in a frame of `kind`. */
export function frameBytes(kind: number, payload: Uint8Array): Uint8Array {
  const frame = new Uint8Array(6 + payload.length);
  const view = new DataView(frame.buffer);
  view.setUint32(0, payload.length + 2);
  view.setUint16(4, kind);
  frame.set(payload, 6);
  return frame;
}

/** Encodes an envelope as a whole frame. */
export function encodeFrame(kind: number, fields: Fields): Uint8Array {
  if (kind === Kind.PUBLISH) {
    return publishFrame(fields.channel, fields.flags, fields.reply_to ?? null, fields.headers ?? {}, fields.body);
  }
  if (kind === Kind.REQUEST) return requestFrame(fields.id, fields.route, fields.headers ?? {}, fields.body);
  return frameBytes(kind, encodePayload(kind, fields));
}

/** Checks a frame's `length` before any of its payload is buffered. */
export function checkLength(length: number, maxFrame: number): void {
  if (length < 2) throw new CodecError(100, `frame length ${length} is under 2`, true);
  if (length > maxFrame) {
    throw new CodecError(102, `frame length ${length} is over the maximum of ${maxFrame}`, true);
  }
}

/**
 * Cuts a byte stream into frames. Bytes may arrive split anywhere; a length out of bounds
 * throws a CodecError with `framingLost` (nothing after it can be read).
 */
export class FrameReader {
  private buffer = new Uint8Array(0);
  private start = 0;
  private end = 0;

  constructor(public maxFrame = DEFAULT_MAX_FRAME) {}

  /** Adds `chunk` and returns every frame now whole. */
  push(chunk: Uint8Array): Frame[] {
    this.append(chunk);
    const frames: Frame[] = [];
    while (this.end - this.start >= 4) {
      const b = this.buffer;
      const s = this.start;
      const length = ((b[s] << 24) >>> 0) + (b[s + 1] << 16) + (b[s + 2] << 8) + b[s + 3];
      checkLength(length, this.maxFrame);
      if (this.end - s < 4 + length) break;
      const kind = (b[s + 4] << 8) | b[s + 5];
      // A copy, so a frame handed on stays valid when the buffer is reused.
      frames.push({ kind, payload: b.slice(s + 6, s + 4 + length) });
      this.start = s + 4 + length;
    }
    if (this.start === this.end) this.start = this.end = 0;
    return frames;
  }

  private append(chunk: Uint8Array): void {
    const held = this.end - this.start;
    if (this.buffer.length - this.end < chunk.length) {
      if (this.buffer.length - held >= chunk.length && this.start > 0) {
        this.buffer.copyWithin(0, this.start, this.end);
      } else {
        const grown = new Uint8Array(Math.max(held + chunk.length, this.buffer.length * 2, 4096));
        grown.set(this.buffer.subarray(this.start, this.end));
        this.buffer = grown;
      }
      this.start = 0;
      this.end = held;
    }
    this.buffer.set(chunk, this.end);
    this.end += chunk.length;
  }
}
