// Every envelope of docs/protocol.md (sections 3, 10.1, 11.1 and 12.1) as a record of typed fields,
// with the checks the text adds beyond types (flags, sid lists, channels and patterns).
import { CodecError } from "./codec-error.js";
import { DeliverFlag, EnqueueFlag, Flag, Kind, SubscribeFlag } from "./kinds.js";
import { readMessageFast } from "./fast-message.js";
import { encodeValue } from "./msgpack.js";
import { readStrict } from "./strict-reader.js";
import { readRecord, writeRecord, type FieldType } from "./schema.js";
import { canonicalPattern, checkGroup, normalChannel, TextError } from "./text.js";

const Subscribe = { sid: "u64", pattern: "str", group: { nullable: "str" }, flags: "u8" } as const;
const Publish = {
  channel: "str",
  flags: "u8",
  reply_to: { nullable: "str" },
  headers: "headers",
  body: "bin",
} as const;
const Interest = { pattern: "str", group: { nullable: "str" } } as const;

/** The fields of each kind's envelope, in wire order. */
export const ENVELOPES: Record<number, Record<string, FieldType>> = {
  [Kind.CONN]: { version: "u32", agent: "str", max_frame: "u32", max_in_flight: "u32" },
  [Kind.DISCONN]: { reason: "str" },
  [Kind.PING]: { nonce: "u64" },
  [Kind.PONG]: { nonce: "u64" },
  [Kind.AUTH]: { user: { nullable: "str" }, password: { nullable: "str" }, token: { nullable: "str" } },
  [Kind.AUTH_OK]: { user: "str" },
  [Kind.COMPRESS]: { algorithms: { list: "str" } },
  [Kind.REQUEST]: { id: "u64", route: "str", headers: "headers", body: "bin" },
  [Kind.RESPONSE]: { id: "u64", headers: "headers", body: "bin" },
  [Kind.ERROR]: { id: { nullable: "u64" }, code: "u16", message: "str" },
  [Kind.CANCEL]: { id: "u64" },
  [Kind.SUBSCRIBE]: Subscribe,
  [Kind.UNSUBSCRIBE]: { sid: "u64" },
  [Kind.SUBSCRIPTIONS]: { subscriptions: { list: { record: Subscribe } } },
  [Kind.PUBLISH]: Publish,
  [Kind.MESSAGE]: { sids: { list: "u64" }, ...Publish },
  [Kind.REFUSED]: { sid: { nullable: "u64" }, code: "u16", message: "str" },
  [Kind.BRIDGE_HELLO]: { hub: "u64", nonce: "bin", name: "str" },
  [Kind.BRIDGE_CHALLENGE]: { hub: "u64", nonce: "bin" },
  [Kind.BRIDGE_PROOF]: { mac: "bin" },
  [Kind.BRIDGE_LINK_STATE]: { origin: "u64", seq: "u64", neighbors: { list: "u64" } },
  [Kind.BRIDGE_INTEREST]: {
    origin: "u64",
    from_seq: "u64",
    to_seq: "u64",
    add: { list: { record: Interest } },
    remove: { list: { record: Interest } },
    full: { nullable: { record: { after: { nullable: { record: Interest } }, last: "bool" } } },
  },
  [Kind.BRIDGE_RESYNC]: { origin: "u64" },
  [Kind.BRIDGE_MESSAGE]: {
    origin: "u64",
    seq: "u64",
    hops: "u8",
    picks: { list: { record: { group: "str", hub: "u64" } } },
    publish: { record: Publish },
  },
  // The work queue (section 12.1).
  [Kind.WORK_STATUS]: { body: "bin" },
  [Kind.ENQUEUE]: { reference: "u64", queue: "str", flags: "u8", items: { list: "bin" } },
  [Kind.ENQUEUED]: { reference: "u64", ids: { list: "u64" } },
  [Kind.TAKE]: { queues: { list: "str" }, credit: "u32" },
  [Kind.TAKEN]: { credit: "u32" },
  [Kind.DELIVER]: { lease: "u64", queue: "str", id: "u64", delivery: "u32", visibility_ms: "u64", flags: "u8", body: "bin" },
  [Kind.ACK]: { lease: "u64" },
  [Kind.NACK]: { lease: "u64", delay_ms: "u64", reason: "str" },
  [Kind.REJECT]: { lease: "u64", reason: "str" },
  [Kind.PROGRESS]: { lease: "u64", extend_ms: "u64" },
};

