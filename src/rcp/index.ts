/** rstmdb's RCP client. Plain Node: nothing here imports `vscode`. */
export { RcpClient, type RcpClientOptions, type ClientState, type RequestHooks } from './client';
export { Subscription } from './subscription';
export { RcpError, RcpConnectionError, FrameError, type RcpErrorCode, type RcpConnectionErrorKind } from './errors';
export { UnsendableDefinitionError } from './definition';
export { isSessionRefused, type TlsOptions, type TraceFn } from './connection';
export type { ReconnectOptions } from './slot';
export { crc32c, crc32cImplementation } from './crc32c';
export * from './types';
