// SparkDeck dashboard: the chat playground. Sends a prompt to the loaded model through the gateway
// (/v1/chat/completions, streamed), shows the answer as it arrives, then the time to first token and tokens/s.
// Server strings only ever go through textContent (never innerHTML).
'use strict';

(function () {
  const $ = (id) => document.getElementById(id);
  let running = null; // the AbortController of the answer being streamed

  function say(text, error) {
    const line = $('playground-stats');
    line.textContent = text || '';
    line.className = error ? 'error' : 'muted';
  }

  async function loadedModel() {
    const res = await window.sparkdeckFetch('/v1/models', { method: 'GET' }, 'chat (the chat scope)');
    const doc = await res.json();
    const llm = (doc.data || []).find((m) => !m.kind || m.kind === 'llm');
    if (!llm) throw new Error('No model is loaded: load one in Models first.');
    return llm.id;
  }

  async function send() {
    const prompt = $('playground-input').value.trim();
    if (!prompt || running) return;
    const output = $('playground-output');
    output.textContent = '';
    say('Waiting for the first token…');
    running = new AbortController();
    $('playground-send').disabled = true;
    $('playground-stop').disabled = false;
    const started = performance.now();
    let first = null;
    let chunks = 0;
    let usage = null;
    try {
      const model = await loadedModel();
      const res = await window.sparkdeckFetch('/v1/chat/completions', {
        method: 'POST', signal: running.signal, headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ model, stream: true, max_tokens: Number($('playground-max').value) || 256,
          stream_options: { include_usage: true }, messages: [{ role: 'user', content: prompt }] }),
      }, 'chat (the chat scope)');
      if (!res.ok) {
        let message = `HTTP ${res.status}`;
        try { message = (await res.json()).error.message || message; } catch (_) { /* not JSON */ }
        throw new Error(message);
      }
      await window.sparkdeckReadEvents(res.body, (_, data) => {
        if (!data) return true;
        if (data === '[DONE]') return false;
        let doc;
        try { doc = JSON.parse(data); } catch (_) { return true; }
        if (doc.error) throw new Error(doc.error.message || 'the stream broke off');
        if (doc.usage) usage = doc.usage;
        const delta = doc.choices && doc.choices[0] && doc.choices[0].delta;
        if (delta && delta.content) {
          if (first === null) first = performance.now();
          chunks += 1;
          output.textContent += delta.content;
        }
        return true;
      });
      const ended = performance.now();
      const tokens = (usage && usage.completion_tokens) || chunks;
      const seconds = first !== null ? (ended - first) / 1000 : 0;
      const rate = seconds > 0 && tokens > 1 ? `${((tokens - 1) / seconds).toFixed(1)} tokens/s` : '—';
      say(first === null ? 'The model answered nothing.' :
        `${model}: first token after ${Math.round(first - started)} ms, ${tokens} tokens, ${rate}`);
    } catch (e) {
      say(e.name === 'AbortError' ? 'Stopped.' : e.message, e.name !== 'AbortError');
    } finally {
      running = null;
      $('playground-send').disabled = false;
      $('playground-stop').disabled = true;
    }
  }

  function start() {
    $('playground-send').addEventListener('click', send);
    $('playground-stop').addEventListener('click', () => running && running.abort());
    $('playground-input').addEventListener('keydown', (e) => {
      if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) { e.preventDefault(); send(); }
    });
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
