/**
 * A frame or payload that cannot be read. `code` is the stable code the peer would get
 * (100 protocol, 102 frame-too-large, 300 invalid-body); `framingLost` says whether the next
 * frame can still be found; `id` is the request id or sid the answer names, where one reads.
 */
export class CodecError extends Error {
  override name = "CodecError";
  constructor(
    readonly code: number,
    message: string,
    readonly framingLost = false,
    readonly id: number | bigint | null = null,
  ) {
    super(message);
  }
}
