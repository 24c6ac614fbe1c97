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

  bin(body: Uint8Array): void {
    const n = body.length;
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
    this.bytes.set(body, this.pos);
    this.pos += n;
  }

  finish(kind: number): Uint8Array {
    this.view.setUint32(0, this.pos - 4);
    this.view.setUint16(4, kind);
    return this.bytes.subarray(0, this.pos);
  }
}

function headersBound(headers: Record<string, string>): number {
  let bound = 5;
  for (const key in headers) bound += 10 + (key.length + headers[key].length) * 3;
  return bound;
}

/** A whole PUBLISH frame. */
export function publishFrame(
  channel: string,
  flags: number,
  replyTo: string | null,
  headers: Record<string, string>,
  body: Uint8Array,
): Uint8Array {
  const capacity = 6 + 1 + 5 + channel.length * 3 + 2 + 5 + (replyTo ? replyTo.length * 3 : 0) + headersBound(headers) + 5 + body.length;
  const w = new FrameWriter(capacity);
  w.u8(0x95);
  w.str(channel);
  w.uint(flags);
  if (replyTo === null) w.u8(0xc0);
  else w.str(replyTo);
  w.headers(headers);
  w.bin(body);
  return w.finish(35);
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
