import { readFileSync } from 'node:fs';
import * as vscode from 'vscode';
import { isEncryptedKey } from '../model/clientOptions';
import { CONNECTION_COLORS, resolveUserPath, sameSettings, validateHost, validateName, validatePort, type ConnectionColor, type ConnectionConfig } from '../model/connectionConfig';
import type { ConnectionManager } from '../model/connectionManager';
import { nameFor, parseEndpoint, type ParsedEndpoint } from '../model/connectionUri';
import { endpointOf, tokenInClear } from '../model/tokenBinding';
import { validateFile } from './prompts';
import { BACK, inputStep, pickStep, type Back } from './steps';

type TlsChoice = 'none' | 'tls' | 'mtls' | 'tls-unverified' | 'mtls-unverified';

/** What the flow has gathered so far; every step reads its starting value from here, so Back keeps what was typed. */
interface Draft {
  name: string;
  host: string;
  port: string;
  tls: TlsChoice;
  caFile: string;
  certFile: string;
  keyFile: string;
  /** A passphrase typed for an encrypted client key; undefined keeps the stored one. */
  keyPassphrase?: string;
  token: string;
  readOnly: boolean;
  color?: ConnectionColor;
  /** What was typed in the first field (a name or an address), shown again after Back with any token masked. */
  first?: string;
  /** The first field was an address: host, port, TLS (from the scheme) and a token (if it had one) are filled. */
  fromAddress?: { tls: boolean | undefined; token: boolean };
}

/** A step: 'next' when answered, BACK, or undefined when the user cancelled (Escape). */
type Step = (n: number, total: number) => Promise<'next' | Back | undefined>;

type StepId = 'first' | 'host' | 'port' | 'tls' | 'caFile' | 'certFile' | 'keyFile' | 'passphrase' | 'token' | 'access';

/** A step of the flow; it knows whether it applies to the draft as it is now, and whether it has a number of its own. */
interface FlowStep {
  id: StepId;
  applies: () => boolean;
  counts: boolean;
  run: Step;
}

const TLS_ITEMS: { label: string; description: string; value: TlsChoice }[] = [
  { label: 'No TLS', description: 'plain TCP', value: 'none' },
  { label: 'TLS', description: 'verify the server certificate', value: 'tls' },
  { label: 'Mutual TLS', description: 'TLS plus a client certificate', value: 'mtls' },
  { label: '$(warning) TLS without verifying the certificate', description: 'only for a test server with a self-signed certificate', value: 'tls-unverified' },
  { label: '$(warning) Mutual TLS without verifying the certificate', description: 'only for a test server', value: 'mtls-unverified' },
];

const COLOR_ITEMS: { label: string; value: ConnectionColor | undefined }[] = [
  { label: 'No colour', value: undefined },
  ...CONNECTION_COLORS.map((c) => ({ label: `$(circle-large-filled) ${c}`, value: c as ConnectionColor })),
];

/** What stands for a token in an address shown again. */
const MASK = '•••';

const ADDRESS_FORMS = 'host:port, rstmdb://[token@]host:port, rstmdbs://… (TLS)';

function tlsChoiceOf(c: ConnectionConfig | undefined): TlsChoice {
  if (!c?.tls?.enabled) return 'none';
  const unverified = c.tls.rejectUnauthorized === false;
  if (c.tls.certFile) return unverified ? 'mtls-unverified' : 'mtls';
  return unverified ? 'tls-unverified' : 'tls';
}

function draftOf(c: ConnectionConfig | undefined, taken: string[]): Draft {
  return {
    name: c?.name ?? (taken.length ? '' : 'local'),
    host: c?.host ?? '127.0.0.1',
    port: String(c?.port ?? 7401),
    tls: tlsChoiceOf(c),
    caFile: c?.tls?.caFile ?? '',
    certFile: c?.tls?.certFile ?? '',
    keyFile: c?.tls?.keyFile ?? '',
    token: '',
    readOnly: !!c?.readOnly,
    color: c?.color,
  };
}

