// Reads docs/protocol-vectors.json keeping 64-bit integers exact (JSON.parse would round
// integers over 2^53, and the vectors hold hub ids up to 2^64 - 1).
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

export const VECTORS_PATH = fileURLToPath(new URL("../../../../docs/protocol-vectors.json", import.meta.url));

export function loadVectors() {
  const text = readFileSync(VECTORS_PATH, "utf8");
  // Integers of 16 digits or more, outside strings, become tagged strings first.
  const tagged = text.replace(/("(?:[^"\\]|\\.)*")|(-?\d{16,})(?![\d.eE])/g, (match, string, big) =>
    string !== undefined ? string : `"\\u0000big:${big}"`,
  );
  return JSON.parse(tagged, (_key, value) => {
    if (typeof value === "string" && value.startsWith("\u0000big:")) {
      const big = BigInt(value.slice(5));
      return big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : big;
    }
    return value;
  });
}

export const hex = {
  from: (text) => Uint8Array.from(text.match(/../g) ?? [], (h) => parseInt(h, 16)),
  of: (bytes) => Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join(""),
};

// The vectors name byte fields `<name>_hex`; the codec holds them as Uint8Array `<name>`.
export function fromVectorFields(fields) {
  if (Array.isArray(fields)) return fields.map(fromVectorFields);
  if (fields === null || typeof fields !== "object") return fields;
  const out = {};
  for (const [key, value] of Object.entries(fields)) {
    if (key.endsWith("_hex")) out[key.slice(0, -4)] = Array.isArray(value) ? value.map(hex.from) : hex.from(value);
    else out[key] = fromVectorFields(value);
  }
  return out;
}

export function toVectorFields(fields) {
  if (Array.isArray(fields)) return fields.map(toVectorFields);
  if (fields === null || typeof fields !== "object") return fields;
  const out = {};
  for (const [key, value] of Object.entries(fields)) {
    if (value instanceof Uint8Array) out[`${key}_hex`] = hex.of(value);
    else if (Array.isArray(value) && value.length > 0 && value.every((v) => v instanceof Uint8Array)) {
      out[`${key}_hex`] = value.map(hex.of); // a list of bins (ENQUEUE's items)
    }
    else out[key] = toVectorFields(value);
  }
  return out;
}
