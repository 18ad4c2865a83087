/**
 * The instance inspector's page. It asks for nothing until it says ready; the host then
 * sends a full snapshot (again after every change), which this page draws.
 * Only UI state (tab, zoom, selection, search, expanded paths) is kept with
 * setState, so a reload or a hidden tab comes back as it was.
 */
import { html, nothing, render } from 'lit';
import { PROTOCOL_VERSION, type HostMessage, type InstanceProblem as InspectorProblem, type InspectorUiState, type InstanceSnapshot } from '../protocol/inspector';
import { validUiState } from '../protocol/validate';
import { ContextTree } from './contextTree';
import { DiagramView } from './diagram/render';
import { validView } from './diagram/viewport';
import { when } from './format';
import { HistoryList } from './historyList';
import { Host, type WebviewApi } from './host';

export function startInstanceView(api: WebviewApi): void {
  const restored = validUiState(api.getState());
  let ui: InspectorUiState | undefined = restored;
  let snapshot: InstanceSnapshot | undefined;
  let lastSeq = -1;
  let busy = '';

  let saveTimer = 0;
  function saveState(patch: Partial<InspectorUiState>, now = false): void {
    if (!ui) return;
    ui = { ...ui, ...patch };
    if (now) {
      api.setState(ui);
      return;
    }
    if (saveTimer) return;
    saveTimer = window.setTimeout(() => {
      saveTimer = 0;
      api.setState(ui);
    }, 200);
  }

  const host = new Host(api, onMessage);
  const app = document.getElementById('app')!;
  const header = document.createElement('header');
  header.className = 'header';
  const banner = document.createElement('div');
  banner.className = 'banner-slot';
  const body = document.createElement('main');
  body.className = 'body';

  const diagram = new DiagramView({
    apply: (event) => void act(`Apply ${event}`, () => host.request('applyEvent', { event })),
    viewChanged: (view) => saveState({ view }),
  });
  const contextTree = new ContextTree(
    {
      copy: (text, what) => void host.request('copy', { text, what }).catch(() => undefined),
      expandedChanged: (expanded) => saveState({ expanded }),
    },
    restored?.expanded,
    restored?.search,
  );
  const history = new HistoryList(
    {
      select: (offset) => {
        saveState({ selectedOffset: offset });
        host.request('historyEntry', { offset }).then(
          (d) => history.showDetail(d),
          (err: Error) => history.showDetail({ offset, error: err.message }),
        );
      },
    },
    restored?.selectedOffset,
  );

  const diagramPane = document.createElement('section');
  diagramPane.className = 'diagram-pane';
  diagramPane.setAttribute('aria-label', 'Machine diagram');
  diagramPane.appendChild(diagram.element);
  const side = document.createElement('section');
  side.className = 'side';
  const tabs = document.createElement('vscode-tabs');
  tabs.setAttribute('panel', '');
  const contextHeader = document.createElement('vscode-tab-header');
  contextHeader.slot = 'header';
  contextHeader.textContent = 'Context';
  const historyHeader = document.createElement('vscode-tab-header');
  historyHeader.slot = 'header';
  historyHeader.textContent = 'History';
  const historyCount = document.createElement('vscode-badge');
  historyCount.setAttribute('variant', 'counter');
  historyCount.slot = 'content-after';
  historyHeader.appendChild(historyCount);
  const contextPanel = document.createElement('vscode-tab-panel');
  contextPanel.appendChild(contextTree.element);
  const historyPanel = document.createElement('vscode-tab-panel');
  historyPanel.appendChild(history.element);
  tabs.append(contextHeader, contextPanel, historyHeader, historyPanel);
  tabs.setAttribute('selected-index', restored?.tab === 'history' ? '1' : '0');
  tabs.addEventListener('vsc-tabs-select', (e: Event) => {
    const index = (e as CustomEvent<{ selectedIndex: number }>).detail.selectedIndex;
    saveState({ tab: index === 1 ? 'history' : 'context' }, true);
  });
  side.appendChild(tabs);
  body.append(diagramPane, side);

  /** Runs a host request, showing which one is under way; errors are shown by VS Code itself. */
  async function act(what: string, run: () => Promise<unknown>): Promise<void> {
    busy = what;
    draw();
    try {
      await run();
    } catch {
      // The host reports failures in VS Code's own notifications.
    } finally {
      busy = '';
      draw();
    }
  }

  function connectionDot(s: InstanceSnapshot['connectionState']) {
    const label = s === 'ready' ? 'connected' : s;
    return html`<span class="conn ${s}" title="Connection ${label}"><i class="codicon codicon-circle-filled" aria-hidden="true"></i> ${label}</span>`;
  }

  function toolbar(s: InstanceSnapshot) {
    const canWrite = !s.readOnly && !s.deleted;
    const roTitle = s.readOnly ? ' (the connection is read-only)' : s.deleted ? ' (the instance was deleted)' : '';
    return html`<vscode-toolbar-container class="actions" aria-label="Instance actions">
      <vscode-toolbar-button icon="play" label="Apply Event…${roTitle}" title="Apply Event…${roTitle}" ?disabled=${!canWrite || !!busy}
        @click=${() => act('Apply Event', () => host.request('applyEvent', {}))}>Apply Event</vscode-toolbar-button>
      <vscode-toolbar-button icon="refresh" label="Refresh" title="Refresh" @click=${() => act('Refresh', () => host.request('refresh', {}))}></vscode-toolbar-button>
      <vscode-toolbar-button icon="copy" label="Copy Context" title="Copy Context"
        @click=${() => host.request('copy', { text: JSON.stringify(s.ctx, null, 2), what: 'the context' })}></vscode-toolbar-button>
      <vscode-toolbar-button icon="json" label="Open as JSON" title="Open as JSON" @click=${() => host.request('openJson', {})}></vscode-toolbar-button>
      <vscode-toolbar-button icon="trash" label="Delete…${roTitle}" title="Delete…${roTitle}" ?disabled=${!canWrite || !!busy}
        @click=${() => act('Delete', () => host.request('delete', {}))}></vscode-toolbar-button>
    </vscode-toolbar-container>`;
  }

  function headerTemplate(s: InstanceSnapshot) {
    return html`<div class="title-row">
        <i class="codicon codicon-symbol-class title-icon" aria-hidden="true"></i>
        <h1 class="instance-id" title=${s.instanceId}>${s.instanceId}</h1>
        <vscode-badge class="state-badge ${s.deleted ? 'deleted' : ''}" aria-label="Current state ${s.state}" data-state=${s.state}>${s.state}</vscode-badge>
        ${busy ? html`<vscode-progress-ring class="busy" aria-label=${busy}></vscode-progress-ring>` : nothing}
        <span class="spacer"></span>
        ${toolbar(s)}
      </div>
      <dl class="meta">
        <div><dt>Machine</dt><dd>${s.machine} v${s.version}</dd></div>
        <div><dt>Last WAL offset</dt><dd class="wal-offset">${s.lastWalOffset}</dd></div>
        <div><dt>Created</dt><dd>${when(s.createdAt)}</dd></div>
        <div><dt>Updated</dt><dd>${when(s.updatedAt)}</dd></div>
        <div><dt>Connection</dt><dd>${s.connection} ${connectionDot(s.connectionState)}</dd></div>
      </dl>`;
  }

  function bannerTemplate(s: InstanceSnapshot) {
    if (s.deleted) {
      return html`<div class="banner deleted" role="alert">
        <i class="codicon codicon-trash" aria-hidden="true"></i>
        <span>This instance was deleted. What is shown is its last state.</span>
        <vscode-toolbar-button icon="close" label="Close inspector" @click=${() => host.request('close', {})}>Close</vscode-toolbar-button>
      </div>`;
    }
    if (s.connectionState !== 'ready') {
      return html`<div class="banner offline" role="status"><i class="codicon codicon-debug-disconnect" aria-hidden="true"></i>
        <span>The connection is ${s.connectionState}; what is shown may be out of date.</span>
        ${s.connectionState === 'disconnected'
          ? html`<vscode-toolbar-button icon="plug" label="Connect and refresh" @click=${() => host.request('refresh', {})}>Connect</vscode-toolbar-button>`
          : nothing}</div>`;
    }
    return nothing;
  }

  function problemTemplate(p: InspectorProblem) {
    return html`<div class="problem" role="alert">
      <i class="codicon codicon-warning" aria-hidden="true"></i>
      <p>${p.message}</p>
      <div class="problem-actions">
        ${p.retry ? html`<vscode-toolbar-button icon="refresh" label="Retry" @click=${() => act('Retry', () => host.request('refresh', {}))}>Retry</vscode-toolbar-button>` : nothing}
        <vscode-toolbar-button icon="close" label="Close inspector" @click=${() => host.request('close', {})}>Close</vscode-toolbar-button>
      </div>
    </div>`;
  }

  const problemSlot = document.createElement('div');
  problemSlot.className = 'problem-slot';
  let shellMounted = false;
  function draw(): void {
    const s = snapshot;
    if (!s) return;
    if (!shellMounted) {
      app.replaceChildren(header, banner, body);
      app.classList.remove('loading');
      shellMounted = true;
    }
    render(headerTemplate(s), header);
    render(bannerTemplate(s), banner);
  }

  function show(s: InstanceSnapshot): void {
    snapshot = s;
    if (!ui || ui.connection !== s.connection || ui.instanceId !== s.instanceId) {
      ui = { v: PROTOCOL_VERSION, connection: s.connection, instanceId: s.instanceId, tab: 'context' };
    }
    saveState({}, true);
    draw();
    const saved = restored?.view && validView(restored.view) ? restored.view : undefined;
    diagram.setDefinition(`${s.machine}@${s.version}`, s.definition, `${s.machine} v${s.version}`, saved);
    diagram.setCurrent(s.state, s.outgoing, !s.readOnly && !s.deleted);
    contextTree.setContext(s.ctx);
    history.setHistory(s.history);
    historyCount.textContent = s.history.progress ? '…' : String(s.history.rows.length);
    document.body.dataset.state = s.state;
    document.body.dataset.ready = 'true';
  }

  function onMessage(m: Exclude<HostMessage, { t: 'response' }>): void {
    if (m.t === 'machine' || m.t === 'wal') return;
    if (m.t === 'progress') {
      if (snapshot) history.setHistory(snapshot.history, { read: m.read, total: m.total });
      return;
    }
    // A fresh page starts again at seq 1; anything older than what is drawn is dropped.
    if (m.seq <= lastSeq && m.seq !== 1) return;
    lastSeq = m.seq;
    if (m.t === 'snapshot') show(m.snapshot);
    else {
      shellMounted = false;
      snapshot = undefined;
      if (m.problem.connection && m.problem.instanceId) {
        ui = ui ?? { v: PROTOCOL_VERSION, connection: m.problem.connection, instanceId: m.problem.instanceId, tab: 'context' };
        saveState({});
      }
      app.classList.remove('loading');
      app.replaceChildren(problemSlot);
      render(problemTemplate(m.problem), problemSlot);
      document.body.dataset.ready = 'problem';
    }
  }

  host.post({ t: 'ready', v: PROTOCOL_VERSION, clientId: Math.random().toString(36).slice(2), ...(restored ? { state: restored } : {}) });
}
