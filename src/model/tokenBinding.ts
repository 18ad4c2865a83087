import { isIP } from 'node:net';
import type { ConnectionConfig } from './connectionConfig';

/**
 * Where a token may be sent: the server it was saved for. A token is keyed by
 * connection name *and* endpoint, so a connection of the same name that points
 * elsewhere (a cloned repository's workspace settings, a hand edit) never
 * receives it without the user saying so.
 */
export interface Endpoint {
  host: string;
  port: number;
  tls: boolean;
}

/** The part of SecretStorage this module needs (plain Node, so it can be tested without VS Code). */
export interface SecretStore {
  get(key: string): Thenable<string | undefined>;
  store(key: string, value: string): Thenable<void>;
  delete(key: string): Thenable<void>;
}

/** Tokens of one connection name, one per endpoint, the most recently saved first. */
interface TokenRecord {
  v: 2;
  tokens: (Endpoint & { token: string })[];
}

/** A name keeps tokens for a few endpoints (e.g. its own server and a workspace's), no more. */
const MAX_ENDPOINTS_PER_NAME = 8;

/** Before tokens were bound to endpoints: the token alone, under the name. */
export const legacyKey = (name: string) => `rstmdb.token:${name}`;
export const recordKey = (name: string) => `rstmdb.tokens:${name}`;

export function endpointOf(config: ConnectionConfig): Endpoint {
  // Host names compare case-insensitively; an IPv6 address may be written with or without brackets.
  return { host: config.host.trim().replace(/^\[(.*)\]$/, '$1').toLowerCase(), port: config.port, tls: !!config.tls?.enabled };
}

export function sameEndpoint(a: Endpoint, b: Endpoint): boolean {
  return a.host === b.host && a.port === b.port && a.tls === b.tls;
}

/** `host:port`, with TLS said only when it is what differs. */
export function describeBoundEndpoint(e: Endpoint, other?: Endpoint): string {
  const hostPort = `${isIP(e.host) === 6 ? `[${e.host}]` : e.host}:${e.port}`;
  return other && other.host === e.host && other.port === e.port && other.tls !== e.tls ? `${hostPort} ${e.tls ? 'with' : 'without'} TLS` : hostPort;
}

/** Loopback traffic never leaves the machine, so a token sent there in the clear is not exposed. */
export function isLoopbackHost(host: string): boolean {
  const h = host.trim().replace(/^\[(.*)\]$/, '$1').toLowerCase();
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  if (isIP(h) === 6) return h === '::1' || /^::ffff:127\./.test(h);
  return false;
}

/** A token would go over plain TCP to another machine: anyone on the path can read it. */
export function tokenInClear(config: ConnectionConfig): boolean {
  return !config.tls?.enabled && !isLoopbackHost(config.host);
}

function parseRecord(text: string | undefined): TokenRecord | undefined {
  if (!text) return undefined;
  try {
    const r = JSON.parse(text) as TokenRecord;
    if (r?.v === 2 && Array.isArray(r.tokens)) {
      return { v: 2, tokens: r.tokens.filter((t) => typeof t?.token === 'string' && typeof t.host === 'string' && typeof t.port === 'number' && typeof t.tls === 'boolean') };
    }
  } catch {
    // Not ours: treated as no record (the legacy key is separate, so nothing is lost).
  }
  return undefined;
}

/** What the store knows about the token for a connection as it is configured now. */
export type TokenLookup =
  /** No token saved under this name. */
  | { kind: 'none' }
  /** Saved for exactly this endpoint: send it. */
  | { kind: 'bound'; token: string }
  /** Saved for another endpoint only: ask before sending it here. */
  | { kind: 'elsewhere'; token: string; savedFor: Endpoint }
  /** Saved before tokens were bound to endpoints, and nothing says for which: ask. */
  | { kind: 'unbound'; token: string };

/**
 * Tokens in SecretStorage, bound to endpoints. `trustedEndpoint` tells, for a
 * token stored the old way, which endpoint it was meant for: the user's own
 * (user settings) definition of the connection. A token stored the old way is
 * moved to the new form the first time it is looked up.
 */
export class TokenVault {
  constructor(private readonly secrets: SecretStore) {}

  private async record(name: string): Promise<TokenRecord> {
    return parseRecord(await this.secrets.get(recordKey(name))) ?? { v: 2, tokens: [] };
  }

  private async write(name: string, record: TokenRecord): Promise<void> {
    if (record.tokens.length) await this.secrets.store(recordKey(name), JSON.stringify(record));
    else await this.secrets.delete(recordKey(name));
  }

  /**
   * Moves a token stored the old way (name only) into a record bound to
   * `endpoint`. Without an endpoint it stays where it is, to be offered with a question.
   */
  private async migrate(name: string, endpoint: Endpoint | undefined): Promise<string | undefined> {
    const legacy = await this.secrets.get(legacyKey(name));
    if (legacy === undefined || !endpoint) return legacy;
    await this.bind(name, endpoint, legacy);
    await this.secrets.delete(legacyKey(name));
    return undefined;
  }

  async lookup(name: string, endpoint: Endpoint, trustedEndpoint: Endpoint | undefined): Promise<TokenLookup> {
    const unbound = await this.migrate(name, trustedEndpoint);
    const { tokens } = await this.record(name);
    const here = tokens.find((t) => sameEndpoint(t, endpoint));
    if (here) return { kind: 'bound', token: here.token };
    if (tokens.length) {
      const { token, ...savedFor } = tokens[0];
      return { kind: 'elsewhere', token, savedFor };
    }
    if (unbound !== undefined) return { kind: 'unbound', token: unbound };
    return { kind: 'none' };
  }

  /** Saves `token` for `endpoint` (replacing what was saved for it); other endpoints keep theirs. */
  async bind(name: string, endpoint: Endpoint, token: string): Promise<void> {
    const record = await this.record(name);
    const others = record.tokens.filter((t) => !sameEndpoint(t, endpoint));
    await this.write(name, { v: 2, tokens: [{ ...endpoint, token }, ...others].slice(0, MAX_ENDPOINTS_PER_NAME) });
    // Answered for this endpoint: a question about an old-style token is settled.
    await this.secrets.delete(legacyKey(name));
  }

  /** The token saved for exactly this endpoint, if any (used by the edit flow to keep it). */
  async tokenFor(name: string, endpoint: Endpoint): Promise<string | undefined> {
    return (await this.record(name)).tokens.find((t) => sameEndpoint(t, endpoint))?.token;
  }

  /** Every token of a name, whatever its endpoint (Remove Connection, or "-" in the edit flow). */
  async forget(name: string): Promise<void> {
    await this.secrets.delete(recordKey(name));
    await this.secrets.delete(legacyKey(name));
  }

  /** A renamed connection takes its tokens with it. */
  async rename(from: string, to: string): Promise<void> {
    if (from === to) return;
    const record = await this.record(from);
    const legacy = await this.secrets.get(legacyKey(from));
    await this.forget(from);
    if (record.tokens.length) await this.write(to, record);
    if (legacy !== undefined) await this.secrets.store(legacyKey(to), legacy);
  }
}
