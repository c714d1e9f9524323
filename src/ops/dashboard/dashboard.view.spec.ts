import type { NodeInfo } from '../../contract/contract.types';
import { ago, busiestLoad, DASHBOARD_MAX_ROWS, esc, loadScale, renderDashboard, shownNodes } from './dashboard.view';

const node = (o: Partial<NodeInfo>): NodeInfo => ({
  node_id: 'n', control_url: 'http://127.0.0.1:1', media_ip: '127.0.0.1', active_legs: 0, healthy: true, static: false,
  capacity: null, weight: 1, region: null, draining: false, last_seen: '2026-01-01T00:00:00.000Z', bound_calls: 0, drain_deadline: null, ...o,
});

describe('dashboard view', () => {
  it('escapes HTML', () => {
    expect(esc(`<a href="x">'&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
  });

  it('says how long ago', () => {
    expect(ago('2026-01-01T00:00:00Z', '2026-01-01T00:00:05Z')).toBe('5 s ago');
    expect(ago('2026-01-01T00:00:00Z', '2026-01-01T00:10:00Z')).toBe('10 min ago');
    expect(ago('2026-01-01T00:00:00Z', '2026-01-01T05:00:00Z')).toBe('5 h ago');
  });

  it('scales a bar by capacity, else by the busiest node', () => {
    const all = [node({ active_legs: 3 }), node({ active_legs: 8 })];
    expect(loadScale(node({ capacity: 20 }), busiestLoad(all))).toBe(20);
    expect(loadScale(node({}), busiestLoad(all))).toBe(8);
    expect(loadScale(node({}), busiestLoad([]))).toBe(1);
  });

  it(`shows at most ${DASHBOARD_MAX_ROWS} rows, unhealthy and draining first, and says how many were left out`, () => {
    const nodes = Array.from({ length: 100_000 }, (_, i) => node({
      node_id: `n${i}`, active_legs: i % 500, healthy: i % 10_000 !== 7, draining: i % 20_000 === 9,
    }));
    const shown = shownNodes(nodes);
    expect(shown).toHaveLength(DASHBOARD_MAX_ROWS);
    expect(shown.slice(0, 10).map((n) => n.node_id)).toEqual(Array.from({ length: 10 }, (_, i) => `n${i * 10_000 + 7}`));
    expect(shown.slice(10, 15).every((n) => n.draining && n.healthy)).toBe(true);
    const html = renderDashboard({
      tokenRequired: false,
      summary: {
        generated_at: '2026-01-01T00:00:09.000Z', nodes, counts: { total: nodes.length, healthy: 0, unhealthy: 0, draining: 0 },
        activity: { window_sec: 60, prepare_rate_per_sec: 0, prepares_recent: 0, prepare_failures_recent: 0, failovers_recent: 0, prepares_total: 0, failovers_total: 0 },
        reconcile: null, recent_events: [],
      },
    });
    expect(html.match(/<tr data-node-id=/g)).toHaveLength(DASHBOARD_MAX_ROWS);
    expect(html).toContain('<p id="truncated">Showing 1,000 of 100,000 nodes (unhealthy and draining first); GET /v1/nodes lists every node.</p>');
    // Bars of nodes without capacity share one scale: the busiest of all nodes, shown or not.
    expect(html).toContain('<meter min="0" max="499" value="7">');
  });

  it('renders rows by state, with no inline script or style', () => {
    const html = renderDashboard({
      tokenRequired: false,
      summary: {
        generated_at: '2026-01-01T00:00:09.000Z',
        nodes: [node({ node_id: 'a', capacity: 10, active_legs: 9 }), node({ node_id: 'b', healthy: false }), node({ node_id: 'c', draining: true }),
          node({ node_id: 'd', draining: true, drain_deadline: '2026-01-01T00:00:51.000Z' })],
        counts: { total: 3, healthy: 1, unhealthy: 1, draining: 1 },
        activity: { window_sec: 60, prepare_rate_per_sec: 0.5, prepares_recent: 30, prepare_failures_recent: 0, failovers_recent: 2, prepares_total: 30, failovers_total: 2 },
        reconcile: { at: '2026-01-01T00:00:05.000Z', nodes_checked: 3, nodes_skipped: 0, legs_deleted: 2, bindings_dropped: 1 },
        recent_events: [{ id: '1767225605000-0', event: 'node_down', data: { node_id: 'b', reason: 'probe', bound_calls: 2 } }],
      },
    });
    expect(html).toContain('3 node(s) checked, 2 orphan leg(s) deleted, 1 binding(s) dropped');
    expect(html).toContain('draining · deadline in 42 s');
    expect(html).toContain('<li>00:00:05 node_down {&quot;node_id&quot;:&quot;b&quot;,&quot;reason&quot;:&quot;probe&quot;,&quot;bound_calls&quot;:2}</li>');
    expect(html).toContain('<tr data-node-id="a" class="healthy">');
    expect(html).toContain('<tr data-node-id="b" class="unhealthy">');
    expect(html).toContain('<tr data-node-id="c" class="draining">');
    expect(html).toContain('<meter min="0" max="10" value="9" low="7" high="9" optimum="0">');
    expect(html).toContain('data-action="undrain" data-node="c"');
    expect(html).not.toMatch(/<script>|<script(?![^>]*\bsrc=)|\sstyle=|\son[a-z]+=/);
  });
});
