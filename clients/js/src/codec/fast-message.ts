// A hand-written reader for MESSAGE, the frame a subscriber reads most. It accepts only the
// plain shape (and returns null for anything else, which the generic decoder then reads or
// refuses with its error), so it can never accept what the generic decoder refuses.
const utf8 = new TextDecoder("utf-8", { fatal: true });

export interface MessageFields {
  sids: number[];
  channel: string;
  flags: number;
  reply_to: string | null;
  headers: Record<string, string>;
  body: Uint8Array;
}

class Reader {
  pos = 0;
  b: Uint8Array = new Uint8Array(0);
  // The last channel read and its bytes: a subscriber mostly hears few channels, so the
  // string is made once and found again by comparing bytes.
  private lastChannel: string | null = null;
  private lastChannelBytes = new Uint8Array(0);

  reset(b: Uint8Array): this {
    this.b = b;
    this.pos = 0;
    return this;
  }

  channel(): string | null {
    const b = this.b;
    const start = this.pos;
    const n = this.strLength();
    if (n < 0 || this.pos + n > b.length) return null;
    const cached = this.lastChannelBytes;
    if (this.lastChannel !== null && cached.length === n) {
      let same = true;
      for (let i = 0; i < n; i++) {
        if (cached[i] !== b[this.pos + i]) {
          same = false;
          break;
        }
      }
      if (same) {
        this.pos += n;
        return this.lastChannel;
      }
    }
    this.pos = start;
    const text = this.str();
    if (text !== null) {
      this.lastChannel = text;
      this.lastChannelBytes = b.slice(this.pos - n, this.pos);
    }
    return text;
  }

  uint(): number {
    const b = this.b;
    const head = b[this.pos++];
    if (head <= 0x7f) return head;
    if (head === 0xcc) return b[this.pos++];
    if (head === 0xcd) {
      const v = (b[this.pos] << 8) | b[this.pos + 1];
      this.pos += 2;
      return v;
    }
    if (head === 0xce) {
      const v = ((b[this.pos] << 24) >>> 0) + (b[this.pos + 1] << 16) + (b[this.pos + 2] << 8) + b[this.pos + 3];
      this.pos += 4;
      return v;
    }
    return -1;
  }

  // The length of a str, or -1 if the next value is not one.
  strLength(): number {
    const b = this.b;
    const head = b[this.pos];
    if ((head & 0xe0) === 0xa0) {
      this.pos++;
      return head & 0x1f;
    }
    if (head === 0xd9) {
      this.pos += 2;
      return b[this.pos - 1];
    }
    if (head === 0xda) {
      this.pos += 3;
      return (b[this.pos - 2] << 8) | b[this.pos - 1];
    }
    return -1;
  }

  str(): string | null {
    const n = this.strLength();
    if (n < 0 || this.pos + n > this.b.length) return null;
    const start = this.pos;
    this.pos += n;
    if (n < 48) {
      let ascii = "";
      for (let i = start; i < start + n; i++) {
        const c = this.b[i];
        if (c >= 0x80) return this.decode(start, n);
        ascii += String.fromCharCode(c);
      }
      return ascii;
    }
    return this.decode(start, n);
  }

  private decode(start: number, n: number): string | null {
    try {
      return utf8.decode(this.b.subarray(start, start + n));
    } catch {
      return null;
    }
  }
}

const reader = new Reader();
const NO_HEADERS: Record<string, string> = Object.freeze({}) as Record<string, string>;

/** Reads a MESSAGE payload of the plain shape, or returns null (then use the generic path). */
export function readMessageFast(payload: Uint8Array): MessageFields | null {
  const r = reader.reset(payload);
  const b = payload;
  if (b[0] !== 0x96) return null;
  r.pos = 1;
  const count = b[r.pos++];
  if ((count & 0xf0) !== 0x90 || count === 0x90) return null;
  const sids: number[] = [];
  let last = -1;
  for (let i = 0; i < (count & 0x0f); i++) {
    const sid = r.uint();
    if (sid <= last) return null; // negative (not a plain uint) or not ascending
    sids.push(sid);
    last = sid;
  }
  const channel = r.channel();
  if (channel === null) return null;
  const flags = r.uint();
  if (flags < 0 || flags > 0xff || flags & ~0x7c) return null;
  let replyTo: string | null = null;
  if (b[r.pos] === 0xc0) r.pos++;
  else if ((replyTo = r.str()) === null) return null;
  const mapHead = b[r.pos++];
  if ((mapHead & 0xf0) !== 0x80) return null;
  // No headers (the usual case): one shared empty object, frozen so no reader can change it.
  const headers: Record<string, string> = mapHead === 0x80 ? NO_HEADERS : {};
  for (let i = 0; i < (mapHead & 0x0f); i++) {
    const key = r.str();
    const value = r.str();
    if (key === null || value === null || key === "__proto__") return null;
    headers[key] = value;
  }
  let n: number;
  const binHead = b[r.pos];
  if (binHead === 0xc4) {
    n = b[r.pos + 1];
    r.pos += 2;
  } else if (binHead === 0xc5) {
    n = (b[r.pos + 1] << 8) | b[r.pos + 2];
    r.pos += 3;
  } else if (binHead === 0xc6) {
    n = ((b[r.pos + 1] << 24) >>> 0) + (b[r.pos + 2] << 16) + (b[r.pos + 3] << 8) + b[r.pos + 4];
    r.pos += 5;
  } else return null;
  if (r.pos + n !== b.length) return null; // short, or bytes after the envelope
  return { sids, channel, flags, reply_to: replyTo, headers, body: b.subarray(r.pos, r.pos + n) };
}
