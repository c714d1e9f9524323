/*
 * The dashboard's script and style, served as same-origin files (GET /dashboard.js,
 * GET /dashboard.css) so a strict Content-Security-Policy (script-src 'self', no inline
 * script or style attribute) does not break the page. No build step: plain browser JS.
 */

import { DASHBOARD_MAX_ROWS } from './dashboard.view';

/** GET /dashboard.js */
export const DASHBOARD_JS = String.raw`(function () {
  'use strict';
  var KEY = 'rtp-pool.apiToken';
  var REFRESH_MS = 2000;
  var MAX_ROWS = ${DASHBOARD_MAX_ROWS};
  var body = document.body;
  var tokenRequired = body.getAttribute('data-token-required') === 'true';
  var tbody = document.querySelector('#nodes tbody');
  var statusEl = document.getElementById('status');
  var busy = false;

  function token() {
    try { return sessionStorage.getItem(KEY) || ''; } catch (e) { return ''; }
  }
  function setToken(v) {
    try { if (v) sessionStorage.setItem(KEY, v); else sessionStorage.removeItem(KEY); } catch (e) { /* storage off */ }
  }
  function authHeaders() {
    var t = token();
    return t ? { Authorization: 'Bearer ' + t } : {};
  }
  function canAct() { return !tokenRequired || token() !== ''; }
  function setStatus(text, bad) {
    statusEl.textContent = text;
    statusEl.className = bad ? 'bad' : '';
  }
  function el(tag, attrs, children) {
    var e = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (attrs[k] === false || attrs[k] === undefined || attrs[k] === null) return;
      e.setAttribute(k, attrs[k] === true ? '' : String(attrs[k]));
    });
    (children || []).forEach(function (c) { e.append(c); });
    return e;
  }
  function ago(iso, nowIso) {
    var s = Math.max(0, Math.round((Date.parse(nowIso) - Date.parse(iso)) / 1000));
    if (!isFinite(s)) return '?';
    if (s < 120) return s + ' s ago';
    if (s < 7200) return Math.round(s / 60) + ' min ago';
    return Math.round(s / 3600) + ' h ago';
  }
  function state(n) { return !n.healthy ? 'unhealthy' : n.draining ? 'draining' : 'healthy'; }

  // Mirror busiestLoad(), shownNodes() and truncationText() in dashboard.view.ts: one pass over the nodes per render.
  function busiestLoad(all) {
    var max = 1;
    for (var i = 0; i < all.length; i++) if (all[i].active_legs > max) max = all[i].active_legs;
    return max;
  }
  function shownNodes(all) {
    if (all.length <= MAX_ROWS) return all;
    var lists = { unhealthy: [], draining: [], healthy: [] };
    for (var i = 0; i < all.length; i++) {
      var list = lists[state(all[i])];
      if (list.length < MAX_ROWS) list.push(all[i]);
    }
    return lists.unhealthy.concat(lists.draining, lists.healthy).slice(0, MAX_ROWS);
  }
  function truncationText(shown, total) {
    return 'Showing ' + shown.toLocaleString('en-US') + ' of ' + total.toLocaleString('en-US')
      + ' nodes (unhealthy and draining first); GET /v1/nodes lists every node.';
  }

  // Mirrors row() in dashboard.view.ts (the first, server-side render).
  function rowOf(n, busiest, now) {
    var scale = n.capacity !== null ? n.capacity : busiest;
    var action = n.draining ? 'undrain' : 'drain';
    var nodeCell = [el('strong', {}, [n.node_id])];
    if (n.static) nodeCell.push(' ', el('span', { 'class': 'tag' }, ['static']));
    nodeCell.push(el('br'), el('small', {}, [n.control_url]));
    return el('tr', { 'data-node-id': n.node_id, 'class': state(n) }, [
      el('td', { 'class': 'node' }, nodeCell),
      el('td', { 'class': 'health' }, [el('span', { 'class': 'badge' }, [n.healthy ? 'healthy' : 'unhealthy'])]),
      el('td', { 'class': 'load' }, [
        el('meter', n.capacity === null
          ? { min: 0, max: scale, value: Math.min(n.active_legs, scale) }
          : { min: 0, max: scale, value: Math.min(n.active_legs, scale), low: n.capacity * 0.7, high: n.capacity * 0.9, optimum: 0 }), ' ',
        el('span', { 'class': 'legs' }, [n.active_legs + ' / ' + (n.capacity === null ? '\u221e' : n.capacity)]),
      ]),
      el('td', { 'class': 'region' }, [n.region === null ? '\u2013' : n.region]),
      el('td', { 'class': 'draining' }, [drainText(n, now)]),
      el('td', { 'class': 'last-seen' }, [el('time', { datetime: n.last_seen }, [ago(n.last_seen, now)])]),
      el('td', { 'class': 'bound' }, [String(n.bound_calls)]),
      el('td', { 'class': 'actions' }, [
        el('button', { type: 'button', 'data-action': action, 'data-node': n.node_id, disabled: !canAct() }, [action]),
      ]),
    ]);
  }
  // Mirrors drainText() and eventText() in dashboard.view.ts.
  function drainText(n, nowIso) {
    if (!n.draining) return 'no';
    if (!n.drain_deadline) return 'draining';
    var s = Math.round((Date.parse(n.drain_deadline) - Date.parse(nowIso)) / 1000);
    return s > 0 ? 'draining \u00b7 deadline in ' + s + ' s' : 'draining \u00b7 deadline passed';
  }
  function eventText(e) {
    return new Date(Number(e.id.split('-')[0])).toISOString().slice(11, 19) + ' ' + e.event + ' ' + JSON.stringify(e.data);
  }
  function setStat(id, v) { document.getElementById(id).textContent = String(v); }

  function render(s) {
    var busiest = busiestLoad(s.nodes);
    var shown = shownNodes(s.nodes);
    tbody.replaceChildren.apply(tbody, shown.map(function (n) { return rowOf(n, busiest, s.generated_at); }));
    var truncated = document.getElementById('truncated');
    truncated.hidden = shown.length === s.nodes.length;
    truncated.textContent = truncated.hidden ? '' : truncationText(shown.length, s.nodes.length);
    document.getElementById('empty').hidden = s.nodes.length !== 0;
    var events = document.getElementById('events');
    events.replaceChildren.apply(events, (s.recent_events || []).map(function (e) { return el('li', {}, [eventText(e)]); }));
    setStat('s-total', s.counts.total);
    setStat('s-healthy', s.counts.healthy);
    setStat('s-unhealthy', s.counts.unhealthy);
    setStat('s-draining', s.counts.draining);
    setStat('s-rate', s.activity.prepare_rate_per_sec);
    setStat('s-failovers', s.activity.failovers_recent);
    setStat('s-failures', s.activity.prepare_failures_recent);
    var r = s.reconcile;
    document.getElementById('reconcile').textContent = r
      ? 'Reconciliation: last round ' + new Date(r.at).toLocaleTimeString() + ', ' + r.nodes_checked + ' node(s) checked, '
        + r.legs_deleted + ' orphan leg(s) deleted, ' + r.bindings_dropped + ' binding(s) dropped.'
      : 'Reconciliation: no round on this instance yet.';
    body.setAttribute('data-refreshes', String(Number(body.getAttribute('data-refreshes') || '0') + 1));
    setStatus('Updated ' + new Date(s.generated_at).toLocaleTimeString() + ' \u00b7 refreshes every 2 s', false);
  }

  function refresh() {
    if (busy) return;
    if (tokenRequired && !token()) { setStatus('Enter the API token (RTP_API_TOKEN) to see the nodes.', false); return; }
    busy = true;
    fetch('/v1/ops/summary', { headers: authHeaders(), cache: 'no-store' })
      .then(function (r) {
        if (r.status === 401) throw new Error('the API token was refused');
        if (!r.ok) throw new Error('HTTP ' + r.status);
        return r.json();
      })
      .then(render)
      .catch(function (e) { setStatus('Update failed: ' + e.message, true); })
      .finally(function () { busy = false; });
  }

  tbody.addEventListener('click', function (ev) {
    var b = ev.target.closest('button[data-action]');
    if (!b || b.disabled) return;
    var id = b.getAttribute('data-node');
    var action = b.getAttribute('data-action');
    b.disabled = true;
    fetch('/v1/nodes/' + encodeURIComponent(id) + '/' + action, { method: 'POST', headers: authHeaders() })
      .then(function (r) {
        if (!r.ok) return r.json().catch(function () { return {}; }).then(function (j) { throw new Error(j.error || ('HTTP ' + r.status)); });
      })
      .then(function () { busy = false; refresh(); })
      .catch(function (e) { b.disabled = false; setStatus(action + ' ' + id + ' failed: ' + e.message, true); });
  });

  var form = document.getElementById('token-form');
  form.addEventListener('submit', function (ev) {
    ev.preventDefault();
    var input = document.getElementById('token');
    setToken(input.value.trim());
    input.value = '';
    refresh();
  });
  document.getElementById('token-forget').addEventListener('click', function () {
    setToken('');
    tbody.replaceChildren();
    refresh();
  });

  refresh();
  setInterval(refresh, REFRESH_MS);
})();
`;

