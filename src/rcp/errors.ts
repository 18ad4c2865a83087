/** Error codes the server can answer with (rcp-notes: Errors). */
export type RcpErrorCode =
  | 'UNSUPPORTED_PROTOCOL'
  | 'BAD_REQUEST'
  | 'UNAUTHORIZED'
  | 'AUTH_FAILED'
  | 'NOT_FOUND'
  | 'MACHINE_NOT_FOUND'
  | 'MACHINE_VERSION_EXISTS'
  | 'MACHINE_VERSION_LIMIT_EXCEEDED'
  | 'INSTANCE_NOT_FOUND'
  | 'INSTANCE_EXISTS'
  | 'INVALID_TRANSITION'
  | 'GUARD_FAILED'
  | 'CONFLICT'
  | 'WAL_IO_ERROR'
  | 'INTERNAL_ERROR'
  | 'RATE_LIMITED'
  | (string & {});

/** The server answered a request with `status: "error"`. */
export class RcpError extends Error {
  override readonly name = 'RcpError';
  constructor(
    readonly code: RcpErrorCode,
    message: string,
    readonly retryable: boolean,
    readonly details: unknown,
    /** The operation that failed, e.g. `APPLY_EVENT`. */
    readonly op: string,
  ) {
    super(message);
  }
}

export type RcpConnectionErrorKind =
  | 'connect_failed'
  | 'connect_timeout'
  | 'closed'
  | 'timeout'
  | 'protocol'
  | 'tls'
  | 'not_connected';

/** Finer causes a caller may act on (e.g. point at the right settings). */
export type RcpConnectionErrorReason = 'client_certificate_required' | 'client_certificate_refused';

/** Transport faults, timeouts and protocol violations. */
export class RcpConnectionError extends Error {
  override readonly name = 'RcpConnectionError';
  readonly reason: RcpConnectionErrorReason | undefined;
  /**
   * The request never left: it was not written to the socket (too large, the
   * client closed, no connection came back). A write that failed this way did
   * nothing on the server; any other failure of a write leaves its outcome unknown.
   */
  readonly notSent: boolean;
  constructor(
    /** `host:port` of the server. */
    readonly address: string,
    readonly kind: RcpConnectionErrorKind,
    message: string,
    options?: { cause?: unknown; reason?: RcpConnectionErrorReason; notSent?: boolean },
  ) {
    super(`${address}: ${message}`, options?.cause === undefined ? undefined : { cause: options.cause });
    this.reason = options?.reason;
    this.notSent = options?.notSent ?? false;
  }
}

/** Reasons a byte stream is not valid RCP framing. */
export type FrameErrorReason = 'bad_magic' | 'bad_version' | 'bad_flags' | 'crc_mismatch' | 'oversize' | 'bad_json';

export class FrameError extends Error {
  override readonly name = 'FrameError';
  constructor(
    readonly reason: FrameErrorReason,
    message: string,
  ) {
    super(message);
  }
}
