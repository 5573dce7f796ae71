import { TIMELINE_CSS } from '../observe/timeline';
import { timelineKit } from '../observe/timeline-kit';

/**
 * The live inspector page: one self-contained HTML document (inline style and script, no CDN, no
 * external resource). Its script opens `/events` (Server-Sent Events; the browser reconnects by
 * itself when the server restarts) and redraws from each snapshot; the drill-down asks `/api/key`.
 * Everything user-supplied is inserted as text, except the timeline SVG, which the timeline
 * renderer (embedded from lib/observe/timeline-kit.ts, the same code that draws the static timeline) escapes. `nonce` ties the script to the page's Content-Security-Policy.
 */
export function inspectorPage(title: string, nonce: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${esc(title)}</title>
<style>
body{font:13px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#1d2330;background:#f3f4f7}
header{display:flex;align-items:center;gap:12px;padding:10px 16px;background:#1d2330;color:#fff}
header h1{font-size:16px;margin:0;font-weight:600}
#status{font-size:12px;padding:2px 8px;border-radius:10px;background:#8d8d8d}
#status.live{background:#2e8b57}#status.down{background:#c0392b}
main{padding:12px 16px;display:grid;grid-template-columns:minmax(0,1fr) 360px;gap:12px}
section{background:#fff;border:1px solid #e1e4ea;border-radius:6px;padding:10px 12px;min-width:0}
section h2{font-size:13px;margin:0 0 8px;color:#4a5365;text-transform:uppercase;letter-spacing:.04em}
.tiles{display:grid;grid-template-columns:repeat(auto-fit,minmax(120px,1fr));gap:8px;grid-column:1/-1}
.tile{background:#fff;border:1px solid #e1e4ea;border-radius:6px;padding:8px 10px}
.tile b{display:block;font-size:20px;font-variant-numeric:tabular-nums}
.tile span{color:#667085;font-size:12px}
table{border-collapse:collapse;width:100%;font-variant-numeric:tabular-nums}
th,td{text-align:left;padding:3px 6px;border-bottom:1px solid #eef0f3;white-space:nowrap}
th{color:#667085;font-weight:500}
#models th,#models td,#tools th,#tools td{padding:3px 3px}#models,#tools{font-size:12px}#tools{margin-top:8px}
#keys td:last-child{white-space:normal;font-size:12px}
td.num,th.num{text-align:right}
#keys tr{cursor:pointer}#keys tr:hover,#keys tr.sel{background:#eef3fb}
#timeline{overflow-x:auto}
#timeline svg g.lane{cursor:pointer}
.wide{grid-column:1/-1}
pre{background:#f7f8fa;border:1px solid #eef0f3;padding:6px;margin:4px 0;max-height:240px;overflow:auto;white-space:pre-wrap;word-break:break-word}
.muted{color:#667085}.err{color:#c0392b}
td.err{white-space:normal;word-break:break-word}
.summary{color:#555;margin-bottom:6px}
${TIMELINE_CSS}</style></head><body>
<header><h1>${esc(title)}</h1><span id="status">connecting…</span><span class="muted" id="updated"></span></header>
<main>
<div class="tiles" id="tiles"></div>
<section class="wide"><h2>Run timeline <span class="muted" id="tl-summary"></span></h2><div id="tl-sampling" class="muted"></div><div id="legend"></div><div id="timeline"></div></section>
<section><h2>Latency per action (ms)</h2><table id="actions"><thead><tr><th>action</th><th class="num">started</th><th class="num">failed</th><th class="num">p50</th><th class="num">p90</th><th class="num">p99</th><th class="num">max</th><th class="num">async p50</th><th class="num">async p99</th></tr></thead><tbody></tbody></table></section>
<section><h2>Tokens per model <span class="muted" id="models-note"></span></h2><table id="models"><thead><tr><th>model</th><th class="num">calls</th><th class="num" title="failed calls">fail</th><th class="num" title="answered from the journal (tokens not counted again)">replay</th><th class="num" title="input tokens">in</th><th class="num" title="output tokens">out</th><th class="num">total</th></tr></thead><tbody></tbody></table><table id="tools" hidden><thead><tr><th>tool</th><th class="num">calls</th><th class="num">failed</th></tr></thead><tbody></tbody></table></section>
<section id="drill"><h2>Key <span id="drill-key" class="muted">— click a key or a lane</span></h2><div id="drill-body" class="muted">No key selected.</div></section>
<section><h2>Active keys <span class="muted" id="keys-note"></span></h2><table id="keys"><thead><tr><th>key</th><th class="num">run</th><th class="num">age ms</th><th class="num">waiting</th><th class="num">calls in flight</th><th>parked on</th></tr></thead><tbody></tbody></table></section>
<section class="wide"><h2>Failed runs <span class="muted">(the latest 10; all are counted above)</span></h2><table id="failures"><thead><tr><th>time</th><th>key</th><th class="num">run</th><th>error</th></tr></thead><tbody></tbody></table></section>
</main>
<script nonce="${nonce}">
(() => {
  const token = new URLSearchParams(location.search).get('token');
  const q = (extra) => { const p = new URLSearchParams(extra); if (token) p.set('token', token); const s = p.toString(); return s ? '?' + s : ''; };
  const $ = (id) => document.getElementById(id);
  const el = (tag, text, cls) => { const e = document.createElement(tag); if (text !== undefined) e.textContent = String(text); if (cls) e.className = cls; return e; };
  const fmt = (n) => n === null || n === undefined ? '–' : (Number.isInteger(n) ? String(n) : n.toFixed(n < 10 ? 2 : 1));
  let selected = null;
  const status = $('status');
  const tiles = (s) => {
    const items = [['runs/s', s.runsPerSecond], ['active keys', s.stats.activeKeys], ['active runs', s.stats.activeRuns], ['waiting inputs', s.stats.bufferedInputs],
      ['async in flight', s.stats.inFlightAsync + ' (' + s.stats.runningAsync + ' running)'],
      ['slow blocks', s.stats.slowAsync + (s.stats.oldestSlowAge === null ? '' : ' (oldest ' + fmt(s.stats.oldestSlowAge / 1000) + ' s)')], ['runs done', s.stats.runsCompleted], ['runs failed', s.stats.runsFailed], ['outputs', s.stats.outputs]];
    if (s.parkedRuns !== null) items.splice(4, 0, ['parked runs', s.parkedRuns]);
    $('tiles').replaceChildren(...items.map(([label, value]) => { const t = el('div', undefined, 'tile'); t.dataset.tile = label; t.append(el('b', value), el('span', label)); return t; }));
  };
  const rows = (id, list, cells, onClick) => {
    const body = $(id).querySelector('tbody');
    body.replaceChildren(...list.map((item) => { const tr = el('tr'); for (const [v, cls] of cells(item)) tr.append(el('td', v, cls)); if (onClick) { tr.onclick = () => onClick(item); if (item.key === selected) tr.className = 'sel'; tr.dataset.key = item.key; } return tr; }));
  };
  const drill = async (key) => {
    selected = key;
    $('drill-key').textContent = key;
    let r;
    try { r = await fetch('/api/key' + q({ key })); } catch { return; }
    const body = $('drill-body');
    if (r.status === 404) { body.replaceChildren(el('div', 'The operator holds nothing for this key now (no run, no memory).', 'muted')); return; }
    if (!r.ok) { body.replaceChildren(el('div', 'Error ' + r.status, 'err')); return; }
    const k = await r.json();
    const parts = [el('h3', 'short-term memory'), k.memory === null ? el('div', k.memoryNote, 'muted') : el('pre', JSON.stringify(k.memory, null, 2), 'memory')];
    if (k.memoryNote && k.memory !== null) parts.push(el('div', k.memoryNote, 'muted'));
    if (k.waiting !== null) parts.push(el('div', 'inputs waiting: ' + k.waiting));
    if (k.run === null) parts.push(el('div', 'no run going', 'muted'));
    else {
      parts.push(el('h3', 'run ' + k.run.seq + ' (' + k.run.outcome + ', ' + fmt(k.run.age) + ' ms)'));
      if (k.run.input !== undefined) parts.push(el('pre', JSON.stringify(k.run.input)));
      const t = el('table'); t.className = 'run-actions';
      for (const a of k.run.actions) { const tr = el('tr'); tr.append(el('td', a.action), el('td', a.state), el('td', a.waitingFor || '')); t.append(tr); }
      const c = el('table'); c.className = 'run-calls';
      for (const x of k.run.calls) { const tr = el('tr'); tr.append(el('td', x.id), el('td', x.state), el('td', fmt(x.age) + ' ms')); c.append(tr); }
      parts.push(el('div', 'actions going', 'muted'), t, el('div', 'calls', 'muted'), c);
      if (k.run.parked && k.run.parked.length > 0) {
        const w = el('table'); w.className = 'run-parked';
        for (const x of k.run.parked) { const tr = el('tr'); tr.append(el('td', x.kind === 'timer' ? 'timer' : x.kind === 'delayed-send' ? 'delayed send of ' + x.eventType : 'event ' + x.eventType), el('td', 'since ' + fmt(x.since)), el('td', x.deadline === null ? 'no deadline' : 'deadline ' + fmt(x.deadline) + ' (' + fmt(x.left) + ' ms left)'), el('td', x.call)); w.append(tr); }
        parts.push(el('div', 'parked on (S14)', 'muted'), w);
      }
    }
    body.replaceChildren(...parts);
  };
  // The timeline: the server sends the runs that changed since its last update (all of them in a 'full' one); the
  // page keeps the latest maxRuns within windowMs and draws them with the static timeline's own renderer.
  const kit = (${timelineKit.toString()})();
  let runs = new Map();
  const timeline = (t) => {
    if (t.full) runs = new Map();
    for (const r of t.runs) runs.set(r.lane + ':' + r.run, r);
    const sm = t.sampling;
    $('tl-sampling').textContent = sm.runsSampledOut === 0 ? '' : 'Sampled: ' + sm.runsRecorded + ' of ' + sm.runsSeen + ' runs recorded since the first open page connected (at most ' + t.maxLanes + ' keys as lanes, ' + t.maxRunsPerSecond + ' runs a second); the counters, latencies and failed runs are exact.';
    if (!t.full && t.runs.length === 0) return;
    let newest = -Infinity;
    for (const r of runs.values()) if (r.last > newest) newest = r.last;
    const kept = [...runs.values()].filter((r) => r.start !== null && r.start >= newest - t.windowMs).sort((a, b) => a.start - b.start).slice(-t.maxRuns);
    runs = new Map(kept.map((r) => [r.lane + ':' + r.run, r]));
    const lanes = new Map();
    for (const r of kept) { let l = lanes.get(r.lane); if (!l) lanes.set(r.lane, (l = { key: r.label, label: r.label, runs: [] })); l.runs.push(r); }
    const parts = kit.render(kit.layout([...lanes.values()], kept.length === 0 ? 0 : kept[0].start, kept.length === 0 ? 0 : newest), 1100, 'ms', t.maxLanes);
    $('tl-summary').textContent = '— ' + parts.summary.replace(/&#(\\d+);/g, (_, c) => String.fromCharCode(Number(c)));
    $('legend').innerHTML = parts.legend;
    $('timeline').innerHTML = parts.svg;
    for (const g of $('timeline').querySelectorAll('g.lane')) g.addEventListener('click', () => drill(g.dataset.key));
  };
  const apply = (s) => {
    tiles(s);
    $('updated').textContent = 'updated ' + new Date().toLocaleTimeString();
    if (s.timeline) timeline(s.timeline);
    rows('actions', s.actions, (a) => [[a.name], [a.started, 'num'], [a.failed, 'num'], [fmt(a.latency.p50), 'num'], [fmt(a.latency.p90), 'num'], [fmt(a.latency.p99), 'num'], [fmt(a.latency.max), 'num'], [fmt(a.asyncLatency.p50), 'num'], [fmt(a.asyncLatency.p99), 'num']]);
    $('keys-note').textContent = s.keysSource === 'state' ? '' : '(from recent events)';
    rows('keys', s.keys, (k) => [[k.key], [fmt(k.run), 'num'], [fmt(k.age), 'num'], [fmt(k.waiting), 'num'], [fmt(k.calls), 'num'], [k.parked || '']], (k) => drill(k.key));
    $('models-note').textContent = s.models.length === 0 ? '— no model calls yet' : '';
    rows('models', s.models, (m) => [[m.name], [m.calls, 'num'], [m.failed, 'num'], [m.replayed, 'num'], [m.inputTokens, 'num'], [m.outputTokens, 'num'], [m.totalTokens, 'num']]);
    $('tools').hidden = s.tools.length === 0;
    rows('tools', s.tools, (t) => [[t.name], [t.calls, 'num'], [t.failed, 'num']]);
    rows('failures', s.failures.slice(0, 10), (f) => [[new Date(f.time).toLocaleTimeString()], [f.key], [f.run, 'num'], [f.error, 'err']]);
    if (selected !== null) drill(selected);
  };
  const source = new EventSource('/events' + q({}));
  source.addEventListener('snapshot', (m) => { status.textContent = 'live'; status.className = 'live'; apply(JSON.parse(m.data)); });
  source.onerror = () => { status.textContent = 'disconnected — reconnecting…'; status.className = 'down'; };
})();
</script>
</body></html>
`;
}

function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
