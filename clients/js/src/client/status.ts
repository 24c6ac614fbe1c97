// The typed events of status(): what happened to the connection.
import type { HubwireError } from "../errors.js";

export type StatusEvent =
  /** The connection is gone; `reason` says why. In-flight calls failed with connection-lost. */
  | { type: "disconnect"; server: string; reason: string }
  /** Waiting `delay` ms before reconnect attempt `attempt` (1 first). */
  | { type: "reconnecting"; attempt: number; delay: number; lastError: string }
  /** Connected again; subscriptions are being replayed. */
  | { type: "reconnect"; server: string }
  /** The hub has applied the replayed subscription list (`count` subscriptions). */
  | { type: "subscribed"; count: number }
  /** The server stopped answering PINGs; the connection is dropped and dialed again. */
  | { type: "staleConnection"; server: string; pingsOut: number }
  /** An error about the connection from the server (ERROR with no id), a refused publish, or
   * a frame that could not be read. The connection carries on unless a disconnect follows. */
  | { type: "error"; error: HubwireError }
  /** A subscription was refused by the hub; it is dropped and its iterator throws `error`. */
  | { type: "refused"; sid: number; pattern: string; error: HubwireError }
  /** Messages were dropped: the hub cut this client off as a slow consumer (`sid` absent), or
   * subscription `sid` held `maxPendingMessages` unread messages (`dropped` so far). */
  | { type: "slowConsumer"; sid?: number; dropped?: number; message: string }
  /** The client is closed for good (close(), drain(), or reconnect attempts used up). */
  | { type: "close"; error?: HubwireError };
