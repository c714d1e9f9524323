import type { NodeInfo } from '../../contract/contract.types';
import type { OpsSummaryDto } from './ops-summary';

/** What the first render of `GET /` shows; `summary` is absent when the API token is required and was not sent. */
export interface DashboardModel {
  summary?: OpsSummaryDto;
  tokenRequired: boolean;
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escapes text for HTML element content and quoted attributes. */
export function esc(v: unknown): string {
  return String(v).replace(/[&<>"']/g, (c) => ESCAPES[c]);
}

/** "4 s ago", "3 min ago", "2 h ago" between two ISO instants. */
export function ago(iso: string, nowIso: string): string {
  const s = Math.max(0, Math.round((Date.parse(nowIso) - Date.parse(iso)) / 1000));
  if (!Number.isFinite(s)) return '?';
  if (s < 120) return `${s} s ago`;
  if (s < 7200) return `${Math.round(s / 60)} min ago`;
  return `${Math.round(s / 3600)} h ago`;
}

/** Most node rows a render shows; the rest are counted on the page (GET /v1/nodes lists every node). */
export const DASHBOARD_MAX_ROWS = 1_000;

/** The largest load of `all` (at least 1): the scale of the bars of nodes without a capacity. Computed once per render. */
export function busiestLoad(all: ReadonlyArray<Pick<NodeInfo, 'active_legs'>>): number {
  let max = 1;
  for (const x of all) if (x.active_legs > max) max = x.active_legs;
  return max;
}

/** The scale of a load bar: the node's capacity, else the largest load of all nodes ({@link busiestLoad}). */
export function loadScale(n: Pick<NodeInfo, 'capacity'>, busiest: number): number {
  return n.capacity ?? busiest;
}

/**
 * The rows a render shows: at most `max`, unhealthy nodes first, then draining ones, then the
 * rest, each in the store's order (one pass: no sort). Mirrored by shownNodes() in dashboard.assets.ts.
 */
export function shownNodes(all: readonly NodeInfo[], max = DASHBOARD_MAX_ROWS): NodeInfo[] {
  if (all.length <= max) return [...all];
  const byState: Record<'unhealthy' | 'draining' | 'healthy', NodeInfo[]> = { unhealthy: [], draining: [], healthy: [] };
  for (const n of all) {
    const list = byState[nodeState(n)];
    if (list.length < max) list.push(n);
  }
  return [...byState.unhealthy, ...byState.draining, ...byState.healthy].slice(0, max);
}

/** The line under the table when rows were left out. */
export function truncationText(shown: number, total: number): string {
  return `Showing ${shown.toLocaleString('en-US')} of ${total.toLocaleString('en-US')} nodes (unhealthy and draining first); `
    + 'GET /v1/nodes lists every node.';
}

/** A bounded node's bar turns amber past 70 % and red past 90 % of its capacity. */
function thresholds(capacity: number | null): string {
  return capacity === null ? '' : ` low="${capacity * 0.7}" high="${capacity * 0.9}" optimum="0"`;
}

/** "draining · deadline in 42 s" (or "passed"): the drain cell. */
export function drainText(n: Pick<NodeInfo, 'draining' | 'drain_deadline'>, nowIso: string): string {
  if (!n.draining) return 'no';
  if (!n.drain_deadline) return 'draining';
  const s = Math.round((Date.parse(n.drain_deadline) - Date.parse(nowIso)) / 1000);
  return s > 0 ? `draining · deadline in ${s} s` : 'draining · deadline passed';
}

/** One line of the recent events list. */
export function eventText(e: { id: string; event: string; data: object }): string {
  const at = new Date(Number(e.id.split('-')[0])).toISOString().slice(11, 19);
  return `${at} ${e.event} ${JSON.stringify(e.data)}`;
}

function nodeState(n: NodeInfo): 'healthy' | 'unhealthy' | 'draining' {
  if (!n.healthy) return 'unhealthy';
  return n.draining ? 'draining' : 'healthy';
}

/*
 * The row markup below is mirrored by rowOf() in dashboard.assets.ts (the live refresh):
 * change both together.
 */
function row(n: NodeInfo, busiest: number, now: string, buttonsEnabled: boolean): string {
  const scale = loadScale(n, busiest);
  const cap = n.capacity === null ? '∞' : String(n.capacity);
  const action = n.draining ? 'undrain' : 'drain';
  return `<tr data-node-id="${esc(n.node_id)}" class="${nodeState(n)}">`
    + `<td class="node"><strong>${esc(n.node_id)}</strong>${n.static ? ' <span class="tag">static</span>' : ''}<br><small>${esc(n.control_url)}</small></td>`
    + `<td class="health"><span class="badge">${n.healthy ? 'healthy' : 'unhealthy'}</span></td>`
    + `<td class="load"><meter min="0" max="${scale}" value="${Math.min(n.active_legs, scale)}"${thresholds(n.capacity)}></meter> <span class="legs">${n.active_legs} / ${cap}</span></td>`
    + `<td class="region">${n.region === null ? '–' : esc(n.region)}</td>`
    + `<td class="draining">${esc(drainText(n, now))}</td>`
    + `<td class="last-seen"><time datetime="${esc(n.last_seen)}">${ago(n.last_seen, now)}</time></td>`
    + `<td class="bound">${n.bound_calls}</td>`
    + `<td class="actions"><button type="button" data-action="${action}" data-node="${esc(n.node_id)}"${buttonsEnabled ? '' : ' disabled'}>${action}</button></td>`
    + '</tr>';
}

/** The last reconciliation round, in one line. */
export function reconcileLine(s: OpsSummaryDto | undefined): string {
  const r = s?.reconcile;
  if (!r) return 'Reconciliation: no round on this instance yet.';
  return `Reconciliation: last round <time datetime="${esc(r.at)}">${esc(r.at)}</time>, ${r.nodes_checked} node(s) checked, `
    + `${r.legs_deleted} orphan leg(s) deleted, ${r.bindings_dropped} binding(s) dropped.`;
}

/** The whole page: readable without JavaScript; dashboard.js takes over and refreshes it every 2 s. */
export function renderDashboard(m: DashboardModel): string {
  const s = m.summary;
  const stat = (id: string, label: string, v: unknown) =>
    `<div class="stat"><span class="v" id="${id}">${s ? esc(v) : '–'}</span><span class="k">${label}</span></div>`;
  const shown = s ? shownNodes(s.nodes) : [];
  const busiest = s ? busiestLoad(s.nodes) : 1;
  const rows = shown.map((n) => row(n, busiest, s!.generated_at, !m.tokenRequired)).join('');
  const truncated = s && shown.length < s.nodes.length
    ? `<p id="truncated">${esc(truncationText(shown.length, s.nodes.length))}</p>`
    : '<p id="truncated" hidden></p>';
  const empty = s && s.nodes.length === 0 ? '<p id="empty">No media nodes are registered.</p>' : '<p id="empty" hidden>No media nodes are registered.</p>';
  const notice = s
    ? `Updated ${esc(s.generated_at)}.`
    : 'The API token (RTP_API_TOKEN) is required to see the nodes: enter it above.';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>rtp-pool · media nodes</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/dashboard.css">
<script src="/dashboard.js" defer></script>
</head>
<body data-token-required="${m.tokenRequired}">
<header>
<h1>rtp-pool <small>media nodes</small></h1>
<form id="token-form"${m.tokenRequired ? '' : ' hidden'}>
<label>API token <input type="password" id="token" name="token" autocomplete="off" spellcheck="false"></label>
<button type="submit">Use</button> <button type="button" id="token-forget">Forget</button>
</form>
</header>
<section id="summary">
${stat('s-total', 'nodes', s?.counts.total)}
${stat('s-healthy', 'healthy', s?.counts.healthy)}
${stat('s-unhealthy', 'unhealthy', s?.counts.unhealthy)}
${stat('s-draining', 'draining', s?.counts.draining)}
${stat('s-rate', 'prepares/s (60 s)', s?.activity.prepare_rate_per_sec)}
${stat('s-failovers', 'failovers (60 s)', s?.activity.failovers_recent)}
${stat('s-failures', 'failed prepares (60 s)', s?.activity.prepare_failures_recent)}
</section>
<p id="status" role="status">${notice}</p>
<p id="reconcile">${reconcileLine(s)}</p>
<table id="nodes">
<thead><tr><th>node</th><th>health</th><th>load (legs / capacity)</th><th>region</th><th>draining</th><th>last seen</th><th>bound calls</th><th></th></tr></thead>
<tbody>${rows}</tbody>
</table>
${truncated}
${empty}
<h2>Recent events <small>(GET /v1/events)</small></h2>
<ol id="events">${(s?.recent_events ?? []).map((e) => `<li>${esc(eventText(e))}</li>`).join('')}</ol>
<noscript><p>JavaScript is off: reload the page to refresh; drain buttons need JavaScript.</p></noscript>
</body>
</html>
`;
}
