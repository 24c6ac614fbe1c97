// One connection to a dispatcher's work listener (docs/protocol.md, section 12): the CONN
// handshake of section 5 (and AUTH with credentials), PONG for the dispatcher's PINGs, and the
// other frames handed to the producer or worker that owns it. No reconnect: a lost link fails
// what waits on it (the dispatcher gives a lost worker's items to others).
import { CodecError } from "../codec/codec-error.js";
import { decodePayload, type Fields } from "../codec/envelopes.js";
import { encodeFrame, type Frame } from "../codec/frames.js";
import { Kind } from "../codec/kinds.js";
import { dial, type Link } from "../client/dial.js";
import { resolveOptions, type AuthOptions } from "../client/options.js";
import { ConnectionLostError, ProtocolError, type HubwireError } from "../errors.js";
import type { TransportFactory } from "../transport/transport.js";

/** How to reach a dispatcher. */
export interface WorkConnectOptions {
  /** The dispatcher's work listener (`tcp://`, `unix://`...), or several tried in order. */
  servers: string | string[];
  /** Time for the connection and its handshake, in ms (5000). */
  timeout?: number;
  /** Credentials (docs/security.md), as for `connect`. */
  auth?: AuthOptions;
  /** The largest frame accepted, announced in CONN (1 MiB). */
  maxFrame?: number;
  /** The name in the CONN frame: the dispatcher shows it in its figures. */
  name?: string;
  /** Transports by URL scheme; the entry point sets those it has. */
  transports?: Record<string, TransportFactory>;
}

/** What the owner of a work link hears. */
export interface WorkLinkHandler {
  /** One decoded frame of a work kind, ERROR or DISCONN. */
  frame(kind: number, fields: Fields): void;
  /** A frame that could not be read (skipped; the connection stays). */
  unreadable(error: HubwireError): void;
  /** The connection is gone; `reason` says why. */
  closed(reason: string): void;
}

export class WorkLink {
  private link: Link | null = null;
  private goodbye: string | null = null;
  private done = false;

  private constructor(private handler: WorkLinkHandler) {}

  /** Connects and completes the handshake. */
  static async open(options: WorkConnectOptions, defaultName: string, handler: WorkLinkHandler): Promise<WorkLink> {
    const resolved = resolveOptions({
      servers: options.servers,
      timeout: options.timeout,
      auth: options.auth,
      maxFrame: options.maxFrame,
      name: options.name ?? defaultName,
      transports: options.transports,
      reconnect: false,
    });
    const work = new WorkLink(handler);
    const failures: string[] = [];
    for (const server of resolved.servers) {
      try {
        await dial(server, resolved, {
          established: (link) => (work.link = link),
          frames: (_link, frames) => work.onFrames(frames),
          closed: (link, error) => work.onClosed(link.disconnectReason ?? work.goodbye ?? error?.message ?? "closed"),
        });
        return work;
      } catch (error) {
        if (resolved.servers.length === 1) throw error;
        failures.push(`${server.href}: ${(error as Error).message}`);
      }
    }
    throw new ConnectionLostError(`cannot connect to a dispatcher: ${failures.join("; ")}`);
  }

  /** Sends the frame of `kind` with `fields`; false when the link is closed. */
  send(kind: number, fields: Fields): boolean {
    if (this.done || !this.link) return false;
    this.link.transport.send(encodeFrame(kind, fields));
    return true;
  }

  /** The largest frame the dispatcher takes (from its CONN). */
  get maxFrame(): number {
    return this.link?.maxFrame ?? 0;
  }

  get isClosed(): boolean {
    return this.done;
  }

  /** Says DISCONN with `reason` and closes. */
  close(reason: string): void {
    if (this.done) return;
    this.send(Kind.DISCONN, { reason });
    const link = this.link;
    this.onClosed(reason);
    link?.transport.close();
  }

  private onFrames(frames: Frame[]): void {
    for (const frame of frames) {
      if (this.done) return;
      let fields: Fields;
      try {
        fields = decodePayload(frame.kind, frame.payload);
      } catch (error) {
        // Unknown kinds (a newer dispatcher's) are skipped; unreadable known ones reported.
        if (error instanceof CodecError && error.code === 103) continue;
        if (!(error instanceof CodecError)) throw error;
        this.handler.unreadable(new ProtocolError(`a frame of kind ${frame.kind} could not be read: ${error.message}`));
        continue;
      }
      if (frame.kind === Kind.PING) this.send(Kind.PONG, { nonce: fields.nonce });
      else if (frame.kind === Kind.DISCONN) this.goodbye = `the dispatcher said goodbye: ${fields.reason}`;
      else if (frame.kind !== Kind.PONG) this.handler.frame(frame.kind, fields);
    }
  }

  private onClosed(reason: string): void {
    if (this.done) return;
    this.done = true;
    this.link = null;
    this.handler.closed(reason);
  }
}
