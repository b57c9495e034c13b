// SparkDeck dashboard: the activity panel. Per-app counts (/api/activity?by=route), requests per minute as an inline
// SVG bar chart drawn here (no library, no CDN), and the last requests (/api/activity/log). Refreshed every 5 s.
// Server strings only ever go through textContent (never innerHTML).
'use strict';

(function () {
  const $ = (id) => document.getElementById(id);
  const SVG = 'http://www.w3.org/2000/svg';

  function cell(text, cls) {
    const td = document.createElement('td');
    td.textContent = text;
    if (cls) td.className = cls;
    return td;
  }

  function ms(value) {
    if (value === null || value === undefined) return '—';
    return value >= 1000 ? `${(value / 1000).toFixed(value >= 10000 ? 0 : 1)} s` : `${Math.round(value)} ms`;
  }

  function renderGroups(groups) {
    const rows = groups.map((g) => {
      const tr = document.createElement('tr');
      tr.append(
        cell(g.app), cell(g.route ? `${g.route} → ${g.upstream}` : '—'), cell(String(g.requests), 'num'),
        cell(String(g.errors.client), 'num'), cell(String(g.errors.overloaded), g.errors.overloaded ? 'num err' : 'num'),
        cell(String(g.errors.swapping), 'num'), cell(String(g.errors.upstream), g.errors.upstream ? 'num err' : 'num'),
        cell(ms(g.latency_p50_ms), 'num'), cell(ms(g.latency_p95_ms), 'num'), cell(ms(g.queue_ms_avg), 'num'),
        cell(g.tokens_in || g.tokens_out ? `${g.tokens_in} / ${g.tokens_out}` : '—', 'num'),
        cell(g.documents ? String(g.documents) : '—', 'num'),
        cell(g.audio_seconds ? `${Math.round(g.audio_seconds)} s` : '—', 'num'));
      return tr;
    });
    $('activity-wrap').hidden = rows.length === 0;
    $('activity-table').tBodies[0].replaceChildren(...rows);
  }

  // One bar per minute of the period (empty minutes stay empty), errors in red on top of each bar.
  function renderChart(perMinute, minutes) {
    const svg = $('activity-chart');
    const byStart = new Map(perMinute.map((m) => [Date.parse(m.start), m]));
    const end = Math.floor(Date.now() / 60000) * 60000;
    const buckets = Math.min(minutes, 120);
    const span = minutes / buckets;
    const bars = [];
    for (let i = 0; i < buckets; i++) {
      let requests = 0;
      let errors = 0;
      for (let k = 0; k < span; k++) {
        const m = byStart.get(end - ((buckets - 1 - i) * span + (span - 1 - k)) * 60000);
        if (m) { requests += m.requests; errors += m.errors; }
      }
      bars.push({ requests, errors });
    }
    const top = Math.max(1, ...bars.map((b) => b.requests));
    const width = 600 / buckets;
    const shapes = [];
    bars.forEach((b, i) => {
      if (!b.requests) return;
      const h = (b.requests / top) * 76;
      const ok = document.createElementNS(SVG, 'rect');
      ok.setAttribute('x', String(i * width));
      ok.setAttribute('y', String(80 - h));
      ok.setAttribute('width', String(Math.max(1, width - 1)));
      ok.setAttribute('height', String(h));
      ok.setAttribute('class', 'bar-ok');
      const title = document.createElementNS(SVG, 'title');
      title.textContent = `${b.requests} requests, ${b.errors} errors`;
      ok.append(title);
      shapes.push(ok);
      if (b.errors) {
        const eh = (b.errors / top) * 76;
        const err = document.createElementNS(SVG, 'rect');
        err.setAttribute('x', String(i * width));
        err.setAttribute('y', String(80 - eh));
        err.setAttribute('width', String(Math.max(1, width - 1)));
        err.setAttribute('height', String(eh));
        err.setAttribute('class', 'bar-err');
        shapes.push(err);
      }
    });
    svg.replaceChildren(...shapes);
  }

  function renderLog(entries) {
    const rows = entries.map((e) => {
      const tr = document.createElement('tr');
      const when = document.createElement('td');
      const time = document.createElement('time');
      time.dateTime = e.time;
      time.textContent = new Date(e.time).toLocaleTimeString();
      when.append(time);
      tr.append(
        when, cell(e.app), cell(e.route), cell(e.upstream),
        cell(e.error_code ? `${e.status} ${e.error_code}` : String(e.status), e.status >= 500 ? 'num err' : 'num'),
        cell(ms(e.duration_ms), 'num'), cell(ms(e.queue_ms), 'num'));
      return tr;
    });
    $('activity-log').tBodies[0].replaceChildren(...rows);
  }

  // The filter choices follow the apps and routes of the period; a chosen one stays while it is gone.
  function fillChoices(select, values) {
    const chosen = select.value;
    const all = [...new Set(values.concat(chosen ? [chosen] : []))].sort();
    const options = [new Option('all', '')].concat(all.map((v) => new Option(v, v)));
    select.replaceChildren(...options);
    select.value = chosen;
  }

  async function refresh() {
    const minutes = Number($('activity-minutes').value);
    const query = new URLSearchParams({ limit: '20' });
    if ($('activity-log-app').value) query.set('app', $('activity-log-app').value);
    if ($('activity-log-route').value) query.set('route', $('activity-log-route').value);
    if ($('activity-log-errors').checked) query.set('errors', 'true');
    try {
      const [summary, log] = await Promise.all([
        fetch(`/api/activity?by=route&minutes=${minutes}`, { cache: 'no-store' }).then((r) => r.json()),
        fetch(`/api/activity/log?${query}`, { cache: 'no-store' }).then((r) => r.json()),
      ]);
      fillChoices($('activity-log-app'), summary.groups.map((g) => g.app));
      fillChoices($('activity-log-route'), summary.groups.map((g) => g.route));
      const total = summary.groups.reduce((n, g) => n + g.requests, 0);
      $('activity-status').textContent = total ? `${total} requests` : 'No API requests in this period.';
      renderGroups(summary.groups);
      renderChart(summary.per_minute, minutes);
      renderLog(log.requests);
    } catch (_) {
      $('activity-status').textContent = 'Activity could not be read; trying again.';
    }
  }

  function start() {
    for (const id of ['activity-minutes', 'activity-log-app', 'activity-log-route', 'activity-log-errors']) {
      $(id).addEventListener('change', refresh);
    }
    refresh();
    setInterval(refresh, 5000);
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