/** Whether the key file (already validated as readable) needs a passphrase. */
function keyIsEncrypted(file: string): boolean {
  const path = resolveUserPath(file);
  try {
    return !!path && isEncryptedKey(readFileSync(path));
  } catch {
    return false;
  }
}

/** An address that would send its token over plain TCP to another machine: said while it is typed. */
function clearTextWarning(parsed: ParsedEndpoint | { error: string } | undefined): string | undefined {
  if (!parsed || 'error' in parsed || parsed.token === undefined) return undefined;
  if (!tokenInClear({ name: '', host: parsed.host, port: parsed.port, tls: parsed.tls ? { enabled: true } : undefined })) return undefined;
  return `⚠ Without TLS, ${parsed.host} receives the token in the clear: rstmdbs:// uses TLS.`;
}

/** The steps of the flow, Add's order; Edit runs the ones of the field it changes. */
function steps(manager: ConnectionManager, d: Draft, title: string, taken: string[], existing?: ConnectionConfig): FlowStep[] {
  const mutual = () => d.tls === 'mtls' || d.tls === 'mtls-unverified';
  // An rstmdb:// or rstmdbs:// address settles transport and token; a bare host:port only the address.
  const byScheme = () => d.fromAddress?.tls !== undefined;
  const ask = async (n: number, total: number, key: 'host' | 'port' | 'caFile' | 'certFile' | 'keyFile', prompt: string, validate: (v: string) => string | undefined) => {
    const v = await inputStep({ title, step: n, totalSteps: total, prompt, value: d[key], validate });
    if (v === undefined || v === BACK) return v;
    d[key] = v.trim();
    return 'next' as const;
  };
  return [
    {
      id: 'first',
      applies: () => !existing,
      counts: true,
      run: async (n, total) => {
        const v = await inputStep({
          title,
          step: n,
          totalSteps: total,
          prompt: `Connection name — or an address: ${ADDRESS_FORMS}`,
          value: d.first ?? d.name,
          validate: (text) => {
            if (d.fromAddress && text === d.first) return undefined;
            const parsed = parseEndpoint(text);
            if (parsed && 'error' in parsed) return parsed.error;
            return parsed ? undefined : validateName(text, taken);
          },
          warn: (text) => clearTextWarning(parseEndpoint(text)),
        });
        if (v === undefined || v === BACK) return v;
        // Back and Enter again on the masked address: what it filled stands.
        if (d.fromAddress && v === d.first) return 'next';
        const parsed = parseEndpoint(v);
        if (parsed && !('error' in parsed)) {
          // An address fills the rest; its token goes to the secret store with the connection, never shown again.
          // The masked address edited after Back (another port, say) keeps the token it hides.
          d.token = parsed.token === MASK && d.fromAddress?.token ? d.token : (parsed.token ?? '');
          d.first = parsed.token !== undefined ? v.trim().replace(/\/\/.*@/, `//${MASK}@`) : v;
          d.host = parsed.host;
          d.port = String(parsed.port);
          if (parsed.tls !== undefined) d.tls = parsed.tls ? 'tls' : 'none';
          d.name = nameFor(parsed.host, parsed.port, taken);
          d.fromAddress = { tls: parsed.tls, token: parsed.token !== undefined };
        } else {
          d.first = v;
          d.name = v.trim();
          d.fromAddress = undefined;
          d.token = '';
        }
        return 'next';
      },
    },
    { id: 'host', applies: () => !d.fromAddress, counts: true, run: (n, t) => ask(n, t, 'host', 'Host', validateHost) },
    { id: 'port', applies: () => !d.fromAddress, counts: true, run: (n, t) => ask(n, t, 'port', 'Port', validatePort) },
    {
      id: 'tls',
      applies: () => !byScheme(),
      counts: true,
      run: async (n, total) => {
        const items = TLS_ITEMS.map((i) => ({ ...i }));
        const picked = await pickStep({ title, step: n, totalSteps: total, items, placeHolder: 'Transport security', active: items.find((i) => i.value === d.tls) });
        if (picked === undefined || picked === BACK) return picked;
        d.tls = picked.value;
        return 'next';
      },
    },
    // The TLS files (and an encrypted key's passphrase) are part of the transport step: they share its number.
    { id: 'caFile', applies: () => d.tls !== 'none' && !byScheme(), counts: false, run: (n, t) => ask(n, t, 'caFile', 'CA certificate file (PEM), or empty to use the system CAs', (v) => validateFile(v, true)) },
    { id: 'certFile', applies: () => mutual() && !byScheme(), counts: false, run: (n, t) => ask(n, t, 'certFile', 'Client certificate file (PEM)', (v) => validateFile(v, false)) },
    { id: 'keyFile', applies: () => mutual() && !byScheme(), counts: false, run: (n, t) => ask(n, t, 'keyFile', 'Client key file (PEM)', (v) => validateFile(v, false)) },
    {
      id: 'passphrase',
      applies: () => mutual() && !byScheme() && keyIsEncrypted(d.keyFile),
      counts: false,
      run: async (n, total) => {
        const kept = existing?.tls?.keyFile === d.keyFile && (await manager.store.keyPassphrase(existing.name)) !== undefined;
        const v = await inputStep({
          title,
          step: n,
          totalSteps: total,
          prompt: `Passphrase of the encrypted key ${d.keyFile}${kept ? ' (leave empty to keep the stored one)' : ''} — kept in the secret store`,
          password: true,
          value: d.keyPassphrase ?? '',
          validate: (t) => (t || kept ? undefined : 'The key is encrypted: enter its passphrase.'),
        });
        if (v === undefined || v === BACK) return v;
        d.keyPassphrase = v || undefined;
        return 'next';
      },
    },
    {
      id: 'token',
      applies: () => !byScheme(),
      counts: true,
      run: async (n, total) => {
        // Said before the token is typed: over plain TCP to another machine, anyone on the path can read it.
        const clearWarning = tokenInClear(configOf(d, existing)) ? ` — ⚠ without TLS, ${d.host.trim()} receives it in the clear` : '';
        const v = await inputStep({
          title,
          step: n,
          totalSteps: total,
          prompt: (existing ? 'Bearer token (leave empty to keep the stored one; type "-" to remove it)' : 'Bearer token (leave empty if the server does not require auth)') + clearWarning,
          placeHolder: existing ? 'unchanged' : 'no token',
          password: true,
          value: d.token,
        });
        if (v === undefined || v === BACK) return v;
        d.token = v;
        return 'next';
      },
    },
    {
      id: 'access',
      applies: () => true,
      counts: true,
      run: async (n, total) => {
        const items = [
          { label: 'Read and write', value: false },
          { label: 'Read-only', description: 'refuse every write command', value: true },
        ];
        const picked = await pickStep({ title, step: n, totalSteps: total, items, placeHolder: 'Access', active: items.find((i) => i.value === d.readOnly) });
        if (picked === undefined || picked === BACK) return picked;
        d.readOnly = picked.value;
        return 'next';
      },
    },
  ];
}

