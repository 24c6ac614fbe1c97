// Channels and patterns as docs/pubsub.md defines them: slash-separated tokens, `*` one token,
// `**` zero or more, at most 1024 bytes and 64 tokens, no control characters.

export const MAX_TEXT_BYTES = 1024;
export const MAX_TOKENS = 64;
export const MAX_GROUP_BYTES = 128;

const utf8 = new TextEncoder();

/** What is wrong with a channel, pattern or group (the hub would answer `invalid-body`). */
export class TextError extends Error {
  override name = "TextError";
}

// Rust's char::is_control: the C0 controls, DEL and the C1 controls.
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

function checkText(what: string, input: string): void {
  if (typeof input !== "string") throw new TextError(`${what} must be a string`);
  const len = utf8.encode(input).length;
  if (len > MAX_TEXT_BYTES) {
    throw new TextError(`${what} is ${len} bytes long, over the ${MAX_TEXT_BYTES} allowed`);
  }
  const control = CONTROL.exec(input);
  if (control) {
    const code = control[0].charCodeAt(0).toString(16).padStart(4, "0");
    throw new TextError(`${what} holds the control character U+${code} at ${control.index}`);
  }
}

function tokensOf(input: string): string[] {
  return input.split("/").filter((token) => token.length > 0);
}

// Channels are published to again and again: remember the last few thousand checked.
const checkedChannels = new Map<string, string>();
const CHECKED_CHANNELS_MAX = 4096;

/** Parses a channel (no wildcards) and returns its normal form (`/a//b/` is `a/b`). */
export function normalChannel(input: string): string {
  const known = checkedChannels.get(input);
  if (known !== undefined) return known;
  const normal = parseChannel(input);
  if (checkedChannels.size >= CHECKED_CHANNELS_MAX) checkedChannels.clear();
  checkedChannels.set(input, normal);
  return normal;
}

function parseChannel(input: string): string {
  checkText("channel", input);
  const tokens = tokensOf(input);
  const wildcard = tokens.findIndex((t) => t === "*" || t === "**");
  if (wildcard >= 0) {
    throw new TextError(`channel "${input}" has the wildcard ${tokens[wildcard]} (token ${wildcard}): publish to a concrete channel`);
  }
  if (tokens.length > MAX_TOKENS) {
    throw new TextError(`channel has ${tokens.length} tokens, over the ${MAX_TOKENS} allowed`);
  }
  return tokens.join("/");
}

/** Parses a pattern and returns its canonical form (`**` + `/*` is written `*` + `/**`). */
export function canonicalPattern(input: string): string {
  checkText("pattern", input);
  const out: string[] = [];
  let stars = 0;
  let globstar = false;
  const endRun = () => {
    for (let i = 0; i < stars; i++) out.push("*");
    if (globstar) out.push("**");
    stars = 0;
    globstar = false;
  };
  for (const token of tokensOf(input)) {
    if (token === "*") stars++;
    else if (token === "**") globstar = true;
    else {
      endRun();
      out.push(token);
    }
  }
  endRun();
  if (out.length > MAX_TOKENS) {
    throw new TextError(`pattern has ${out.length} tokens, over the ${MAX_TOKENS} allowed`);
  }
  return out.join("/");
}

/** Checks a queue group's name: 1 to 128 bytes, no control characters. */
export function checkGroup(group: string): void {
  if (typeof group !== "string") throw new TextError("group must be a string");
  const len = utf8.encode(group).length;
  if (len === 0 || len > MAX_GROUP_BYTES) {
    throw new TextError(`group must be 1 to ${MAX_GROUP_BYTES} bytes, not ${len}`);
  }
  if (CONTROL.test(group)) throw new TextError("group holds a control character");
}
