/**
 * The contract between the emulator and everything that starts it (client tests,
 * e2e harness, demo, bench). Implemented by test/emulator/process.ts.
 */

export interface EmulatorTlsOptions {
  /** PEM server certificate and key. */
  cert: string;
  key: string;
  /** PEM CA that client certificates must chain to; with it, mTLS is required. */
  ca?: string;
}

export interface EmulatorOptions {
  /** Loopback port; 0 (default) picks a free one. Restarts reuse the chosen port. */
  port?: number;
  /** When set, auth is required and this bearer token is the one accepted. */
  token?: string;
  tls?: EmulatorTlsOptions;
  /** Where state persists across kill/restart; a fresh temp dir by default. */
  stateDir?: string;
  /** Sample data to load on a fresh state dir: 'demo' = three machines, ~1000 instances. */
  seed?: 'none' | 'demo';
  /**
   * Test-only misbehaviour: 'never-respond' answers nothing after HELLO;
   * 'lose-events-for:NAME' drops every event for sessions whose HELLO client_name
   * is NAME, as the server does (silently) for a subscriber that cannot keep up.
   */
  fault?: 'never-respond' | `lose-events-for:${string}`;
  /** Close connections idle this long (the server's default is 300 s). */
  idleTimeoutMs?: number;
  /** Forward the emulator's stderr to ours. */
  verbose?: boolean;
}

export interface EmulatorProcess {
  readonly host: '127.0.0.1';
  readonly port: number;
  readonly stateDir: string;
  readonly pid: number | undefined;
  /** SIGKILL the process (state already written stays). Resolves when it has exited. */
  kill(): Promise<void>;
  /** Start again on the same port with the same state dir and options. */
  restart(): Promise<void>;
  /** Graceful stop; removes the temp state dir if the emulator created it. */
  stop(): Promise<void>;
}
