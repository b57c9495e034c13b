"""Contract tests for embeddings and hybrid search: the official OpenAI SDK's `embeddings.create` (float and
base64) and the `/v1/search` flow against SparkDeck in demo mode (SparkSim's bge-m3 and Qdrant behind it)."""

from __future__ import annotations

import math
import secrets

import openai
import pytest
import requests

from e2e_support import Demo

DOCUMENTS = 3000


@pytest.fixture(scope="module")
def client(demo: Demo) -> openai.OpenAI:
    demo.wait_all_up(timeout=60)
    return openai.OpenAI(base_url=demo.url("/v1"), api_key="unused-while-open", max_retries=0, timeout=120)


def test_sdk_embeddings_float_and_base64_agree(client: openai.OpenAI):
    texts = [f"sentence {n} about an overdue invoice" for n in range(40)]
    floats = client.embeddings.create(model="bge-m3", input=texts, encoding_format="float")
    # Without encoding_format the SDK asks for base64 and decodes it itself.
    packed = client.embeddings.create(model="bge-m3", input=texts)
    assert [item.index for item in floats.data] == list(range(40)), "batches above the upstream's 32 re-joined in order"
    assert len(floats.data[0].embedding) == 1024
    for a, b in zip(floats.data, packed.data):
        assert a.embedding == pytest.approx(b.embedding, abs=1e-6)
    norm = math.sqrt(sum(x * x for x in floats.data[0].embedding))
    assert norm == pytest.approx(1.0, abs=1e-4)
    assert floats.usage.prompt_tokens > 0


def test_paraphrases_are_closer_than_unrelated_text(client: openai.OpenAI):
    a, b, c = client.embeddings.create(
        model="bge-m3", input=["the invoice payment is overdue", "payment of the invoice is overdue", "cats sleep all day"],
        encoding_format="float").data
    dot = lambda x, y: sum(p * q for p, q in zip(x.embedding, y.embedding))  # noqa: E731
    assert dot(a, b) > dot(a, c) + 0.3


def test_sparse_vectors_are_sorted_and_unique(demo: Demo):
    answer = requests.post(demo.url("/v1/embeddings/sparse"), json={"input": ["apple zebra apple", "mango"]}, timeout=30)
    assert answer.status_code == 200, answer.text
    for item in answer.json()["data"]:
        assert item["indices"] == sorted(set(item["indices"])) and len(item["values"]) == len(item["indices"])


def test_rerank_orders_by_relevance(demo: Demo):
    answer = requests.post(demo.url("/v1/rerank"), timeout=30, json={
        "query": "overdue invoice", "documents": ["cats", {"text": "the invoice is overdue"}, "invoice sent"],
        "top_n": 2, "return_documents": True})
    assert answer.status_code == 200, answer.text
    results = answer.json()["results"]
    assert [r["index"] for r in results] == [1, 2]
    assert results[0]["document"]["text"] == "the invoice is overdue"


def generated(n: int) -> dict:
    return {"id": f"doc-{n}", "text": f"Ticket {n} from a customer about order code k{n}q and a delayed parcel.",
            "metadata": {"region": ["north", "south", "east"][n % 3], "year": 2000 + n % 25}}


@pytest.fixture(scope="module")
def collection(demo: Demo) -> str:
    name = f"e2e-{secrets.token_hex(3)}"
    created = requests.put(demo.url(f"/v1/search/collections/{name}"), timeout=30)
    assert created.status_code == 201, created.text
    assert created.json()["dense_size"] == 1024
    for start in range(0, DOCUMENTS, 500):
        answer = requests.post(demo.url(f"/v1/search/collections/{name}/documents"), timeout=300,
                               json={"documents": [generated(n) for n in range(start, min(start + 500, DOCUMENTS))]})
        assert answer.status_code == 200, answer.text
    yield name
    requests.delete(demo.url(f"/v1/search/collections/{name}"), timeout=30)


def query(demo: Demo, name: str, **body) -> list[dict]:
    answer = requests.post(demo.url(f"/v1/search/collections/{name}/query"), json=body, timeout=60)
    assert answer.status_code == 200, answer.text
    return answer.json()["results"]


def points(demo: Demo, name: str) -> int:
    listed = requests.get(demo.url("/v1/search/collections"), timeout=30).json()["collections"]
    return next(c["points"] for c in listed if c["name"] == name)


@pytest.mark.parametrize("mode", ["sparse", "hybrid"])
def test_exact_keyword_finds_its_document_first(demo: Demo, collection: str, mode: str):
    for n in (7, 1234, 2999):
        results = query(demo, collection, query=f"k{n}q", mode=mode, limit=5)
        assert results[0]["id"] == f"doc-{n}", results[:2]


def test_filters_restrict(demo: Demo, collection: str):
    results = query(demo, collection, query="customer parcel", limit=50,
                    filter={"region": "south", "year": {"gte": 2010, "lt": 2015}})
    assert len(results) == 50
    assert all(r["metadata"]["region"] == "south" and 2010 <= r["metadata"]["year"] < 2015 for r in results)
    assert query(demo, collection, query="k5q", mode="sparse", filter={"region": "north"}) == [] or \
        all(r["id"] != "doc-5" for r in query(demo, collection, query="k5q", mode="sparse", filter={"region": "north"}))


def test_reupsert_is_idempotent(demo: Demo, collection: str):
    before = points(demo, collection)
    assert before == DOCUMENTS
    answer = requests.post(demo.url(f"/v1/search/collections/{collection}/documents"), timeout=120,
                           json={"documents": [generated(n) for n in range(200)]})
    assert answer.status_code == 200, answer.text
    assert points(demo, collection) == before


def test_long_document_is_found_by_a_middle_sentence(demo: Demo, collection: str):
    sentences = [f"Minutes line {n} records routine remarks about the budget review." for n in range(80)]
    sentences.insert(40, "The auditor discovered a forgotten vault beneath the old boathouse.")
    answer = requests.post(demo.url(f"/v1/search/collections/{collection}/documents"), timeout=60,
                           json={"documents": [{"id": "minutes", "text": " ".join(sentences)}]})
    assert answer.status_code == 200 and answer.json()["passages"] > 3, answer.text
    results = query(demo, collection, query="forgotten vault under the boathouse", limit=3)
    assert results[0]["id"] == "minutes" and results[0]["passage"] > 0
    assert "forgotten vault" in results[0]["text"]
    deleted = requests.delete(demo.url(f"/v1/search/collections/{collection}/documents"), json={"ids": ["minutes"]},
                              timeout=30)
    assert deleted.json()["deleted_passages"] == answer.json()["passages"]


def test_unknown_collection_is_a_404_the_sdk_can_read(demo: Demo):
    answer = requests.post(demo.url("/v1/search/collections/no-such/query"), json={"query": "x"}, timeout=30)
    assert answer.status_code == 404
    assert answer.json()["error"]["code"] == "collection_not_found"
