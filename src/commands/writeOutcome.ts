import { randomUUID } from 'node:crypto';
import { RcpConnectionError } from '../rcp';
import { describeError } from '../model/serverConnection';

/**
 * What a failed write means for the user: `not_sent` (never written: nothing
 * happened), `unknown` (written, then no answer: it may have happened), or
 * `refused` (the server answered with an error: nothing happened).
 */
export type WriteFailure = { kind: 'not_sent' | 'unknown' | 'refused'; reason: string };

export function classifyWriteFailure(err: unknown): WriteFailure {
  if (err instanceof RcpConnectionError) {
    if (err.notSent) return { kind: 'not_sent', reason: err.message };
    return { kind: 'unknown', reason: err.message };
  }
  if (err instanceof Error && err.name === 'UnsendableDefinitionError') return { kind: 'not_sent', reason: err.message };
  return { kind: 'refused', reason: describeError(err) };
}

/** A new idempotency key: one per user attempt, resent unchanged when the same attempt is repeated. */
export function newAttemptKey(): string {
  return `rstmdb-vscode-${randomUUID()}`;
}
