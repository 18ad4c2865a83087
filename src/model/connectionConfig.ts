import { homedir } from 'node:os';
import { isAbsolute, join } from 'node:path';
/** A configured connection as stored in the `rstmdb.connections` setting (never holds the token). */
export interface ConnectionConfig {
  name: string;
  host: string;
  port: number;
  tls?: {
    enabled: boolean;
    caFile?: string;
    certFile?: string;
    keyFile?: string;
    servername?: string;
    /** Verify the server certificate; on unless turned off for this connection. */
    rejectUnauthorized?: boolean;
  };
  wireMode?: 'binary_json' | 'jsonl';
  readOnly?: boolean;
  /** Shown on the connection's icon and its status bar item (say, red for production). */
  color?: ConnectionColor;
}

export const CONNECTION_COLORS = ['red', 'orange', 'yellow', 'green', 'blue', 'purple'] as const;
export type ConnectionColor = (typeof CONNECTION_COLORS)[number];

/** The theme colour id of a connection colour (the chart colours follow the theme). */
export function themeColorId(color: ConnectionColor | undefined): string | undefined {
  return color && (CONNECTION_COLORS as readonly string[]).includes(color) ? `charts.${color}` : undefined;
}

export function validateName(name: string, taken: string[]): string | undefined {
  const n = name.trim();
  if (!n) return 'Give the connection a name.';
  if (n.length > 64) return 'Keep the name to 64 characters at most.';
  if (taken.includes(n)) return `A connection named '${n}' already exists.`;
  return undefined;
}

export function validateHost(host: string): string | undefined {
  const h = host.trim();
  if (!h) return 'Enter a host name or IP address.';
  if (/\s|\/|:\/\//.test(h)) return 'Enter just the host (no scheme, path or spaces), e.g. 127.0.0.1 or db.internal.';
  if (/^[^:]+:\d*$/.test(h) || /^\[.*\](:\d*)?$/.test(h)) return 'Enter just the host here (an IPv6 address without brackets); the port comes in the next step.';
  return undefined;
}

export function validatePort(port: string): string | undefined {
  if (!/^\d+$/.test(port.trim())) return 'The port is a number, e.g. 7401.';
  const n = Number(port);
  if (n < 1 || n > 65535) return 'The port must be between 1 and 65535.';
  return undefined;
}

/** Problems with one entry of the setting (it may have been edited by hand). */
export function configProblems(c: unknown): string[] {
  if (c === null || typeof c !== 'object') return ['each connection must be an object'];
  const o = c as Record<string, unknown>;
  const out: string[] = [];
  if (typeof o.name !== 'string' || !o.name.trim()) out.push('name is missing');
  if (typeof o.host !== 'string' || validateHost(o.host)) out.push('host is missing or invalid');
  if (typeof o.port !== 'number' || validatePort(String(o.port))) out.push('port must be 1–65535');
  return out;
}

/** Reads the setting's raw array into valid configs plus messages about the entries that are not. */
export function parseConnections(raw: unknown): { connections: ConnectionConfig[]; problems: string[] } {
  const connections: ConnectionConfig[] = [];
  const problems: string[] = [];
  if (!Array.isArray(raw)) return { connections, problems: raw === undefined ? [] : ['rstmdb.connections must be an array'] };
  const seen = new Set<string>();
  raw.forEach((entry, i) => {
    const p = configProblems(entry);
    const name = (entry as { name?: string })?.name;
    if (!p.length && seen.has(name!)) p.push(`duplicate name '${name}'`);
    if (p.length) {
      problems.push(`rstmdb.connections[${i}]${name ? ` (${name})` : ''}: ${p.join(', ')}`);
      return;
    }
    seen.add(name!);
    connections.push(entry as ConnectionConfig);
  });
  return { connections, problems };
}

/**
 * Whether two definitions say the same, whatever the order of their keys: an
 * entry written by hand keeps its own order, and a token changed alone must
 * still be noticed as the only change.
 */
export function sameSettings(a: ConnectionConfig, b: ConnectionConfig): boolean {
  const sorted = (_key: string, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0))) : v;
  return JSON.stringify(a, sorted) === JSON.stringify(b, sorted);
}

export function describeEndpoint(c: ConnectionConfig): string {
  return `${c.tls?.enabled ? 'tls' : 'tcp'}://${c.host}:${c.port}`;
}

/** A path from settings or a prompt: `~` is the home folder; anything else must be absolute. */
export function resolveUserPath(path: string): string | undefined {
  const p = path.trim();
  const expanded = p === '~' ? homedir() : p.startsWith('~/') ? join(homedir(), p.slice(2)) : p;
  return isAbsolute(expanded) ? expanded : undefined;
}
