/**
 * What one WAL record (or the live event that announced it early) changed,
 * as the change stream hands it to its subscribers. Every change carries the
 * WAL offset of its record; a subscriber sees each offset at most once.
 */
export type InstanceChange =
  | {
      kind: 'created';
      offset: number;
      instanceId: string;
      machine: string;
      version: number;
      state: string;
    }
  | {
      kind: 'moved';
      offset: number;
      instanceId: string;
      /** Unknown only when the instance could not be looked up (then counts are asked again). */
      machine: string | undefined;
      version: number | undefined;
      event: string;
      fromState: string;
      toState: string;
      /** The instance was deleted earlier: it moves, but is in no listing or count (soft delete). */
      deleted: boolean;
    }
  | {
      kind: 'deleted';
      offset: number;
      instanceId: string;
      machine: string | undefined;
      version: number | undefined;
      /** The state it was deleted in, when known. */
      state: string | undefined;
    }
  | { kind: 'machine'; offset: number; machine: string; version: number };

/**
 * Not a change of one instance but of the stream itself:
 * - `resync`: what was listed or counted is dropped and read again (reconnect, feed restarted, refresh);
 * - `gap`: the WAL reader skipped records (too far behind): a per-instance history built from the stream has a hole.
 */
export type StreamSignal = { kind: 'resync' } | { kind: 'gap'; from: number; to: number };

/** Where a change came from: the WAL reading, a live event applied before the WAL reached it, or this window's own write. */
export type ChangeOrigin = 'wal' | 'live' | 'own';

/** What a command that wrote something tells the stream (from the server's answer). */
export type OwnWrite =
  | { kind: 'created'; offset: number; instanceId: string; machine: string; version: number; state: string }
  | { kind: 'deleted'; offset: number; instanceId: string; machine: string; version: number; state: string };

export interface Disposable {
  dispose(): void;
}
