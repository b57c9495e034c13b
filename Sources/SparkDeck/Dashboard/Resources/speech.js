// The dashboard's speech panel: upload a recording as an audio job and follow it, read the diarized transcript
// (a colour per speaker, a timeline); type text, pick a voice, hear it. Everything goes through SparkDeck's own API.
(() => {
  'use strict';
  const $ = (id) => document.getElementById(id);
  const COLOURS = ['#2f6fdb', '#d98e04', '#1f9d55', '#9c1f52', '#5b2aa8', '#d93025', '#17663a', '#7a5200'];
  let job = null;
  let timer = null;

  // The dashboard's keyed fetch (app.js): a key asked for on 401/403 and kept in this browser.
  const call = (method, url, body) => window.sparkdeckFetch(url, { method, body }, 'audio (the audio scope)');

  function showError(text) {
    const box = $('speech-error');
    box.textContent = text || '';
    box.hidden = !text;
  }

  async function errorText(res) {
    try {
      const doc = await res.json();
      return (doc && doc.error && doc.error.message) || `HTTP ${res.status}`;
    } catch (_) {
      return `HTTP ${res.status}`;
    }
  }

  function clock(seconds) {
    const s = Math.max(0, Math.round(seconds));
    const m = Math.floor(s / 60);
    return `${m}:${String(s % 60).padStart(2, '0')}`;
  }

  function colourOf(speakers, name) {
    const index = speakers.indexOf(name);
    return COLOURS[(index < 0 ? speakers.length : index) % COLOURS.length];
  }

  function render(result) {
    const speakers = result.speakers || [];
    const duration = result.duration || 1;
    const timeline = $('diarize-timeline');
    timeline.replaceChildren();
    for (const segment of result.segments || []) {
      const bar = document.createElement('span');
      bar.className = 'speech-seg';
      bar.style.left = `${(100 * segment.start) / duration}%`;
      bar.style.width = `${Math.max(0.2, (100 * (segment.end - segment.start)) / duration)}%`;
      bar.style.background = colourOf(speakers, segment.speaker);
      bar.title = `${segment.speaker} ${clock(segment.start)}–${clock(segment.end)}`;
      timeline.append(bar);
    }
    timeline.hidden = false;
    const legend = $('diarize-speakers');
    legend.replaceChildren();
    for (const name of speakers) {
      const item = document.createElement('li');
      const chip = document.createElement('span');
      chip.className = 'speech-chip';
      chip.style.background = colourOf(speakers, name);
      item.append(chip, document.createTextNode(name));
      legend.append(item);
    }
    const list = $('diarize-transcript');
    list.replaceChildren();
    for (const segment of result.segments || []) {
      const item = document.createElement('li');
      const who = document.createElement('strong');
      who.textContent = segment.speaker;
      who.style.color = colourOf(speakers, segment.speaker);
      const when = document.createElement('span');
      when.className = 'muted small';
      when.textContent = ` ${clock(segment.start)} `;
      item.append(who, when, document.createTextNode(segment.text || ''));
      list.append(item);
    }
    for (const warning of result.warnings || []) {
      const item = document.createElement('li');
      item.className = 'muted small';
      item.textContent = `Note: ${warning}`;
      list.append(item);
    }
  }

  function showJob(state) {
    const progress = state.progress || {};
    const planned = progress.chunks_planned || 0;
    const done = progress.chunks_done || 0;
    const percent = state.state === 'succeeded' ? 100 : planned ? Math.round((100 * done) / planned) : 0;
    $('diarize-bar').hidden = false;
    $('diarize-progress').style.width = `${percent}%`;
    $('diarize-bar').setAttribute('aria-valuenow', String(percent));
    let text = `${state.state}: ${progress.stage || ''}`;
    if (planned) text += `, ${done} of ${planned} chunks`;
    if (progress.audio_seconds) text += ` (${clock(progress.audio_seconds)} of audio)`;
    if (progress.eta_seconds && state.state === 'running') text += `, about ${clock(progress.eta_seconds)} left`;
    if (state.error) text += ` — ${state.error.message}`;
    $('diarize-state').textContent = text;
    const finished = ['succeeded', 'failed', 'cancelled'].includes(state.state);
    $('diarize-cancel').hidden = finished;
    $('diarize-run').disabled = !finished;
    if (state.state === 'succeeded' && state.result) render(state.result);
    return finished;
  }

  async function follow() {
    if (!job) return;
    const res = await call('GET', `/v1/audio/jobs/${encodeURIComponent(job)}`);
    if (!res.ok) {
      showError(await errorText(res));
      return;
    }
    if (showJob(await res.json())) {
      clearInterval(timer);
      timer = null;
    }
  }

  async function start() {
    showError('');
    const file = $('diarize-file').files[0];
    if (!file) {
      showError('Pick a recording first.');
      return;
    }
    const form = new FormData();
    form.append('file', file, file.name);
    form.append('async', 'true');
    form.append('response_format', 'verbose_json');
    form.append('channel_mode', $('diarize-mode').value);
    const names = $('diarize-names').value.split(',').map((n) => n.trim()).filter(Boolean);
    if (names.length) form.append('speaker_names', names.join(','));
    if ($('diarize-mode').value === 'dual') form.append('local_speaker', names[0] || 'me');
    $('diarize-run').disabled = true;
    $('diarize-state').textContent = `uploading ${file.name}…`;
    const res = await call('POST', '/v1/audio/diarizations', form);
    if (res.status !== 202) {
      $('diarize-run').disabled = false;
      $('diarize-state').textContent = 'No job.';
      showError(await errorText(res));
      return;
    }
    const state = await res.json();
    job = state.id;
    showJob(state);
    timer = setInterval(follow, 1000);
  }

  async function cancel() {
    if (!job) return;
    const res = await call('DELETE', `/v1/audio/jobs/${encodeURIComponent(job)}`);
    if (res.ok) showJob(await res.json());
    else showError(await errorText(res));
  }

  async function loadVoices() {
    const select = $('speak-voice');
    const res = await call('GET', '/v1/audio/voices');
    select.replaceChildren();
    if (!res.ok) {
      const option = document.createElement('option');
      option.value = '';
      option.textContent = 'voices unavailable';
      select.append(option);
      return;
    }
    const doc = await res.json();
    for (const voice of doc.voices || []) {
      const option = document.createElement('option');
      option.value = voice.id;
      option.textContent = voice.name || voice.id;
      select.append(option);
    }
  }

  async function speak() {
    showError('');
    const input = $('speak-input').value.trim();
    if (!input) {
      showError('Type something to speak.');
      return;
    }
    $('speak-run').disabled = true;
    try {
      const body = JSON.stringify({ model: 'kokoro', input, voice: $('speak-voice').value || undefined, response_format: 'mp3' });
      const res = await window.sparkdeckFetch(
        '/v1/audio/speech', { method: 'POST', body, headers: { 'Content-Type': 'application/json' } }, 'audio (the audio scope)');
      if (!res.ok) {
        showError(await errorText(res));
        return;
      }
      const audio = $('speak-audio');
      if (audio.src) URL.revokeObjectURL(audio.src);
      audio.src = URL.createObjectURL(await res.blob());
      audio.hidden = false;
      audio.play().catch(() => { /* autoplay may be refused; the controls are there */ });
    } finally {
      $('speak-run').disabled = false;
    }
  }

  document.addEventListener('DOMContentLoaded', () => {
    $('diarize-run').addEventListener('click', start);
    $('diarize-cancel').addEventListener('click', cancel);
    $('speak-run').addEventListener('click', speak);
    loadVoices().catch(() => {});
  });
})();
