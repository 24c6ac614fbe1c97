// Hand-written encoders for the two frames sent most (PUBLISH and REQUEST): one buffer, no
// intermediate value tree. They write exactly what the generic encoder writes (smallest
// integer and length forms, header keys in byte order); the protocol vectors check both.
import { sortedHeaders } from "./schema.js";

const utf8 = new TextEncoder();

class FrameWriter {
  bytes: Uint8Array;
  view: DataView;
  pos = 6;

  constructor(capacity: number) {
    this.bytes = new Uint8Array(capacity);
    this.view = new DataView(this.bytes.buffer);
  }

  /** Starts a new frame in this writer's buffer, grown first if under `capacity`. */
  reset(capacity: number): this {
    if (this.bytes.length < capacity) {
      this.bytes = new Uint8Array(Math.max(capacity, this.bytes.length * 2));
      this.view = new DataView(this.bytes.buffer);
    }
    this.pos = 6;
    return this;
  }

  u8(b: number): void {
    this.bytes[this.pos++] = b;
  }

  uint(value: number | bigint): void {
    if (typeof value === "bigint") {
      if (value <= 0xffff_ffffn) return this.uint(Number(value));
      this.u8(0xcf);
      this.view.setBigUint64(this.pos, value);
      this.pos += 8;
    } else if (value < 0x80) this.u8(value);
    else if (value < 0x100) {
      this.u8(0xcc);
      this.u8(value);
    } else if (value < 0x1_0000) {
      this.u8(0xcd);
      this.view.setUint16(this.pos, value);
      this.pos += 2;
    } else if (value < 0x1_0000_0000) {
      this.u8(0xce);
      this.view.setUint32(this.pos, value);
      this.pos += 4;
    } else {
      this.uint(BigInt(value));
    }
  }

  str(text: string): void {
    // Reserve the header for the longest the text could be, encode, then close any gap.
    const most = text.length * 3;
    const reserved = most < 32 ? 1 : most < 0x100 ? 2 : most < 0x1_0000 ? 3 : 5;
    const start = this.pos + reserved;
    const n = utf8.encodeInto(text, this.bytes.subarray(start)).written;
    const needed = n < 32 ? 1 : n < 0x100 ? 2 : n < 0x1_0000 ? 3 : 5;
    if (needed !== reserved) this.bytes.copyWithin(this.pos + needed, start, start + n);
    if (needed === 1) this.u8(0xa0 | n);
    else if (needed === 2) {
      this.u8(0xd9);
      this.u8(n);
    } else if (needed === 3) {
      this.u8(0xda);
      this.view.setUint16(this.pos, n);
      this.pos += 2;
    } else {
      this.u8(0xdb);
      this.view.setUint32(this.pos, n);
      this.pos += 4;
    }
    this.pos += n;
  }

  headers(headers: Record<string, string>): void {
    const sorted = sortedHeaders(headers);
    const keys = Object.keys(sorted);
    const n = keys.length;
    if (n < 16) this.u8(0x80 | n);
    else if (n < 0x1_0000) {
      this.u8(0xde);
      this.view.setUint16(this.pos, n);
      this.pos += 2;
    } else {
      this.u8(0xdf);
      this.view.setUint32(this.pos, n);
      this.pos += 4;
    }
    for (const key of keys) {
      this.str(key);
      this.str(sorted[key]);
    }
  }

  /** A channel, from the one-entry cache when it is the last one written (a publisher
   * usually publishes to few channels, so its UTF-8 bytes are encoded once). */
  channel(text: string): void {
    if (text !== lastChannel) {
      const start = this.pos;
      this.str(text);
      lastChannel = text;
      lastChannelBytes = this.bytes.slice(start, this.pos);
      return;
    }
    this.bytes.set(lastChannelBytes, this.pos);
    this.pos += lastChannelBytes.length;
  }

  /** A body that is MessagePack `bin` of `raw` (what encodeBody makes of a Uint8Array),
   * written without encoding it separately first. */
  binOfBin(raw: Uint8Array): void {
    const n = raw.length;
    const inner = n < 0x100 ? 2 : n < 0x1_0000 ? 3 : 5;
    this.binHeader(inner + n);
    this.binHeader(n);
    this.bytes.set(raw, this.pos);
    this.pos += n;
  }

  bin(body: Uint8Array): void {
    this.binHeader(body.length);
    this.bytes.set(body, this.pos);
    this.pos += body.length;
  }

  private binHeader(n: number): void {
    if (n < 0x100) {
      this.u8(0xc4);
      this.u8(n);
    } else if (n < 0x1_0000) {
      this.u8(0xc5);
      this.view.setUint16(this.pos, n);
      this.pos += 2;
    } else {
      this.u8(0xc6);
      this.view.setUint32(this.pos, n);
      this.pos += 4;
    }
  }

  finish(kind: number): Uint8Array {
    return this.bytes.subarray(0, this.finishLength(kind));
  }

  /** Writes the frame's header; returns its whole length (the frame is bytes[0..length)). */
  finishLength(kind: number): number {
    this.view.setUint32(0, this.pos - 4);
    this.view.setUint16(4, kind);
    return this.pos;
  }
}

function headersBound(headers: Record<string, string>): number {
  let bound = 5;
  for (const key in headers) bound += 10 + (key.length + headers[key].length) * 3;
  return bound;
}

let lastChannel: string | null = null;
let lastChannelBytes = new Uint8Array(0);
// The publisher's scratch writer: a frame written here is valid until the next one.
const scratch = new FrameWriter(4096);

/** A whole PUBLISH frame (a fresh array). */
export function publishFrame(
  channel: string,
  flags: number,
  replyTo: string | null,
  headers: Record<string, string>,
  body: Uint8Array,
): Uint8Array {
  const length = publishFrameShared(channel, flags, replyTo, headers, body, false);
  return sharedFrameBytes().slice(0, length);
}

/** The buffer publishFrameShared wrote its last frame into (at its start). */
export function sharedFrameBytes(): Uint8Array {
  return scratch.bytes;
}

/**
 * Writes a whole PUBLISH frame at the start of a buffer shared by every call
 * (sharedFrameBytes(), read after the call) and returns its length: the bytes are valid only
 * until the next call (the transport copies them at once). With `bodyIsRaw`, the body is the
 * MessagePack `bin` of the bytes `body` (what encodeBody makes of them, without making it).
 */
export function publishFrameShared(
  channel: string,
  flags: number,
  replyTo: string | null,
  headers: Record<string, string>,
  body: Uint8Array,
  bodyIsRaw: boolean,
): number {
  const capacity = 6 + 1 + 5 + channel.length * 3 + 2 + 5 + (replyTo ? replyTo.length * 3 : 0) + headersBound(headers) + 10 + body.length;
  const w = scratch.reset(capacity);
  w.u8(0x95);
  w.channel(channel);
  w.uint(flags);
  if (replyTo === null) w.u8(0xc0);
  else w.str(replyTo);
  w.headers(headers);
  if (bodyIsRaw) w.binOfBin(body);
  else w.bin(body);
  return w.finishLength(35);
}

/** A whole REQUEST frame. */
export function requestFrame(id: number | bigint, route: string, headers: Record<string, string>, body: Uint8Array): Uint8Array {
  const capacity = 6 + 1 + 9 + 5 + route.length * 3 + headersBound(headers) + 5 + body.length;
  const w = new FrameWriter(capacity);
  w.u8(0x94);
  w.uint(id);
  w.str(route);
  w.headers(headers);
  w.bin(body);
  return w.finish(16);
}