/** The configuration a finished draft describes (what is not asked is kept from the existing one). */
function configOf(d: Draft, existing?: ConnectionConfig): ConnectionConfig {
  const config: ConnectionConfig = { name: d.name.trim(), host: d.host.trim(), port: Number(d.port) };
  if (d.tls !== 'none') {
    const unverified = d.tls === 'tls-unverified' || d.tls === 'mtls-unverified';
    // Verification is on unless the user picked one of the unverified options.
    const tls: NonNullable<ConnectionConfig['tls']> = { enabled: true, rejectUnauthorized: !unverified };
    if (d.caFile.trim()) tls.caFile = d.caFile.trim();
    if (d.tls === 'mtls' || d.tls === 'mtls-unverified') {
      tls.certFile = d.certFile.trim();
      tls.keyFile = d.keyFile.trim();
    }
    if (existing?.tls?.servername) tls.servername = existing.tls.servername;
    config.tls = tls;
  }
  if (existing?.wireMode) config.wireMode = existing.wireMode;
  if (d.readOnly) config.readOnly = true;
  if (d.color) config.color = d.color;
  return config;
}

/** Saves the draft, its secrets to SecretStorage only, and warns where the user should know. */
async function save(manager: ConnectionManager, d: Draft, existing?: ConnectionConfig): Promise<ConnectionConfig> {
  const config = configOf(d, existing);
  // Pasted tokens often carry a trailing newline or space; the server would refuse them.
  const typed = d.token.trim();
  const tokenToStore = existing ? (typed === '' ? undefined : typed === '-' ? '' : typed) : typed || undefined;
  const keyPassphrase = config.tls?.keyFile ? d.keyPassphrase : undefined;
  // Stored before the settings change, which reconnects with it.
  if (keyPassphrase !== undefined) await manager.store.saveKeyPassphrase(config.name, keyPassphrase);
  await manager.store.save(config, tokenToStore, existing);
  // A new secret alone changes no setting: reconnect so it is used (a fixed wrong token recovers at once).
  // Changed settings reconnect by themselves.
  const newSecret = tokenToStore !== undefined || keyPassphrase !== undefined;
  if (existing && newSecret && sameSettings(existing, config)) void manager.get(config.name)?.reconnect();
  if (tokenInClear(config) && (tokenToStore || (tokenToStore === undefined && existing && (await manager.store.tokens.tokenFor(config.name, endpointOf(config))) !== undefined))) {
    void vscode.window.showWarningMessage(`'${config.name}' sends its token without TLS to ${config.host}: anyone on the network path can read it. Edit the connection to turn TLS on.`);
  }
  if (config.tls?.enabled && config.tls.rejectUnauthorized === false) {
    void vscode.window.showWarningMessage(`'${config.name}' does not verify the server's certificate: anyone between you and the server could read and change the traffic.`);
  }
  return config;
}

