/**
 * The WAL explorer: WAL_STATS on top, the log's records below a page at a
 * time (following next_offset), filtered by entry type and instance. An entry
 * opens the instance or machine version it concerns.
 */
import { html, nothing, render } from 'lit';
import { PROTOCOL_VERSION, WAL_ENTRY_TYPES, type HostMessage, type WalFilter, type WalRow, type WalSnapshot } from '../protocol/inspector';
import { Host, type WebviewApi } from './host';

const ICONS: Record<string, string> = {
  put_machine: 'type-hierarchy',
  create_instance: 'add',
  apply_event: 'arrow-right',
  delete_instance: 'trash',
  snapshot: 'archive',
  checkpoint: 'pass',
};

function bytes(n: number): string {
  return n < 1024 ? `${n} B` : n < 1024 ** 2 ? `${(n / 1024).toFixed(1)} KB` : n < 1024 ** 3 ? `${(n / 1024 ** 2).toFixed(1)} MB` : `${(n / 1024 ** 3).toFixed(2)} GB`;
}

function subject(r: WalRow): string {
  if (r.type === 'put_machine') return `${r.machine} v${r.version}`;
  return r.instanceId ?? '';
}

function detail(r: WalRow): string {
  if (r.type === 'apply_event') return `${r.event}: ${r.from} → ${r.to}`;
  if (r.type === 'create_instance') return `${r.machine} v${r.version}, in ${r.to}`;
  return '';
}

export function startWalView(api: WebviewApi): void {
  const host = new Host(api, onMessage);
  const app = document.getElementById('app')!;
  let snapshot: WalSnapshot | undefined;
  let lastSeq = -1;
  let busy = false;
  let typeFilter = '';
  let instanceFilter = '';

  const run = async (fn: () => Promise<unknown>) => {
    busy = true;
    draw();
    try {
      await fn();
    } catch {
      // Failures arrive as a problem page.
    } finally {
      busy = false;
      draw();
    }
  };

  const query = () => {
    const filter: WalFilter = { ...(typeFilter ? { type: typeFilter as WalFilter['type'] } : {}), ...(instanceFilter.trim() ? { instance: instanceFilter.trim() } : {}) };
    void run(() => host.request('walQuery', filter));
  };

  const open = (r: WalRow) => void host.request('walOpen', { offset: r.offset }).catch(() => undefined);

  function template(s: WalSnapshot) {
    return html`<header class="header">
        <div class="title-row">
          <i class="codicon codicon-database title-icon" aria-hidden="true"></i>
          <h1 class="instance-id">Write-ahead log · ${s.connection}</h1>
          ${busy ? html`<vscode-progress-ring class="busy" aria-label="Reading"></vscode-progress-ring>` : nothing}
          <span class="spacer"></span>
          <vscode-toolbar-button icon="refresh" label="Refresh" title="Refresh" @click=${() => run(() => host.request('refresh', {}))}></vscode-toolbar-button>
        </div>
        <dl class="meta wal-stats">
          <div><dt>Entries</dt><dd data-stat="entries">${s.stats.entryCount.toLocaleString()}</dd></div>
          <div><dt>Segments</dt><dd>${s.stats.segmentCount}</dd></div>
          <div><dt>Size</dt><dd>${bytes(s.stats.totalSizeBytes)}</dd></div>
          <div><dt>Latest offset</dt><dd>${s.stats.latestOffset}</dd></div>
        </dl>
        <form class="wal-filter" @submit=${(e: Event) => {
          e.preventDefault();
          query();
        }}>
          <label for="type">Type</label>
          <select id="type" class="select" @change=${(e: Event) => {
            typeFilter = (e.target as HTMLSelectElement).value;
            query();
          }}>
            <option value="" ?selected=${!s.filter.type}>all</option>
            ${WAL_ENTRY_TYPES.map((t) => html`<option value=${t} ?selected=${s.filter.type === t}>${t}</option>`)}
          </select>
          <label for="instance">Instance</label>
          <input id="instance" class="text" type="text" placeholder="any instance id" .value=${instanceFilter}
            @input=${(e: Event) => (instanceFilter = (e.target as HTMLInputElement).value)} />
          <vscode-toolbar-button icon="filter" label="Apply filter" title="Apply filter" @click=${query}>Filter</vscode-toolbar-button>
        </form>
      </header>
      <main class="wal-body">
        <table class="wal" aria-label="WAL records">
          <thead><tr><th>Offset</th><th>Seq</th><th>Type</th><th>Concerns</th><th>Detail</th></tr></thead>
          <tbody>
            ${s.rows.map(
              (r) => html`<tr tabindex="0" data-type=${r.type} data-offset=${r.offset} title=${r.instanceId || r.machine ? 'Open' : ''}
                  @click=${() => open(r)} @keydown=${(e: KeyboardEvent) => e.key === 'Enter' && open(r)}>
                <td class="num">${r.offset}</td><td class="num">${r.sequence}</td>
                <td><i class="codicon codicon-${ICONS[r.type] ?? 'circle'}" aria-hidden="true"></i> ${r.type}</td>
                <td>${subject(r)}</td><td>${detail(r)}</td>
              </tr>`,
            )}
          </tbody>
        </table>
        <p class="muted wal-footer">
          ${s.rows.length.toLocaleString()} ${s.filter.type || s.filter.instance ? 'matching ' : ''}records shown, ${s.scanned.toLocaleString()} read.
          ${s.nextOffset !== undefined
            ? html`<vscode-toolbar-button icon="fold-down" label="Load more" ?disabled=${busy} @click=${() => run(() => host.request('walMore', {}))}>Load more</vscode-toolbar-button>`
            : html`End of the log.`}
        </p>
      </main>`;
  }

  // lit renders into a container of its own, never beside the boot text.
  const root = document.createElement('div');
  root.className = 'wal-root';
  function draw(): void {
    if (!snapshot) return;
    if (root.parentElement !== app) app.replaceChildren(root);
    app.classList.remove('loading');
    render(template(snapshot), root);
  }

  function onMessage(m: Exclude<HostMessage, { t: 'response' }>): void {
    if (m.t !== 'wal' && m.t !== 'problem') return;
    if (m.seq <= lastSeq && m.seq !== 1) return;
    lastSeq = m.seq;
    if (m.t === 'wal') {
      snapshot = m.snapshot;
      typeFilter = snapshot.filter.type ?? '';
      instanceFilter = snapshot.filter.instance ?? instanceFilter;
      api.setState({ v: PROTOCOL_VERSION, kind: 'wal', connection: snapshot.connection });
      draw();
      document.body.dataset.ready = 'true';
    } else {
      snapshot = undefined;
      if (root.parentElement !== app) app.replaceChildren(root);
      render(html`<div class="problem" role="alert"><p>${m.problem.message}</p>
        <vscode-toolbar-button icon="refresh" label="Retry" @click=${() => host.request('refresh', {})}>Retry</vscode-toolbar-button></div>`, root);
    }
  }

  host.post({ t: 'ready', v: PROTOCOL_VERSION, clientId: Math.random().toString(36).slice(2) });
}
