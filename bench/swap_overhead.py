#!/usr/bin/env python3
"""SparkDeck's own share of a model swap, measured against `sparkdeck demo`. Not a test: it prints numbers.

What it measures
  Ready overhead   For --rounds swaps alternating demo-small <-> demo-large-tp2: a thread tries a TCP connect to
                   the vLLM port every 1 ms and takes the first connect accepted after the old model went away as
                   "the sim is ready" (the simulated vLLM binds its port only once loaded). SparkDeck's overhead is
                   the `ready` stage timestamp of the swap record minus that instant: noticing the model is up,
                   verifying it (/health, /v1/models, a 1-token completion) and recording the result.
                   Baseline, same swaps: a second thread polls GET /health every 1.0 s, as the old poll-only
                   controller did, and its lag is its first 200 after the launch minus the same instant.
                   The overhead is also split into "detect" (sim ready -> `verifying` stage) and "verify"
                   (`verifying` -> `ready`).
  Failure overhead For --rounds swaps to demo-huge-oom (CUDA OOM at 60 % of the load, then SparkDeck rolls back):
                   a thread reads <data>/demo/logs/vllm.log every 1 ms and notes when the "CUDA out of memory" line
                   appears. SparkDeck's overhead is the `failed` stage timestamp minus that instant.
                   Baseline: a poll-only controller sees no failure line, only a /health that never answers; the
                   earliest it could react is when a 1 s poller sees the launched process gone, so a thread checks
                   the launched sim's pid every 1.0 s and its lag is that moment minus the OOM line's.
  Target (from the issue): SparkDeck's share under 250 ms each, median of 10 rounds.

Baseline phase: a real poll-only controller polls all the time, so its phase has nothing to do with when a swap
starts. The demo's load times are deterministic, so a 1 s poller started together with each swap would hit the
same spot of its period every round (a lag of ~20 ms or ~950 ms every time, depending on the load time). The
baseline pollers therefore start (i + 0.5) / N of a period after round i's swap request: across N rounds their
phase covers the whole period evenly, and the median lag is what a free-running 1 s poller gets on average.

Clocks: SparkDeck and this script run on the same machine and both use the wall clock; the swap record's ISO
timestamps (millisecond precision) are parsed to epoch seconds and compared with time.time().

Which binary
  The numbers that count come from a release build (`swift build -c release`, then
  `--bin .build/release/sparkdeck`); a debug build works and is what you get by default, but is slower.
  Order of precedence: --bin, then $SPARKDECK_BIN, then <repo>/.build/debug/sparkdeck.

Usage
  python3 bench/swap_overhead.py [--rounds 10] [--bin PATH] [--port PORT] [--keep-data]

The demo runs on a free port with its own temporary data directory, and is stopped with SIGINT at the end (then
SIGKILL of its process group if it has not exited within 15 s).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Callable
from urllib.parse import urlsplit

import requests

REPO_ROOT = Path(__file__).resolve().parents[1]
TARGET_MS = 250.0
FAST_INTERVAL = 0.001   # the 1 ms watchers
SLOW_INTERVAL = 1.0     # the poll-only baseline
SWAP_TIMEOUT = 180.0
OOM_LINE = "CUDA out of memory"


class BenchError(RuntimeError):
    pass


# --------------------------------------------------------------------------------------------- helpers

def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def epoch(iso: str) -> float:
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


def wait_for(check: Callable[[], Any], timeout: float, what: str, interval: float = 0.1) -> Any:
    """Calls `check` until it returns something truthy and returns it; raises BenchError after `timeout` s."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while True:
        try:
            value = check()
            if value:
                return value
            last = value
        except (requests.RequestException, ValueError, KeyError, OSError) as exc:
            last = f"{type(exc).__name__}: {exc}"
        if time.monotonic() >= deadline:
            raise BenchError(f"{what}: not within {timeout:g} s (last: {last})")
        time.sleep(interval)


