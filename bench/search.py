#!/usr/bin/env python3
"""What SparkDeck's search API costs on top of calling the embedder and Qdrant directly, measured in the same run.

Not a test: it prints numbers. Everything runs on 127.0.0.1: SparkSim's embedder (`sparkdeck sim embeddings`,
batch limit 32) and Qdrant (`sparkdeck sim qdrant`), and `sparkdeck serve` in front of them.

  upsert   N documents in requests of --batch documents, --parallel requests at a time.
           direct: for each batch, POST /v1/embeddings and POST /embed_sparse (split into the embedder's batch
           limit, as a client must), then PUT /collections/c/points?wait=true — what a client of its own does.
           sparkdeck: POST /v1/search/collections/c/documents with the same batches.
           Printed: documents/s for each and sparkdeck/direct (target >= 0.9).
  query    --queries hybrid queries, --concurrency at a time (16). direct: dense + sparse embedding of the query, then the Query
           API (two prefetches fused by RRF); sparkdeck: POST .../query (group false, no rerank: the same work).
           Printed: p50/p99 of each and the added p50/p99 (targets < 2 ms and < 5 ms).

Usage: python3 bench/search.py [--bin .build/release/sparkdeck] [--docs 3000] [--batch 64] [--queries 2000]
                               [--concurrency 16]
On 2 cores 16 concurrent queries saturate both, so the added latency there is mostly queueing for CPU; --concurrency 1
shows what one query costs on top of its direct calls.
"""

from __future__ import annotations

import argparse
import concurrent.futures as futures
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait(url: str, what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if requests.get(url, timeout=1).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.1)
    sys.exit(f"{what} did not come up at {url}")


def docs(n: int, start: int = 0) -> list[dict]:
    return [{"id": str(i), "text": f"Ticket {i} about order k{i}q, a delayed parcel and a refund for the customer.",
             "metadata": {"region": ["north", "south"][i % 2]}} for i in range(start, start + n)]


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


class Direct:
    """A client doing SparkDeck's job itself, with the same batch limit and the same point layout."""

    def __init__(self, embed: str, qdrant: str):
        self.embed, self.qdrant, self.session = embed, qdrant, requests.Session()

    def vectors(self, texts: list[str]) -> tuple[list, list]:
        dense, sparse = [], []
        for i in range(0, len(texts), 32):
            part = texts[i:i + 32]
            answer = self.session.post(f"{self.embed}/v1/embeddings", json={"input": part}).json()
            dense += [d["embedding"] for d in sorted(answer["data"], key=lambda d: d["index"])]
            for vector in self.session.post(f"{self.embed}/embed_sparse", json={"inputs": part}).json():
                pairs = sorted({e["index"]: e["value"] for e in vector}.items())
                sparse.append({"indices": [p[0] for p in pairs], "values": [p[1] for p in pairs]})
        return dense, sparse

    def upsert(self, collection: str, batch: list[dict]) -> None:
        dense, sparse = self.vectors([d["text"] for d in batch])
        points = [{"id": int(d["id"]), "vector": {"dense": v, "sparse": s},
                   "payload": {"document_id": d["id"], "text": d["text"], "metadata": d["metadata"]}}
                  for d, v, s in zip(batch, dense, sparse)]
        answer = self.session.put(f"{self.qdrant}/collections/{collection}/points?wait=true", json={"points": points})
        answer.raise_for_status()

    def query(self, collection: str, text: str) -> None:
        dense, sparse = self.vectors([text])
        body = {"prefetch": [{"query": sparse[0], "using": "sparse", "limit": 10},
                             {"query": dense[0], "using": "dense", "limit": 10}],
                "query": {"fusion": "rrf"}, "limit": 10, "with_payload": True}
        self.session.post(f"{self.qdrant}/collections/{collection}/points/query", json=body).raise_for_status()


