// Typed errors. Every error a call, publish or request can end in is a HubwireError with the
// stable `code` and `name` of docs/protocol.md, section 6 (`name` is the table's name, such as
// "unknown-route"), and one class per case so `instanceof` works too.

/** The stable codes and their names (docs/protocol.md, section 6). */
export const ERROR_CODES = {
  100: "protocol",
  101: "version-mismatch",
  102: "frame-too-large",
  103: "unknown-kind",
  200: "denied",
  300: "invalid-body",
  400: "unknown-route",
  404: "not-found",
  500: "busy",
  501: "paused",
  600: "handler-failure",
  700: "timeout",
  800: "shutting-down",
  999: "unhandled",
} as const;

/** The name of a code; codes this client does not know read as "unhandled", like 999. */
export function codeName(code: number): string {
  return (ERROR_CODES as Record<number, string>)[code] ?? "unhandled";
}

/** The base of every hubwire error: `code` from the stable table, `name` its name. */
export class HubwireError extends Error {
  override name: string;
  readonly code: number;
  constructor(code: number, message: string, name: string = codeName(code), options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = name;
  }
}

/** 100: a frame or payload could not be read. */
export class ProtocolError extends HubwireError {
  constructor(message: string) { super(100, message); }
}
/** 101: the peer speaks another protocol version. */
export class VersionMismatchError extends HubwireError {
  constructor(message: string) { super(101, message); }
}
/** 102: a request over the server's maximum frame (failed locally), or a reply over ours. */
export class FrameTooLargeError extends HubwireError {
  constructor(message: string) { super(102, message); }
}
/** 103: a frame kind the server does not serve (a pub/sub frame to a server that is no hub). */
export class UnknownKindError extends HubwireError {
  constructor(message: string) { super(103, message); }
}
/** 200: this peer may not connect, call this route or use this channel. */
export class DeniedError extends HubwireError {
  constructor(message: string) { super(200, message); }
}
/** 300: the body is not the route's request type; or a channel, pattern or group is invalid. */
export class InvalidBodyError extends HubwireError {
  constructor(message: string) { super(300, message); }
}
/** 400: no handler is registered under the route key. */
export class UnknownRouteError extends HubwireError {
  constructor(message: string) { super(400, message); }
}
/** 404: the route exists but what the request names does not. */
export class NotFoundError extends HubwireError {
  constructor(message: string) { super(404, message); }
}
/** 500: too many requests in flight; try again later. */
export class BusyError extends HubwireError {
  constructor(message: string) { super(500, message); }
}
/** 501: the route is paused. */
export class PausedError extends HubwireError {
  constructor(message: string) { super(501, message); }
}
/** 600: the handler failed; the message is the handler's. */
export class HandlerFailureError extends HubwireError {
  constructor(message: string) { super(600, message); }
}
/** 700: the deadline passed, here (the call's timeout) or at the server. */
export class TimeoutError extends HubwireError {
  constructor(message: string) { super(700, message); }
}
/** 800: the server is shutting down. */
export class ShuttingDownError extends HubwireError {
  constructor(message: string) { super(800, message); }
}
/** 999 and every code this client does not know (the code is kept as the server sent it). */
export class UnhandledError extends HubwireError {
  constructor(code: number, message: string) { super(code, message, "unhandled"); }
}

/** The error of a call answered with ERROR `code`. */
export function errorForCode(code: number, message: string): HubwireError {
  switch (code) {
    case 100: return new ProtocolError(message);
    case 101: return new VersionMismatchError(message);
    case 102: return new FrameTooLargeError(message);
    case 103: return new UnknownKindError(message);
    case 200: return new DeniedError(message);
    case 300: return new InvalidBodyError(message);
    case 400: return new UnknownRouteError(message);
    case 404: return new NotFoundError(message);
    case 500: return new BusyError(message);
    case 501: return new PausedError(message);
    case 600: return new HandlerFailureError(message);
    case 700: return new TimeoutError(message);
    case 800: return new ShuttingDownError(message);
    default: return new UnhandledError(code, message);
  }
}

// The client's own failures: not answers from a server, so they carry code 0 and a name of
// their own. The request may or may not have run when the connection was lost.

/** Code of the client's own connection errors (no server answered). */
export const CLIENT_CODE = 0;

/** No connection to any server right now (the client is reconnecting): nothing was sent. */
export class NotConnectedError extends HubwireError {
  constructor(message = "not connected: the client is reconnecting; nothing was sent") {
    super(CLIENT_CODE, message, "not-connected");
  }
}
/** The connection broke while this was in flight; it may or may not have run. */
export class ConnectionLostError extends HubwireError {
  constructor(reason: string) { super(CLIENT_CODE, `connection lost: ${reason}`, "connection-lost"); }
}
/** The client was closed (or is draining) before this settled. */
export class ConnectionClosedError extends HubwireError {
  constructor(message = "the client is closed") { super(CLIENT_CODE, message, "closed"); }
}
/** No server could be reached (or none finished the CONN handshake in time). */
export class ConnectError extends HubwireError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(CLIENT_CODE, message, "cannot-connect", options);
  }
}

// RPC over pub/sub (docs/pubsub.md, "Calls"): four distinct outcomes besides the reply.

/** Nothing subscribes to the channel (the hub's answer, code 400). */
export class NoRespondersError extends HubwireError {
  constructor(message: string) { super(400, message, "no-responders"); }
}
/** Nobody acknowledged the call in time: it was lost or nobody took it (code 700). */
export class NotAcknowledgedError extends HubwireError {
  constructor(message: string) { super(700, message, "not-acknowledged"); }
}
/** The provider answered with an error: `code` and `name` are the provider's. */
export class RemoteError extends HubwireError {
  constructor(code: number, message: string) { super(code, message); }
}
