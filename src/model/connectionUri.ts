/**
 * What the first field of Add Connection accepts besides a name: `host:port`,
 * or `rstmdb://[token@]host[:port]` / `rstmdbs://…` (TLS). Pure, so it is
 * tested without VS Code; the caller puts a token in SecretStorage and never
 * shows it.
 */
export interface ParsedEndpoint {
  host: string;
  port: number;
  /** Set by a URI's scheme; undefined for a bare `host:port`. */
  tls?: boolean;
  token?: string;
}

export const DEFAULT_PORT = 7401;

/**
 * The endpoint a typed text names, or undefined when it is not an address
 * (then it is a connection name), or `{ error }` when it looks like one but is
 * wrong. The error never repeats the token.
 */
export function parseEndpoint(text: string): ParsedEndpoint | { error: string } | undefined {
  const t = text.trim();
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(t);
  if (scheme) {
    const s = scheme[1].toLowerCase();
    if (s !== 'rstmdb' && s !== 'rstmdbs') return { error: `Use rstmdb:// or rstmdbs:// (TLS), not ${s}://.` };
    let rest = t.slice(scheme[0].length).replace(/\/+$/, '');
    if (rest.includes('/') || rest.includes('?') || rest.includes('#')) return { error: 'Give just rstmdb://[token@]host:port, without a path.' };
    let token: string | undefined;
    const at = rest.lastIndexOf('@');
    if (at >= 0) {
      try {
        token = decodeURIComponent(rest.slice(0, at));
      } catch {
        return { error: 'The token in the address is not valid percent-encoding.' };
      }
      rest = rest.slice(at + 1);
      if (!token) token = undefined;
    }
    const hp = hostPort(rest, true);
    if ('error' in hp) return hp;
    return { ...hp, tls: s === 'rstmdbs', ...(token !== undefined ? { token } : {}) };
  }
  // A bare host:port (or [v6]:port); anything else is a name.
  if (/\s/.test(t) || !/^(\[[0-9a-f:.]+\]|[a-z0-9.-]+):\d+$/i.test(t)) return undefined;
  const hp = hostPort(t, false);
  return 'error' in hp ? hp : hp;
}

function hostPort(text: string, portOptional: boolean): { host: string; port: number } | { error: string } {
  const m = /^(?:\[([0-9a-f:.]+)\]|([^:[\]]+))(?::(\d*))?$/i.exec(text);
  if (!m) return { error: 'Give the host as a name or an address (an IPv6 address in brackets), then :port.' };
  const host = m[1] ?? m[2];
  if (m[3] === undefined || m[3] === '') {
    if (!portOptional) return { error: 'Give the port after the host, e.g. db.internal:7401.' };
    return { host, port: DEFAULT_PORT };
  }
  const port = Number(m[3]);
  if (!Number.isInteger(port) || port < 1 || port > 65535) return { error: 'The port must be between 1 and 65535.' };
  return { host, port };
}

/** A name for a connection added from an address: the host, then "host (2)"… when taken. */
export function nameFor(host: string, port: number, taken: string[]): string {
  const base = port === DEFAULT_PORT ? host : `${host}:${port}`;
  if (!taken.includes(base)) return base;
  for (let i = 2; ; i++) if (!taken.includes(`${base} (${i})`)) return `${base} (${i})`;
}
