// WebSocket transport: one protocol frame per binary message (browsers and Node). Uses the
// platform's WebSocket (or the constructor given), so this file needs no Node built-in.
import { checkLength, type Frame } from "../codec/frames.js";
import { CodecError } from "../codec/codec-error.js";
import type { Transport, TransportEvents, TransportFactory, TransportOptions } from "./transport.js";

/** The part of the WebSocket API this transport uses (the browser's, or the `ws` package's). */
export interface WebSocketLike {
  binaryType: string;
  readonly bufferedAmount: number;
  readonly readyState: number;
  onopen: ((event: any) => void) | null;
  onclose: ((event: any) => void) | null;
  onerror: ((event: any) => void) | null;
  onmessage: ((event: any) => void) | null;
  send(data: Uint8Array): void;
  close(code?: number, reason?: string): void;
}

export type WebSocketConstructor = new (url: string, protocols?: string | string[]) => WebSocketLike;

/** Opens a WebSocket to `url` asking for `protocol`, with the transport's options. */
export type WebSocketOpener = (url: string, protocol: string, options: TransportOptions) => WebSocketLike;

/** The subprotocol asked for: a hubwire listener agrees to it. */
export const WEBSOCKET_PROTOCOL = "hubwire";

/** Opens sockets itself, and may say how to read and batch them (the `ws` package in Node). */
export interface WebSocketOpenerOptions {
  open: WebSocketOpener;
  /** The binaryType to ask for: "arraybuffer" (the default, what browsers give) or, for the
   * `ws` package, "nodebuffer" (a view of the bytes read, not a copy). */
  binaryType?: "arraybuffer" | "nodebuffer";
  /** Holds the socket's writes back until `release`: the messages sent in one tick go out in
   * one write. */
  hold?: (socket: WebSocketLike) => { release(): void } | null;
  /** The socket copies what it is given to send (the `ws` package masks into a new buffer):
   * frames are then passed as views, not copied first. */
  sendCopies?: boolean;
}

/** A factory for `ws://` and `wss://` over `WebSocketClass` (the global one by default), or
 * over an opener that builds the socket itself (Node passes TLS settings that way). */
export function webSocketTransport(WebSocketClass?: WebSocketConstructor | WebSocketOpenerOptions): TransportFactory {
  return (url, options, events) => openWebSocket(WebSocketClass, url, options, events);
}

function openWebSocket(
  WebSocketClass: WebSocketConstructor | WebSocketOpenerOptions | undefined,
  url: URL,
  options: TransportOptions,
  events: TransportEvents,
): Promise<Transport> {
  let openSocket: WebSocketOpener;
  let binaryType = "arraybuffer";
  let hold: WebSocketOpenerOptions["hold"];
  let sendCopies = false;
  if (WebSocketClass && "open" in WebSocketClass) {
    openSocket = WebSocketClass.open;
    sendCopies = WebSocketClass.sendCopies ?? false;
    binaryType = WebSocketClass.binaryType ?? binaryType;
    hold = WebSocketClass.hold;
  } else {
    const Ctor = WebSocketClass ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
    if (!Ctor) return Promise.reject(new Error("no WebSocket implementation in this environment"));
    openSocket = (href, protocol) => new Ctor(href, protocol);
  }
  return new Promise((resolve, reject) => {
    let socket: WebSocketLike;
    try {
      socket = openSocket(url.href, WEBSOCKET_PROTOCOL, options);
    } catch (error) {
      reject(error);
      return;
    }
    socket.binaryType = binaryType;
    let held: { release(): void } | null = null;
    const release = () => {
      const h = held;
      held = null;
      h?.release();
    };
    let open = false;
    let done = false;
    const finish = (error?: Error) => {
      if (done) return;
      done = true;
      if (open) events.closed(error);
      else reject(error ?? new Error(`${url.href}: closed before it opened`));
    };
    socket.onopen = () => {
      open = true;
      resolve(transport);
    };
    socket.onerror = (event) => finish(new Error(`${url.href}: ${event?.message ?? "WebSocket error"}`));
    socket.onclose = (event) => {
      const why = event?.reason || (event?.code ? `closed with code ${event.code}` : "closed");
      finish(open ? (event?.code === 1000 ? undefined : new Error(why)) : new Error(`${url.href}: ${why}`));
    };
    socket.onmessage = (event) => {
      if (done) return;
      const data = event.data;
      // An ArrayBuffer (browsers), or a Uint8Array view (the `ws` package's "nodebuffer").
      // A Buffer becomes a plain Uint8Array view (no copy): bodies read as bytes are the same
      // type as in browsers.
      const bytes = data instanceof ArrayBuffer ? new Uint8Array(data)
        : data instanceof Uint8Array ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength) : null;
      if (bytes === null) {
        socket.close(1003, "binary messages only");
        finish(new CodecError(100, "a text WebSocket message: the protocol is binary", true));
        return;
      }
      const frame = readMessage(bytes, options.maxFrame);
      if (frame instanceof Error) {
        socket.close(1002, frame.message.slice(0, 120));
        finish(frame);
        return;
      }
      events.frames([frame]);
    };
    const transport: Transport = {
      send: (frame) => {
        if (done) return;
        if (hold && held === null) {
          held = hold(socket);
          if (held) queueMicrotask(release);
        }
        socket.send(frame);
      },
      // `bytes` is reused by the caller once this returns: a copy, unless the socket makes
      // one itself.
      sendPart: (bytes, length) => transport.send(sendCopies ? bytes.subarray(0, length) : bytes.slice(0, length)),
      get pending() {
        return socket.bufferedAmount;
      },
      close: () => {
        if (socket.readyState <= 1) socket.close(1000, "client closing");
        finish();
      },
    };
  });
}

// One message holds exactly one frame: its length field must agree with the message's size.
function readMessage(bytes: Uint8Array, maxFrame: number): Frame | CodecError {
  if (bytes.length < 6) return new CodecError(100, `a WebSocket message of ${bytes.length} bytes is no frame`, true);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const length = view.getUint32(0);
  try {
    checkLength(length, maxFrame);
  } catch (error) {
    return error as CodecError;
  }
  if (length + 4 !== bytes.length) {
    return new CodecError(100, `a WebSocket message of ${bytes.length} bytes holds a frame of ${length + 4}`, true);
  }
  return { kind: view.getUint16(4), payload: bytes.subarray(6) };
}
