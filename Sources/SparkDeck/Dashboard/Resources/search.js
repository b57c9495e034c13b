// SparkDeck dashboard: the search panel. Picks a collection (/v1/search/collections), makes one, indexes pasted text
// or a text file (/documents), queries it (/query) and shows the hits with their search and rerank scores.
// Server strings only ever go through textContent (never innerHTML).
'use strict';

(function () {
  const $ = (id) => document.getElementById(id);

  // The dashboard's keyed fetch (app.js): a key asked for on 401/403 and kept in this browser (search scope, or admin).
  async function call(method, url, body) {
    const init = { method, headers: body !== undefined ? { 'Content-Type': 'application/json' } : {} };
    if (body !== undefined) init.body = JSON.stringify(body);
    const res = await window.sparkdeckFetch(url, init, 'search (the search scope)');
    let doc = null;
    try { doc = await res.json(); } catch (_) { /* not JSON */ }
    if (!res.ok) throw new Error((doc && doc.error && doc.error.message) || `HTTP ${res.status}`);
    return doc;
  }

  function say(text, error) {
    const line = $('search-status');
    line.textContent = text || '';
    line.className = error ? 'error' : 'muted';
  }

  const collection = () => $('search-collection').value;
  const path = (rest) => `/v1/search/collections/${encodeURIComponent(collection())}${rest || ''}`;

  async function refresh(select) {
    const doc = await call('GET', '/v1/search/collections');
    const picker = $('search-collection');
    const keep = select || picker.value;
    picker.replaceChildren();
    for (const c of doc.collections) {
      const option = document.createElement('option');
      option.value = c.name;
      option.textContent = `${c.name} (${c.points} passages, ${c.dense_size}-d${c.sparse ? ' + sparse' : ''})`;
      picker.append(option);
    }
    if (doc.collections.some((c) => c.name === keep)) picker.value = keep;
    const none = doc.collections.length === 0;
    for (const id of ['search-index', 'search-run']) $(id).disabled = none;
    if (none) say('No collection yet: name one and create it.');
  }

  async function guarded(work) {
    try {
      await work();
    } catch (e) {
      say(e.message, true);
    }
  }

  function create() {
    return guarded(async () => {
      const name = $('search-new').value.trim();
      if (!name) return say('Give the new collection a name (letters, digits, _ and -).', true);
      const made = await call('PUT', `/v1/search/collections/${encodeURIComponent(name)}`);
      $('search-new').value = '';
      await refresh(made.name);
      say(`Created ${made.name}: ${made.dense_size}-d dense${made.sparse ? ' and sparse' : ''} vectors.`);
    });
  }

  function index() {
    return guarded(async () => {
      const text = $('search-text').value;
      if (!text.trim()) return say('Paste some text or pick a file first.', true);
      const documentBody = { text };
      const id = $('search-doc-id').value.trim();
      if (id) documentBody.id = id;
      say('Indexing…');
      const done = await call('POST', path('/documents'), { documents: [documentBody] });
      await refresh();
      say(`Indexed ${done.ids[0]} as ${done.passages} passage${done.passages === 1 ? '' : 's'}.`);
    });
  }

  function readFile() {
    const file = $('search-file').files[0];
    if (!file) return;
    file.text().then((text) => {
      $('search-text').value = text;
      if (!$('search-doc-id').value) $('search-doc-id').value = file.name;
    });
  }

  function cell(text, cls) {
    const td = document.createElement('td');
    td.textContent = text;
    if (cls) td.className = cls;
    return td;
  }

  function query() {
    return guarded(async () => {
      const q = $('search-query').value.trim();
      if (!q) return say('Type what to search for.', true);
      const rerank = $('search-rerank').checked;
      const doc = await call('POST', path('/query'), { query: q, mode: $('search-mode').value, limit: 10, rerank });
      const rows = $('search-results');
      rows.replaceChildren();
      for (const hit of doc.results) {
        const tr = document.createElement('tr');
        tr.append(cell(hit.id), cell(String(hit.passage)), cell(hit.score.toFixed(4)),
          cell(hit.rerank_score === undefined ? '–' : hit.rerank_score.toFixed(4)), cell(hit.text, 'search-hit'));
        rows.append(tr);
      }
      say(doc.results.length ? `${doc.results.length} hits (${doc.mode}${rerank ? ', reranked' : ''}).` : 'No hits.');
    });
  }

  function start() {
    if (!$('search')) return;
    $('search-create').addEventListener('click', create);
    $('search-index').addEventListener('click', index);
    $('search-run').addEventListener('click', query);
    $('search-file').addEventListener('change', readFile);
    $('search-query').addEventListener('keydown', (e) => { if (e.key === 'Enter') query(); });
    guarded(() => refresh());
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
