"""Contract tests: the official OpenAI Python SDK against SparkDeck's gateway in demo mode."""

from __future__ import annotations

import json
import time

import openai
import pytest
import requests

from e2e_support import Demo, poll

PROMPT = [{"role": "user", "content": "Say something about the cluster."}]


@pytest.fixture(scope="module")
def client(demo: Demo) -> openai.OpenAI:
    demo.wait_all_up(timeout=30)
    # SDK retries would hide a 503; the contract is what one call gets.
    return openai.OpenAI(base_url=demo.url("/v1"), api_key="unused-while-open", max_retries=0, timeout=30)


def llm_models(client: openai.OpenAI) -> list[str]:
    return [m.id for m in client.models.list().data if getattr(m, "kind", None) == "llm"]


def loaded_model(client: openai.OpenAI) -> str:
    models = poll(lambda: (len(ids := llm_models(client)) == 1, ids), 20.0, "one loaded model")
    return models[0]


def test_models_list_names_the_loaded_model_first_then_the_speech_and_embedding_models(client: openai.OpenAI):
    assert loaded_model(client) == "sparksim/small-8b"
    listed = [(m.id, getattr(m, "kind", None)) for m in client.models.list().data]
    assert listed[0] == ("sparksim/small-8b", "llm"), listed
    assert set(listed[1:]) == {("parakeet", "transcription"), ("kokoro", "speech"), ("BAAI/bge-m3", "embeddings")}, listed


def test_chat_non_stream_and_stream_give_the_same_text(client: openai.OpenAI):
    model = loaded_model(client)
    whole = client.chat.completions.create(model=model, messages=PROMPT, max_tokens=12)
    text = whole.choices[0].message.content
    assert text and len(text.split()) >= 6, text
    assert whole.usage.completion_tokens == 12
    assert whole.choices[0].finish_reason == "length"

    parts = []
    usage = None
    with client.chat.completions.create(model=model, messages=PROMPT, max_tokens=12, stream=True,
                                        stream_options={"include_usage": True}) as stream:
        for chunk in stream:
            if chunk.choices and chunk.choices[0].delta.content:
                parts.append(chunk.choices[0].delta.content)
            if chunk.usage:
                usage = chunk.usage
    assert "".join(parts) == text, "the stream reassembles to the same answer the sim gives whole"
    assert usage is not None and usage.completion_tokens == 12


def test_recipe_id_is_accepted_as_the_model_name(client: openai.OpenAI):
    answer = client.chat.completions.create(model="demo-small", messages=PROMPT, max_tokens=2)
    assert answer.model == "sparksim/small-8b"


def test_completions(client: openai.OpenAI):
    model = loaded_model(client)
    answer = client.completions.create(model=model, prompt="The cluster", max_tokens=5)
    assert answer.choices[0].text and answer.usage.completion_tokens == 5


def test_wrong_model_raises_not_found_with_our_message(client: openai.OpenAI):
    with pytest.raises(openai.NotFoundError) as raised:
        client.chat.completions.create(model="gpt-4o", messages=PROMPT, max_tokens=2)
    error = raised.value
    assert error.status_code == 404
    assert "the loaded model is `sparksim/small-8b`" in error.message
    assert error.code == "model_not_found"
    assert error.response.headers.get("X-Request-Id")


def test_bad_request_raises_bad_request_error(client: openai.OpenAI):
    with pytest.raises(openai.BadRequestError) as raised:
        client.chat.completions.create(model="sparksim/small-8b", messages=[], max_tokens=2)
    assert "`messages` must be a non-empty list" in raised.value.message


def test_streaming_is_not_buffered(demo: Demo, client: openai.OpenAI):
    """Each token reaches the client before the sim sends the next one (the sim stamps when it sent each): an order,
    not a time bound, so a busy machine's hiccup on one token does not fail it, and a buffering proxy (bursts, or all
    at the end) does."""
    model = loaded_model(client)
    body = {"model": model, "messages": PROMPT, "max_tokens": 40, "stream": True}
    sent = []
    received = []
    with requests.post(demo.url("/v1/chat/completions"), json=body, stream=True, timeout=30) as response:
        assert response.status_code == 200
        assert response.headers["Content-Type"].startswith("text/event-stream")
        for line in response.iter_lines(chunk_size=1):
            if not line.startswith(b"data: {"):
                continue
            arrived = time.time() * 1000
            event = json.loads(line[6:])
            if "sparksim_sent_at_ms" in event:
                sent.append(event["sparksim_sent_at_ms"])
                received.append(arrived)
    assert len(sent) == 40
    # The sim sends a token every 20 ms. Passed on as it comes, token i is at the client before token i+1 leaves
    # the sim; held back, it is not.
    in_time = sum(1 for i in range(len(sent) - 1) if received[i] < sent[i + 1])
    assert in_time >= 0.8 * (len(sent) - 1), f"only {in_time} of {len(sent) - 1} tokens arrived before the next was sent"


def test_503_model_swapping_during_a_swap(demo: Demo, client: openai.OpenAI):
    model = loaded_model(client)
    started = requests.post(demo.url("/api/swaps"), json={"model": "demo-large-tp2", "confirm": True}, timeout=10)
    assert started.status_code == 202, started.text
    swap_id = started.json()["id"]
    try:
        with pytest.raises(openai.APIStatusError) as raised:
            client.chat.completions.create(model=model, messages=PROMPT, max_tokens=2)
        error = raised.value
        assert error.status_code == 503
        assert error.body and error.body.get("type") == "model_swapping", error.body
        assert int(error.response.headers["Retry-After"]) >= 1
    finally:
        poll(lambda: ((doc := requests.get(demo.url(f"/api/swaps/{swap_id}"), timeout=10).json()).get("result") is not None, doc),
             60.0, "the swap to end")
    # Back to the default model for whoever runs next.
    back = requests.post(demo.url("/api/swaps"), json={"model": "demo-small", "confirm": True}, timeout=10).json()["id"]
    poll(lambda: ((doc := requests.get(demo.url(f"/api/swaps/{back}"), timeout=10).json()).get("result") == "ready", doc),
         60.0, "the swap back to demo-small")
