// SparkDeck dashboard: renders /api/status, follows /api/events (SSE), draws /api/connectivity.
// Server strings only ever go through textContent / title (never innerHTML).
'use strict';

(function () {
  const STATES = ['up', 'degraded', 'loading', 'down', 'unknown'];
  const $ = (id) => document.getElementById(id);

  let status = null;        // last /api/status document
  let clockOffset = 0;      // server time - client time, ms
  let conn = null;          // last /api/connectivity document
  let changes = [];         // recent health changes, newest first
  let liveChanges = [];     // last health events received over the stream
  let connSeq = 0;          // guards against out-of-order connectivity responses
  let connTimer = 0;

  // ---- helpers ------------------------------------------------------------

  // h('p', {class: 'x', title: 't'}, 'text', childNode, ...)
  function h(tag, attrs, ...children) {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === 'class') el.className = v;
      else if (k === 'data') Object.assign(el.dataset, v);
      else el.setAttribute(k, v === true ? '' : String(v));
    }
    for (const c of children) {
      if (c === null || c === undefined || c === false) continue;
      el.append(c instanceof Node ? c : String(c));
    }
    return el;
  }

  const stateClass = (s) => 's-' + (STATES.includes(s) ? s : 'unknown');
  const pill = (s) => h('span', { class: 'state ' + stateClass(s) }, s || 'unknown');
  const serverNow = () => Date.now() + clockOffset;

  function fmtSpan(ms) {
    let s = Math.max(0, Math.floor(ms / 1000));
    const d = Math.floor(s / 86400); s %= 86400;
    const hr = Math.floor(s / 3600); s %= 3600;
    const m = Math.floor(s / 60); s %= 60;
    if (d) return `${d}d ${hr}h`;
    if (hr) return `${hr}h ${m}m`;
    if (m) return `${m}m ${s}s`;
    return `${s}s`;
  }

  const fmtSeconds = (sec) => (sec < 60 ? `${Number(sec).toFixed(2)} s` : fmtSpan(sec * 1000));
  const fmtMs = (ms) => `${ms < 10 ? Number(ms).toFixed(1) : Math.round(ms)} ms`;

  function fmtTime(iso) {
    const d = new Date(iso);
    if (isNaN(d)) return '—';
    const t = d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' });
    return d.toDateString() === new Date().toDateString()
      ? t : `${d.toLocaleDateString([], { month: 'short', day: 'numeric' })} ${t}`;
  }

  async function getJSON(url) {
    const res = await fetch(url, { cache: 'no-store' });
    if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
    return res.json();
  }

  function parse(data) {
    try { return JSON.parse(data); } catch (_) { return null; }
  }

  // ---- status: header, nodes, services ---------------------------------------

  function sinceLine(iso) {
    return h('p', { class: 'since muted', data: { since: iso || '' } });
  }

  function nodeCard(n, svcState) {
    const up = n.state === 'up';
    return h('article', { class: 'card ' + stateClass(n.state), data: { nodeId: n.id } },
      h('div', { class: 'card-head' }, h('h3', {}, n.id), pill(n.state)),
      h('p', {}, `${n.host} · ${n.transport}`),
      sinceLine(n.since),
      n.latency_ms != null && h('p', {}, `latency ${fmtMs(n.latency_ms)}`),
      !up && n.last_error && h('p', { class: 'error' }, n.last_error),
      h('ul', { class: 'chips', 'aria-label': 'services' },
        ...(n.services || []).map((id) => h('li', { class: 'chip ' + stateClass(svcState[id]) }, id))));
  }

  function serviceCard(s) {
    return h('article', { class: 'card ' + stateClass(s.state), data: { serviceId: s.id } },
      h('div', { class: 'card-head' }, h('h3', {}, s.id), pill(s.state)),
      h('p', {}, `${s.kind} on ${s.node}`),
      h('p', {}, 'latency ', s.latency_ms != null ? fmtMs(s.latency_ms) : '—'),
      sinceLine(s.since),
      s.last_error && h('p', { class: 'error' }, s.last_error),
      s.detail && h('p', { class: 'muted' }, s.detail));
  }

  function fillList(list, cards, emptyText) {
    list.replaceChildren(...(cards.length ? cards : [h('p', { class: 'empty muted' }, emptyText)]));
  }

  function renderStatus(doc) {
    if (!doc || typeof doc !== 'object') return;
    // Ignore a document older than the one shown (initial fetch racing the stream).
    const gen = Date.parse(doc.generated_at);
    if (status && gen < Date.parse(status.generated_at)) return;
    status = doc;
    if (!isNaN(gen)) clockOffset = gen - Date.now();

    const name = (doc.cluster && doc.cluster.name) || '';
    $('cluster-name').textContent = name;
    $('version').textContent = doc.version ? `v${doc.version}` : '';
    $('demo-badge').hidden = !doc.demo;
    $('open-badge').hidden = !(doc.auth && doc.auth.open);
    document.title = name ? `SparkDeck — ${name}` : 'SparkDeck';

    const services = doc.services || [];
    const svcState = Object.fromEntries(services.map((s) => [s.id, s.state]));
    fillList($('node-list'), (doc.nodes || []).map((n) => nodeCard(n, svcState)), 'No nodes configured.');
    fillList($('service-list'), services.map(serviceCard), 'No services configured.');
    $('loaded-model').textContent = (doc.loaded_model && (doc.loaded_model.served_name || doc.loaded_model.id)) || 'none';
    $('swap').hidden = !doc.swap;
    tick();
    if (conn) renderTimeline(); // target list may have changed
  }

  function tick() {
    const now = serverNow();
    for (const el of document.querySelectorAll('[data-since]')) {
      const t = Date.parse(el.dataset.since);
      el.textContent = isNaN(t) ? '' : `for ${fmtSpan(now - t)}`;
    }
  }

  // ---- connectivity ------------------------------------------------------------

  const hours = () => Number($('range').value) || 1;

  async function loadConnectivity() {
    clearTimeout(connTimer);
    const seq = ++connSeq;
    try {
      const doc = await getJSON(`/api/connectivity?hours=${hours()}`);
      if (seq !== connSeq) return;
      conn = doc;
      // Keep live events the fetched list may not contain yet (the request raced them).
      const key = (c) => `${c.target}|${c.at}|${c.to}`;
      const fetched = new Set((doc.changes || []).map(key));
      changes = (doc.changes || []).concat(liveChanges.filter((c) => !fetched.has(key(c))))
        .sort((a, b) => Date.parse(b.at) - Date.parse(a.at)).slice(0, 10);
      renderTimeline();
      renderOutages();
      renderChanges();
    } catch (_) {
      // Server unreachable: keep the last picture; the 30 s refresh or next event retries.
    }
  }

  function scheduleConnectivity() {
    clearTimeout(connTimer);
    connTimer = setTimeout(loadConnectivity, 300);
  }

  function targets() {
    const list = [];
    const seen = new Set();
    const add = (target, kind) => {
      const key = `${kind}:${target}`;
      if (!seen.has(key)) { seen.add(key); list.push({ target, kind }); }
    };
    if (status) {
      (status.services || []).forEach((s) => add(s.id, 'service'));
      (status.nodes || []).forEach((n) => add(n.id, 'node'));
    }
    (conn.outages || []).forEach((o) => add(o.target, o.target_kind));
    return list;
  }

  function outageTitle(o) {
    return [
      `${o.target} (${o.target_kind})`,
      `start: ${fmtTime(o.started_at)}`,
      `end: ${o.ended_at ? fmtTime(o.ended_at) : 'ongoing'}`,
      `duration: ${fmtSeconds(o.duration_seconds)}${o.ended_at ? '' : ' so far'}`,
      `cause: ${o.cause || '—'}`,
    ].join('\n');
  }

  function renderTimeline() {
    const t0 = Date.parse(conn.since);
    const t1 = Date.parse(conn.now);
    const span = Math.max(1, t1 - t0);
    const rows = [];
    for (const { target, kind } of targets()) {
      const bar = h('div', { class: 'tl-bar', 'aria-label': `${target} outages` });
      for (const o of conn.outages || []) {
        if (o.target !== target || o.target_kind !== kind) continue;
        const s = Math.max(t0, Date.parse(o.started_at));
        const e = Math.min(t1, o.ended_at ? Date.parse(o.ended_at) : t1);
        if (isNaN(s) || isNaN(e) || e < t0 || s > t1) continue;
        const seg = h('span', { class: 'seg' + (o.ended_at ? '' : ' ongoing'), title: outageTitle(o), tabindex: 0 });
        seg.style.left = `min(${((s - t0) / span) * 100}%, calc(100% - 3px))`;
        seg.style.width = `${(Math.max(0, e - s) / span) * 100}%`;
        bar.append(seg);
      }
      rows.push(h('div', { class: 'tl-label', title: `${target} (${kind})` }, target,
        h('span', { class: 'muted' }, kind === 'node' ? ' · node' : '')), bar);
    }
    if (!rows.length) rows.push(h('p', { class: 'empty muted' }, 'No targets.'), h('span'));
    const axis = [0, 0.25, 0.5, 0.75].map((f) => h('span', {}, fmtTime(new Date(t0 + f * span).toISOString())));
    axis.push(h('span', {}, 'now'));
    $('timeline').replaceChildren(...rows, h('span'), h('div', { class: 'tl-axis' }, ...axis));
  }

  function renderOutages() {
    const rows = (conn.outages || []).slice()
      .sort((a, b) => Date.parse(b.started_at) - Date.parse(a.started_at))
      .slice(0, 20)
      .map((o) => h('tr', {},
        h('td', {}, o.target),
        h('td', {}, fmtTime(o.started_at)),
        o.ended_at
          ? h('td', {}, fmtSeconds(o.duration_seconds))
          : h('td', { class: 'ongoing', title: `${fmtSeconds(o.duration_seconds)} so far` }, 'ongoing'),
        h('td', {}, o.cause || '—')));
    if (!rows.length) rows.push(h('tr', {}, h('td', { colspan: 4, class: 'muted' }, 'No outages in this range.')));
    $('outages').tBodies[0].replaceChildren(...rows);
  }

  function renderChanges() {
    const items = changes.map((c) => h('li', {},
      h('time', { datetime: c.at }, fmtTime(c.at)),
      h('strong', {}, c.target), ' ',
      pill(c.from), ' → ', pill(c.to),
      c.cause && h('span', { class: 'cause' }, ` ${c.cause}`)));
    if (!items.length) items.push(h('li', { class: 'muted' }, 'No changes in this range.'));
    $('change-list').replaceChildren(...items);
  }

  // ---- live stream -----------------------------------------------------------------

  function setConn(text, cls) {
    const el = $('conn');
    el.textContent = text;
    el.className = `conn ${cls}`;
  }

  function connect() {
    const es = new EventSource('/api/events');
    es.onopen = () => setConn('connected', 'conn-ok');
    es.onerror = () => {
      setConn('reconnecting…', 'conn-bad');
      if (es.readyState === EventSource.CLOSED) { // browser gave up (e.g. HTTP error): retry ourselves
        es.close();
        setTimeout(connect, 3000);
      }
    };
    es.addEventListener('status', (ev) => {
      setConn('connected', 'conn-ok');
      renderStatus(parse(ev.data));
    });
    es.addEventListener('health', (ev) => {
      const c = parse(ev.data);
      if (c) {
        changes = [c, ...changes].slice(0, 10);
        liveChanges = [c, ...liveChanges].slice(0, 10);
        renderChanges();
      }
      scheduleConnectivity();
    });
    es.addEventListener('outage', scheduleConnectivity);
  }

  // ---- start ---------------------------------------------------------------------------

  function start() {
    $('range').addEventListener('change', loadConnectivity);
    // Tapping a segment (no hover on phones) shows its details under the timeline.
    const showSeg = (ev) => {
      if (ev.target.classList && ev.target.classList.contains('seg')) $('seg-info').textContent = ev.target.title;
    };
    $('timeline').addEventListener('click', showSeg);
    $('timeline').addEventListener('focusin', showSeg);

    getJSON('/api/status').then(renderStatus).catch(() => {});
    loadConnectivity();
    connect();
    setInterval(tick, 1000);
    setInterval(loadConnectivity, 30000);
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
