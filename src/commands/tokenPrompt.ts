import * as vscode from 'vscode';
import type { ConnectionConfig } from '../model/connectionConfig';
import type { ConnectionStore } from '../model/connectionStore';
import type { TokenResolver } from '../model/serverConnection';
import { describeBoundEndpoint, endpointOf } from '../model/tokenBinding';
import { ask } from './prompts';

export const USE_HERE = 'Use it here';
export const ENTER_TOKEN = 'Enter a token';
export const CONNECT_WITHOUT = 'Connect without';

/**
 * The token resolver of a session: `resolveToken`, with one question at a time
 * per connection and endpoint. The connection itself and Test Connection may
 * both need the token at once (a workspace just redefined the connection while
 * the user tests it); they share the open question and its answer instead of
 * stacking two identical modal dialogs, where answering the first would leave
 * the second blocking whoever asked it.
 */
export function tokenResolver(store: ConnectionStore): TokenResolver {
  const asking = new Map<string, Promise<string | undefined>>();
  return (config) => {
    const e = endpointOf(config);
    const key = JSON.stringify([config.name, e.host, e.port, e.tls]);
    const open = asking.get(key);
    if (open) return open;
    const answer = resolveToken(store, config).finally(() => asking.delete(key));
    asking.set(key, answer);
    return answer;
  };
}

/**
 * The token to send for a connection as configured now. Sent without a
 * question only to the endpoint it was saved for; otherwise the user decides,
 * and a dismissed question means no connection (never a silent send).
 */
export async function resolveToken(store: ConnectionStore, config: ConnectionConfig): Promise<string | undefined> {
  const found = await store.lookupToken(config);
  if (found.kind === 'none') return undefined;
  if (found.kind === 'bound') return found.token;
  const here = endpointOf(config);
  const where = describeBoundEndpoint(here, found.kind === 'elsewhere' ? found.savedFor : undefined);
  const message =
    found.kind === 'elsewhere'
      ? `'${config.name}' now points to ${where}; the token was saved for ${describeBoundEndpoint(found.savedFor, here)}`
      : `'${config.name}' points to ${where}; its token was saved before tokens were tied to a server`;
  const pick = await vscode.window.showWarningMessage(
    message,
    {
      modal: true,
      detail: `Sending the token gives ${where} the access it grants. Use it here only if this is the server you saved it for. Connections can be redefined by a workspace's settings or by hand.`,
    },
    USE_HERE,
    ENTER_TOKEN,
    CONNECT_WITHOUT,
  );
  if (pick === CONNECT_WITHOUT) return undefined;
  if (pick === USE_HERE) {
    await store.tokens.bind(config.name, here, found.token);
    return found.token;
  }
  if (pick === ENTER_TOKEN) {
    const typed = await ask({ title: `Token for '${config.name}' at ${where}`, prompt: 'Bearer token (empty: connect without one)', password: true });
    if (typed !== undefined) {
      const token = typed.trim();
      if (!token) return undefined;
      await store.tokens.bind(config.name, here, token);
      return token;
    }
  }
  throw new TokenNotConfirmedError(config.name, where);
}

/** The user dismissed the question: nothing was sent, and the row says so. */
export class TokenNotConfirmedError extends Error {
  constructor(name: string, where: string) {
    super(`'${name}' now points to ${where} and its token was saved for another server: nothing was sent. Connect again to choose.`);
  }
}
