// SparkDeck dashboard: renders /api/status, follows /api/events (SSE), draws /api/connectivity,
// lists /api/models and runs / follows model swaps (/api/swaps), and has a playground for /scrub and /rehydrate.
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

  let models = null;        // last /api/models document
  let modelsSeq = 0;
  let swap = null;          // the swap shown in the panel (newest version seen), null until one runs
  let swapSeenAt = 0;       // client time that version arrived (ETA countdown)
  let cancelling = false;   // a cancel of the shown swap was accepted, waiting for its end
  let swapHistory = [];     // swap documents, newest first
  let historySeq = 0;
  let runningKey = '';      // what the model cards were last drawn for
  let dialogAction = null;  // what #confirm-yes does while the dialog is open
  let actions = [];         // last /api/actions list
  let logStream = null;     // AbortController of the service log being followed

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

  // 6.4 -> "6.4 s", 7 -> "7 s", 95 -> "1m 35s"
  function fmtDur(sec) {
    if (sec === null || sec === undefined || isNaN(sec)) return '—';
    return sec < 60 ? `${Number(Number(sec).toFixed(1))} s` : fmtSpan(sec * 1000);
  }

  const fmtAbout = (sec) => (sec < 60 ? `${Math.max(1, Math.round(sec))} s` : fmtSpan(sec * 1000));

  async function getJSON(url) {
    const res = await fetch(url, { cache: 'no-store' });
    if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
    return res.json();
  }

  function parse(data) {
    try { return JSON.parse(data); } catch (_) { return null; }
  }

  // fetch with the API key this browser keeps (admin, or the scope the panel needs); on 401/403 the key is asked for
  // once, kept, and the request sent again. Shared with the search and speech panels (search.js, speech.js).
  async function keyedFetch(url, init, need, retried) {
    const headers = { ...(init.headers || {}) };
    const key = localStorage.getItem('sparkdeck-admin-key');
    if (key) headers.Authorization = `Bearer ${key}`;
    const res = await fetch(url, { cache: 'no-store', ...init, headers });
    if ((res.status === 401 || res.status === 403) && !retried) {
      const entered = window.prompt(`This SparkDeck needs an API key for ${need}:`);
      if (entered && entered.trim()) {
        localStorage.setItem('sparkdeck-admin-key', entered.trim());
        return keyedFetch(url, init, need, true);
      }
    }
    return res;
  }
  window.sparkdeckFetch = keyedFetch;

  // Send a JSON body (POST unless told). Resolves {status, ok, doc} whatever the HTTP status; rejects only when the
  // server is unreachable. With API keys configured, actions need a key (admin for cluster actions, redaction for
  // /scrub and /rehydrate; an admin key passes both). `quiet` never asks for a key (a refresh nobody clicked).
  async function sendJSON(method, url, body, quiet) {
    const init = { method, headers: body !== undefined ? { 'Content-Type': 'application/json' } : {} };
    if (body !== undefined) init.body = JSON.stringify(body);
    const res = await keyedFetch(url, init, 'this action', quiet);
    let doc = null;
    try { doc = await res.json(); } catch (_) { /* empty or not JSON */ }
    return { status: res.status, ok: res.ok, doc };
  }

  const postJSON = (url, body) => sendJSON('POST', url, body);

  // The message of an `{"error": {"message": ...}}` answer.
  function errorText(r) {
    const e = r.doc && r.doc.error;
    return (e && (typeof e === 'string' ? e : e.message)) || `HTTP ${r.status}`;
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
        ...(n.services || []).map((id) => h('li', { class: 'chip ' + stateClass(svcState[id]) }, id))),
      gpuBlock(n.gpu),
      n.containers && h('ul', { class: 'containers muted', 'aria-label': 'containers' },
        ...n.containers.map((c) => h('li', {}, `${c.name} · ${c.status}`))),
      n.probe_note && h('p', { class: 'muted small' }, n.probe_note));
  }

  // GPU utilisation, memory, temperature and power of a node, when its probe has read them.
  function gpuBlock(g) {
    if (!g) return null;
    const parts = [];
    if (g.utilization_percent != null) parts.push(`GPU ${Math.round(g.utilization_percent)}%`);
    if (g.memory_used_mib != null && g.memory_total_mib != null) {
      parts.push(`${(g.memory_used_mib / 1024).toFixed(1)} / ${(g.memory_total_mib / 1024).toFixed(0)} GiB`);
    }
    if (g.temperature_c != null) parts.push(`${Math.round(g.temperature_c)} °C`);
    if (g.power_w != null) parts.push(`${Math.round(g.power_w)} W`);
    return h('p', { class: 'gpu' }, parts.join(' · '));
  }

  function serviceCard(s) {
    return h('article', { class: 'card ' + stateClass(s.state), data: { serviceId: s.id } },
      h('div', { class: 'card-head' }, h('h3', {}, s.id), pill(s.state)),
      h('p', {}, `${s.kind} on ${s.node}`),
      h('p', {}, 'latency ', s.latency_ms != null ? fmtMs(s.latency_ms) : '—'),
      sinceLine(s.since),
      s.last_error && h('p', { class: 'error' }, s.last_error),
      s.detail && h('p', { class: 'muted' }, s.detail),
      h('button', { type: 'button', class: 'btn btn-small show-log', data: { serviceId: s.id } }, 'Log'));
  }

  function fillList(list, cards, emptyText) {
    list.replaceChildren(...(cards.length ? cards : [h('p', { class: 'empty muted' }, emptyText)]));
  }

  // "12 requests, 1 error in the last minute · vllm 2 in flight, 0 queued"
  function gatewayText(g) {
    if (!g) return 'no requests yet';
    const n = g.requests_last_minute || 0;
    const e = g.errors_last_minute || 0;
    const parts = [`${n} request${n === 1 ? '' : 's'}, ${e} error${e === 1 ? '' : 's'} in the last minute`];
    for (const [name, load] of Object.entries(g.gates || {})) {
      parts.push(`${name} ${load.in_flight} in flight, ${load.queued} queued`);
    }
    return parts.join(' · ');
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
    $('gateway-load').textContent = gatewayText(doc.gateway);
    $('loaded-model').textContent = (doc.loaded_model && (doc.loaded_model.served_name || doc.loaded_model.id)) || 'none';
    if (doc.swap) acceptSwap(doc.swap);
    else if (swapRunning() && gen > Date.parse(swap.created_at)) fetchSwap(swap.id); // ended while we were away?
    tick();
    if (conn) renderTimeline(); // target list may have changed
  }

  function tick() {
    const now = serverNow();
    for (const el of document.querySelectorAll('[data-since]')) {
      const t = Date.parse(el.dataset.since);
      el.textContent = isNaN(t) ? '' : `for ${fmtSpan(now - t)}`;
    }
    for (const el of document.querySelectorAll('[data-expires]')) {
      const left = Date.parse(el.dataset.expires) - now;
      el.textContent = isNaN(left) ? '' : left > 0 ? `(in ${fmtSpan(left)})` : '(expired: the next scrub starts it afresh)';
      el.classList.toggle('error', left <= 0);
    }
    updateEta();
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

  // ---- models ------------------------------------------------------------------------

  function modelName(id) {
    if (!id) return 'none';
    const m = models && (models.models || []).find((x) => x.id === id);
    return (m && m.name) || id;
  }

  function modelCard(m, running) {
    const active = !!m.active || (models && models.active === m.id);
    const target = running && swap.model === m.id;
    const name = m.name || m.id;
    return h('article', { class: 'card model-card' + (active ? ' s-up' : target ? ' s-loading' : ''), data: { modelId: m.id } },
      h('div', { class: 'card-head' }, h('h3', {}, name),
        active ? h('span', { class: 'badge active' }, 'active')
          : target && h('span', { class: 'badge target' }, 'loading')),
      m.served_name && h('p', { class: 'served' }, m.served_name),
      h('p', {}, `${(m.nodes || []).join(', ') || '—'} · ${m.memory_gib != null ? `${m.memory_gib} GiB` : 'memory ?'}`),
      h('p', {}, m.last_load_seconds != null ? `last load ${fmtDur(m.last_load_seconds)}` : 'never loaded'),
      m.eta_seconds != null && h('p', { class: 'muted' }, `loads in about ${fmtAbout(m.eta_seconds)}`),
      !active && h('div', { class: 'card-foot' },
        h('button', { type: 'button', class: 'btn load', 'aria-label': `Load ${name}`, disabled: running }, 'Load')));
  }

  function renderModels() {
    if (!models) return;
    const running = swapRunning();
    runningKey = running ? `run:${swap.model}` : 'idle';
    fillList($('model-list'), (models.models || []).map((m) => modelCard(m, running)), 'No models in the inventory.');
  }

  async function loadModels() {
    const seq = ++modelsSeq;
    try {
      const doc = await getJSON('/api/models');
      if (seq !== modelsSeq) return;
      models = doc;
      renderModels();
      renderSwap();     // model names
      renderHistory();
    } catch (_) {
      if (!models) fillList($('model-list'), [], 'Models unavailable; retrying.');
    }
  }

  // ---- swaps ------------------------------------------------------------------------

  const PLAN_TAIL = /\s*Send "confirm": true to go ahead\.?\s*$/;
  const SWAP_LOG_LINES = 12;
  const RESULT_CLASS = {
    ready: 'r-ready', rolled_back: 'r-amber', cancelled_rolled_back: 'r-amber', rollback_failed: 'r-red', failed: 'r-red',
  };
  const RESULT_PILL = { 'r-ready': 's-up', 'r-amber': 's-degraded', 'r-red': 's-down' };

  const swapRunning = () => !!(swap && !swap.result);
  const resultClass = (d) => (d.result ? RESULT_CLASS[d.result] || 'r-amber' : '');
  const swapSeconds = (d) => (d.finished_at ? (Date.parse(d.finished_at) - Date.parse(d.created_at)) / 1000 : null);

  function swapStateClass(state) {
    if (state === 'ready') return 's-up';
    if (state === 'failed' || state === 'rollback_failed') return 's-down';
    if (state === 'rolling_back' || state === 'rolled_back' || state === 'cancelled_rolled_back') return 's-degraded';
    return 's-loading';
  }

  // Later versions of one swap: ended > running, then more stages, then more progress.
  function atLeastAsNew(a, b) {
    const rank = (d) => [d.result ? 1 : 0, (d.stages || []).length, (d.progress && d.progress.percent) || 0];
    const ra = rank(a), rb = rank(b);
    for (let i = 0; i < ra.length; i++) if (ra[i] !== rb[i]) return ra[i] > rb[i];
    return true;
  }

  // A swap document from the stream, a POST answer, /api/status or a fetch: show it unless it is stale.
  function acceptSwap(doc) {
    if (!doc || typeof doc !== 'object' || !doc.id) return;
    if (swap && doc.id === swap.id) {
      if (!atLeastAsNew(doc, swap)) return;
    } else if (swap && Date.parse(doc.created_at) < Date.parse(swap.created_at)) {
      return; // late news of an older swap
    }
    const ended = !!doc.result && !(swap && swap.id === doc.id && swap.result);
    if (!swap || swap.id !== doc.id || doc.result) cancelling = false;
    swap = doc;
    swapSeenAt = Date.now();
    mergeHistory([doc]);
    renderSwap();
    if (ended) {
      loadModels();
      loadHistory();
    }
  }

  async function fetchSwap(id) {
    try {
      const res = await fetch(`/api/swaps/${encodeURIComponent(id)}`, { cache: 'no-store' });
      if (res.ok) acceptSwap(await res.json());
      else if (res.status === 404 && swap && swap.id === id && !swap.result) {
        acceptSwap(Object.assign({}, swap, { result: 'lost' })); // the server no longer knows it (restarted?)
      }
    } catch (_) {
      // Unreachable: the stream's reconnect brings a fresh status and we look again.
    }
  }

  function resultText(d) {
    const err = d.error || 'unknown error';
    const stop = /[.!?]$/.test(err) ? '' : '.';
    const from = modelName(d.from_model);
    switch (d.result) {
      case 'ready': {
        const secs = d.load_seconds != null ? d.load_seconds : swapSeconds(d);
        return `Loaded ${modelName(d.model)} in ${fmtDur(secs)}`;
      }
      case 'rolled_back': return `Failed: ${err}${stop} Rolled back to ${from}.`;
      case 'rollback_failed': return `Failed: ${err}${stop} Rollback failed too: the LLM node needs attention.`;
      case 'failed': return `Failed: ${err}`;
      case 'cancelled_rolled_back': return d.from_model ? `Cancelled. Rolled back to ${from}.` : 'Cancelled.';
      case 'lost': return 'No final report for this swap (the server may have restarted): check the services above.';
      default: return `Ended: ${d.result}` + (d.error ? `. ${d.error}` : '');
    }
  }

  function relTime(at, t0) {
    const s = (Date.parse(at) - t0) / 1000;
    if (isNaN(s)) return '';
    return s < 60 ? `+${Math.max(0, s).toFixed(1)} s` : `+${fmtSpan(s * 1000)}`;
  }

  function renderSwap() {
    const d = swap;
    $('swap').hidden = !d;
    updateRunning();
    if (!d) return;
    const running = !d.result;
    const rc = resultClass(d);
    $('swap-card').className = `card swap-card ${rc}`;
    $('swap-model').textContent = modelName(d.model);
    $('swap-route').textContent = `${d.from_model ? modelName(d.from_model) : 'nothing loaded'} → ${modelName(d.model)}`;
    const st = $('swap-state');
    st.textContent = d.state || 'unknown';
    st.className = `state ${swapStateClass(d.state)}`;

    const p = d.progress || {};
    const pct = d.result === 'ready' ? 100 : Math.max(0, Math.min(100, Math.round(Number(p.percent) || 0)));
    $('swap-progress').style.width = `${pct}%`;
    $('swap-bar').setAttribute('aria-valuenow', String(pct));
    $('swap-percent').textContent = `${pct}%`;
    const stages = d.stages || [];
    const last = stages[stages.length - 1];
    const rollbackError = d.rollback && typeof d.rollback === 'object' && d.rollback.error;
    // The load's progress while the model loads; otherwise what the current stage notes (draining, releasing…).
    const loadingNow = last && (last.state === 'launching' || last.state === 'loading');
    const detail = !running ? (rollbackError ? `Rollback: ${rollbackError}` : '')
      : (loadingNow ? p.detail || last.detail : (last && last.detail) || p.detail) || '';
    $('swap-detail').textContent = detail;
    $('swap-detail').title = p.stage ? `stage: ${p.stage}` : '';
    updateEta();

    const res = $('swap-result');
    res.hidden = running;
    res.className = `swap-result ${rc}`;
    res.textContent = running ? '' : resultText(d);

    const cancel = $('swap-cancel');
    cancel.hidden = !running;
    cancel.disabled = cancelling;
    cancel.textContent = cancelling ? 'Cancelling…' : 'Cancel swap';

    const t0 = Date.parse(d.created_at);
    $('swap-stages').replaceChildren(...stages.map((s) => h('li', {},
      h('span', { class: 'st-name' }, s.state), ' ',
      h('time', { datetime: s.at }, relTime(s.at, t0)),
      s.detail && ' ', s.detail && h('span', { class: 'st-detail' }, s.detail))));

    const lines = (d.log_tail || []).slice(-SWAP_LOG_LINES);
    const log = $('swap-log');
    log.textContent = lines.length ? lines.join('\n') : 'No log lines yet.';
    log.classList.toggle('empty-log', !lines.length);
  }

  // "about 8 s left", counted down between the server's updates.
  function updateEta() {
    const el = $('swap-eta');
    const winding = cancelling || swap && (swap.state === 'failed' || swap.state === 'rolling_back');
    if (!swapRunning() || winding || swap.eta_seconds == null) { el.textContent = ''; return; }
    const left = swap.eta_seconds - (Date.now() - swapSeenAt) / 1000;
    el.textContent = left >= 1 ? `about ${fmtAbout(left)} left` : 'almost done';
  }

  // Things that depend on whether a swap runs: the Services badge and the Load buttons.
  function updateRunning() {
    const running = swapRunning();
    $('swap-badge').hidden = !running;
    if ((running ? `run:${swap.model}` : 'idle') !== runningKey) renderModels();
  }

  function showSwapError(text) {
    const el = $('swap-error');
    el.textContent = text || '';
    el.hidden = !text;
    if (text) el.scrollIntoView({ block: 'nearest' });
  }

  // POST, reporting an unreachable server in #swap-error; resolves null then.
  async function post(url, body) {
    try {
      return await postJSON(url, body);
    } catch (e) {
      showSwapError(`Could not reach SparkDeck (${e.message}). Nothing was changed.`);
      return null;
    }
  }

  // ---- confirmation dialog ------------------------------------------------------------

  function openDialog({ title, text, yes, no = 'Back', danger = false, onYes }) {
    const dlg = $('confirm-dialog');
    $('confirm-title').textContent = title;
    $('confirm-text').textContent = text;
    const y = $('confirm-yes');
    y.textContent = yes;
    y.disabled = false;
    y.className = danger ? 'btn btn-danger confirm' : 'btn btn-primary';
    $('confirm-no').textContent = no;
    dialogAction = onYes;
    if (!dlg.open) dlg.showModal();
  }
  window.sparkdeckConfirm = openDialog;

  function closeDialog() {
    dialogAction = null;
    const dlg = $('confirm-dialog');
    if (dlg.open) dlg.close();
  }

  async function onConfirmYes() {
    const act = dialogAction;
    if (!act) return;
    $('confirm-yes').disabled = true;
    try {
      await act();
    } finally {
      closeDialog();
    }
  }

  // ---- load and cancel ------------------------------------------------------------

  // Load asks first without "confirm": the 400 answer is the server's own plan sentence, shown for confirmation.
  async function requestLoad(id, button) {
    showSwapError('');
    button.disabled = true;
    const r = await post('/api/swaps', { model: id });
    button.disabled = swapRunning();
    if (!r) return;
    if (r.ok) {
      acceptSwap(r.doc); // a server that needs no confirmation
      return;
    }
    const msg = errorText(r);
    if (r.status === 400 && PLAN_TAIL.test(msg)) {
      openDialog({
        title: `Load ${modelName(id)}?`, text: msg.replace(PLAN_TAIL, ''), yes: 'Load', onYes: () => confirmLoad(id),
      });
    } else {
      showSwapError(msg);
    }
  }

  async function confirmLoad(id) {
    const r = await post('/api/swaps', { model: id, confirm: true });
    closeDialog();
    if (!r) return;
    if (r.ok) {
      showSwapError('');
      acceptSwap(r.doc);
      $('swap').scrollIntoView({ behavior: 'smooth', block: 'nearest' });
    } else {
      showSwapError(errorText(r));
    }
  }

  function requestCancel() {
    if (!swapRunning()) return;
    const d = swap;
    const text = d.from_model
      ? `Cancel the swap to ${modelName(d.model)} and restore ${modelName(d.from_model)}?`
      : `Cancel the swap to ${modelName(d.model)}?`;
    openDialog({
      title: 'Cancel swap?', text, yes: 'Cancel swap', no: 'Keep going', danger: true, onYes: () => confirmCancel(d.id),
    });
  }

  async function confirmCancel(id) {
    const r = await post(`/api/swaps/${encodeURIComponent(id)}/cancel`, { confirm: true });
    closeDialog();
    if (!r) return;
    if (r.ok) {
      showSwapError('');
      if (swap && swap.id === id && !swap.result) cancelling = true;
      if (r.doc && r.doc.id) acceptSwap(r.doc);
      renderSwap();
    } else {
      showSwapError(errorText(r));
      fetchSwap(id); // 409: it has ended meanwhile
    }
  }

  // ---- maintenance actions -------------------------------------------------------------

  function showActionError(text) {
    const el = $('action-error');
    el.textContent = text;
    el.hidden = !text;
  }

  function runLine(r) {
    if (!r) return h('p', { class: 'muted action-run' }, 'Never run.');
    if (r.state === 'running') return h('p', { class: 'action-run' }, pill('loading'), ` running since ${fmtTime(r.started_at)}`);
    const how = r.state === 'succeeded' ? 'succeeded' : (r.error || `exited with status ${r.exit_code}`);
    return h('div', { class: 'action-run' },
      h('p', { class: r.state === 'succeeded' ? '' : 'error' },
        `Last run ${fmtTime(r.ended_at)} (${fmtSeconds((r.duration_ms || 0) / 1000)}): ${how}`),
      r.output ? h('pre', { class: 'log' }, r.output) : null);
  }

  function actionCard(a) {
    const r = a.last_run;
    return h('article', { class: 'card action-card', data: { actionId: a.id } },
      h('div', { class: 'card-head' }, h('h3', {}, a.name),
        h('button', { type: 'button', class: 'btn btn-danger run-action', disabled: a.running }, 'Run…')),
      h('p', { class: 'muted' }, `on ${a.node}`),
      h('p', { class: 'action-desc' }, a.description),
      runLine(r));
  }

  function renderActions() {
    fillList($('action-list'), actions.map(actionCard), 'No maintenance actions in the inventory (`actions:`).');
  }

  // With API keys configured, /api/actions needs an admin key (an action's output can hold anything its command
  // printed): without one the panel offers to enter it instead of asking on every page load.
  async function loadActions() {
    let r;
    try { r = await sendJSON('GET', '/api/actions', undefined, true); } catch (_) { return; /* stale; next event retries */ }
    if (r.status === 401 || r.status === 403) {
      actions = [];
      const enter = h('button', { type: 'button', class: 'btn' }, 'Enter admin key…');
      enter.addEventListener('click', () => {
        const entered = window.prompt('Maintenance actions need an admin API key:');
        if (entered && entered.trim()) {
          localStorage.setItem('sparkdeck-admin-key', entered.trim());
          loadActions();
        }
      });
      $('action-list').replaceChildren(h('p', { class: 'empty muted' }, `${errorText(r)} `, enter));
      return;
    }
    if (!r.ok) return;
    actions = (r.doc && r.doc.actions) || [];
    renderActions();
  }

  function acceptActionRun(run) {
    // /api/events sends an action's output only to streams opened with an admin key, which EventSource cannot send:
    // the run without it is the sign to read it, with the key, from /api/actions.
    if (run && !('output' in run)) {
      loadActions();
      return;
    }
    const a = run && actions.find((x) => x.id === run.action);
    if (!a) return;
    a.last_run = run;
    a.running = run.state === 'running';
    renderActions();
  }

  // Run asks first without "confirm": the 400 answer says what the action does, shown for confirmation.
  async function requestAction(id) {
    showActionError('');
    const a = actions.find((x) => x.id === id);
    let r;
    try { r = await postJSON(`/api/actions/${encodeURIComponent(id)}`, {}); } catch (e) {
      showActionError(`Could not reach SparkDeck (${e.message}). Nothing was run.`);
      return;
    }
    const msg = errorText(r);
    if (r.status === 400 && PLAN_TAIL.test(msg)) {
      openDialog({
        title: `Run ${a ? a.name : id}?`, text: msg.replace(PLAN_TAIL, ''), yes: 'Run', danger: true,
        onYes: () => confirmAction(id),
      });
    } else if (r.ok) {
      acceptActionRun(r.doc);
    } else {
      showActionError(msg);
    }
  }

  async function confirmAction(id) {
    closeDialog();
    let r;
    try { r = await postJSON(`/api/actions/${encodeURIComponent(id)}`, { confirm: true }); } catch (e) {
      showActionError(`Lost SparkDeck while the action ran (${e.message}); its result will show here when it ends.`);
      return;
    }
    if (r.ok) acceptActionRun(r.doc); else showActionError(errorText(r));
  }

  // ---- service logs -------------------------------------------------------------------

  function stopLog() {
    if (logStream) logStream.abort();
    logStream = null;
  }

  function closeLog() {
    stopLog();
    $('service-log').hidden = true;
  }

  const LOG_LINES = 500;

  // A log line as a terminal shows it (the same rule as TerminalText.visible in Swift): escape sequences dropped,
  // each carriage return writing over the start of the line. /api/logs sends lines as the container wrote them.
  function visibleLine(line) {
    const plain = line
      .replace(/\u001b\][^\u0007\u001b]*(\u0007|\u001b\\)/g, '')
      .replace(/\u001b\[[0-?]*[ -/]*[@-~]/g, '')
      .replace(/\u001b./g, '');
    return plain.split('\r').reduce((shown, part) => (part ? part + shown.slice(part.length) : shown), '');
  }

  // Follows /api/logs/{service} with fetch (EventSource cannot send an API key), keeping the last LOG_LINES lines.
  // Reads an event stream from a fetch body: calls onEvent(name, data) per event (name undefined when the event has
  // none; data the `data:` lines joined), across chunk boundaries, until the body ends or onEvent returns false.
  // Shared with the playground (playground.js).
  async function readEventStream(body, onEvent) {
    const reader = body.getReader();
    const decoder = new TextDecoder();
    let buffer = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += decoder.decode(value, { stream: true });
      let cut;
      while ((cut = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, cut);
        buffer = buffer.slice(cut + 2);
        const name = (block.match(/^event: ?(.*)$/m) || [])[1];
        const data = block.split('\n').filter((l) => l.startsWith('data:'))
          .map((l) => l.slice(l.startsWith('data: ') ? 6 : 5)).join('\n');
        if (onEvent(name, data) === false) {
          reader.cancel().catch(() => {});
          return;
        }
      }
    }
  }
  window.sparkdeckReadEvents = readEventStream;

  async function openLog(id) {
    stopLog();
    const controller = new AbortController();
    logStream = controller;
    const section = $('service-log');
    const text = $('service-log-text');
    const state = $('service-log-state');
    $('service-log-name').textContent = id;
    section.hidden = false;
    text.textContent = '';
    state.textContent = 'connecting…';
    section.scrollIntoView({ behavior: 'smooth', block: 'nearest' });
    let lines = [];
    try {
      const res = await keyedFetch(
        `/api/logs/${encodeURIComponent(id)}`,
        { headers: { Accept: 'text/event-stream' }, signal: controller.signal },
        'service logs (an admin key)');
      if (!res.ok) {
        let doc = null;
        try { doc = await res.json(); } catch (_) { /* not JSON */ }
        state.textContent = errorText({ status: res.status, doc });
        return;
      }
      await readEventStream(res.body, (name, raw) => {
        const data = parse(raw);
        if (name === 'open' && data) state.textContent = `following on ${data.node}: ${data.command}`;
        if (name === 'log' && data) {
          lines.push(visibleLine(data.line));
          if (lines.length > LOG_LINES) lines = lines.slice(-LOG_LINES);
          const atEnd = text.scrollTop + text.clientHeight >= text.scrollHeight - 4;
          text.textContent = lines.join('\n');
          if (atEnd) text.scrollTop = text.scrollHeight;
        }
        if (name === 'end') state.textContent = data && data.error ? `ended: ${data.error}` : 'the log command ended';
      });
    } catch (e) {
      if (controller.signal.aborted) return;
      state.textContent = `disconnected (${e.message})`;
    }
  }

  // ---- swap history ------------------------------------------------------------------

  // Fold swap documents into the history, keeping the newer version of each swap, newest swap first.
  function mergeHistory(docs) {
    const byId = new Map(swapHistory.map((d) => [d.id, d]));
    for (const d of docs) {
      if (!d || !d.id) continue;
      const old = byId.get(d.id);
      if (!old || atLeastAsNew(d, old)) byId.set(d.id, d);
    }
    swapHistory = [...byId.values()].sort((a, b) => Date.parse(b.created_at) - Date.parse(a.created_at)).slice(0, 20);
    renderHistory();
  }

  async function loadHistory() {
    const seq = ++historySeq;
    try {
      const doc = await getJSON('/api/swaps?limit=20');
      if (seq !== historySeq) return;
      const list = Array.isArray(doc) ? doc : (doc && (doc.swaps || doc.items)) || [];
      swapHistory = [];
      mergeHistory(swap ? list.concat([swap]) : list);
      // The shown swap may have ended without us hearing it (stream reconnecting). Whether a swap runs at all is
      // left to /api/status and the stream.
      const mine = swapRunning() && list.find((d) => d && d.id === swap.id && d.result);
      if (mine) acceptSwap(mine);
    } catch (_) {
      // Keep what is shown; the next finished swap or page load tries again.
    }
  }

  function renderHistory() {
    const rows = swapHistory.map((d) => {
      const rc = resultClass(d);
      return h('tr', { data: { swapId: d.id } },
        h('td', { class: 'when' }, h('time', { datetime: d.created_at }, fmtTime(d.created_at))),
        h('td', { title: d.model }, modelName(d.model)),
        h('td', { title: d.from_model || '' }, d.from_model ? modelName(d.from_model) : '—'),
        h('td', {}, h('span', { class: `state pill-sm ${d.result ? RESULT_PILL[rc] : 's-loading'}` }, d.result || 'running')),
        h('td', { class: 'num' }, d.finished_at ? fmtDur(swapSeconds(d)) : '—'),
        h('td', { class: d.error ? 'err' : 'muted' }, d.error || '—'));
    });
    $('history-empty').hidden = rows.length > 0;
    $('history-wrap').hidden = !rows.length;
    $('swap-history').tBodies[0].replaceChildren(...rows);
  }

  // ---- scrub playground ------------------------------------------------------------------

  const PLACEHOLDER = /<[A-Z][A-Z_]*_\d+>/g;
  const PLACEHOLDER_SPLIT = new RegExp(`(${PLACEHOLDER.source})`); // keeps the placeholders: odd parts of split()
  const PH_FAMILY = {
    PERSON: 'person',
    EMAIL: 'contact', PHONE: 'contact', URL: 'contact',
    CREDIT_CARD: 'finance', IBAN: 'finance', CRYPTO_ADDRESS: 'finance', SSN: 'finance',
    ADDRESS: 'place', ZIP_CODE: 'place',
    CUSTOM: 'custom',
  };
  const SCRUB_EMPTY = 'Nothing scrubbed yet.';
  const REHYDRATE_EMPTY = 'Nothing rehydrated yet.';

  let scrubSession = null;  // {id, expiresAt} from the last scrub in this page: later scrubs reuse it
  let scrubGen = 0;         // bumped by "New session": answers for a forgotten session are dropped
  let scrubBusy = false;
  let rehydrateBusy = false;

  const phType = (ph) => ph.slice(1, -1).replace(/_\d+$/, '');
  const phChip = (ph, type) => {
    const t = type || phType(ph);
    return h('span', { class: `ph ph-${PH_FAMILY[t] || 'other'}`, title: t }, ph);
  };
  const escapeRegExp = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

  // Fills a <pre> with text, the parts matched by the capturing regex `split` as chips (chip(part) -> node).
  function showChipped(el, text, split, chip, emptyText) {
    const empty = typeof text !== 'string' || text === '';
    el.classList.toggle('empty-log', empty);
    if (empty) { el.textContent = emptyText; return; }
    const parts = split ? text.split(split) : [text];
    el.replaceChildren(...parts.map((p, i) => (i % 2 ? chip(p) : p)).filter((p) => p !== ''));
  }

  function showScrubError(text) {
    const el = $('scrub-error');
    el.textContent = text || '';
    el.hidden = !text;
    if (text) el.scrollIntoView({ block: 'nearest' });
  }

  function renderScrubButtons() {
    const run = $('scrub-run');
    run.disabled = scrubBusy;
    run.textContent = scrubBusy ? 'Scrubbing…' : 'Scrub';
    $('scrub-new').disabled = scrubBusy || !scrubSession;
    const re = $('rehydrate-run');
    re.disabled = rehydrateBusy;
    re.textContent = rehydrateBusy ? 'Rehydrating…' : 'Rehydrate';
  }

  function renderEntities(list) {
    const items = (Array.isArray(list) ? list : [])
      .filter((e) => e && typeof e.placeholder === 'string')
      .map((e) => h('li', {},
        phChip(e.placeholder, e.type),
        h('span', { class: 'muted', 'aria-hidden': 'true' }, '→'),
        h('span', { class: 'ph-type' }, e.type || phType(e.placeholder))));
    $('scrub-entities').replaceChildren(...(items.length ? items : [h('li', { class: 'muted' }, 'none found')]));
  }

  function renderSession() {
    const el = $('scrub-session');
    const s = scrubSession;
    if (!s) {
      el.replaceChildren('No session yet: the first scrub starts one.');
    } else {
      el.replaceChildren('Session ', h('code', { class: 'sid' }, s.id), ' · expires ',
        h('time', { datetime: s.expiresAt }, fmtTime(s.expiresAt)), ' ', h('span', { data: { expires: s.expiresAt } }));
      tick();
    }
    renderScrubButtons();
  }

  function resetRehydrate() {
    showChipped($('rehydrate-output'), '', null, null, REHYDRATE_EMPTY);
    $('rehydrate-unresolved').replaceChildren('none');
    $('rehydrate-unresolved').className = 'muted';
  }

  function customTerms() {
    return [...new Set($('scrub-terms').value.split(',').map((t) => t.trim()).filter(Boolean))];
  }

  async function runScrub() {
    if (scrubBusy) return;
    const text = $('scrub-input').value;
    if (!text.trim()) {
      showScrubError('Enter some text to scrub.');
      $('scrub-input').focus();
      return;
    }
    const body = { text, custom_terms: customTerms() };
    if (scrubSession) body.session_id = scrubSession.id;
    showScrubError('');
    scrubBusy = true;
    renderScrubButtons();
    let r = null;
    try {
      r = await postJSON('/scrub', body);
    } catch (e) {
      showScrubError(`Could not reach SparkDeck (${e.message}).`);
    } finally {
      scrubBusy = false;
      renderScrubButtons();
    }
    if (!r) return;
    const doc = r.doc;
    if (!r.ok || !doc || typeof doc.text !== 'string') {
      showScrubError(r.ok ? `Unexpected answer from /scrub (HTTP ${r.status}).` : errorText(r));
      return;
    }
    if (typeof doc.session_id === 'string' && doc.session_id) {
      scrubSession = { id: doc.session_id, expiresAt: doc.expires_at || '' };
    }
    showChipped($('scrub-output'), doc.text, PLACEHOLDER_SPLIT, (ph) => phChip(ph), '(empty)');
    renderEntities(doc.entities);
    renderSession();
    $('rehydrate-input').value = doc.text;
    resetRehydrate();
  }

  // "New session": forget the session here at once, then delete it on the server (a 404 means it had expired).
  async function newSession() {
    const s = scrubSession;
    if (!s || scrubBusy) return;
    scrubSession = null;
    scrubGen++;
    showScrubError('');
    showChipped($('scrub-output'), '', null, null, SCRUB_EMPTY);
    $('scrub-entities').replaceChildren(h('li', { class: 'muted' }, 'none yet'));
    $('rehydrate-input').value = '';
    resetRehydrate();
    renderSession();
    const until = s.expiresAt ? ` It expires on its own at ${fmtTime(s.expiresAt)}.` : '';
    try {
      const r = await sendJSON('DELETE', `/scrub/sessions/${encodeURIComponent(s.id)}`);
      if (!r.ok && r.status !== 404) showScrubError(`The old session was not deleted: ${errorText(r)}${until}`);
    } catch (e) {
      showScrubError(`Could not reach SparkDeck to delete the old session (${e.message}).${until}`);
    }
  }

  async function runRehydrate() {
    if (rehydrateBusy) return;
    if (!scrubSession) {
      showScrubError('Scrub some text first: rehydration fills in the placeholders of that scrub session.');
      return;
    }
    const text = $('rehydrate-input').value;
    if (!text.trim()) {
      showScrubError('Enter text with placeholders to rehydrate.');
      $('rehydrate-input').focus();
      return;
    }
    const gen = scrubGen;
    showScrubError('');
    rehydrateBusy = true;
    renderScrubButtons();
    let r = null;
    try {
      r = await postJSON('/rehydrate', { text, session_id: scrubSession.id });
    } catch (e) {
      if (gen === scrubGen) showScrubError(`Could not reach SparkDeck (${e.message}).`);
    } finally {
      rehydrateBusy = false;
      renderScrubButtons();
    }
    if (!r || gen !== scrubGen) return;
    const doc = r.doc;
    if (!r.ok || !doc || typeof doc.text !== 'string') {
      showScrubError(r.ok ? `Unexpected answer from /rehydrate (HTTP ${r.status}).` : errorText(r));
      return;
    }
    const unresolved = (Array.isArray(doc.unresolved) ? doc.unresolved : []).filter((u) => typeof u === 'string' && u);
    const split = unresolved.length ? new RegExp(`(${unresolved.map(escapeRegExp).join('|')})`) : null;
    const mark = (ph) => h('span', { class: 'ph ph-unresolved', title: 'not in this session: left as is' }, ph);
    showChipped($('rehydrate-output'), doc.text, split, mark, '(empty)');
    const list = $('rehydrate-unresolved');
    list.className = unresolved.length ? 'ph-inline' : 'muted';
    list.replaceChildren(...(unresolved.length ? unresolved.map(mark) : ['none']));
  }

  // Ctrl/Cmd+Enter in a field runs its action; Enter in the terms line scrubs.
  function onKeyRun(action, plainEnter) {
    return (ev) => {
      if (ev.key !== 'Enter' || ev.isComposing) return;
      if (plainEnter || ev.ctrlKey || ev.metaKey) {
        ev.preventDefault();
        action();
      }
    };
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
    es.addEventListener('swap', (ev) => acceptSwap(parse(ev.data)));
    es.addEventListener('action', (ev) => acceptActionRun(parse(ev.data)));
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

    $('model-list').addEventListener('click', (ev) => {
      const button = ev.target.closest && ev.target.closest('button.load');
      const card = button && button.closest('[data-model-id]');
      if (card && !button.disabled) requestLoad(card.dataset.modelId, button);
    });
    $('action-list').addEventListener('click', (ev) => {
      const button = ev.target.closest && ev.target.closest('button.run-action');
      const card = button && button.closest('[data-action-id]');
      if (card && !button.disabled) requestAction(card.dataset.actionId);
    });
    $('service-list').addEventListener('click', (ev) => {
      const button = ev.target.closest && ev.target.closest('button.show-log');
      if (button) openLog(button.dataset.serviceId);
    });
    $('service-log-close').addEventListener('click', closeLog);
    $('swap-cancel').addEventListener('click', requestCancel);
    $('confirm-yes').addEventListener('click', onConfirmYes);
    $('confirm-no').addEventListener('click', closeDialog);
    $('confirm-dialog').addEventListener('close', () => { dialogAction = null; });

    $('scrub-run').addEventListener('click', runScrub);
    $('scrub-new').addEventListener('click', newSession);
    $('rehydrate-run').addEventListener('click', runRehydrate);
    $('scrub-input').addEventListener('keydown', onKeyRun(runScrub, false));
    $('scrub-terms').addEventListener('keydown', onKeyRun(runScrub, true));
    $('rehydrate-input').addEventListener('keydown', onKeyRun(runRehydrate, false));
    renderScrubButtons();

    getJSON('/api/status').then(renderStatus).catch(() => {});
    loadModels();
    loadHistory();
    loadActions();
    loadConnectivity();
    connect();
    setInterval(tick, 1000);
    setInterval(loadConnectivity, 30000);
    setInterval(loadModels, 30000);
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
