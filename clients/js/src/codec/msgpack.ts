// MessagePack for envelopes and bodies, on top of @msgpack/msgpack.
//
// Integers: the protocol writes every integer in its smallest form, and a body may hold
// 64-bit values. Numbers stay numbers while they are safe integers; anything beyond 2^53 is a
// BigInt, in and out, so nothing is rounded.
import { Decoder, Encoder } from "@msgpack/msgpack";

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const MIN_SAFE = BigInt(Number.MIN_SAFE_INTEGER);
const TWO_32 = 0x1_0000_0000;

// The fast encoder writes numbers (uint64 for big safe integers) but knows no BigInt; the
// BigInt encoder is used only for a value that holds one.
const plainEncoder = new Encoder({ ignoreUndefined: true });
const bigEncoder = new Encoder({ useBigInt64: true, ignoreUndefined: true });
const plainDecoder = new Decoder();
const bigDecoder = new Decoder({ useBigInt64: true });

/** Encodes `value`; BigInts are written in the smallest integer form that holds them. */
export function encodeValue(value: unknown): Uint8Array {
  try {
    return plainEncoder.encode(value);
  } catch (error) {
    if (!containsBigInt(value, 0)) throw error;
    return bigEncoder.encode(widenForBigEncoder(value, 0));
  }
}

/**
 * Decodes one MessagePack value (bytes after it are an error). 64-bit integers that fit a
 * safe JavaScript number come back as numbers, the others as BigInt.
 */
export function decodeValue(bytes: Uint8Array): unknown {
  // 0xcf / 0xd3 are the 64-bit integer forms; without such a byte anywhere, no 64-bit integer
  // can be in the value, and the plain decoder is exact.
  if (bytes.indexOf(0xcf) < 0 && bytes.indexOf(0xd3) < 0) return plainDecoder.decode(bytes);
  return narrowBigInts(bigDecoder.decode(bytes));
}

function containsBigInt(value: unknown, depth: number): boolean {
  if (typeof value === "bigint") return true;
  if (depth > 100 || value === null || typeof value !== "object") return false;
  if (value instanceof Uint8Array) return false;
  if (Array.isArray(value)) return value.some((v) => containsBigInt(v, depth + 1));
  if (value instanceof Map) {
    for (const [k, v] of value) if (containsBigInt(k, depth + 1) || containsBigInt(v, depth + 1)) return true;
    return false;
  }
  return Object.values(value).some((v) => containsBigInt(v, depth + 1));
}

// For the BigInt encoder: small BigInts become numbers (so they get their smallest form) and
// integers at or over 2^32 become BigInts (that encoder would write them as floats).
function widenForBigEncoder(value: unknown, depth: number): unknown {
  if (typeof value === "bigint") {
    return value <= MAX_SAFE && value >= MIN_SAFE && Math.abs(Number(value)) < TWO_32
      ? Number(value)
      : value;
  }
  if (typeof value === "number") {
    return Number.isSafeInteger(value) && Math.abs(value) >= TWO_32 ? BigInt(value) : value;
  }
  if (depth > 100 || value === null || typeof value !== "object" || value instanceof Uint8Array) {
    return value;
  }
  if (Array.isArray(value)) return value.map((v) => widenForBigEncoder(v, depth + 1));
  if (value instanceof Map) {
    const out = new Map();
    for (const [k, v] of value) out.set(k, widenForBigEncoder(v, depth + 1));
    return out;
  }
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = widenForBigEncoder(v, depth + 1);
  return out;
}

function narrowBigInts(value: unknown): unknown {
  if (typeof value === "bigint") {
    return value <= MAX_SAFE && value >= MIN_SAFE ? Number(value) : value;
  }
  if (value === null || typeof value !== "object" || value instanceof Uint8Array) return value;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) value[i] = narrowBigInts(value[i]);
    return value;
  }
  const record = value as Record<string, unknown>;
  for (const key of Object.keys(record)) record[key] = narrowBigInts(record[key]);
  return record;
}

/**
 * A body as the protocol carries it: the MessagePack encoding of a value. `undefined` gives
 * an empty body (read back as `null`); a `Uint8Array` is sent as a `bin` value.
 */
export function encodeBody(value: unknown): Uint8Array {
  if (value === undefined) return new Uint8Array(0);
  return encodeValue(value);
}

/** Reads a body: empty reads as `null`. */
export function decodeBody(bytes: Uint8Array): unknown {
  if (bytes.length === 0) return null;
  return decodeValue(bytes);
}
