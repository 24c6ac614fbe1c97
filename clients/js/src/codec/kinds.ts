// Frame kinds (docs/protocol.md, section 2). A number never changes meaning.
export const Kind = {
  CONN: 1,
  DISCONN: 2,
  PING: 4,
  PONG: 5,
  /** Work queue (section 12): STATUS both ways, ENQUEUE producer to dispatcher. */
  WORK_STATUS: 3,
  ENQUEUE: 6,
  AUTH: 7,
  AUTH_OK: 8,
  COMPRESS: 9,
  REQUEST: 16,
  RESPONSE: 17,
  ERROR: 18,
  CANCEL: 19,
  SUBSCRIBE: 32,
  UNSUBSCRIBE: 33,
  SUBSCRIPTIONS: 34,
  PUBLISH: 35,
  MESSAGE: 36,
  REFUSED: 37,
  BRIDGE_HELLO: 64,
  BRIDGE_CHALLENGE: 65,
  BRIDGE_PROOF: 66,
  BRIDGE_LINK_STATE: 67,
  BRIDGE_INTEREST: 68,
  BRIDGE_RESYNC: 69,
  BRIDGE_MESSAGE: 70,
  ENQUEUED: 96,
  TAKE: 97,
  TAKEN: 98,
  DELIVER: 99,
  ACK: 100,
  NACK: 101,
  REJECT: 102,
  PROGRESS: 103,
} as const;

/** Publish and message flags (docs/protocol.md, section 10.2). */
export const Flag = {
  NO_ECHO: 0x01,
  RETAIN: 0x02,
  REQUEST: 0x04,
  ACK: 0x08,
  REPLY: 0x10,
  ERROR: 0x20,
  RETAINED: 0x40,
} as const;

/** Subscribe flags. */
export const SubscribeFlag = { NO_RETAINED: 0x01 } as const;

/** ENQUEUE flags (section 12.1). */
export const EnqueueFlag = { SEND_ALL: 0x01 } as const;

/** DELIVER flags (section 12.1). */
export const DeliverFlag = { BROADCAST: 0x01 } as const;

/** The protocol version this client speaks. */
export const PROTOCOL_VERSION = 1;
