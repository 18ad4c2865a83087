import { RcpConnectionError, RcpError } from '../rcp';

/** Turns any failure into one sentence for a notification; never includes the token. */
export function describeError(err: unknown): string {
  if (err instanceof RcpError) return `${err.code}: ${err.message}`;
  if (err instanceof RcpConnectionError) {
    // The client library does not know this extension's setting names; the user needs them.
    if (err.reason === 'client_certificate_required') return `${err.message}: set certFile and keyFile`;
    if (err.reason === 'client_certificate_refused') return `${err.message}; check certFile and keyFile`;
    return err.message;
  }
  if (err instanceof Error) return err.message;
  return String(err);
}
