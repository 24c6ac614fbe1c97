// What a connection needs from a transport: whole frames in, bytes out, one close.
import type { Frame } from "../codec/frames.js";

/** What the connection hears from its transport. */
export interface TransportEvents {
  /** Whole frames, in order, from one read. */
  frames(frames: Frame[]): void;
  /** The transport is closed (by either side); `error` says why when it failed. */
  closed(error?: Error): void;
}

/** An open transport. */
export interface Transport {
  /** Queues one whole frame for sending; the frame is the transport's to keep. */
  send(frame: Uint8Array): void;
  /** Optional, for speed: queues the frame `bytes[0..length)`, copying what it keeps (the
   * caller reuses `bytes` once this returns). Without it the client sends a copy. */
  sendPart?(bytes: Uint8Array, length: number): void;
  /** Bytes queued and not yet written (for back-pressure and benchmarks). */
  readonly pending: number;
  /** Closes; `closed` is reported once, whoever closed first. */
  close(): void;
}

/** What opening a transport needs. */
export interface TransportOptions {
  /** Our maximum frame length; a longer frame ends the transport (framing lost). */
  maxFrame: number;
  /** Node TLS settings for `tls://` and `wss://` (ignored by browsers, which use their own). */
  tls?: TlsOptions;
}

/** TLS settings (Node): PEM text or bytes; a CA besides the system roots, a client certificate. */
export interface TlsOptions {
  ca?: string | Uint8Array;
  cert?: string | Uint8Array;
  key?: string | Uint8Array;
  /** The name to check the server's certificate against (default: the URL's host). */
  servername?: string;
}

/** Opens a transport to `url`, resolving once it can send (before the CONN handshake). */
export type TransportFactory = (url: URL, options: TransportOptions, events: TransportEvents) => Promise<Transport>;
