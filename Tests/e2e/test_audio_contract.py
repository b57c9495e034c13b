"""Contract tests: the official OpenAI Python SDK's audio calls against SparkDeck in demo mode (SparkSim's Kokoro
and parakeet-asr behind it, working on real audio)."""

from __future__ import annotations

import io
import wave

import openai
import pytest
import requests

from e2e_support import Demo

SENTENCE = "The cluster is ready. Both nodes answer."


@pytest.fixture(scope="module")
def client(demo: Demo) -> openai.OpenAI:
    demo.wait_all_up(timeout=60)
    return openai.OpenAI(base_url=demo.url("/v1"), api_key="unused-while-open", max_retries=0, timeout=120)


@pytest.fixture(scope="module")
def spoken(client: openai.OpenAI) -> bytes:
    """A sentence spoken by the TTS through SparkDeck, as WAV."""
    answer = client.audio.speech.create(model="kokoro", voice="af_bella", input=SENTENCE, response_format="wav")
    return answer.read()


def test_voices_come_as_ids_and_names(demo: Demo, client: openai.OpenAI):
    voices = requests.get(demo.url("/v1/audio/voices"), timeout=30).json()["voices"]
    assert voices and all(set(v) == {"id", "name"} for v in voices), voices
    assert "af_bella" in [v["id"] for v in voices]


def test_speech_is_real_audio_in_the_asked_format(spoken: bytes):
    with wave.open(io.BytesIO(spoken)) as audio:
        seconds = audio.getnframes() / audio.getframerate()
        assert audio.getnchannels() == 1 and audio.getsampwidth() == 2
    assert seconds > 1.0, f"{seconds:.2f} s of audio for a two-sentence input"


def test_speech_streams_in_pieces(client: openai.OpenAI):
    with client.audio.speech.with_streaming_response.create(model="kokoro", voice="af_sky", input=SENTENCE,
                                                            response_format="pcm") as answer:
        pieces = [piece for piece in answer.iter_bytes() if piece]
    total = sum(len(piece) for piece in pieces)
    assert total > 24000 * 2, "more than a second of 24 kHz 16-bit pcm"
    assert total % 2 == 0


def test_unknown_voice_is_a_400_that_lists_the_voices(client: openai.OpenAI):
    with pytest.raises(openai.BadRequestError) as raised:
        client.audio.speech.create(model="kokoro", voice="zz_nobody", input="Hello.")
    assert "zz_nobody" in raised.value.message and "af_bella" in raised.value.message
    assert raised.value.body["param"] == "voice"


@pytest.mark.parametrize("response_format", ["json", "text", "srt", "vtt", "verbose_json"])
def test_transcription_in_every_format(client: openai.OpenAI, spoken: bytes, response_format: str):
    answer = client.audio.transcriptions.create(model="parakeet", file=("sentence.wav", spoken),
                                                response_format=response_format)
    if response_format == "json":
        assert answer.text.strip(), answer
    elif response_format == "verbose_json":
        assert answer.duration > 1.0 and answer.segments, answer
    else:
        text = answer if isinstance(answer, str) else str(answer)
        assert not text.startswith('"'), "the JSON quoting the ASR adds is taken off"
        if response_format == "srt":
            assert "-->" in text and "," in text.split("-->")[0]
        if response_format == "vtt":
            assert text.startswith("WEBVTT")
        assert text.strip()


def test_a_text_file_named_wav_is_a_4xx_in_the_envelope(client: openai.OpenAI):
    with pytest.raises(openai.APIStatusError) as raised:
        client.audio.transcriptions.create(model="parakeet", file=("notes.wav", b"these are not audio bytes\n" * 40))
    assert 400 <= raised.value.status_code < 500
    assert raised.value.body and raised.value.body.get("message"), raised.value.body
