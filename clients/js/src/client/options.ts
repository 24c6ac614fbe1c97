// Connection options and their defaults.
import type { TlsOptions, TransportFactory } from "../transport/transport.js";

/** How to authenticate (docs/security.md): a user and password, or a token, sent in an AUTH
 * frame right after CONN; and/or a TLS client certificate. A server without users accepts
 * any credentials; one with users refuses a connection without them (DeniedError). */
export interface AuthOptions {
  /** The user name (with `password`, or the token's own user with `token`). */
  user?: string;
  /** The user's password. */
  password?: string;
  /** A token, instead of a user and password. */
  token?: string;
  /** TLS for `tls://` (Node): a CA to trust besides the system roots, a client certificate. */
  tls?: TlsOptions;
}

export interface ConnectOptions {
  /** Server URLs (`tcp://`, `unix://`, `tls://`, `ws://`, `wss://`), tried in order. */
  servers: string | string[];
  /** Time for one connection attempt, CONN handshake included, in ms (5000). */
  timeout?: number;
  /** Reconnect after losing the connection (true). */
  reconnect?: boolean;
  /** Reconnect attempts in a row before giving up; -1 (the default) is unlimited. */
  maxReconnectAttempts?: number;
  /** The longest wait between attempts, in ms (5000): waits start at 100 ms and double. */
  reconnectTimeWait?: number;
  /** Each wait is spread by up to this fraction either way (0.2), so clients that lost one
   * server do not come back in step. */
  reconnectJitter?: number;
  /** PING the server after this many ms without traffic (30000); 0 turns keepalive off. */
  pingInterval?: number;
  /** Unanswered PINGs after which the connection is taken for stale and dropped (2). */
  maxPingsOut?: number;
  /** Credentials; see AuthOptions. */
  auth?: AuthOptions;
  /** The largest frame this client accepts, announced in its CONN (1 MiB). */
  maxFrame?: number;
  /** Calls in flight at once on the connection; more wait their turn in the client. Default:
   * the server's announced `max_in_flight`. `Infinity` sends all (the server answers busy). */
  maxInFlight?: number;
  /** Messages a subscription holds for a slow iterator before it drops them (65536). */
  maxPendingMessages?: number;
  /** Software name in the CONN frame. */
  name?: string;
  /** The default timeout of `call` and `request`, in ms (10000). */
  callTimeout?: number;
  /** Transports by URL scheme (`tcp:`, `ws:`...); the entry point sets those it has. */
  transports?: Record<string, TransportFactory>;
}

export type ResolvedOptions = Required<Omit<ConnectOptions, "servers" | "auth" | "maxInFlight" | "name">> & {
  servers: URL[];
  auth: AuthOptions;
  maxInFlight: number | undefined;
  name: string;
};

export const CLIENT_AGENT = "hubwire-js/0.1.0";

export function resolveOptions(options: ConnectOptions): ResolvedOptions {
  const servers = (Array.isArray(options.servers) ? options.servers : [options.servers]).map((s) => new URL(s));
  if (servers.length === 0) throw new TypeError("connect: `servers` names no server");
  return {
    servers,
    timeout: options.timeout ?? 5000,
    reconnect: options.reconnect ?? true,
    maxReconnectAttempts: options.maxReconnectAttempts ?? -1,
    reconnectTimeWait: options.reconnectTimeWait ?? 5000,
    reconnectJitter: options.reconnectJitter ?? 0.2,
    pingInterval: options.pingInterval ?? 30_000,
    maxPingsOut: options.maxPingsOut ?? 2,
    auth: options.auth ?? {},
    maxFrame: options.maxFrame ?? 1_048_576,
    maxInFlight: options.maxInFlight,
    maxPendingMessages: options.maxPendingMessages ?? 65_536,
    name: options.name ?? CLIENT_AGENT,
    callTimeout: options.callTimeout ?? 10_000,
    transports: options.transports ?? {},
  };
}

/** The wait before reconnect attempt `attempt` (0 first): 100 ms doubling up to the cap,
 * spread by the jitter fraction either way. */
export function reconnectDelay(attempt: number, cap: number, jitter: number, random = Math.random): number {
  const base = Math.min(cap, 100 * 2 ** Math.min(attempt, 30));
  const spread = base * Math.min(Math.max(jitter, 0), 1);
  return Math.max(0, Math.round(base - spread + 2 * spread * random()));
}