/** Steps that apply now and have a number of their own. */
const numbered = (list: FlowStep[]) => list.filter((s) => s.counts && s.applies()).length;

/**
 * Runs steps in order with Back: a step that does not apply to the draft as it
 * now is (an address filled it) is skipped both ways. Numbers and the total
 * follow what applies, plus `before` and `after` (Add's final "connect now?").
 */
async function runSteps(list: FlowStep[], before: number, after: number): Promise<'next' | Back | undefined> {
  let i = 0;
  const numberOf = (at: number) => before + Math.max(1, numbered(list.slice(0, at + 1)));
  while (i < list.length) {
    if (!list[i].applies()) {
      i++;
      continue;
    }
    const r = await list[i].run(numberOf(i), before + numbered(list) + after);
    if (r === undefined) return undefined;
    if (r === BACK) {
      let j = i - 1;
      while (j >= 0 && !list[j].applies()) j--;
      // Back from the first step goes to whatever came before this list.
      if (j < 0) return BACK;
      i = j;
      continue;
    }
    i++;
  }
  return 'next';
}

/** Add Connection: one input per step with Back (VS Code's own counter: "Add rstmdb Connection (2/7)"); Escape anywhere cancels without saving. */
export async function addConnection(manager: ConnectionManager): Promise<void> {
  const taken = manager.all().map((c) => c.name);
  const d = draftOf(undefined, taken);
  const list = steps(manager, d, 'Add rstmdb Connection', taken);
  if ((await runSteps(list, 0, 1)) !== 'next') return;
  const config = await save(manager, d);
  const last = numbered(list) + 1;
  const connect = 'Connect';
  const test = 'Test Connection';
  const choice = await vscode.window.showInformationMessage(`Saved connection '${config.name}' (${config.host}:${config.port}). Step ${last}/${last}: connect now?`, connect, test);
  if (choice === connect) await vscode.commands.executeCommand('rstmdb.connect', config.name);
  else if (choice === test) await vscode.commands.executeCommand('rstmdb.testConnection', config.name);
}

type Field = 'name' | 'address' | 'tls' | 'token' | 'access' | 'color';

