/** The webview's side of the protocol: typed requests with replies, and checked messages from the host. */
import type { HostMessage, RequestOp, RequestResult, WebviewMessage } from '../protocol/inspector';
import { validHostMessage } from '../protocol/validate';

export type WebviewApi = ReturnType<typeof acquireVsCodeApi>;
type Api = WebviewApi;

export class Host {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();

  constructor(
    readonly api: Api,
    private readonly onMessage: (m: Exclude<HostMessage, { t: 'response' }>) => void,
  ) {
    window.addEventListener('message', (e: MessageEvent) => {
      const m = validHostMessage(e.data);
      if (!m) {
        console.warn('rstmdb inspector: dropped a malformed message from the extension');
        return;
      }
      if (m.t === 'response') {
        const p = this.pending.get(m.id);
        if (!p) return;
        this.pending.delete(m.id);
        if (m.ok) p.resolve(m.result);
        else p.reject(new Error(m.error));
        return;
      }
      this.onMessage(m);
    });
  }

  post(m: WebviewMessage): void {
    this.api.postMessage(m);
  }

  /**
   * Interactive requests (Apply Event, Delete) wait for the user in VS Code,
   * so there is no timeout; their outcome also arrives as a fresh snapshot.
   */
  request<O extends RequestOp['op']>(op: O, args: Extract<RequestOp, { op: O }>['args']): Promise<RequestResult<O>> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.post({ t: 'request', id, op, args } as WebviewMessage);
    });
  }
}