def percentile(values: list[float], q: float) -> float:
    """Linear-interpolated percentile (q in 0..100) of a non-empty list."""
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    rank = (len(ordered) - 1) * q / 100.0
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def pid_alive(pid: int) -> bool:
    """True for a process that exists and is not a zombie."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return False
    return text[text.rindex(")") + 2:].split()[0] not in ("Z", "X")


# --------------------------------------------------------------------------------------------- watchers

class Watcher(threading.Thread):
    """Calls `probe()` every `interval` seconds (on a fixed schedule) until it returns a time or `stop()` is called."""

    def __init__(self, name: str, interval: float, probe: Callable[[], float | None], start_delay: float = 0.0):
        super().__init__(name=name, daemon=True)
        self.interval = interval
        self.start_delay = start_delay
        self.probe = probe
        self.found: float | None = None
        self.error: str | None = None
        self._stop_event = threading.Event()

    def stop(self) -> None:
        self._stop_event.set()

    def run(self) -> None:
        if self._stop_event.wait(self.start_delay):
            return
        next_at = time.monotonic()
        try:
            while not self._stop_event.is_set():
                found = self.probe()
                if found is not None:
                    self.found = found
                    return
                next_at += self.interval
                delay = next_at - time.monotonic()
                if delay > 0:
                    self._stop_event.wait(delay)
                else:
                    next_at = time.monotonic()  # fell behind: do not burst
        except Exception as exc:  # noqa: BLE001 - reported by the main thread
            self.error = f"{type(exc).__name__}: {exc}"


def up_after_down(is_up: Callable[[], bool]) -> Callable[[], float | None]:
    """A probe that returns the time of the first `up` seen after at least one `down` (the old model going away)."""
    state = {"seen_down": False}

    def probe() -> float | None:
        up = is_up()
        now = time.time()
        if not up:
            state["seen_down"] = True
            return None
        return now if state["seen_down"] else None

    return probe


def tcp_accepts(port: int) -> Callable[[], bool]:
    def check() -> bool:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.05):
                return True
        except OSError:
            return False

    return check


def health_ok(url: str) -> Callable[[], bool]:
    session = requests.Session()

    def check() -> bool:
        try:
            return session.get(url, timeout=0.9).status_code == 200
        except requests.RequestException:
            return False

    return check


def log_line_probe(path: Path, needle: str) -> Callable[[], float | None]:
    """Returns the time `needle` is first seen in the file (which launches truncate, so it is read whole)."""

    def probe() -> float | None:
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return None
        return time.time() if needle.encode() in data else None

    return probe


def process_gone_probe(pid_file: Path, old_pid: int | None) -> Callable[[], float | None]:
    """Latches the first pid in `pid_file` other than `old_pid` (the newly launched sim), then returns the time it is
    first seen gone."""
    state: dict[str, int | None] = {"pid": None}

    def probe() -> float | None:
        if state["pid"] is None:
            try:
                pid = int(pid_file.read_text().strip())
            except (FileNotFoundError, ValueError):
                return None
            if pid != old_pid:
                state["pid"] = pid
            return None
        return None if pid_alive(state["pid"]) else time.time()

    return probe


# --------------------------------------------------------------------------------------------- the demo

@dataclass
class Demo:
    binary: Path
    port: int
    data_dir: Path
    process: subprocess.Popen | None = None
    log_path: Path | None = None
    session: requests.Session = field(default_factory=requests.Session)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.log_path = self.data_dir / "sparkdeck-demo.log"
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                [str(self.binary), "demo", "--port", str(self.port), "--data", str(self.data_dir)],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                cwd=self.data_dir,
            )

    def stop(self) -> None:
        proc = self.process
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            print(f"the demo (pid {proc.pid}) did not exit within 15 s of SIGINT; killing its process group",
                  file=sys.stderr)
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            proc.wait(timeout=10)

    def log_tail(self, lines: int = 30) -> str:
        try:
            text = self.log_path.read_text(errors="replace") if self.log_path else ""
        except FileNotFoundError:
            text = ""
        return "\n".join(text.splitlines()[-lines:])

    def alive(self) -> None:
        if self.process is not None and self.process.poll() is not None:
            raise BenchError(f"the demo exited with {self.process.returncode}\n{self.log_tail()}")

    def get(self, path: str) -> Any:
        self.alive()
        response = self.session.get(self.base + path, timeout=5)
        if response.status_code != 200:
            raise BenchError(f"GET {path}: HTTP {response.status_code}: {response.text[:300]}")
        return response.json()

    def status(self) -> dict:
        return self.get("/api/status")

    def active(self) -> str | None:
        return self.get("/api/models")["active"]

    def settled(self) -> str | None:
        """The active model once no swap runs and every service is up, else None."""
        status = self.status()
        if status.get("swap") is not None or any(s["state"] != "up" for s in status["services"]):
            return None
        return self.active()

    def vllm_url(self) -> str:
        for service in self.status()["services"]:
            if service["id"] == "vllm":
                return service["url"]
        raise BenchError("no `vllm` service in /api/status")

    def swap(self, model: str) -> dict:
        self.alive()
        response = self.session.post(self.base + "/api/swaps", json={"model": model, "confirm": True}, timeout=10)
        if response.status_code != 202:
            raise BenchError(f"POST /api/swaps {model}: HTTP {response.status_code}: {response.text[:300]}")
        return response.json()

    def wait_end(self, swap_id: str) -> dict:
        return wait_for(lambda: (doc := self.get(f"/api/swaps/{swap_id}"))["result"] is not None and doc,
                        SWAP_TIMEOUT, f"swap {swap_id} ending")

    @property
    def vllm_log(self) -> Path:
        return self.data_dir / "demo" / "logs" / "vllm.log"

    @property
    def vllm_pid_file(self) -> Path:
        return self.data_dir / "demo" / "pids" / "vllm.pid"


def stage_at(doc: dict, state: str, last: bool = False) -> float:
    stages = [s for s in doc["stages"] if s["state"] == state]
    if not stages:
        raise BenchError(f"swap {doc['id']} has no `{state}` stage: {[s['state'] for s in doc['stages']]}")
    return epoch((stages[-1] if last else stages[0])["at"])


def join(*watchers: Watcher, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    for w in watchers:
        w.join(max(0.0, deadline - time.monotonic()))
    for w in watchers:
        w.stop()
        w.join(2.0)


# --------------------------------------------------------------------------------------------- rounds

def phase(round_index: int, rounds: int) -> float:
    """Start delay of the baseline poller in a round: its phase spread evenly over the period across the rounds."""
    return (round_index + 0.5) / rounds * SLOW_INTERVAL


def ready_round(demo: Demo, vllm_port: int, health_url: str, round_index: int, rounds: int) -> dict:
    active = wait_for(demo.settled, 120, "the demo settled (no swap, every service up, a model active)")
    target = "demo-large-tp2" if active == "demo-small" else "demo-small"
    fast = Watcher("tcp-1ms", FAST_INTERVAL, up_after_down(tcp_accepts(vllm_port)))
    slow = Watcher("health-1s", SLOW_INTERVAL, up_after_down(health_ok(health_url)), phase(round_index, rounds))
    fast.start()
    slow.start()
    try:
        doc = demo.wait_end(demo.swap(target)["id"])
        join(fast, slow, timeout=3.0)  # the 1 s poller may still be one period behind
    finally:
        fast.stop()
        slow.stop()
    if doc["result"] != "ready":
        raise BenchError(f"swap {doc['id']} to {target} ended {doc['result']}: {doc.get('error')}")
    for w in (fast, slow):
        if w.error or w.found is None:
            raise BenchError(f"swap {doc['id']}: the {w.name} watcher saw no restart ({w.error or 'nothing found'})")
    launched, verifying, ready = stage_at(doc, "launching"), stage_at(doc, "verifying"), stage_at(doc, "ready")
    if not launched <= fast.found <= ready:
        raise BenchError(f"swap {doc['id']}: the port accepted at {fast.found:.3f}, outside launching {launched:.3f}"
                         f" .. ready {ready:.3f}")
    return {"swap": doc["id"], "from": active, "to": target, "sim_ready": fast.found,
            "overhead_ms": (ready - fast.found) * 1000, "poll_lag_ms": (slow.found - fast.found) * 1000,
            "detect_ms": (verifying - fast.found) * 1000, "verify_ms": (ready - verifying) * 1000}


def failure_round(demo: Demo, round_index: int, rounds: int) -> dict:
    active = wait_for(demo.settled, 120, "the demo settled (no swap, every service up, a model active)")
    if OOM_LINE.encode() in demo.vllm_log.read_bytes():
        raise BenchError(f"{demo.vllm_log} already holds a {OOM_LINE!r} line before the swap")
    try:
        old_pid: int | None = int(demo.vllm_pid_file.read_text().strip())
    except (FileNotFoundError, ValueError):
        old_pid = None
    fast = Watcher("log-1ms", FAST_INTERVAL, log_line_probe(demo.vllm_log, OOM_LINE))
    slow = Watcher("process-1s", SLOW_INTERVAL, process_gone_probe(demo.vllm_pid_file, old_pid),
                   phase(round_index, rounds))
    fast.start()
    slow.start()
    try:
        doc = demo.wait_end(demo.swap("demo-huge-oom")["id"])
        join(fast, slow, timeout=3.0)
    finally:
        fast.stop()
        slow.stop()
    if doc["result"] != "rolled_back" or OOM_LINE not in (doc.get("error") or ""):
        raise BenchError(f"swap {doc['id']} to demo-huge-oom ended {doc['result']}: {doc.get('error')}")
    for w in (fast, slow):
        if w.error or w.found is None:
            raise BenchError(f"swap {doc['id']}: the {w.name} watcher saw nothing ({w.error or 'nothing found'})")
    failed = stage_at(doc, "failed")
    return {"swap": doc["id"], "from": active, "to": "demo-huge-oom", "oom_line": fast.found,
            "overhead_ms": (failed - fast.found) * 1000, "poll_lag_ms": (slow.found - fast.found) * 1000}


# --------------------------------------------------------------------------------------------- report

def summary(name: str, rows: list[dict], baseline: str) -> list[tuple]:
    ours = [r["overhead_ms"] for r in rows]
    theirs = [r["poll_lag_ms"] for r in rows]
    med_ours, med_theirs = statistics.median(ours), statistics.median(theirs)
    ratio = med_theirs / med_ours if med_ours > 0 else float("inf")
    return [
        (f"SparkDeck {name} overhead", len(ours), med_ours, percentile(ours, 90), min(ours), max(ours)),
        (f"  baseline: {baseline}", len(theirs), med_theirs, percentile(theirs, 90), min(theirs), max(theirs)),
        (f"  ratio baseline / SparkDeck (medians)", None, ratio, None, None, None),
    ]


def print_table(lines: list[tuple]) -> None:
    print(f"{'':48} {'n':>3} {'median':>9} {'p90':>9} {'min':>9} {'max':>9}")
    for label, n, med, p90, lo, hi in lines:
        if n is None:
            print(f"{label:48} {'':>3} {med:>8.1f}x")
            continue
        print(f"{label:48} {n:>3} {med:>9.1f} {p90:>9.1f} {lo:>9.1f} {hi:>9.1f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=10, help="swaps of each kind (default 10)")
    parser.add_argument("--bin", help="the sparkdeck binary (default $SPARKDECK_BIN, else .build/debug/sparkdeck)")
    parser.add_argument("binary", nargs="?", help="same as --bin")
    parser.add_argument("--port", type=int, default=0, help="port for the demo (default: a free one)")
    parser.add_argument("--keep-data", action="store_true", help="keep the demo's data directory")
    parser.add_argument("--json", metavar="FILE", help="also write every round's numbers to FILE")
    args = parser.parse_args()
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")

    binary = Path(args.bin or args.binary or os.environ.get("SPARKDECK_BIN") or REPO_ROOT / ".build/debug/sparkdeck")
    if not (binary.is_file() and os.access(binary, os.X_OK)):
        print(f"no sparkdeck binary at {binary} (build it, or pass --bin)", file=sys.stderr)
        return 2

    data_dir = Path(tempfile.mkdtemp(prefix="sparkdeck-bench-"))
    demo = Demo(binary=binary.resolve(), port=args.port or free_port(), data_dir=data_dir)
    print(f"binary {demo.binary}  (a release build gives the representative number)")
    print(f"demo on {demo.base}, data {data_dir}, {args.rounds} round(s) of each kind")
    ready_rows: list[dict] = []
    failure_rows: list[dict] = []
    code = 0
    try:
        demo.start()
        wait_for(lambda: demo.session.get(demo.base + "/readyz", timeout=1).status_code == 200 or demo.alive(),
                 60, "/readyz answering 200")
        wait_for(demo.settled, 90, "the demo's default model loaded and every service up")
        vllm_url = demo.vllm_url()
        vllm_port = urlsplit(vllm_url).port
        print(f"vLLM (sim) at {vllm_url}")

        for i in range(args.rounds):
            row = ready_round(demo, vllm_port, vllm_url.rstrip("/") + "/health", i, args.rounds)
            ready_rows.append(row)
            print(f"  ready   {i + 1:>2}/{args.rounds}  {row['from']:>14} -> {row['to']:<14} "
                  f"SparkDeck {row['overhead_ms']:7.1f} ms (detect {row['detect_ms']:6.1f} + verify "
                  f"{row['verify_ms']:5.1f})   1 s /health poll {row['poll_lag_ms']:7.1f} ms")
        for i in range(args.rounds):
            row = failure_round(demo, i, args.rounds)
            failure_rows.append(row)
            print(f"  failure {i + 1:>2}/{args.rounds}  {row['from']:>14} -> {row['to']:<14} "
                  f"SparkDeck {row['overhead_ms']:7.1f} ms   1 s process poll {row['poll_lag_ms']:7.1f} ms")
    except BenchError as exc:
        print(f"bench failed: {exc}", file=sys.stderr)
        code = 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        code = 130
    finally:
        demo.stop()
        if not args.keep_data:
            shutil.rmtree(data_dir, ignore_errors=True)

    if ready_rows or failure_rows:
        print()
        print("times in ms")
        lines: list[tuple] = []
        if ready_rows:
            lines += summary("ready", ready_rows, "1 s /health poll, first 200")
        if failure_rows:
            lines += summary("failure", failure_rows, "1 s poll, process seen gone")
        print_table(lines)
        print()
        for name, rows in (("ready", ready_rows), ("failure", failure_rows)):
            if rows:
                med = statistics.median(r["overhead_ms"] for r in rows)
                verdict = "meets" if med < TARGET_MS else "MISSES"
                note = "" if len(rows) >= 10 else f" (only {len(rows)} rounds; the target is for a median of 10)"
                print(f"{name} overhead median {med:.1f} ms {verdict} the < {TARGET_MS:g} ms target{note}")
    if args.json:
        Path(args.json).write_text(json.dumps({"binary": str(demo.binary), "ready": ready_rows,
                                               "failure": failure_rows}, indent=1))
    return code


if __name__ == "__main__":
    sys.exit(main())
