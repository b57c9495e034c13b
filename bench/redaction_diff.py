#!/usr/bin/env python3
"""Differential run: two sparkdeck builds scrub the same corpus; their spans and texts must be identical.

    python3 bench/redaction_diff.py --old /tmp/sparkdeck-old --new .build/release/sparkdeck
    python3 bench/redaction_diff.py --old OLD --new NEW --mb 20 --seed 7
    python3 bench/redaction_diff.py --old OLD --new NEW --mb 20 --runs 3     # also throughput, one core, both builds

The corpus is bench/redaction.py's (same generator, same seed), written as one JSON string per line and scrubbed by
`sparkdeck scrub --jsonl` of each build. A refactoring of the detectors must print `identical` here.
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time


def load_bench():
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "redaction.py")
    spec = importlib.util.spec_from_file_location("redaction_bench", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def pinned(cpu):
    return ["taskset", "-c", str(cpu)] if cpu is not None and shutil.which("taskset") else []


def scrub(binary, corpus, cpu=None):
    with open(corpus, "rb") as fin:
        p = subprocess.run(pinned(cpu) + [binary, "scrub", "--jsonl"], stdin=fin, capture_output=True, timeout=3600)
    if p.returncode != 0:
        raise SystemExit(f"{binary} scrub failed ({p.returncode}): {p.stderr.decode()[-2000:]}")
    return [json.loads(line) for line in p.stdout.decode("utf-8").splitlines()]


def timed(binary, corpus, cpu):
    """Wall time and CPU time (user + system) of one `sparkdeck scrub --jsonl` over the corpus, output to /dev/null
    (as redaction.py measures). On a busy machine the CPU time is the steadier of the two."""
    with open(corpus, "rb") as fin:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        p = subprocess.run(pinned(cpu) + [binary, "scrub", "--jsonl"], stdin=fin, stdout=subprocess.DEVNULL,
                           stderr=subprocess.PIPE, timeout=3600)
        elapsed = time.perf_counter() - t0
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if p.returncode != 0:
        raise SystemExit(f"{binary} scrub failed ({p.returncode}): {p.stderr.decode()[-2000:]}")
    return elapsed, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--old", required=True, help="sparkdeck binary before the change")
    ap.add_argument("--new", required=True, help="sparkdeck binary after the change")
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--mb", type=float, default=2.0, help="corpus size in MB of UTF-8 text (default 2)")
    ap.add_argument("--workdir", default="/tmp/sparkdeck-redaction-diff")
    ap.add_argument("--show", type=int, default=5, help="differences to print (default 5)")
    ap.add_argument("--runs", type=int, default=0,
                    help="also time each build this many times, alternating, and print MB/s and the ratio (default 0)")
    ap.add_argument("--corpus", help="a JSONL corpus written before (one JSON string per line) instead of generating")
    ap.add_argument("--cpu", type=int, default=0, help="core for taskset -c when timing (default 0)")
    args = ap.parse_args()

    bench = load_bench()
    os.makedirs(args.workdir, exist_ok=True)
    if args.corpus:
        corpus = args.corpus
        with open(corpus, encoding="utf-8") as f:
            texts = [json.loads(line) for line in f if line.strip()]
    else:
        texts = [d[0] for d in bench.generate(args.seed, int(args.mb * bench.MB))]
        corpus = os.path.join(args.workdir, "corpus.jsonl")
        bench.write_jsonl(corpus, texts)
    old, new = scrub(args.old, corpus), scrub(args.new, corpus)
    if len(old) != len(texts) or len(new) != len(texts):
        raise SystemExit(f"line counts differ: corpus {len(texts)}, old {len(old)}, new {len(new)}")
    differing = [i for i in range(len(texts)) if old[i] != new[i]]
    spans = sum(len(o["spans"]) for o in old)
    size = sum(len(t.encode("utf-8")) for t in texts)
    print(f"corpus: seed {args.seed}, {len(texts)} documents, {size / bench.MB:.3f} MB; old {spans} spans, "
          f"new {sum(len(o['spans']) for o in new)} spans")
    if args.runs > 0:
        # Alternating old and new, so a disturbance of the machine hits both alike.
        times = {"old": [], "new": []}
        cpu = {"old": [], "new": []}
        for _ in range(args.runs):
            for k, binary in (("old", args.old), ("new", args.new)):
                wall, used = timed(binary, corpus, args.cpu)
                times[k].append(wall)
                cpu[k].append(used)
        rates = {k: size / bench.MB / statistics.median(v) for k, v in times.items()}
        cpu_rates = {k: size / bench.MB / statistics.median(v) for k, v in cpu.items()}
        for k in ("old", "new"):
            print(f"throughput {k}: {rates[k]:6.2f} MB/s wall, {cpu_rates[k]:6.2f} MB/s of CPU time (median of "
                  f"{args.runs}: wall {', '.join(f'{t:.3f}' for t in times[k])} s, CPU "
                  f"{', '.join(f'{t:.3f}' for t in cpu[k])} s; one core, taskset -c {args.cpu}, incl. start-up)")
        print(f"ratio new / old: {rates['new'] / rates['old']:.2f}x wall, {cpu_rates['new'] / cpu_rates['old']:.2f}x CPU; "
              f"target >= 20 MB/s: {'PASS' if rates['new'] >= 20 else 'FAIL'} (wall)")
    if not differing:
        print("identical: every document has the same spans (type, start, end) and the same scrubbed text")
        return 0
    print(f"DIFFERENT: {len(differing)} of {len(texts)} documents")
    for i in differing[:args.show]:
        a, b = set(map(json.dumps, old[i]["spans"])), set(map(json.dumps, new[i]["spans"]))
        print(f"  document {i}: only old {sorted(a - b)}; only new {sorted(b - a)}")
    return 1


if __name__ == "__main__":
    sys.exit(main())
