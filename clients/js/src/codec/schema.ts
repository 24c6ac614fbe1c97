// A small description language for envelopes: each envelope is an array of typed fields, and
// one reader and one writer serve them all (docs/protocol.md, section 3: exact element counts,
// exact types, unsigned integers in range).
import { CodecError } from "./codec-error.js";

export type FieldType =
  | "u8"
  | "u16"
  | "u32"
  | "u64"
  | "str"
  | "bin"
  | "bool"
  | "headers"
  | { nullable: FieldType }
  | { list: FieldType }
  | { record: Record<string, FieldType> };

const MAX_U64 = (1n << 64n) - 1n;
const TWO_32 = 0x1_0000_0000;
const BOUNDS: Record<string, number> = { u8: 0xff, u16: 0xffff, u32: 0xffff_ffff };

function fail(message: string): never {
  throw new CodecError(100, message);
}

/** Reads `value` (as @msgpack/msgpack decoded it) as a `type`; `at` names it in errors. */
export function readField(type: FieldType, value: unknown, at: string): unknown {
  if (typeof type === "string") {
    switch (type) {
      case "u8":
      case "u16":
      case "u32":
      case "u64":
        return readUint(type, value, at);
      case "str":
        if (typeof value !== "string") fail(`${at}: expected a str`);
        return value;
      case "bin":
        if (!(value instanceof Uint8Array)) fail(`${at}: expected a bin`);
        return value;
      case "bool":
        if (typeof value !== "boolean") fail(`${at}: expected a bool`);
        return value;
      case "headers":
        return readHeaders(value, at);
    }
  }
  if ("nullable" in type) return value === null ? null : readField(type.nullable, value, at);
  if ("list" in type) {
    if (!Array.isArray(value)) fail(`${at}: expected an array`);
    return value.map((item, i) => readField(type.list, item, `${at}[${i}]`));
  }
  return readRecord(type.record, value, at);
}

/** Reads an array holding exactly the record's fields, in order. */
export function readRecord(record: Record<string, FieldType>, value: unknown, at: string): Record<string, unknown> {
  if (!Array.isArray(value)) fail(`${at}: expected an array`);
  const names = Object.keys(record);
  if (value.length !== names.length) {
    fail(`${at}: expected an array of ${names.length} elements, got ${value.length}`);
  }
  const out: Record<string, unknown> = {};
  names.forEach((name, i) => {
    out[name] = readField(record[name], value[i], `${at}.${name}`);
  });
  return out;
}

function readUint(type: "u8" | "u16" | "u32" | "u64", value: unknown, at: string): number | bigint {
  if (typeof value === "number") {
    if (!Number.isInteger(value) || value < 0) fail(`${at}: expected an unsigned integer`);
    if (type !== "u64" && value > BOUNDS[type]) fail(`${at}: ${value} is out of the ${type} range`);
    return value;
  }
  if (typeof value === "bigint" && type === "u64") {
    if (value < 0n || value > MAX_U64) fail(`${at}: out of the u64 range`);
    return value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value;
  }
  if (typeof value === "bigint") fail(`${at}: ${value} is out of the ${type} range`);
  fail(`${at}: expected an unsigned integer`);
}

function readHeaders(value: unknown, at: string): Record<string, string> {
  if (value === null || typeof value !== "object" || Array.isArray(value) || value instanceof Uint8Array) {
    fail(`${at}: expected a map of str to str`);
  }
  const out: Record<string, string> = {};
  for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
    if (typeof v !== "string") fail(`${at}: the value of "${key}" is not a str`);
    out[key] = v;
  }
  return out;
}

/** Turns `value` into what the encoder writes for a `type` (arrays for records). */
export function writeField(type: FieldType, value: unknown): unknown {
  if (typeof type === "string") {
    switch (type) {
      case "u8":
      case "u16":
      case "u32":
      case "u64":
        // Over 2^32 the BigInt path of encodeValue writes uint 64 (its smallest form there).
        return typeof value === "number" && value >= TWO_32 ? BigInt(value) : value;
      case "headers":
        return sortedHeaders(value as Record<string, string>);
      default:
        return value;
    }
  }
  if ("nullable" in type) return value === null || value === undefined ? null : writeField(type.nullable, value);
  if ("list" in type) return (value as unknown[]).map((item) => writeField(type.list, item));
  return writeRecord(type.record, value as Record<string, unknown>);
}

export function writeRecord(record: Record<string, FieldType>, value: Record<string, unknown>): unknown[] {
  return Object.keys(record).map((name) => writeField(record[name], value[name]));
}

/** Headers with their keys in byte order, as the reference encoder writes them. */
export function sortedHeaders(headers: Record<string, string> | undefined): Record<string, string> {
  if (!headers) return {};
  const keys = Object.keys(headers);
  if (keys.length < 2) return headers;
  const out: Record<string, string> = {};
  for (const key of keys.sort(byBytes)) out[key] = headers[key];
  return out;
}

const utf8 = new TextEncoder();
function byBytes(a: string, b: string): number {
  const x = utf8.encode(a);
  const y = utf8.encode(b);
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i] - y[i];
  return x.length - y.length;
}
