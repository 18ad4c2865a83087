/**
 * The machine view: one version of a machine drawn without an instance, its
 * states and transitions listed, a version picker, and a comparison with
 * another version (added and removed states and transitions highlighted).
 */
import { html, nothing, render } from 'lit';
import { PROTOCOL_VERSION, type HostMessage, type MachineSnapshot, type MachineUiState } from '../protocol/inspector';
import { validMachineState } from '../protocol/validate';
import { compareDefinitions, type Change, type Comparison } from './diagram/compare';
import { DiagramView } from './diagram/render';
import { validView } from './diagram/viewport';
import { Host, type WebviewApi } from './host';

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

export function startMachineView(api: WebviewApi): void {
  const restored = validMachineState(api.getState());
  let ui: MachineUiState | undefined = restored;
  let snapshot: MachineSnapshot | undefined;
  let lastSeq = -1;

  const save = (patch: Partial<MachineUiState>) => {
    if (!ui) return;
    ui = { ...ui, ...patch };
    api.setState(ui);
  };

  const host = new Host(api, onMessage);
  const app = document.getElementById('app')!;
  const header = document.createElement('header');
  header.className = 'header machine-header';
  const body = document.createElement('main');
  body.className = 'body';
  const diagram = new DiagramView({ apply: () => undefined, viewChanged: (view) => save({ view }) });
  const pane = document.createElement('section');
  pane.className = 'diagram-pane';
  pane.setAttribute('aria-label', 'Machine diagram');
  pane.appendChild(diagram.element);
  const side = document.createElement('section');
  side.className = 'side machine-side';
  body.append(pane, side);
  let mounted = false;

  const show = (version: number, compare?: number) => void host.request('showVersion', { version, ...(compare !== undefined ? { compare } : {}) }).catch(() => undefined);

  function picker(s: MachineSnapshot) {
    const others = s.versions.filter((v) => v !== s.version);
    return html`<div class="pickers">
      <label for="version">Version</label>
      <select id="version" class="select" aria-label="Version" @change=${(e: Event) => show(Number((e.target as HTMLSelectElement).value), s.compare?.version)}>
        ${s.versions.map((v) => html`<option value=${v} ?selected=${v === s.version}>v${v}</option>`)}
      </select>
      <label for="compare">Compare with</label>
      <select id="compare" class="select" aria-label="Compare with version" ?disabled=${others.length === 0}
        @change=${(e: Event) => {
          const v = (e.target as HTMLSelectElement).value;
          show(s.version, v ? Number(v) : undefined);
        }}>
        <option value="" ?selected=${!s.compare}>${others.length ? 'nothing' : 'no other version'}</option>
        ${others.map((v) => html`<option value=${v} ?selected=${v === s.compare?.version}>v${v}</option>`)}
      </select>
    </div>`;
  }

  function headerTemplate(s: MachineSnapshot, cmp: Comparison | undefined) {
    const d = s.definition;
    return html`<div class="title-row">
        <i class="codicon codicon-type-hierarchy title-icon" aria-hidden="true"></i>
        <h1 class="instance-id machine-name">${s.machine}</h1>
        <vscode-badge>v${s.version}</vscode-badge>
        <span class="spacer"></span>
        ${picker(s)}
      </div>
      <dl class="meta">
        <div><dt>States</dt><dd>${d.states.length}</dd></div>
        <div><dt>Transitions</dt><dd>${d.transitions.reduce((n, t) => n + t.from.length, 0)}</dd></div>
        <div><dt>Initial</dt><dd>${d.initial}</dd></div>
        <div><dt>Connection</dt><dd>${s.connection}</dd></div>
      </dl>
      ${cmp && s.compare
        ? html`<p class="compare-summary" role="status">Against v${s.compare.version}: ${plural(cmp.counts.statesAdded, 'state')} added, ${cmp.counts.statesRemoved} removed;
            ${plural(cmp.counts.transitionsAdded, 'transition')} added, ${cmp.counts.transitionsRemoved} removed.</p>`
        : nothing}`;
  }

  function sideTemplate(s: MachineSnapshot, cmp: Comparison | undefined) {
    const def = cmp ? cmp.union : s.definition;
    const outgoing = new Set(def.transitions.flatMap((t) => t.from));
    const stateChange = (st: string): Change => cmp?.states.get(st) ?? 'same';
    const rows = def.transitions.flatMap((t, i) => t.from.map((from) => ({ from, t, change: cmp?.edges.get(`${i}:${from}`) ?? 'same' })));
    return html`<h2>States</h2>
      <table class="states" aria-label="States">
        <tr><th>State</th><th>Kind</th></tr>
        ${def.states.map(
          (st) => html`<tr class=${stateChange(st)} data-state=${st}><td>${st}</td><td>${[st === def.initial ? 'initial' : '', outgoing.has(st) ? '' : 'final'].filter(Boolean).join(', ')}</td></tr>`,
        )}
      </table>
      <h2>Transitions</h2>
      <table class="transitions" aria-label="Transitions">
        <tr><th>Event</th><th>From → to</th><th>Guard</th></tr>
        ${rows.map(
          (r) => html`<tr class=${r.change} data-event=${r.t.event}><td>${r.t.event}</td><td>${r.from} → ${r.t.to}</td><td class="guard-text">${r.t.guard ?? ''}</td></tr>`,
        )}
      </table>`;
  }

  function draw(s: MachineSnapshot): void {
    if (!mounted) {
      app.replaceChildren(header, body);
      app.classList.remove('loading');
      mounted = true;
    }
    const cmp = s.compare ? compareDefinitions(s.definition, s.compare.definition) : undefined;
    render(headerTemplate(s, cmp), header);
    render(sideTemplate(s, cmp), side);
    const saved = restored?.view && validView(restored.view) && restored.version === s.version ? restored.view : undefined;
    diagram.setDefinition(`${s.machine}@${s.version}${s.compare ? `~${s.compare.version}` : ''}`, cmp ? cmp.union : s.definition, `${s.machine} v${s.version}`, saved);
    diagram.markChanges(cmp?.states ?? new Map(), cmp?.edges ?? new Map());
    diagram.setCurrent('', [], false);
    document.body.dataset.ready = 'true';
  }

  function onMessage(m: Exclude<HostMessage, { t: 'response' }>): void {
    if (m.t === 'progress' || m.t === 'snapshot' || m.t === 'wal') return;
    if (m.seq <= lastSeq && m.seq !== 1) return;
    lastSeq = m.seq;
    if (m.t === 'machine') {
      snapshot = m.snapshot;
      ui = { ...(ui ?? {}), v: PROTOCOL_VERSION, kind: 'machine', connection: snapshot.connection, machine: snapshot.machine, version: snapshot.version, ...(snapshot.compare ? { compare: snapshot.compare.version } : { compare: undefined }) };
      save({});
      draw(snapshot);
    } else {
      mounted = false;
      const p = document.createElement('div');
      p.className = 'problem';
      p.setAttribute('role', 'alert');
      p.textContent = m.problem.message;
      app.replaceChildren(p);
      app.classList.remove('loading');
    }
  }

  host.post({ t: 'ready', v: PROTOCOL_VERSION, clientId: Math.random().toString(36).slice(2) });
}
