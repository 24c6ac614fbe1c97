// The wire codec, for tools and tests: frames, envelopes, channels and patterns.
export { Kind, Flag, SubscribeFlag, EnqueueFlag, DeliverFlag, PROTOCOL_VERSION } from "./kinds.js";
export { CodecError } from "./codec-error.js";
export { FrameReader, encodeFrame, frameBytes, checkLength, DEFAULT_MAX_FRAME, type Frame } from "./frames.js";
export { encodePayload, decodePayload, decodeGeneric, peekFirstUint, ENVELOPES, type Fields } from "./envelopes.js";
export { encodeValue, decodeValue } from "./msgpack.js";
export { normalChannel, canonicalPattern, checkGroup, TextError } from "./text.js";
