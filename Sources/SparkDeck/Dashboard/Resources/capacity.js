// SparkDeck dashboard: the capacity panel. Starts a sweep (after the server's own sentence of what it will do is
// confirmed), follows it while it runs, draws throughput and p95 against requests in flight as inline SVG (the
// previous sweep dashed), and applies the proposal after a second confirmation. No library, no CDN.
// Server strings only ever go through textContent (never innerHTML).
'use strict';

(function () {
  const $ = (id) => document.getElementById(id);
  const SVG = 'http://www.w3.org/2000/svg';
  const CONFIRM_TAIL = / Send "confirm": true to go ahead\.$/;
  let shown = null;
  let timer = null;

  const call = async (method, url, body) => {
    const res = await window.sparkdeckFetch(
      url, { method, headers: { 'Content-Type': 'application/json' }, body: body ? JSON.stringify(body) : undefined },
      'capacity sweeps (an admin key)');
    let doc = null;
    try { doc = await res.json(); } catch (_) { /* not JSON */ }
    return { ok: res.ok, status: res.status, doc };
  };
  const errorText = (r) => (r.doc && r.doc.error && r.doc.error.message) || `HTTP ${r.status}`;

  function el(tag, text, cls) {
    const node = document.createElement(tag);
    if (text !== undefined) node.textContent = text;
    if (cls) node.className = cls;
    return node;
  }

  function svg(tag, attrs) {
    const node = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
    return node;
  }

  // Throughput (solid) and p95 (dotted) against concurrency, each scaled to its own top; the previous sweep's
  // throughput dashed. The knee is marked.
  function chart(entry, previous) {
    const W = 600, H = 160, L = 36, R = 44, T = 10, B = 24;
    const levels = entry.levels;
    const all = levels.concat(previous ? previous.levels : []);
    const xs = [...new Set(all.map((l) => l.concurrency))].sort((a, b) => a - b);
    const x = (c) => L + (xs.length <= 1 ? 0 : (xs.indexOf(c) / (xs.length - 1)) * (W - L - R));
    const topT = Math.max(0.001, ...all.map((l) => l.throughput));
    const topP = Math.max(1, ...all.map((l) => l.p95_ms));
    const yT = (v) => T + (1 - v / topT) * (H - T - B);
    const yP = (v) => T + (1 - v / topP) * (H - T - B);
    const root = svg('svg', { viewBox: `0 0 ${W} ${H}`, class: 'capacity-chart', role: 'img' });
    root.setAttribute('aria-label', `${entry.service}: throughput and p95 latency by requests in flight`);
    root.append(svg('line', { x1: L, y1: H - B, x2: W - R, y2: H - B, class: 'axis' }));
    for (const c of xs) {
      const label = svg('text', { x: x(c), y: H - 6, 'text-anchor': 'middle', class: 'tick' });
      label.textContent = String(c);
      root.append(label);
    }
    const axisT = svg('text', { x: 2, y: T + 8, class: 'tick' });
    axisT.textContent = `${topT.toFixed(1)}/s`;
    const axisP = svg('text', { x: W - 2, y: T + 8, 'text-anchor': 'end', class: 'tick' });
    axisP.textContent = `${Math.round(topP)} ms`;
    root.append(axisT, axisP);
    const line = (points, cls) => svg('polyline', { points: points.join(' '), class: cls, fill: 'none' });
    if (previous && previous.levels.length) {
      root.append(line(previous.levels.map((l) => `${x(l.concurrency)},${yT(l.throughput)}`), 'line-previous'));
    }
    root.append(line(levels.map((l) => `${x(l.concurrency)},${yP(l.p95_ms)}`), 'line-p95'));
    root.append(line(levels.map((l) => `${x(l.concurrency)},${yT(l.throughput)}`), 'line-throughput'));
    for (const l of levels) {
      const dot = svg('circle', { cx: x(l.concurrency), cy: yT(l.throughput), r: 4, class: 'dot-throughput' });
      const title = document.createElementNS(SVG, 'title');
      title.textContent = `${l.concurrency} in flight: ${l.throughput.toFixed(2)}/s, p95 ${Math.round(l.p95_ms)} ms, ${l.errors} errors`;
      dot.append(title);
      root.append(dot);
    }
    if (entry.knee) {
      root.append(svg('line', { x1: x(entry.knee), y1: T, x2: x(entry.knee), y2: H - B, class: 'knee' }));
      const k = svg('text', { x: x(entry.knee) + 4, y: T + 8, class: 'tick' });
      k.textContent = `knee ${entry.knee}`;
      root.append(k);
    }
    return root;
  }

  function limits(l) { return l ? `${l.max_in_flight} in flight, ${l.queue} queued` : '—'; }

  function render(answer) {
    const sweep = answer.sweep;
    const previous = answer.previous;
    shown = sweep;
    const running = sweep.state === 'running';
    const done = sweep.services.filter((s) => s.state === 'done').length;
    const when = new Date(sweep.started_at * 1000).toLocaleString();
    $('capacity-status').textContent = running
      ? `Sweep ${sweep.id} running (started ${when})…`
      : `Sweep ${sweep.id} ${sweep.state} (started ${when})${sweep.message ? ': ' + sweep.message : ''}.`
        + (previous ? ` Dashed: the sweep before (${new Date(previous.started_at * 1000).toLocaleString()}).` : '');
    $('capacity-cancel').hidden = !running;
    $('capacity-start').disabled = running;
    const blocks = sweep.services.map((entry) => {
      const block = el('article', undefined, 'capacity-service');
      block.dataset.service = entry.service;
      block.append(el('h3', `${entry.service} (${entry.kind}): ${entry.payload || 'not swept'}`, 'sub'));
      const before = previous && previous.services.find((s) => s.service === entry.service);
      const facts = [`${entry.state}`];
      if (entry.knee) facts.push(`knee at ${entry.knee} in flight${before && before.knee ? ` (before: ${before.knee})` : ''}`);
      facts.push(`now: ${limits(entry.current)}`);
      if (entry.proposal) facts.push(`proposed: ${limits(entry.proposal)}`);
      block.append(el('p', facts.join(' · '), 'muted'));
      if (entry.message) block.append(el('p', entry.message, 'muted'));
      if (entry.levels.length) {
        block.append(chart(entry, before));
        const table = el('table', undefined, 'capacity-levels');
        const head = el('tr');
        for (const h of ['In flight', 'Requests', 'Errors', 'Throughput', 'p50', 'p95']) head.append(el('th', h, h === 'In flight' ? '' : 'num'));
        table.append(el('thead'));
        table.tHead.append(head);
        const body = el('tbody');
        for (const l of entry.levels) {
          const tr = el('tr');
          tr.append(el('td', String(l.concurrency)), el('td', String(l.requests), 'num'), el('td', String(l.errors), l.errors ? 'num err' : 'num'),
            el('td', `${l.throughput.toFixed(2)}/s`, 'num'), el('td', `${Math.round(l.p50_ms)} ms`, 'num'), el('td', `${Math.round(l.p95_ms)} ms`, 'num'));
          body.append(tr);
        }
        table.append(body);
        const wrap = el('div', undefined, 'table-wrap');
        wrap.append(table);
        block.append(wrap);
      }
      return block;
    });
    for (const g of sweep.groups) {
      blocks.push(el('p', `Group ${g.group}: now ${limits(g.current)}, proposed ${limits(g.proposal)}.`, 'muted'));
    }
    $('capacity-results').replaceChildren(...blocks);
    const proposes = sweep.state === 'finished' && done > 0;
    $('capacity-apply').hidden = !proposes || !!sweep.applied_at;
    $('capacity-applied').textContent = sweep.applied_at
      ? `Applied ${new Date(sweep.applied_at * 1000).toLocaleString()}: the gates admit by it and the inventory holds it.` : '';
    clearTimeout(timer);
    if (running) timer = setTimeout(() => show(sweep.id), 1500);
  }

  async function show(id) {
    try {
      const res = await fetch(`/api/capacity/sweeps/${encodeURIComponent(id)}`, { cache: 'no-store' });
      if (res.ok) render(await res.json());
    } catch (_) {
      clearTimeout(timer);
      timer = setTimeout(() => show(id), 3000);
    }
  }

  async function latest() {
    try {
      const res = await fetch('/api/capacity/sweeps?limit=1', { cache: 'no-store' });
      const list = await res.json();
      if (list.sweeps.length) await show(list.sweeps[0].id);
      else $('capacity-status').textContent = 'No sweep yet.';
    } catch (_) {
      $('capacity-status').textContent = 'Sweeps could not be read.';
    }
  }

  function sweepBody() {
    const body = {};
    if ($('capacity-service').value) body.services = [$('capacity-service').value];
    const max = Number($('capacity-max').value);
    if (max > 0) body.max_concurrency = max;
    return body;
  }

  // Asks without "confirm" first: the 400's message is the server's own account of what the sweep will do.
  async function start() {
    const body = sweepBody();
    const r = await call('POST', '/api/capacity/sweeps', body);
    const msg = errorText(r);
    if (r.status === 400 && CONFIRM_TAIL.test(msg)) {
      window.sparkdeckConfirm({
        title: 'Run a capacity sweep?', text: msg.replace(CONFIRM_TAIL, ''), yes: 'Sweep', danger: true,
        onYes: async () => {
          const go = await call('POST', '/api/capacity/sweeps', { ...body, confirm: true });
          if (go.ok) render({ sweep: go.doc, previous: null }); else $('capacity-status').textContent = errorText(go);
        },
      });
    } else if (r.ok) {
      render({ sweep: r.doc, previous: null });
    } else {
      $('capacity-status').textContent = msg;
    }
  }

  async function apply() {
    if (!shown) return;
    const url = `/api/capacity/sweeps/${encodeURIComponent(shown.id)}/apply`;
    const r = await call('POST', url, {});
    const msg = errorText(r);
    if (r.status === 400 && CONFIRM_TAIL.test(msg)) {
      window.sparkdeckConfirm({
        title: 'Apply the proposed limits?', text: msg.replace(CONFIRM_TAIL, ''), yes: 'Apply',
        onYes: async () => {
          const go = await call('POST', url, { confirm: true });
          if (go.ok) await show(shown.id); else $('capacity-applied').textContent = errorText(go);
        },
      });
    } else {
      $('capacity-applied').textContent = msg;
    }
  }

  async function cancel() {
    if (!shown) return;
    const r = await call('DELETE', `/api/capacity/sweeps/${encodeURIComponent(shown.id)}`);
    if (!r.ok) $('capacity-status').textContent = errorText(r);
  }

  async function fillServices() {
    try {
      const status = await (await fetch('/api/status', { cache: 'no-store' })).json();
      const options = [new Option('all', '')].concat(
        status.services.filter((s) => s.kind !== 'qdrant').map((s) => new Option(`${s.id} (${s.kind})`, s.id)));
      $('capacity-service').replaceChildren(...options);
    } catch (_) { /* the list stays "all" */ }
  }

  function boot() {
    $('capacity-start').addEventListener('click', start);
    $('capacity-apply').addEventListener('click', apply);
    $('capacity-cancel').addEventListener('click', cancel);
    fillServices();
    latest();
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', boot);
  else boot();
})();
