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

  /** Adds `chunk` and returns every frame now whole. Frames are views into `chunk` where
   * they lie whole in it (the caller must not reuse `chunk`), else copies. */
  push(chunk: Uint8Array): Frame[] {
    const frames: Frame[] = [];
    let from = 0;
    if (this.start === this.end) {
      // Nothing held back: read straight from the chunk, no copy.
      from = this.cut(chunk, 0, chunk.length, frames, false);
      if (from === chunk.length) return frames;
      chunk = chunk.subarray(from);
    }
    this.append(chunk);
    this.start = this.cut(this.buffer, this.start, this.end, frames, true);
    if (this.start === this.end) this.start = this.end = 0;
    return frames;
  }

  // Reads whole frames from bytes[at..end) into `frames`; returns where the first incomplete
  // one starts.
  private cut(bytes: Uint8Array, at: number, end: number, frames: Frame[], copy: boolean): number {
    while (end - at >= 4) {
      const length = ((bytes[at] << 24) >>> 0) + (bytes[at + 1] << 16) + (bytes[at + 2] << 8) + bytes[at + 3];
      checkLength(length, this.maxFrame);
      if (end - at < 4 + length) break;
      const kind = (bytes[at + 4] << 8) | bytes[at + 5];
      // A copy out of the held buffer, so a frame handed on stays valid when it is reused.
      const payload = copy ? bytes.slice(at + 6, at + 4 + length) : bytes.subarray(at + 6, at + 4 + length);
      frames.push({ kind, payload });
      at += 4 + length;
    }
    return at;
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