def run_parallel(work, items, parallel: int) -> list[float]:
    latencies: list[float] = []

    def timed(item):
        started = time.perf_counter()
        work(item)
        return time.perf_counter() - started

    with futures.ThreadPoolExecutor(parallel) as pool:
        latencies = list(pool.map(timed, items))
    return latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bin", default=str(ROOT / ".build/debug/sparkdeck"))
    parser.add_argument("--docs", type=int, default=3000)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--parallel", type=int, default=2)
    parser.add_argument("--queries", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="sparkdeck-bench-search-"))
    procs: list[subprocess.Popen] = []
    try:
        embed_port, qdrant_port, deck_port = free_port(), free_port(), free_port()
        pid = str(os.getpid())
        for service, port in (("embeddings", embed_port), ("qdrant", qdrant_port)):
            procs.append(subprocess.Popen([args.bin, "sim", service, "--port", str(port), "--load-seconds", "0",
                                           "--exit-with", pid], stdout=open(tmp / f"{service}.log", "w"),
                                          stderr=subprocess.STDOUT))
        (tmp / "inventory.yaml").write_text(
            "nodes:\n  - {id: spark-2, host: 127.0.0.1, transport: local}\n"
            "admission_groups:\n  retrieval: {max_in_flight: 8, queue: 1024, queue_timeout_ms: 60000}\n"
            "services:\n"
            f"  - {{id: embeddings, kind: embeddings, node: spark-2, port: {embed_port},\n"
            "     limits: {group: retrieval, max_in_flight: 8, queue: 1024}, api: {max_batch: 32, sparse: tei}}\n"
            f"  - {{id: qdrant, kind: qdrant, node: spark-2, port: {qdrant_port},\n"
            "     limits: {max_in_flight: 64, queue: 1024}}\n")
        (tmp / "data").mkdir()
        procs.append(subprocess.Popen([args.bin, "serve", "--inventory", str(tmp / "inventory.yaml"), "--data",
                                       str(tmp / "data"), "--host", "127.0.0.1", "--port", str(deck_port)],
                                      stdout=open(tmp / "sparkdeck.log", "w"), stderr=subprocess.STDOUT))
        embed, qdrant, deck = (f"http://127.0.0.1:{p}" for p in (embed_port, qdrant_port, deck_port))
        wait(f"{embed}/health", "embeddings sim")
        wait(f"{qdrant}/readyz", "qdrant sim")
        wait(f"{deck}/readyz", "sparkdeck")
        time.sleep(1.0)  # the health monitor's first probes mark the services up

        direct = Direct(embed, qdrant)
        size = len(direct.vectors(["probe"])[0][0])
        requests.put(f"{qdrant}/collections/direct", json={
            "vectors": {"dense": {"size": size, "distance": "Cosine"}},
            "sparse_vectors": {"sparse": {"modifier": "idf"}}}).raise_for_status()
        created = requests.put(f"{deck}/v1/search/collections/deck")
        assert created.status_code == 201, created.text

        batches = [docs(min(args.batch, args.docs - i), i) for i in range(0, args.docs, args.batch)]
        session = requests.Session()

        def deck_upsert(batch):
            answer = session.post(f"{deck}/v1/search/collections/deck/documents", json={"documents": batch})
            assert answer.status_code == 200, answer.text

        results = {}
        for name, work in (("direct", lambda b: direct.upsert("direct", b)), ("sparkdeck", deck_upsert)):
            started = time.perf_counter()
            run_parallel(work, batches, args.parallel)
            results[name] = args.docs / (time.perf_counter() - started)
        print(f"upsert {args.docs} docs, batches of {args.batch}, {args.parallel} at a time:")
        print(f"  direct    {results['direct']:8.0f} docs/s")
        print(f"  sparkdeck {results['sparkdeck']:8.0f} docs/s   ratio {results['sparkdeck'] / results['direct']:.2f}"
              " (target >= 0.90)")

        texts = [f"k{i % args.docs}q parcel refund" for i in range(args.queries)]

        def deck_query(text):
            answer = session.post(f"{deck}/v1/search/collections/deck/query",
                                  json={"query": text, "limit": 10, "group": False})
            assert answer.status_code == 200, answer.text

        latency = {}
        for name, work in (("direct", lambda t: direct.query("direct", t)), ("sparkdeck", deck_query)):
            run_parallel(work, texts[:100], args.concurrency)  # warm-up
            latency[name] = [x * 1000 for x in run_parallel(work, texts, args.concurrency)]
        print(f"query: {args.queries} hybrid queries at {args.concurrency} concurrent (ms):")
        for name in ("direct", "sparkdeck"):
            print(f"  {name:9} p50 {statistics.median(latency[name]):7.2f}  p99 {percentile(latency[name], 99):7.2f}")
        added50 = statistics.median(latency["sparkdeck"]) - statistics.median(latency["direct"])
        added99 = percentile(latency["sparkdeck"], 99) - percentile(latency["direct"], 99)
        print(f"  added     p50 {added50:7.2f}  p99 {added99:7.2f}   (targets < 2 ms, < 5 ms)")
        print(json.dumps({"upsert_docs_per_s": results, "query_ms": {
            k: {"p50": statistics.median(v), "p99": percentile(v, 99)} for k, v in latency.items()}}))
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()


if __name__ == "__main__":
    main()