/** GET /dashboard.css */
export const DASHBOARD_CSS = `
:root { color-scheme: light dark; --ok: #1a7f37; --bad: #cf222e; --warn: #bf8700; --muted: #6e7781; }
body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5rem; }
header { display: flex; flex-wrap: wrap; align-items: baseline; justify-content: space-between; gap: 1rem; }
h1 { font-size: 1.4rem; margin: 0; } h1 small { color: var(--muted); font-weight: normal; }
#summary { display: flex; flex-wrap: wrap; gap: .75rem; margin: 1rem 0; }
.stat { border: 1px solid #d0d7de; border-radius: 6px; padding: .5rem .9rem; min-width: 7rem; }
.stat .v { display: block; font-size: 1.5rem; font-weight: 600; } .stat .k { color: var(--muted); font-size: .85rem; }
#status { color: var(--muted); } #status.bad { color: var(--bad); }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: .45rem .6rem; border-bottom: 1px solid #d0d7de; vertical-align: middle; }
th { font-weight: 600; font-size: .85rem; color: var(--muted); }
td small { color: var(--muted); }
.badge { display: inline-block; padding: .1rem .5rem; border-radius: 1rem; color: #fff; font-size: .8rem; }
tr.healthy .badge, tr.draining .badge { background: var(--ok); } tr.unhealthy .badge { background: var(--bad); }
tr.draining td.draining { color: var(--warn); font-weight: 600; }
tr.unhealthy { background: color-mix(in srgb, var(--bad) 8%, transparent); }
tr.draining { background: color-mix(in srgb, var(--warn) 8%, transparent); }
.tag { font-size: .75rem; border: 1px solid var(--muted); border-radius: 4px; padding: 0 .3rem; color: var(--muted); }
meter { width: 9rem; height: 1rem; vertical-align: middle; }
button { cursor: pointer; } button[disabled] { cursor: not-allowed; }
`;
