// connect(), shared by the entry points; each gives the transports it has.
import { connectWith, type HubwireClient } from "./client/client.js";
import type { ConnectOptions } from "./client/options.js";
import type { TransportFactory } from "./transport/transport.js";

export function connectUsing(
  transports: Record<string, TransportFactory>,
  options: ConnectOptions,
): Promise<HubwireClient> {
  return connectWith({ ...options, transports: { ...transports, ...options.transports } });
}
