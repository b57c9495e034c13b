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


def test_verbose_json_has_openai_sentences_and_words_when_asked(client: openai.OpenAI, spoken: bytes):
    answer = client.audio.transcriptions.create(model="parakeet", file=("sentence.wav", spoken),
                                                response_format="verbose_json", timestamp_granularities=["word"])
    assert answer.words and all(w.end >= w.start for w in answer.words), answer
    assert len(answer.segments) < len(answer.words), "segments are sentences, not one per word"
    assert " ".join(w.word for w in answer.words) == answer.text
    plain = client.audio.transcriptions.create(model="parakeet", file=("sentence.wav", spoken),
                                               response_format="verbose_json")
    assert not getattr(plain, "words", None), "words only when asked for"


def test_a_text_file_named_wav_is_a_4xx_in_the_envelope(client: openai.OpenAI):
    with pytest.raises(openai.APIStatusError) as raised:
        client.audio.transcriptions.create(model="parakeet", file=("notes.wav", b"these are not audio bytes\n" * 40))
    assert 400 <= raised.value.status_code < 500
    assert raised.value.body and raised.value.body.get("message"), raised.value.body


def conversation_wav(tmp_path) -> bytes:
    """Three espeak-ng voices far apart in pitch taking turns, as 16 kHz mono WAV."""
    import subprocess

    lines = [(10, "so we can start the meeting now"), (50, "yes I think that plan works"), (99, "what about the budget")]
    parts = []
    for index in range(6):
        pitch, text = lines[index % 3]
        path = tmp_path / f"turn{index}.wav"
        subprocess.run(["espeak-ng", "-p", str(pitch), "-g", "20", "-w", str(path), text], check=True)
        parts.append(str(path))
    out = tmp_path / "conversation.wav"
    subprocess.run(["sox", *parts, "-r", "16000", str(out)], check=True)
    return out.read_bytes()


def test_diarization_names_speakers_in_order_of_first_speech(demo: Demo, client: openai.OpenAI, tmp_path):
    audio = conversation_wav(tmp_path)
    answer = requests.post(
        demo.url("/v1/audio/diarizations"),
        files={"file": ("standup.wav", audio, "audio/wav")},
        data={"speaker_names": "Ann,Ben,Cid", "response_format": "json"},
        timeout=300,
    )
    assert answer.status_code == 200, answer.text[:500]
    body = answer.json()
    assert body["speakers"] == ["Ann", "Ben", "Cid"], body
    assert [s["speaker"] for s in body["segments"]] == ["Ann", "Ben", "Cid", "Ann", "Ben", "Cid"], body["segments"]
    rttm = requests.post(
        demo.url("/v1/audio/diarizations"),
        files={"file": ("standup.wav", audio, "audio/wav")},
        data={"response_format": "rttm"},
        timeout=300,
    )
    assert rttm.status_code == 200 and rttm.headers["content-type"].startswith("text/plain")
    assert all(line.startswith("SPEAKER standup 1 ") for line in rttm.text.splitlines()), rttm.text


def test_an_async_diarization_is_a_job_to_follow(demo: Demo, client: openai.OpenAI, tmp_path):
    audio = conversation_wav(tmp_path)
    accepted = requests.post(
        demo.url("/v1/audio/diarizations"),
        files={"file": ("standup.wav", audio, "audio/wav")},
        data={"async": "true", "response_format": "verbose_json", "chunk_seconds": "20", "overlap_seconds": "5"},
        timeout=60,
    )
    assert accepted.status_code == 202, accepted.text[:500]
    job = accepted.json()
    assert job["object"] == "audio.job" and job["state"] in ("queued", "running")
    assert accepted.headers["location"] == f"/v1/audio/jobs/{job['id']}"

    def finished():
        state = requests.get(demo.url(accepted.headers["location"]), timeout=30).json()
        return state["state"] in ("succeeded", "failed", "cancelled"), state

    from e2e_support import poll

    state = poll(finished, 180, "the diarization job to finish", interval=0.5)
    assert state["state"] == "succeeded", state
    assert state["progress"]["chunks_done"] == state["progress"]["chunks_planned"] >= 1
    result = state["result"]
    assert len(result["speakers"]) == 3 and result["words"], result
    assert all(word["speaker"] in result["speakers"] for word in result["words"])
    gone = requests.get(demo.url("/v1/audio/jobs/audjob_nope"), timeout=30)
    assert gone.status_code == 404 and gone.json()["error"]["code"] == "not_found"


def test_a_file_that_is_not_audio_is_refused_in_the_envelope(demo: Demo, client: openai.OpenAI):
    answer = requests.post(
        demo.url("/v1/audio/diarizations"),
        files={"file": ("notes.wav", b"meeting notes, not audio\n", "audio/wav")},
        timeout=60,
    )
    assert answer.status_code == 400
    error = answer.json()["error"]
    assert error["param"] == "file" and "ffmpeg could not read" in error["message"], error
    assert not list((demo.data_dir / "spool").iterdir()), "nothing left in the spool"
