// A strict MessagePack reader for envelopes (docs/protocol.md, sections 3 and 9): text must be
// valid UTF-8, map keys must be text, an array or map may not announce more elements than the
// bytes left could hold, nothing may follow the value, and the types envelopes never use
// (floats, extensions) are refused. Bodies are read with @msgpack/msgpack instead.
import { CodecError } from "./codec-error.js";

const utf8 = new TextDecoder("utf-8", { fatal: true });
const MAX_DEPTH = 32;
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

function fail(message: string): never {
  throw new CodecError(100, message);
}

/** Reads exactly one value from `bytes`. */
export function readStrict(bytes: Uint8Array): unknown {
  const reader = new StrictReader(bytes);
  const value = reader.value(0);
  if (reader.pos !== bytes.length) fail(`${bytes.length - reader.pos} bytes after the envelope`);
  return value;
}

class StrictReader {
  pos = 0;
  private readonly view: DataView;

  constructor(private readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  private need(n: number): void {
    if (this.bytes.length - this.pos < n) fail("the payload ends inside a value");
  }

  private u8(): number {
    this.need(1);
    return this.bytes[this.pos++];
  }

  private u16(): number {
    this.need(2);
    const v = this.view.getUint16(this.pos);
    this.pos += 2;
    return v;
  }

  private u32(): number {
    this.need(4);
    const v = this.view.getUint32(this.pos);
    this.pos += 4;
    return v;
  }

  value(depth: number): unknown {
    if (depth > MAX_DEPTH) fail("values nested too deep");
    const head = this.u8();
    if (head <= 0x7f) return head;
    if (head >= 0xe0) return head - 0x100;
    if (head <= 0x8f) return this.map(head & 0x0f, depth);
    if (head <= 0x9f) return this.array(head & 0x0f, depth);
    if (head <= 0xbf) return this.str(head & 0x1f);
    switch (head) {
      case 0xc0: return null;
      case 0xc2: return false;
      case 0xc3: return true;
      case 0xc4: return this.bin(this.u8());
      case 0xc5: return this.bin(this.u16());
      case 0xc6: return this.bin(this.u32());
      case 0xcc: return this.u8();
      case 0xcd: return this.u16();
      case 0xce: return this.u32();
      case 0xcf: {
        this.need(8);
        const v = this.view.getBigUint64(this.pos);
        this.pos += 8;
        return v <= MAX_SAFE ? Number(v) : v;
      }
      case 0xd0: {
        this.need(1);
        return this.view.getInt8(this.pos++);
      }
      case 0xd1: {
        this.need(2);
        const v = this.view.getInt16(this.pos);
        this.pos += 2;
        return v;
      }
      case 0xd2: {
        this.need(4);
        const v = this.view.getInt32(this.pos);
        this.pos += 4;
        return v;
      }
      case 0xd3: {
        this.need(8);
        const v = this.view.getBigInt64(this.pos);
        this.pos += 8;
        return v <= MAX_SAFE && v >= -MAX_SAFE ? Number(v) : v;
      }
      case 0xd9: return this.str(this.u8());
      case 0xda: return this.str(this.u16());
      case 0xdb: return this.str(this.u32());
      case 0xdc: return this.array(this.u16(), depth);
      case 0xdd: return this.array(this.u32(), depth);
      case 0xde: return this.map(this.u16(), depth);
      case 0xdf: return this.map(this.u32(), depth);
      default:
        return fail(`0x${head.toString(16)} (a float, an extension or unused) is no envelope value`);
    }
  }

  private str(n: number): string {
    this.need(n);
    const start = this.pos;
    this.pos += n;
    try {
      return utf8.decode(this.bytes.subarray(start, start + n));
    } catch {
      return fail("text that is not UTF-8");
    }
  }

  private bin(n: number): Uint8Array {
    this.need(n);
    const start = this.pos;
    this.pos += n;
    return this.bytes.subarray(start, start + n);
  }

  // Refused before anything is read or reserved: an element takes at least one byte.
  private array(n: number, depth: number): unknown[] {
    if (n > this.bytes.length - this.pos) fail(`an array of ${n} elements in ${this.bytes.length - this.pos} bytes`);
    const out = new Array(n);
    for (let i = 0; i < n; i++) out[i] = this.value(depth + 1);
    return out;
  }

  private map(n: number, depth: number): Record<string, unknown> {
    if (2 * n > this.bytes.length - this.pos) fail(`a map of ${n} entries in ${this.bytes.length - this.pos} bytes`);
    const out: Record<string, unknown> = {};
    for (let i = 0; i < n; i++) {
      const key = this.value(depth + 1);
      if (typeof key !== "string") fail("a map key that is not text");
      const value = this.value(depth + 1);
      // A key named __proto__ is data here, not the object's prototype.
      Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
    }
    return out;
  }
}
