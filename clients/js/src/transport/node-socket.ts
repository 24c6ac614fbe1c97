// TCP, Unix-domain socket and TLS transports for Node: frames follow each other in one byte
// stream, cut apart by a FrameReader. Frames sent in one tick are copied into one buffer (the
// caller may reuse its bytes at once) and go out as one write.
import * as net from "node:net";
import * as tls from "node:tls";
import { FrameReader } from "../codec/frames.js";
import type { Transport, TransportFactory, TransportOptions } from "./transport.js";

/** `tcp://HOST:PORT`, `unix:///PATH`, `tls://HOST:PORT`. */
export const socketTransport: TransportFactory = (url, options, events) =>
  new Promise((resolve, reject) => {
    const socket = openSocket(url, options);
    const reader = new FrameReader(options.maxFrame);
    let open = false;
    let done = false;
    // Frames sent this tick, copied in; handed to the socket (and replaced) at the flush.
    let queued = new Uint8Array(16 * 1024);
    let queuedBytes = 0;
    const finish = (error?: Error) => {
      if (done) return;
      done = true;
      socket.destroy();
      if (open) events.closed(error);
      else reject(error ?? new Error(`${url.href}: closed before it opened`));
    };
    const flush = () => {
      if (done || queuedBytes === 0) return;
      const chunk = queued.subarray(0, queuedBytes);
      // The socket keeps `chunk` until written: the next tick's frames go to a new buffer,
      // sized for a tick like this one.
      queued = new Uint8Array(Math.max(16 * 1024, Math.min(queued.length, 2 * queuedBytes)));
      queuedBytes = 0;
      socket.write(chunk);
    };
    socket.setNoDelay?.(true);
    socket.once(url.protocol === "tls:" ? "secureConnect" : "connect", () => {
      open = true;
      resolve(transport);
    });
    socket.on("data", (chunk: Uint8Array) => {
      if (done) return;
      let frames;
      try {
        // A plain Uint8Array view of the Buffer (no copy), so bodies read as bytes are the
        // same type as in browsers.
        frames = reader.push(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
      } catch (error) {
        finish(error as Error);
        return;
      }
      if (frames.length > 0) events.frames(frames);
    });
    socket.on("error", (error) => finish(error));
    socket.on("close", () => finish(open ? new Error("the server closed the connection") : undefined));
    const transport: Transport = {
      send(frame) {
        transport.sendPart!(frame, frame.length);
      },
      sendPart(frame, length) {
        if (done) return;
        if (queuedBytes === 0) queueMicrotask(flush);
        if (queued.length - queuedBytes < length) {
          const grown = new Uint8Array(Math.max(queued.length * 2, queuedBytes + length));
          grown.set(queued.subarray(0, queuedBytes));
          queued = grown;
        }
        if (length === frame.length) queued.set(frame, queuedBytes);
        else if (length <= 64) {
          // Small frames byte by byte: cheaper than making a view to copy from.
          for (let i = 0; i < length; i++) queued[queuedBytes + i] = frame[i];
        } else queued.set(frame.subarray(0, length), queuedBytes);
        queuedBytes += length;
      },
      get pending() {
        return queuedBytes + socket.writableLength;
      },
      close() {
        flush();
        if (!done) {
          done = true;
          socket.end();
          setTimeout(() => socket.destroy(), 1000).unref?.();
          if (open) events.closed();
        }
      },
    };
  });

function openSocket(url: URL, options: TransportOptions): net.Socket {
  switch (url.protocol) {
    case "tcp:":
      return net.connect({ host: hostOf(url), port: Number(url.port) });
    case "unix:":
      return net.connect({ path: decodeURIComponent(url.pathname) });
    case "tls:":
      return tls.connect({
        host: hostOf(url),
        port: Number(url.port),
        servername: options.tls?.servername ?? (net.isIP(hostOf(url)) ? undefined : hostOf(url)),
        ca: options.tls?.ca ? [...tls.rootCertificates, toText(options.tls.ca)] : undefined,
        cert: options.tls?.cert ? toText(options.tls.cert) : undefined,
        key: options.tls?.key ? toText(options.tls.key) : undefined,
      });
    default:
      throw new Error(`no socket transport for ${url.protocol}`);
  }
}

// URL keeps IPv6 hosts in brackets; sockets want them bare.
function hostOf(url: URL): string {
  return url.hostname.replace(/^\[(.*)\]$/, "$1");
}

function toText(pem: string | Uint8Array): string {
  return typeof pem === "string" ? pem : new TextDecoder().decode(pem);
}
