#!/usr/bin/env python3
"""Differential run: two sparkdeck builds scrub the same corpus; their spans and texts must be identical.

    python3 bench/redaction_diff.py --old /tmp/sparkdeck-old --new .build/release/sparkdeck
    python3 bench/redaction_diff.py --old OLD --new NEW --mb 20 --seed 7

The corpus is bench/redaction.py's (same generator, same seed), written as one JSON string per line and scrubbed by
`sparkdeck scrub --jsonl` of each build. A refactoring of the detectors must print `identical` here.
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys


def load_bench():
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "redaction.py")
    spec = importlib.util.spec_from_file_location("redaction_bench", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def scrub(binary, corpus):
    with open(corpus, "rb") as fin:
        p = subprocess.run([binary, "scrub", "--jsonl"], stdin=fin, capture_output=True, timeout=3600)
    if p.returncode != 0:
        raise SystemExit(f"{binary} scrub failed ({p.returncode}): {p.stderr.decode()[-2000:]}")
    return [json.loads(line) for line in p.stdout.decode("utf-8").splitlines()]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--old", required=True, help="sparkdeck binary before the change")
    ap.add_argument("--new", required=True, help="sparkdeck binary after the change")
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--mb", type=float, default=2.0, help="corpus size in MB of UTF-8 text (default 2)")
    ap.add_argument("--workdir", default="/tmp/sparkdeck-redaction-diff")
    ap.add_argument("--show", type=int, default=5, help="differences to print (default 5)")
    args = ap.parse_args()

    bench = load_bench()
    os.makedirs(args.workdir, exist_ok=True)
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