export type Fields = Record<string, any>;

/** Encodes `fields` as the payload of a `kind` frame. */
export function encodePayload(kind: number, fields: Fields): Uint8Array {
  const record = ENVELOPES[kind];
  if (!record) throw new CodecError(103, `kind ${kind} is not known`);
  return encodeValue(writeRecord(record, fields));
}

/**
 * Decodes the payload of a `kind` frame into its fields, with every check of the protocol.
 * Throws CodecError carrying the code (and the request id or sid) the peer would answer.
 */
export function decodePayload(kind: number, payload: Uint8Array): Fields {
  if (kind === Kind.MESSAGE) {
    const fast = readMessageFast(payload);
    // The flag combinations are still checked here, like the generic path's.
    if (fast !== null) {
      CHECKS[Kind.MESSAGE](fast);
      return fast;
    }
  }
  return decodeGeneric(kind, payload);
}

/** decodePayload without the hand-written fast paths (the reference they are tested against). */
export function decodeGeneric(kind: number, payload: Uint8Array): Fields {
  const record = ENVELOPES[kind];
  if (!record) throw new CodecError(103, `kind ${kind} is not known`);
  let fields: Fields;
  try {
    fields = readRecord(record, readStrict(payload), kindName(kind));
  } catch (error) {
    const id = kind === Kind.REQUEST || kind === Kind.SUBSCRIBE || kind === Kind.UNSUBSCRIBE || kind === Kind.ENQUEUE ? peekFirstUint(payload) : null;
    if (error instanceof CodecError) throw new CodecError(error.code, error.message, false, id);
    throw new CodecError(100, `${kindName(kind)}: ${(error as Error).message}`, false, id);
  }
  CHECKS[kind]?.(fields);
  return fields;
}

function kindName(kind: number): string {
  return Object.entries(Kind).find(([, k]) => k === kind)?.[0] ?? `kind ${kind}`;
}

const CHECKS: Record<number, (fields: Fields) => void> = {
  [Kind.SUBSCRIBE]: (f) => checkSubscribe(f),
  [Kind.SUBSCRIPTIONS]: (f) => {
    const seen = new Set<unknown>();
    for (const entry of f.subscriptions) {
      if (seen.has(entry.sid)) {
        throw new CodecError(100, `SUBSCRIPTIONS: sid ${entry.sid} appears twice`, false, entry.sid);
      }
      seen.add(entry.sid);
    }
    for (const entry of f.subscriptions) checkSubscribe(entry);
  },
  [Kind.PUBLISH]: (f) => {
    checkChannels(f, null);
    checkPublishFlags(f.flags, f.reply_to);
  },
  [Kind.MESSAGE]: (f) => {
    if (f.sids.length === 0) throw new CodecError(100, "MESSAGE: no sids");
    for (let i = 1; i < f.sids.length; i++) {
      if (!(f.sids[i - 1] < f.sids[i])) throw new CodecError(100, "MESSAGE: sids not strictly ascending");
    }
    checkMessageFlags(f.flags);
  },
  [Kind.ENQUEUE]: (f) => {
    if (f.flags & ~EnqueueFlag.SEND_ALL) throw new CodecError(100, `ENQUEUE: unknown flags ${f.flags}`, false, f.reference);
  },
  [Kind.DELIVER]: (f) => {
    if (f.flags & ~DeliverFlag.BROADCAST) throw new CodecError(100, `DELIVER: unknown flags ${f.flags}`);
  },
  [Kind.BRIDGE_HELLO]: (f) => checkNonce(f.nonce),
  [Kind.BRIDGE_CHALLENGE]: (f) => checkNonce(f.nonce),
  [Kind.BRIDGE_INTEREST]: (f) => {
    const interests = [...f.add, ...f.remove, ...(f.full?.after ? [f.full.after] : [])];
    for (const interest of interests) bridgeText(() => canonicalPattern(interest.pattern));
  },
  [Kind.BRIDGE_MESSAGE]: (f) => {
    bridgeText(() => checkChannels(f.publish, null));
    checkPublishFlags(f.publish.flags, f.publish.reply_to);
  },
};

