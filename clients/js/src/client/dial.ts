// One connection attempt: open the transport, send CONN (and AUTH with credentials), read the
// server's CONN (and AUTH_OK) or its refusal within the connect timeout (docs/protocol.md,
// section 5, "Handshake" and "Authentication").
import { DEFAULT_MAX_FRAME, encodeFrame, type Frame } from "../codec/frames.js";
import { decodePayload, ENVELOPES, type Fields } from "../codec/envelopes.js";
import { readRecord } from "../codec/schema.js";
import { readStrict } from "../codec/strict-reader.js";
import { Kind, PROTOCOL_VERSION } from "../codec/kinds.js";
import { ConnectError, errorForCode, HubwireError, ProtocolError } from "../errors.js";
import type { Transport } from "../transport/transport.js";
import type { ResolvedOptions } from "./options.js";

/** One open connection and what the server announced in its CONN. */
export interface Link {
  transport: Transport;
  server: URL;
  maxFrame: number;
  maxInFlight: number;
  /** Why it is closing, when known before the transport says so (DISCONN, ERROR, stale). */
  disconnectReason: string | null;
}

/** What the client hears from a link. `established` is called synchronously with the
 * server's CONN, before any frame that came after it in the same read. */
export interface DialHooks {
  established(link: Link): void;
  frames(link: Link, frames: Frame[]): void;
  closed(link: Link, error?: Error): void;
}

/** Connects to `server`; resolves once the handshake is done, rejects with a HubwireError
 * (ConnectError for anything that may pass when the server is back). */
export function dial(server: URL, options: ResolvedOptions, hooks: DialHooks): Promise<void> {
  const factory = options.transports[server.protocol];
  if (!factory) {
    const known = Object.keys(options.transports).join(" ");
    return Promise.reject(new ConnectError(`no transport for ${server.protocol} in this build (${known})`));
  }
  return new Promise<void>((resolve, reject) => {
    let link: Link | null = null;
    let shaking = true;
    const { user, password, token } = options.auth;
    const credentials = user !== undefined || password !== undefined || token !== undefined;
    // With credentials, the handshake ends at AUTH_OK, not at the server's CONN.
    let awaitingAuth = credentials;
    let settled = false;
    const settle = (error?: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (error) {
        reject(error);
        link?.transport.close();
      } else {
        resolve();
      }
    };
    const timer = setTimeout(() => settle(new ConnectError(`no CONN answer within ${options.timeout} ms`)), options.timeout);
    const events = {
      frames: (frames: Frame[]) => {
        if (!link) return;
        if (shaking) {
          shaking = false;
          const error = readHello(link, frames[0]);
          if (error || settled) {
            settle(error ?? undefined);
            return;
          }
          frames = frames.slice(1);
          if (!awaitingAuth) {
            settle();
            hooks.established(link);
          }
        }
        if (awaitingAuth) {
          if (frames.length === 0) return;
          awaitingAuth = false;
          const error = readAuthAnswer(frames[0]);
          if (error || settled) {
            settle(error ?? undefined);
            return;
          }
          settle();
          hooks.established(link);
          frames = frames.slice(1);
        }
        if (frames.length === 0) return;
        hooks.frames(link, frames);
      },
      closed: (error?: Error) => {
        if (!link) return;
        if (shaking || awaitingAuth) {
          // Closed before the server's CONN: a failure to connect (the server may soon be back).
          shaking = false;
          awaitingAuth = false;
          settle(new ConnectError(link.disconnectReason ?? error?.message ?? "closed before its CONN answer"));
          return;
        }
        hooks.closed(link, error);
      },
    };
    factory(server, { maxFrame: options.maxFrame, tls: options.auth.tls }, events).then(
      (transport) => {
        if (settled) {
          transport.close();
          return;
        }
        link = { transport, server, maxFrame: DEFAULT_MAX_FRAME, maxInFlight: 0, disconnectReason: null };
        transport.send(encodeFrame(Kind.CONN, {
          version: PROTOCOL_VERSION,
          agent: options.name,
          max_frame: options.maxFrame,
          max_in_flight: 0,
        }));
        if (credentials) {
          // Right behind CONN: no round trip is added.
          transport.send(encodeFrame(Kind.AUTH, { user: user ?? null, password: password ?? null, token: token ?? null }));
        }
      },
      (error) => settle(new ConnectError((error as Error).message, { cause: error })),
    );
  });
}

// The server's first frame: its CONN (kept in `link`), or why it refused.
function readHello(link: Link, frame: Frame): HubwireError | null {
  try {
    switch (frame.kind) {
      case Kind.CONN: {
        const hello = readServerHello(frame.payload);
        if (hello.version !== PROTOCOL_VERSION) {
          return errorForCode(101, `the server speaks protocol version ${hello.version}, this client ${PROTOCOL_VERSION}`);
        }
        if (hello.max_frame < 64) return new ProtocolError(`the server announced a max_frame of ${hello.max_frame}, under 64`);
        link.maxFrame = hello.max_frame;
        link.maxInFlight = hello.max_in_flight;
        return null;
      }
      case Kind.ERROR: {
        const error = decodePayload(Kind.ERROR, frame.payload);
        return errorForCode(error.code, error.message);
      }
      case Kind.DISCONN:
        return new ConnectError(`the server said goodbye before its CONN: ${decodePayload(Kind.DISCONN, frame.payload).reason}`);
      default:
        return new ProtocolError(`the server's first frame is of kind ${frame.kind}, not CONN`);
    }
  } catch (error) {
    return new ProtocolError(`the server's first frame cannot be read: ${(error as Error).message}`);
  }
}

// The server's CONN: its four fields, checked as section 3 says; elements after them (optional
// fields a later server adds, such as negotiated features) are ignored, so an older client
// still connects.
function readServerHello(payload: Uint8Array): Fields {
  const value = readStrict(payload);
  const known = Object.keys(ENVELOPES[Kind.CONN]).length;
  const fields = Array.isArray(value) && value.length > known ? value.slice(0, known) : value;
  return readRecord(ENVELOPES[Kind.CONN], fields, "CONN");
}

// The server's answer to AUTH: AUTH_OK, or why it refused (ERROR 200 denied, then it closes).
function readAuthAnswer(frame: Frame): HubwireError | null {
  try {
    switch (frame.kind) {
      case Kind.AUTH_OK:
        decodePayload(Kind.AUTH_OK, frame.payload);
        return null;
      case Kind.ERROR: {
        const error = decodePayload(Kind.ERROR, frame.payload);
        return errorForCode(error.code, error.message);
      }
      case Kind.DISCONN:
        return new ConnectError(`the server said goodbye before accepting the credentials: ${decodePayload(Kind.DISCONN, frame.payload).reason}`);
      default:
        return new ProtocolError(`the server answered the credentials with a frame of kind ${frame.kind}, not AUTH_OK`);
    }
  } catch (error) {
    return new ProtocolError(`the server's answer to the credentials cannot be read: ${(error as Error).message}`);
  }
}