/** Edit Connection: which field to change, then only that; Back returns to the choice. */
export async function editConnection(manager: ConnectionManager, existing: ConnectionConfig): Promise<void> {
  const taken = manager.all().map((c) => c.name).filter((n) => n !== existing.name);
  const tlsLabel = TLS_ITEMS.find((i) => i.value === tlsChoiceOf(existing))!.label.replace(/^\$\(warning\) /, '');
  const token = await manager.store.lookupToken(existing);
  const tokenSaid = token.kind === 'none' ? 'none' : token.kind === 'bound' ? 'kept in the secret store' : 'kept, saved for another server';
  const items: (vscode.QuickPickItem & { field: Field })[] = [
    { label: 'Name', description: existing.name, field: 'name' },
    { label: 'Address', description: `${existing.host}:${existing.port}`, field: 'address' },
    { label: 'Transport security', description: tlsLabel, field: 'tls' },
    { label: 'Token', description: tokenSaid, field: 'token' },
    { label: 'Access', description: existing.readOnly ? 'read-only' : 'read and write', field: 'access' },
    { label: 'Colour', description: existing.color ?? 'none', field: 'color' },
  ];
  const title = `Edit rstmdb Connection '${existing.name}'`;
  let last: (typeof items)[number] | undefined;
  for (;;) {
    const picked = await pickStep({ title, step: 1, totalSteps: 2, items, placeHolder: 'What do you want to change?', active: last });
    if (picked === undefined || picked === BACK) return;
    last = picked;
    // A fresh draft each time: a field left with Back changes nothing.
    const d = draftOf(existing, taken);
    const answered = await editField(manager, d, picked.field, title, taken, existing);
    if (answered === undefined) return;
    if (answered === BACK) continue;
    const config = await save(manager, d, existing);
    void vscode.window.showInformationMessage(`Saved connection '${config.name}' (${config.host}:${config.port}).`);
    return;
  }
}

async function editField(manager: ConnectionManager, d: Draft, field: Field, title: string, taken: string[], existing: ConnectionConfig): Promise<'next' | Back | undefined> {
  const all = steps(manager, d, title, taken, existing);
  const only = (...ids: StepId[]) => all.filter((s) => ids.includes(s.id));
  switch (field) {
    case 'name': {
      const v = await inputStep({ title, step: 2, totalSteps: 2, prompt: 'Connection name', value: d.name, validate: (t) => validateName(t, taken) });
      if (v === undefined || v === BACK) return v;
      d.name = v.trim();
      return 'next';
    }
    case 'address': {
      const v = await inputStep({
        title,
        step: 2,
        totalSteps: 2,
        prompt: `Address: ${ADDRESS_FORMS}`,
        value: `${d.host.includes(':') ? `[${d.host}]` : d.host}:${d.port}`,
        validate: (t) => {
          const parsed = parseEndpoint(t);
          if (!parsed) return 'Give host:port, e.g. db.internal:7401.';
          return 'error' in parsed ? parsed.error : undefined;
        },
        warn: (t) => clearTextWarning(parseEndpoint(t)),
      });
      if (v === undefined || v === BACK) return v;
      const parsed = parseEndpoint(v) as ParsedEndpoint;
      d.host = parsed.host;
      d.port = String(parsed.port);
      // A scheme says TLS or not; a client certificate already set up stays when it says TLS.
      if (parsed.tls !== undefined && (parsed.tls ? d.tls === 'none' : d.tls !== 'none')) d.tls = parsed.tls ? 'tls' : 'none';
      // A token in the address replaces the stored one; without one, the stored token moves with the connection.
      if (parsed.token !== undefined) d.token = parsed.token;
      return 'next';
    }
    case 'tls':
      // The transport pick and its files, numbered after the field pick.
      return runSteps(only('tls', 'caFile', 'certFile', 'keyFile', 'passphrase'), 1, 0);
    case 'token':
      return runSteps(only('token'), 1, 0);
    case 'access':
      return runSteps(only('access'), 1, 0);
    case 'color': {
      const items = COLOR_ITEMS.map((i) => ({ ...i }));
      const picked = await pickStep({ title, step: 2, totalSteps: 2, items, placeHolder: 'Colour of its icon and status bar item', active: items.find((i) => i.value === d.color) });
      if (picked === undefined || picked === BACK) return picked;
      d.color = picked.value;
      return 'next';
    }
  }
}