function checkSubscribe(f: Fields): void {
  if (f.flags & ~SubscribeFlag.NO_RETAINED) {
    throw new CodecError(100, `SUBSCRIBE: unknown flags ${f.flags}`, false, f.sid);
  }
  try {
    canonicalPattern(f.pattern);
    if (f.group !== null) checkGroup(f.group);
  } catch (error) {
    if (error instanceof TextError) throw new CodecError(300, error.message, false, f.sid);
    throw error;
  }
}

function checkChannels(f: Fields, sid: number | null): void {
  try {
    normalChannel(f.channel);
    if (f.reply_to !== null) normalChannel(f.reply_to);
  } catch (error) {
    if (error instanceof TextError) throw new CodecError(300, error.message, false, sid);
    throw error;
  }
}

// Inside a bridge envelope every problem is a protocol error: the link is between hubs.
function bridgeText(check: () => void): void {
  try {
    check();
  } catch (error) {
    if (error instanceof CodecError || error instanceof TextError) throw new CodecError(100, error.message);
    throw error;
  }
}

function checkNonce(nonce: Uint8Array): void {
  if (nonce.length !== 16) throw new CodecError(100, `nonce of ${nonce.length} bytes, not 16`);
}

const ANSWER = Flag.ACK | Flag.REPLY | Flag.ERROR;
const PUBLISH_FLAGS = Flag.NO_ECHO | Flag.RETAIN | Flag.REQUEST | ANSWER;
const MESSAGE_FLAGS = Flag.REQUEST | ANSWER | Flag.RETAINED;

/** The flag rules of section 10.2 for a PUBLISH. */
export function checkPublishFlags(flags: number, replyTo: string | null): void {
  if (flags & ~PUBLISH_FLAGS) throw new CodecError(100, `PUBLISH: flags ${flags} not allowed`);
  checkCombination(flags);
  if (flags & Flag.REQUEST && replyTo === null) throw new CodecError(100, "PUBLISH: REQUEST without reply_to");
}

function checkMessageFlags(flags: number): void {
  if (flags & ~MESSAGE_FLAGS) throw new CodecError(100, `MESSAGE: flags ${flags} not allowed`);
  checkCombination(flags);
}

function checkCombination(flags: number): void {
  if (flags & Flag.REQUEST && flags & (Flag.RETAIN | Flag.RETAINED | ANSWER)) {
    throw new CodecError(100, "REQUEST with RETAIN, RETAINED, ACK, REPLY or ERROR");
  }
  if (flags & Flag.REPLY && flags & Flag.ERROR) throw new CodecError(100, "REPLY with ERROR");
  if (flags & (Flag.RETAIN | Flag.RETAINED) && flags & ANSWER) {
    throw new CodecError(100, "RETAIN or RETAINED with ACK, REPLY or ERROR");
  }
}

/**
 * The first element of a payload that is a non-empty array, if it reads as a non-negative
 * integer: the id an ERROR (or the sid a REFUSED) names when the rest cannot be read.
 */
export function peekFirstUint(payload: Uint8Array): number | bigint | null {
  if (payload.length < 2) return null;
  const head = payload[0];
  let at: number;
  if (head >= 0x91 && head <= 0x9f) at = 1;
  else if (head === 0xdc && payload.length > 3 && (payload[1] | payload[2]) !== 0) at = 3;
  else if (head === 0xdd && payload.length > 5 && (payload[1] | payload[2] | payload[3] | payload[4]) !== 0) at = 5;
  else return null;
  const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  const b = payload[at];
  const left = payload.length - at - 1;
  if (b <= 0x7f) return b;
  const sizes: Record<number, number> = { 0xcc: 1, 0xcd: 2, 0xce: 4, 0xcf: 8, 0xd0: 1, 0xd1: 2, 0xd2: 4, 0xd3: 8 };
  const size = sizes[b];
  if (size === undefined || left < size) return null;
  const p = at + 1;
  let value: number | bigint;
  switch (b) {
    case 0xcc: value = view.getUint8(p); break;
    case 0xcd: value = view.getUint16(p); break;
    case 0xce: value = view.getUint32(p); break;
    case 0xcf: value = view.getBigUint64(p); break;
    case 0xd0: value = view.getInt8(p); break;
    case 0xd1: value = view.getInt16(p); break;
    case 0xd2: value = view.getInt32(p); break;
    default: value = view.getBigInt64(p);
  }
  if (value < 0) return null;
  if (typeof value === "bigint" && value <= BigInt(Number.MAX_SAFE_INTEGER)) return Number(value);
  return value;
}
