#!/usr/bin/env python3
"""What SparkDeck's OpenAI-compatible gateway adds on top of vLLM, against peers measured in the same run.

Not a test: it prints numbers. Everything runs on this machine, on 127.0.0.1 only.

Peers, all in front of the same SparkSim vLLM (`sparkdeck sim vllm`, default 1000 tokens/s, so a 1-token answer
takes ~1 ms and the proxies' own cost dominates):
  direct     the sim itself
  sparkdeck  `sparkdeck serve` with an inventory that has the sim as its vLLM service (admission limits set high
             enough that they never queue: max_in_flight 1024, queue 1024)
  litellm    LiteLLM's proxy (`litellm --config cfg --num_workers 1`) from a venv (default /tmp/litellm-venv,
             created and filled with `pip install 'litellm[proxy]'` if missing); if it cannot be had, the bench
             prints "LiteLLM: not available (reason)" and goes on with the other two.

Load generator: one asyncio process (aiohttp, uvloop when installed), the same code for every peer. For each cell
(concurrency 1, 64, 256 x non-streaming / streaming) and each peer in turn: N workers loop requests for
warm-up + --seconds, then stop starting requests and finish the ones in flight. Latencies and errors: every
request that ended after the warm-up (also one that started during it, so a request stuck across the window shows).
  non-stream  POST /v1/chat/completions, max_tokens 1; latency = until the whole body is read.
  stream      the same with "stream": true, max_tokens 16; TTFT = until the first event with a non-empty content
              delta; total = until [DONE]. A stream counts as an error unless it brings 16 tokens and [DONE].
Per cell: req/s (completions inside the window / window), p50/p99, added p50/p99 over direct (p50(peer) - p50(direct),
from the distributions), errors, the longest stretch without any completion (a stall shows there), the peak VmRSS of
each server (sampled every 100 ms; VmHWM of SparkDeck too) and the CPU each server, the sim, the load generator and
everything else on the machine used. Then one more row set: non-streaming c=64 paced at --paced-rate req/s in total
(below saturation), where the added latency is the proxy's own cost rather than queueing for the shared CPU.
Then, unless --no-proxy-bound, the 1-client cells once more with the sim restarted without token pacing
("proxy-bound"): at 1 client throughput is 1 / latency, and with a paced sim the sim's own ~1.5 ms per answer (16 ms
per stream) sets most of it, capping every proxy's ratio to LiteLLM (the "ceiling" column); without pacing the ratio
shows what each proxy itself costs per request. The summary judges the 1-client throughput target on these
and marks the paced 1-client rows `sim-bound`.
Auth is on for both proxies by default: SparkDeck with an API key (`sparkdeck keys create`), LiteLLM with a master
key (it refuses to start without one); --no-auth runs both open.

--soak SECONDS runs only the soak instead: 256 streaming clients through SparkDeck for that long, RSS every 5 s,
a per-minute table, and first/last/max RSS.

CPU layout (--layout). In a deployment the proxy runs on its own machine (the StartOS box), apart from the
GPU node that runs vLLM and from the apps that call it. `split` (the default with 2 or more CPUs) gives the proxy
the same separation here: the load generator and the sim get the first half of the CPUs, the proxy under test
(SparkDeck or LiteLLM) the other half, with the same split for every peer (direct included, where the proxy's half
idles). `shared` lets all three share every CPU, as before: then, in the closed loop at 64+ clients, the machine is
saturated and the added latency mostly measures how much CPU the proxy takes away from the sim and the generator.
The generator's own CPU use is printed per cell; near 100 % of its share it is the bottleneck. Before each
measurement the bench waits (up to --quiet-wait s) until other work on the machine is quiet, and 'other cpu%' shows
what other work took during the cell anyway.

Usage
  python3 bench/gateway.py [--bin /tmp/sparkdeck-release] [--seconds 10] [--warmup 2]
  python3 bench/gateway.py --soak 300
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
MODEL = "bench/model"
CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024

# Targets from the issue.
TARGET_ADDED_P50_MS = 1.0
TARGET_ADDED_P99_MS = 5.0
TARGET_RATIO = 5.0
TARGET_RSS_MB = 100.0
FLAT_MB = 5.0          # "flat": the last minute's median RSS at most this far above the first minute's ...
FLAT_FRACTION = 0.05   # ... or this fraction of it, whichever is larger


def ensure_aiohttp() -> None:
    try:
        import aiohttp  # noqa: F401
    except ImportError:
        print("aiohttp is missing; installing it with pip ...", flush=True)
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "aiohttp"], check=True, timeout=600)


ensure_aiohttp()
import aiohttp  # noqa: E402

try:
    import uvloop  # type: ignore
except ImportError:
    uvloop = None


class BenchError(RuntimeError):
    pass


# --------------------------------------------------------------------------------------------- processes

def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Processes:
    """Every process this bench starts, each in its own session, so that stop_all() ends it with its children."""

    def __init__(self) -> None:
        self.started: list[tuple[str, subprocess.Popen]] = []

    def start(self, name: str, argv: list[str], log: Path, env: dict[str, str] | None = None,
              cwd: Path | None = None, cpus: set[int] | None = None) -> subprocess.Popen:
        handle = open(log, "wb")
        # The affinity is set in the child before exec, so every thread the server starts inherits it (and NIO
        # sizes its event loop group by it).
        pin = (lambda: os.sched_setaffinity(0, cpus)) if cpus else None
        proc = subprocess.Popen(argv, stdout=handle, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                env=env, cwd=cwd, start_new_session=True, preexec_fn=pin)
        handle.close()
        self.started.append((name, proc))
        return proc

    def stop_all(self) -> None:
        for _, proc in reversed(self.started):
            if proc.poll() is None:
                try:
                    os.killpg(proc.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        deadline = time.monotonic() + 10
        for _, proc in reversed(self.started):
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
            # The group may hold children that outlive the leader.
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
        self.started.clear()


def process_tree(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            continue
        ppid = int(stat[stat.rindex(b")") + 2:].split()[1])
        children.setdefault(ppid, []).append(int(entry))
    result, todo = [], [root]
    while todo:
        pid = todo.pop()
        result.append(pid)
        todo.extend(children.get(pid, []))
    return result


def status_kb(pid: int, key: str) -> int:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def rss_kb(pid: int) -> int:
    # /proc/<pid>/statm is cheaper to read than status; its second field is VmRSS in pages.
    try:
        with open(f"/proc/{pid}/statm") as f:
            return int(f.read().split()[1]) * PAGE_KB
    except OSError:
        return 0


def cpu_seconds(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat", "rb") as f:
                fields = f.read().rsplit(b")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])   # utime, stime
        except OSError:
            pass
    return total / CLK_TCK


def machine_busy_seconds() -> float:
    """CPU time all of the machine's processes have used so far (all cores; from /proc/stat)."""
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    # user nice system idle iowait irq softirq steal guest guest_nice: guest time is already in user.
    return (fields[0] + fields[1] + fields[2] + fields[5] + fields[6] + fields[7]) / CLK_TCK


class RSSSampler(threading.Thread):
    """Samples the summed VmRSS of some processes every `interval` seconds until stopped."""

    def __init__(self, pids: dict[str, list[int]], interval: float) -> None:
        super().__init__(daemon=True)
        self.pids = pids
        self.interval = interval
        self.samples: dict[str, list[tuple[float, int]]] = {name: [] for name in pids}
        self._stop_event = threading.Event()

    def run(self) -> None:
        next_at = time.monotonic()
        while not self._stop_event.is_set():
            now = time.monotonic()
            for name, pids in self.pids.items():
                self.samples[name].append((now, sum(rss_kb(p) for p in pids)))
            next_at += self.interval
            self._stop_event.wait(max(0.0, next_at - time.monotonic()))

    def stop(self) -> None:
        self._stop_event.set()
        self.join(timeout=5)

    def peak_mb(self, name: str) -> float:
        values = [kb for _, kb in self.samples.get(name, [])]
        return max(values) / 1024 if values else float("nan")


# --------------------------------------------------------------------------------------------- http helpers

def http_json(url: str, key: str, timeout: float = 2.0, body: dict | None = None) -> tuple[int, Any]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json",
                                                              "Authorization": f"Bearer {key}"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            raw = response.read()
            status = response.status
    except urllib.error.HTTPError as error:
        raw, status = error.read(), error.code
    try:
        return status, json.loads(raw)
    except ValueError:
        return status, raw.decode(errors="replace")


def wait_until(what: str, timeout: float, check, proc: subprocess.Popen | None = None, log: Path | None = None):
    deadline = time.monotonic() + timeout
    last_error: Any = None
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            tail = log.read_text(errors="replace")[-2000:] if log and log.exists() else ""
            raise BenchError(f"{what}: the process exited with {proc.returncode}\n{tail}")
        try:
            result = check()
            if result:
                return result
        except Exception as error:  # noqa: BLE001 - waiting for a server that is not up yet
            last_error = error
        time.sleep(0.1)
    raise BenchError(f"{what}: not ready after {timeout:.0f} s (last error: {last_error})")


def models_list(base: str, key: str) -> list[str]:
    status, payload = http_json(base + "/v1/models", key, timeout=2)
    if status != 200 or not isinstance(payload, dict):
        return []
    return [entry.get("id") for entry in payload.get("data", [])]


# --------------------------------------------------------------------------------------------- peers

@dataclass
class Peer:
    name: str
    base: str                     # http://127.0.0.1:PORT
    pids: list[int]               # the server's process tree (for RSS / CPU)
    proc: subprocess.Popen | None = None
    key: str = "x"                # sent as `Authorization: Bearer <key>` (the sim ignores it)
    log: Path | None = None       # its stdout and stderr


def start_sim(procs: Processes, binary: str, tmp: Path, tokens_per_second: float, cpus: set[int] | None) -> Peer:
    port = free_port()
    log = tmp / "sim.log"
    proc = procs.start("sim", [binary, "sim", "vllm", "--port", str(port), "--model", MODEL, "--load-seconds", "0.5",
                               "--tokens-per-second", str(tokens_per_second), "--exit-with", str(os.getpid())],
                       log, cwd=tmp, cpus=cpus)
    base = f"http://127.0.0.1:{port}"
    wait_until("SparkSim vLLM", 30, lambda: MODEL in models_list(base, "x"), proc, log)
    return Peer("direct", base, [proc.pid], proc)


# A rate above 1000 tokens/s makes the sim's per-token gap 0 ms: it answers as fast as it can.
UNPACED_TOKENS_PER_SECOND = 1_000_000.0


def restart_sim(procs: Processes, binary: str, tmp: Path, old: Peer, tokens_per_second: float,
                cpus: set[int] | None) -> Peer:
    """Replaces the sim with one at another token rate, on the same port (the proxies keep their configuration)."""
    port = int(old.base.rsplit(":", 1)[1])
    try:
        os.killpg(old.proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        pass
    old.proc.wait(timeout=10)
    log = tmp / "sim-unpaced.log"
    proc = procs.start("sim", [binary, "sim", "vllm", "--port", str(port), "--model", MODEL, "--load-seconds", "0.5",
                               "--tokens-per-second", str(tokens_per_second), "--exit-with", str(os.getpid())],
                       log, cwd=tmp, cpus=cpus)
    wait_until("SparkSim vLLM (unpaced)", 30, lambda: MODEL in models_list(old.base, "x"), proc, log)
    return Peer("direct", old.base, [proc.pid], proc)


def start_sparkdeck(procs: Processes, binary: str, tmp: Path, sim_port: int, auth: bool,
                    cpus: set[int] | None) -> Peer:
    port = free_port()
    inventory = tmp / "inventory.yaml"
    inventory.write_text(
        "nodes:\n"
        "  - {id: spark-1, host: 127.0.0.1, transport: local}\n"
        "services:\n"
        "  - id: vllm\n"
        "    kind: vllm\n"
        "    node: spark-1\n"
        f"    port: {sim_port}\n"
        "    limits: {max_in_flight: 1024, queue: 1024, queue_timeout_ms: 60000}\n")
    data = tmp / "sparkdeck-data"
    data.mkdir()
    key = "x"
    if auth:
        # With a key in the store, every /v1 request is checked (as LiteLLM checks its master key).
        created = subprocess.run([binary, "keys", "create", "--name", "bench", "--scopes", "chat", "--data", str(data)],
                                 capture_output=True, text=True, timeout=60)
        found = [line.split()[-1] for line in created.stdout.splitlines() if line.startswith("Key ")]
        if created.returncode != 0 or not found:
            raise BenchError(f"sparkdeck keys create failed: {created.stdout} {created.stderr}")
        key = found[0]
    log = tmp / "sparkdeck.log"
    proc = procs.start("sparkdeck", [binary, "serve", "--inventory", str(inventory), "--data", str(data),
                                     "--host", "127.0.0.1", "--port", str(port)], log, cwd=tmp, cpus=cpus)
    base = f"http://127.0.0.1:{port}"
    wait_until("SparkDeck listing bench/model on /v1/models", 60, lambda: MODEL in models_list(base, key), proc, log)
    return Peer("sparkdeck", base, [proc.pid], proc, key, log)


def litellm_install(venv: Path, allow_install: bool, tmp: Path) -> tuple[Path | None, str]:
    """Returns (litellm executable, "") or (None, why not)."""
    exe = venv / "bin" / "litellm"
    if exe.exists():
        return exe, ""
    if not allow_install:
        return None, f"{exe} does not exist and --no-install was given"
    log = tmp / "litellm-install.log"
    print(f"LiteLLM: installing litellm[proxy] into {venv} (log: {log}) ...", flush=True)
    try:
        with open(log, "wb") as out:
            if not (venv / "bin" / "python").exists():
                subprocess.run([sys.executable, "-m", "venv", str(venv)], stdout=out, stderr=subprocess.STDOUT,
                               check=True, timeout=300)
            result = subprocess.run([str(venv / "bin" / "pip"), "install", "litellm[proxy]"], stdout=out,
                                    stderr=subprocess.STDOUT, timeout=1200)
    except (subprocess.SubprocessError, OSError) as error:
        return None, f"installing failed: {error}"
    if result.returncode != 0 or not exe.exists():
        lines = [line for line in log.read_text(errors="replace").splitlines() if line.strip()]
        said = " | ".join(lines[-3:])
        return None, f"pip install 'litellm[proxy]' exited {result.returncode}: {said}"
    return exe, ""


def start_litellm(procs: Processes, exe: Path, tmp: Path, sim_port: int, auth: bool,
                  cpus: set[int] | None) -> Peer:
    port = free_port()
    config = tmp / "litellm-config.yaml"
    config.write_text(
        "model_list:\n"
        f"  - model_name: {MODEL}\n"
        "    litellm_params:\n"
        f"      model: openai/{MODEL}\n"
        f"      api_base: http://127.0.0.1:{sim_port}/v1\n"
        "      api_key: x\n")
    env = dict(os.environ)
    # Documented switches only: log level ERROR (LiteLLM's debugging docs; also quiets uvicorn's per-request
    # access log) and the bundled model cost map instead of fetching it from the internet at start-up (which this
    # machine cannot reach anyway). Telemetry is off by default (nothing is sent until a destination is set).
    env["LITELLM_LOG"] = "ERROR"
    env["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"
    # LiteLLM refuses to start without a master key (a production proxy has one); --no-auth uses its documented
    # local-development escape instead.
    key = "sk-bench-" + os.urandom(16).hex()
    if auth:
        env["LITELLM_MASTER_KEY"] = key
    else:
        env["LITELLM_DANGEROUSLY_PERMIT_WEAK_OR_UNSET_MASTER_KEY"] = "true"
        key = "x"
    log = tmp / "litellm.log"
    proc = procs.start("litellm", [str(exe), "--config", str(config), "--host", "127.0.0.1", "--port", str(port),
                                   "--num_workers", "1"], log, env=env, cwd=tmp, cpus=cpus)
    base = f"http://127.0.0.1:{port}"
    wait_until("LiteLLM listing bench/model on /v1/models", 180, lambda: MODEL in models_list(base, key), proc, log)
    return Peer("litellm", base, process_tree(proc.pid), proc, key)


def sanity_check(peer: Peer) -> None:
    """One non-streamed and one streamed request, checked for content, before any measuring."""
    status, payload = http_json(peer.base + "/v1/chat/completions", peer.key, timeout=30, body={
        "model": MODEL, "messages": [{"role": "user", "content": "hello"}], "max_tokens": 1})
    if status != 200 or not isinstance(payload, dict) or not payload.get("choices"):
        raise BenchError(f"{peer.name}: non-streamed request answered {status}: {str(payload)[:300]}")
    request = urllib.request.Request(peer.base + "/v1/chat/completions", data=json.dumps({
        "model": MODEL, "messages": [{"role": "user", "content": "hello"}], "max_tokens": 16, "stream": True}).encode(),
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {peer.key}"})
    with urllib.request.urlopen(request, timeout=30) as response:
        text = response.read().decode(errors="replace")
    tokens = 0
    for line in text.splitlines():
        if line.startswith("data: ") and line != "data: [DONE]":
            event = json.loads(line[6:])
            for choice in event.get("choices") or []:
                if (choice.get("delta") or {}).get("content"):
                    tokens += 1
    if "data: [DONE]" not in text or tokens != 16:
        raise BenchError(f"{peer.name}: streamed request gave {tokens} tokens, [DONE] {'data: [DONE]' in text}")


# --------------------------------------------------------------------------------------------- load

@dataclass
class CellResult:
    peer: str
    mode: str
    concurrency: int
    seconds: float
    completed: int = 0                 # successful completions inside the window
    latencies: list[float] = field(default_factory=list)   # ms, requests that ended after the warm-up
    ttfts: list[float] = field(default_factory=list)       # ms, streams only
    errors: int = 0
    error_kinds: dict[str, int] = field(default_factory=dict)
    warmup_errors: int = 0
    max_gap_ms: float = 0.0            # longest stretch of the window without any completion
    peak_rss_mb: float = float("nan")
    hwm_mb: float = float("nan")
    server_cpu: float = float("nan")   # % of one core
    sim_cpu: float = float("nan")      # % of one core
    other_cpu: float = float("nan")    # % of one core used by everything else on the machine
    health_flips: int = 0              # times SparkDeck took the vllm service out of service during the cell
    client_cpu: float = float("nan")   # % of one core
    done_times: list[float] = field(default_factory=list, repr=False)

    @property
    def rps(self) -> float:
        return self.completed / self.seconds


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def request_body(stream: bool, max_tokens: int) -> bytes:
    body: dict[str, Any] = {"model": MODEL, "messages": [{"role": "user", "content": "Say something short."}],
                            "max_tokens": max_tokens}
    if stream:
        body["stream"] = True
    return json.dumps(body).encode()


async def one_request(session: aiohttp.ClientSession, url: str, body: bytes, stream: bool, max_tokens: int,
                      started: float) -> tuple[str | None, float | None]:
    """Returns (error kind or None, TTFT in s or None)."""
    async with session.post(url, data=body, headers={"Content-Type": "application/json"}) as response:
        if response.status != 200:
            raw = await response.read()
            try:
                code = (json.loads(raw).get("error") or {}).get("code")
            except (ValueError, AttributeError):
                code = None
            return f"http {response.status}" + (f" {code}" if code else ""), None
        if not stream:
            payload = json.loads(await response.read())
            choices = payload.get("choices") or []
            if not choices or "message" not in choices[0]:
                return "bad body", None
            return None, None
        ttft = None
        tokens = 0
        done = False
        async for line in response.content:
            if not line.startswith(b"data:"):
                continue
            data = line[5:].strip()
            if data == b"[DONE]":
                done = True
                continue
            event = json.loads(data)
            if "error" in event:
                return "stream error event", ttft
            for choice in event.get("choices") or ():
                if (choice.get("delta") or {}).get("content"):
                    tokens += 1
                    if ttft is None:
                        ttft = time.perf_counter() - started
        if not done:
            return "stream without [DONE]", ttft
        if tokens != max_tokens:
            return f"stream with {tokens} tokens", ttft
        return None, ttft


async def drive(url: str, key: str, stream: bool, concurrency: int, warmup: float, seconds: float, max_tokens: int,
                timeout: float, result: CellResult, on_done=None, rate: float = 0.0) -> None:
    """N workers loop requests for warm-up + seconds; fills `result` with what happened inside the window.
    With `rate` > 0 the workers share a fixed schedule of `rate` requests/s (round robin; a worker that is late sends
    at once) instead of sending back to back."""
    body = request_body(stream, max_tokens)
    connector = aiohttp.TCPConnector(limit=concurrency, limit_per_host=concurrency, use_dns_cache=True)
    client_timeout = aiohttp.ClientTimeout(total=timeout)
    async with aiohttp.ClientSession(connector=connector, timeout=client_timeout,
                                     headers={"Authorization": f"Bearer {key}"}) as session:
        start = time.perf_counter()
        window_start = start + warmup
        end = window_start + seconds

        async def worker(index: int) -> None:
            sent = 0
            while True:
                if rate > 0:
                    slot = start + (sent * concurrency + index) / rate
                    sent += 1
                    delay = slot - time.perf_counter()
                    if delay > 0:
                        await asyncio.sleep(delay)
                started = time.perf_counter()
                if started >= end:
                    return
                try:
                    kind, ttft = await one_request(session, url, body, stream, max_tokens, started)
                except asyncio.CancelledError:
                    raise
                except Exception as error:  # noqa: BLE001 - every failure is counted, by kind
                    kind, ttft = type(error).__name__, None
                done = time.perf_counter()
                if kind is None and window_start <= done <= end:
                    result.completed += 1
                    result.done_times.append(done)
                # Every request that ends after the warm-up is a sample, also one that started during it: a
                # request stuck across the whole window must show in the tail, not vanish from it.
                if done >= window_start:
                    if kind is None:
                        result.latencies.append((done - started) * 1000)
                        if ttft is not None:
                            result.ttfts.append(ttft * 1000)
                    else:
                        result.errors += 1
                        result.error_kinds[kind] = result.error_kinds.get(kind, 0) + 1
                elif kind is not None:
                    result.warmup_errors += 1
                if on_done is not None:
                    on_done(done, kind, (done - started) * 1000, ttft)
                if kind is not None:
                    await asyncio.sleep(0.01)   # no hot loop against a peer that refuses

        tasks = [asyncio.create_task(worker(i)) for i in range(concurrency)]
        try:
            await asyncio.wait_for(asyncio.gather(*tasks), timeout=warmup + seconds + timeout + 10)
        except asyncio.TimeoutError:
            result.error_kinds["worker did not finish"] = sum(not t.done() for t in tasks)
        finally:
            for task in tasks:
                task.cancel()
        times = [window_start] + sorted(result.done_times) + [end]
        result.max_gap_ms = max(b - a for a, b in zip(times, times[1:])) * 1000
        result.done_times = []


def wait_quiet(args) -> None:
    """Waits (at most --quiet-wait s) until the rest of the machine uses less than --quiet-cpu % of a core."""
    if args.quiet_wait <= 0:
        return
    deadline = time.monotonic() + args.quiet_wait
    waited = False
    while True:
        busy0 = machine_busy_seconds()
        time.sleep(1.0)
        busy = (machine_busy_seconds() - busy0) * 100
        if busy < args.quiet_cpu:
            if waited:
                print(f"    (the machine is quiet again: {busy:.0f} % of a core busy)", flush=True)
            return
        if time.monotonic() >= deadline:
            print(f"    (still {busy:.0f} % of a core busy with other work after {args.quiet_wait:g} s; measuring anyway)",
                  flush=True)
            return
        if not waited:
            print(f"    (other work uses {busy:.0f} % of a core; waiting up to {args.quiet_wait:g} s for quiet)", flush=True)
            waited = True


def run_cell(peer: Peer, sim: Peer, sparkdeck: Peer | None, mode: str, concurrency: int, args,
             rate: float = 0.0) -> CellResult:
    wait_quiet(args)
    flips_before = len(health_flips(sparkdeck)) if sparkdeck is not None else 0
    stream = mode == "stream"
    max_tokens = args.stream_max_tokens if stream else 1
    result = CellResult(peer.name, mode, concurrency, args.seconds)
    watched = {peer.name: peer.pids}
    if sparkdeck is not None and peer.name != "sparkdeck":
        watched["sparkdeck"] = sparkdeck.pids
    sampler = RSSSampler(watched, 0.1)
    server_cpu0 = cpu_seconds(peer.pids)
    sim_cpu0 = cpu_seconds(sim.pids)
    busy0 = machine_busy_seconds()
    client0 = os.times()
    wall0 = time.perf_counter()
    sampler.start()
    try:
        asyncio.run(drive(peer.base + "/v1/chat/completions", peer.key, stream, concurrency, args.warmup, args.seconds,
                          max_tokens, args.timeout, result, rate=rate), **loop_kwargs(args))
    finally:
        sampler.stop()
    wall = time.perf_counter() - wall0
    client1 = os.times()
    result.server_cpu = (cpu_seconds(peer.pids) - server_cpu0) / wall * 100
    result.sim_cpu = (cpu_seconds(sim.pids) - sim_cpu0) / wall * 100
    result.client_cpu = ((client1.user - client0.user) + (client1.system - client0.system)) / wall * 100
    busy = (machine_busy_seconds() - busy0) / wall * 100
    ours = result.server_cpu + result.client_cpu + (result.sim_cpu if peer is not sim else 0.0)
    result.other_cpu = max(0.0, busy - ours)
    result.peak_rss_mb = sampler.peak_mb(peer.name)
    if peer.name == "sparkdeck":
        result.hwm_mb = status_kb(peer.pids[0], "VmHWM") / 1024
    if sparkdeck is not None:
        result.health_flips = len(health_flips(sparkdeck)) - flips_before
    return result


def loop_kwargs(args) -> dict:
    if uvloop is not None and args.loop == "uvloop" and sys.version_info >= (3, 12):
        return {"loop_factory": uvloop.new_event_loop}
    return {}


def install_loop(args) -> str:
    if args.loop == "uvloop" and uvloop is not None:
        if sys.version_info < (3, 12):
            asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
        return "uvloop " + uvloop.__version__
    return "asyncio"


# --------------------------------------------------------------------------------------------- report

def fmt(value: float, digits: int = 2) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return f"{value:.{digits}f}"


def table(headers: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)]
    lines = ["  ".join(h.rjust(w) if i else h.ljust(w) for i, (h, w) in enumerate(zip(headers, widths)))]
    lines.append("  ".join("-" * w for w in widths))
    for row in rows:
        lines.append("  ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(row, widths))))
    return "\n".join(lines)


def verdict(ok: bool | None) -> str:
    return "n/a" if ok is None else ("PASS" if ok else "FAIL")


def print_cell(mode: str, concurrency: int, results: dict[str, CellResult], args, rate: float = 0.0,
               note: str = "") -> None:
    direct = results.get("direct")
    print()
    title = (f"non-streaming, max_tokens 1" if mode == "nonstream"
             else f"streaming, max_tokens {args.stream_max_tokens}")
    if rate:
        title += f", paced at {rate:g} req/s in total"
    if note:
        title += f", {note}"
    print(f"== {title}, concurrency {concurrency} "
          f"({fmt(args.seconds, 0)} s measured after {fmt(args.warmup, 0)} s warm-up) ==")
    rows = []
    for name, r in results.items():
        lat50, lat99 = percentile(r.latencies, 50), percentile(r.latencies, 99)
        add50 = add99 = float("nan")
        if direct is not None and name != "direct":
            add50 = lat50 - percentile(direct.latencies, 50)
            add99 = lat99 - percentile(direct.latencies, 99)
        row = [name, fmt(r.rps, 0)]
        if mode == "stream":
            t50, t99 = percentile(r.ttfts, 50), percentile(r.ttfts, 99)
            addt50 = addt99 = float("nan")
            if direct is not None and name != "direct":
                addt50 = t50 - percentile(direct.ttfts, 50)
                addt99 = t99 - percentile(direct.ttfts, 99)
            row += [fmt(t50), fmt(t99), fmt(addt50), fmt(addt99)]
        row += [fmt(lat50), fmt(lat99), fmt(add50), fmt(add99), str(r.errors),
                fmt(r.max_gap_ms, 0), fmt(r.peak_rss_mb, 1), fmt(r.server_cpu, 0),
                fmt(r.sim_cpu, 0) if name != "direct" else "=", fmt(r.client_cpu, 0), fmt(r.other_cpu, 0)]
        rows.append(row)
    headers = ["peer", "req/s"]
    if mode == "stream":
        headers += ["ttft p50", "ttft p99", "+ttft p50", "+ttft p99"]
        headers += ["total p50", "total p99", "+total p50", "+total p99"]
    else:
        headers += ["p50 ms", "p99 ms", "+p50 ms", "+p99 ms"]
    headers += ["errors", "max gap ms", "peak RSS MB", "srv cpu%", "sim cpu%", "gen cpu%", "other cpu%"]
    print(table(headers, rows))
    for name, r in results.items():
        notes = []
        if r.error_kinds:
            notes.append("errors: " + ", ".join(f"{k} x{v}" for k, v in sorted(r.error_kinds.items())))
        if r.warmup_errors:
            notes.append(f"{r.warmup_errors} errors during the warm-up (not counted)")
        if name == "sparkdeck":
            notes.append(f"VmHWM {fmt(r.hwm_mb, 1)} MB (peak since start)")
        if r.health_flips:
            notes.append(f"SparkDeck's health monitor took the vllm service out of service {r.health_flips} times "
                         f"during this measurement")
        if notes:
            print(f"  {name}: " + "; ".join(notes))


def run_peers(peers: dict[str, Peer], mode: str, concurrency: int, args, label: str, rate: float = 0.0) -> dict:
    """One cell for every peer in turn."""
    results: dict[str, CellResult] = {}
    for name in ("direct", "sparkdeck", "before", "litellm"):
        if name not in peers:
            continue
        print(f"  running {label} {name} ...", flush=True)
        results[name] = run_cell(peers[name], peers["direct"], peers.get("sparkdeck"), mode, concurrency, args,
                                 rate=rate)
        time.sleep(0.5)   # let connections close and the servers settle between peers
    return results


def run_matrix(peers: dict[str, Peer], args) -> dict:
    all_results: dict[tuple[str, int], dict[str, CellResult]] = {}
    for mode in args.modes:
        for concurrency in args.concurrency:
            results = run_peers(peers, mode, concurrency, args, f"{mode} c={concurrency}")
            all_results[(mode, concurrency)] = results
            print_cell(mode, concurrency, results, args)
            sys.stdout.flush()
    for rate in (args.paced_rates if "nonstream" in args.modes else []):
        # In the shared layout the closed loop above saturates the machine, so its added latency at 64 clients is
        # mostly queueing for CPU (Little's law); at a fixed rate below saturation it is the proxy's own cost.
        results = run_peers(peers, "nonstream", 64, args, f"nonstream c=64 paced at {rate:g} req/s", rate=rate)
        all_results[(f"nonstream-paced@{rate:g}", 64)] = results
        print_cell("nonstream", 64, results, args, rate=rate)
    return all_results


def run_proxy_bound(peers: dict[str, Peer], procs: Processes, binary: str, tmp: Path, args) -> dict:
    """The 1-client cells again with the sim unpaced, so the proxies' own cost per request sets the throughput."""
    print(f"\n  restarting the sim with --tokens-per-second {UNPACED_TOKENS_PER_SECOND:g} (no pacing) ...", flush=True)
    peers["direct"] = restart_sim(procs, binary, tmp, peers["direct"], UNPACED_TOKENS_PER_SECOND, args.load_cpus)
    for name in ("direct", "sparkdeck", "before", "litellm"):
        if name in peers:
            # The proxies find the new sim on their own (SparkDeck's health monitor within a probe or two).
            wait_until(f"{name} in front of the restarted sim", 30, lambda: sanity_check(peers[name]) or True)
    all_results: dict[tuple[str, int], dict[str, CellResult]] = {}
    for mode in args.modes:
        results = run_peers(peers, mode, 1, args, f"{mode} c=1 (sim unpaced)")
        all_results[(f"{mode}-proxy-bound", 1)] = results
        print_cell(mode, 1, results, args, note="sim unpaced (proxy-bound)")
    return all_results


def sim_bound(mode: str, concurrency: int, all_results: dict) -> bool:
    """A paced 1-client cell whose proxy-bound twin was measured: the twin is the one the target is judged on."""
    return concurrency == 1 and (f"{mode}-proxy-bound", 1) in all_results


def print_summary(all_results: dict, peers: dict[str, Peer], litellm_reason: str, args) -> dict:
    others = [(r.other_cpu, f"{mode} c={c} {name}") for (mode, c), results in all_results.items()
              for name, r in results.items() if not math.isnan(r.other_cpu)]
    if others:
        worst, where = max(others)
        print()
        print(f"other processes on the machine used at most {fmt(worst, 0)} % of a core during a cell ({where})"
              + ("; the numbers are disturbed by them" if worst > 10 else ""))
    print()
    print("== SparkDeck throughput / LiteLLM throughput (same cell, same run) ==")
    ratios: dict[str, float] = {}
    if "litellm" in peers:
        rows = []
        for (mode, concurrency), results in all_results.items():
            sd, ll, dr = results.get("sparkdeck"), results.get("litellm"), results.get("direct")
            if not sd or not ll or mode.startswith("nonstream-paced"):
                continue
            ratio = sd.rps / ll.rps if ll.rps > 0 else float("inf")
            # A proxy cannot be faster than no proxy: direct / LiteLLM is the most any proxy could show in this cell.
            ceiling = dr.rps / ll.rps if dr and ll.rps > 0 else float("nan")
            cell = f"{mode} c={concurrency}"
            judged = not sim_bound(mode, concurrency, all_results)
            if judged:
                ratios[cell] = ratio
            rows.append([cell, fmt(sd.rps, 0), fmt(ll.rps, 0), fmt(ratio, 2) + "x", fmt(ceiling, 2) + "x",
                         fmt(100 * sd.rps / dr.rps, 0) + " %" if dr and dr.rps > 0 else "-",
                         verdict(ratio >= TARGET_RATIO) if judged else "sim-bound"])
        print(table(["cell", "sparkdeck req/s", "litellm req/s", "ratio", "ceiling (direct/litellm)",
                     "sparkdeck/direct", f">= {TARGET_RATIO:g}x"], rows))
        if any(sim_bound(mode, c, all_results) for mode, c in all_results):
            print("sim-bound: at 1 client throughput is 1 / latency, and the paced sim's own time per answer is most "
                  "of every peer's latency (the ceiling column: no proxy can beat no proxy). The target is judged on "
                  "the same cell with the sim unpaced (proxy-bound), where each proxy's own cost sets the throughput.")
    else:
        print(f"LiteLLM: not available ({litellm_reason})" if litellm_reason else "LiteLLM: not run (--peers)")

    if "before" in peers:
        print()
        print("== This build against --baseline (same cells, same run) ==")
        rows = []
        for (mode, concurrency), results in all_results.items():
            now, before, direct = results.get("sparkdeck"), results.get("before"), results.get("direct")
            if not now or not before or not direct:
                continue
            def added(result, q):
                return percentile(result.latencies, q) - percentile(direct.latencies, q)
            rows.append([f"{mode} c={concurrency}", fmt(before.rps, 0), fmt(now.rps, 0),
                         fmt(now.rps / before.rps if before.rps > 0 else float("nan"), 3),
                         fmt(added(before, 50)) + " / " + fmt(added(before, 99)),
                         fmt(added(now, 50)) + " / " + fmt(added(now, 99))])
        print(table(["cell", "before req/s", "this build req/s", "this/before", "before added p50/p99 ms",
                     "this build added p50/p99 ms"], rows))

    print()
    print("== Targets (from the issue) ==")
    rows = []
    target = all_results.get(("nonstream", 64), {})
    if "direct" in target and "sparkdeck" in target:
        add50 = percentile(target["sparkdeck"].latencies, 50) - percentile(target["direct"].latencies, 50)
        add99 = percentile(target["sparkdeck"].latencies, 99) - percentile(target["direct"].latencies, 99)
        rows.append([f"SparkDeck added p50, 64 clients, non-streaming ({args.layout} layout)", fmt(add50) + " ms",
                     f"< {TARGET_ADDED_P50_MS:g} ms", verdict(add50 < TARGET_ADDED_P50_MS)])
        rows.append([f"SparkDeck added p99, 64 clients, non-streaming ({args.layout} layout)", fmt(add99) + " ms",
                     f"< {TARGET_ADDED_P99_MS:g} ms", verdict(add99 < TARGET_ADDED_P99_MS)])
    else:
        rows.append(["SparkDeck added p50/p99, 64 clients, non-streaming", "not measured", "", "n/a"])
    for rate in args.paced_rates:
        paced = all_results.get((f"nonstream-paced@{rate:g}", 64), {})
        if "direct" not in paced or "sparkdeck" not in paced:
            continue
        add50 = percentile(paced["sparkdeck"].latencies, 50) - percentile(paced["direct"].latencies, 50)
        add99 = percentile(paced["sparkdeck"].latencies, 99) - percentile(paced["direct"].latencies, 99)
        rows.append([f"  (same, paced at {rate:g} req/s: added p50)", fmt(add50) + " ms",
                     f"< {TARGET_ADDED_P50_MS:g} ms", verdict(add50 < TARGET_ADDED_P50_MS)])
        rows.append([f"  (same, paced at {rate:g} req/s: added p99)", fmt(add99) + " ms",
                     f"< {TARGET_ADDED_P99_MS:g} ms", verdict(add99 < TARGET_ADDED_P99_MS)])
    if ratios:
        worst = min(ratios, key=ratios.get)
        rows.append(["throughput vs LiteLLM, every judged cell", f"min {fmt(ratios[worst])}x ({worst})",
                     f">= {TARGET_RATIO:g}x", verdict(ratios[worst] >= TARGET_RATIO)])
        for cell, ratio in ratios.items():
            rows.append([f"  throughput vs LiteLLM, {cell}", f"{fmt(ratio)}x", f">= {TARGET_RATIO:g}x",
                         verdict(ratio >= TARGET_RATIO)])
    else:
        rows.append(["throughput vs LiteLLM", "LiteLLM not available" if litellm_reason else "LiteLLM not run",
                     f">= {TARGET_RATIO:g}x", "n/a"])
    stream256 = all_results.get(("stream", 256), {}).get("sparkdeck")
    if stream256 is not None:
        rows.append(["SparkDeck peak VmRSS, 256 streams", fmt(stream256.peak_rss_mb, 1) + " MB",
                     f"< {TARGET_RSS_MB:g} MB", verdict(stream256.peak_rss_mb < TARGET_RSS_MB)])
    rows.append(["SparkDeck RSS flat over 5 minutes", "see --soak 300", "", "n/a"])
    print(table(["target", "measured", "goal", "result"], rows))
    return ratios


# --------------------------------------------------------------------------------------------- soak

def health_flips(sparkdeck: Peer) -> list[str]:
    """SparkDeck's log lines where its health monitor took the vLLM service out of service."""
    if sparkdeck.log is None or not sparkdeck.log.exists():
        return []
    return [line for line in sparkdeck.log.read_text(errors="replace").splitlines()
            if "service vllm:" in line and ("-> down" in line or "-> loading" in line)]


def run_soak(sparkdeck: Peer, sim: Peer, args) -> dict:
    seconds = args.soak
    interval = 5.0
    print(f"\n== Soak: 256 streaming clients (max_tokens {args.stream_max_tokens}) through SparkDeck for "
          f"{seconds:g} s, RSS every {interval:g} s ==", flush=True)
    pid = sparkdeck.pids[0]
    wait_quiet(args)
    baseline = status_kb(pid, "VmRSS") / 1024
    minute = 60.0 if seconds >= 120 else max(5.0, seconds / 5)
    buckets: dict[int, dict[str, Any]] = {}
    last_bucket = max(0, math.ceil(seconds / minute) - 1)
    t0 = time.perf_counter()

    def on_done(done: float, kind: str | None, latency_ms: float, ttft: float | None) -> None:
        index = min(last_bucket, int((done - t0) // minute))
        bucket = buckets.setdefault(index, {"ok": 0, "errors": 0, "lat": [], "ttft": []})
        if kind is None:
            bucket["ok"] += 1
            bucket["lat"].append(latency_ms)
            if ttft is not None:
                bucket["ttft"].append(ttft * 1000)
        else:
            bucket["errors"] += 1

    samples: list[tuple[float, float]] = []
    # (t, machine busy s, our processes' CPU s): for the share of the machine other work took, per window.
    cpu_marks: list[tuple[float, float, float]] = []
    stop = threading.Event()

    def our_cpu() -> float:
        own = os.times()
        return cpu_seconds(sparkdeck.pids) + cpu_seconds(sim.pids) + own.user + own.system

    def sample() -> None:
        next_at = time.perf_counter() + interval
        while not stop.wait(max(0.0, next_at - time.perf_counter())):
            now = time.perf_counter() - t0
            samples.append((now, rss_kb(pid) / 1024))
            cpu_marks.append((now, machine_busy_seconds(), our_cpu()))
            next_at += interval

    sampler = threading.Thread(target=sample, daemon=True)
    result = CellResult("sparkdeck", "stream", 256, seconds)
    cpu0 = cpu_seconds(sparkdeck.pids)
    cpu_marks.append((0.0, machine_busy_seconds(), our_cpu()))
    sampler.start()
    try:
        asyncio.run(drive(sparkdeck.base + "/v1/chat/completions", sparkdeck.key, True, 256, 0.0, seconds,
                          args.stream_max_tokens, args.timeout, result, on_done), **loop_kwargs(args))
    finally:
        stop.set()
        sampler.join(timeout=5)
    wall = time.perf_counter() - t0
    server_cpu = (cpu_seconds(sparkdeck.pids) - cpu0) / wall * 100
    hwm = status_kb(pid, "VmHWM") / 1024
    after = status_kb(pid, "VmRSS") / 1024

    rows = []
    for index in sorted(buckets):
        bucket = buckets[index]
        span = min(minute, max(1e-9, seconds - index * minute))
        in_bucket = [mb for t, mb in samples if index * minute < t <= (index + 1) * minute]
        marks = [m for m in cpu_marks if index * minute - 1 <= m[0] <= (index + 1) * minute + 1]
        other = float("nan")
        if len(marks) >= 2:
            (ta, ba, oa), (tb, bb, ob) = marks[0], marks[-1]
            other = max(0.0, ((bb - ba) - (ob - oa)) / max(1e-9, tb - ta) * 100)
        rows.append([f"{index * minute:.0f}-{min(seconds, (index + 1) * minute):.0f} s",
                     fmt(bucket["ok"] / span, 0), fmt(percentile(bucket["ttft"], 50)),
                     fmt(percentile(bucket["ttft"], 99)), fmt(percentile(bucket["lat"], 50)),
                     fmt(percentile(bucket["lat"], 99)), str(bucket["errors"]),
                     fmt(max(in_bucket), 1) if in_bucket else "-", fmt(other, 0)])
    print(table(["window", "req/s", "ttft p50", "ttft p99", "total p50", "total p99", "errors", "max RSS MB",
                 "other cpu%"], rows))
    print("RSS samples (MB, every 5 s): " + " ".join(fmt(mb, 1) for _, mb in samples))
    values = [mb for _, mb in samples]
    first, last, peak = (values[0], values[-1], max(values)) if values else (float("nan"),) * 3
    head = [mb for t, mb in samples if t <= minute] or values[:1]
    tail = [mb for t, mb in samples if t > seconds - minute] or values[-1:]
    growth = percentile(tail, 50) - percentile(head, 50) if values else float("nan")
    allowed = max(FLAT_MB, FLAT_FRACTION * percentile(head, 50)) if values else float("nan")
    # The same over the second half only: growth that stops (allocator warm-up) versus growth that goes on.
    half = [(t, mb) for t, mb in samples if t > seconds / 2]
    half_head = [mb for t, mb in half if t <= seconds / 2 + minute] or [mb for _, mb in half[:1]]
    growth_half = percentile(tail, 50) - percentile(half_head, 50) if half_head else float("nan")
    print(f"RSS before the load {fmt(baseline, 1)} MB; first sample {fmt(first, 1)} MB, last {fmt(last, 1)} MB, "
          f"max {fmt(peak, 1)} MB; VmHWM {fmt(hwm, 1)} MB; {fmt(after, 1)} MB after the load")
    print(f"requests {result.completed} ({fmt(result.rps, 0)} req/s), errors {result.errors}"
          + (" (" + ", ".join(f"{k} x{v}" for k, v in sorted(result.error_kinds.items())) + ")" if result.error_kinds else "")
          + f", longest stretch without a completion {fmt(result.max_gap_ms, 0)} ms, SparkDeck cpu {fmt(server_cpu, 0)}%")
    flips = health_flips(sparkdeck)
    if flips:
        print(f"SparkDeck's health monitor took the vllm service out of service {len(flips)} times (new requests get "
              f"503 until a good probe and a fresh /v1/models read bring it back); first: {flips[0].strip()[:200]}")
    print()
    print(table(["target", "measured", "goal", "result"], [
        ["SparkDeck max VmRSS, 256 streams", fmt(peak, 1) + " MB", f"< {TARGET_RSS_MB:g} MB",
         verdict(peak < TARGET_RSS_MB) if values else "n/a"],
        [f"RSS flat: median of the last {minute:g} s - of the first {minute:g} s", fmt(growth, 1) + " MB",
         f"<= {fmt(allowed, 1)} MB", verdict(growth <= allowed) if values else "n/a"],
        [f"  (the same over the second half: last {minute:g} s - first {minute:g} s after {seconds / 2:g} s)",
         fmt(growth_half, 1) + " MB", f"<= {fmt(allowed, 1)} MB",
         verdict(growth_half <= allowed) if not math.isnan(growth_half) else "n/a"],
        ["soak length", f"{seconds:g} s", ">= 300 s", verdict(seconds >= 300)],
    ]))
    return {"seconds": seconds, "rss_samples_mb": samples, "first_mb": first, "last_mb": last, "max_mb": peak,
            "hwm_mb": hwm, "growth_mb": growth, "growth_second_half_mb": growth_half, "requests": result.completed, "errors": result.errors,
            "error_kinds": result.error_kinds, "max_gap_ms": result.max_gap_ms, "health_flips": flips}


# --------------------------------------------------------------------------------------------- main

def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bin", default=os.environ.get("SPARKDECK_BIN", "/tmp/sparkdeck-release"),
                        help="the sparkdeck binary, a release build (default $SPARKDECK_BIN or /tmp/sparkdeck-release)")
    parser.add_argument("--seconds", type=float, default=10.0, help="measured seconds per cell and peer (default 10)")
    parser.add_argument("--warmup", type=float, default=2.0, help="warm-up seconds before each measurement (default 2)")
    parser.add_argument("--concurrency", default="1,64,256", help="comma-separated client counts (default 1,64,256)")
    parser.add_argument("--modes", default="nonstream,stream", help="nonstream, stream or both (default both)")
    parser.add_argument("--tokens-per-second", type=float, default=1000.0,
                        help="the sim's token rate (default 1000: a 1-token answer takes ~1 ms)")
    parser.add_argument("--stream-max-tokens", type=int, default=16, help="max_tokens of streamed requests (16)")
    parser.add_argument("--timeout", type=float, default=30.0, help="per-request timeout in seconds (default 30)")
    parser.add_argument("--peers", default="direct,sparkdeck,litellm", help="which peers to run")
    parser.add_argument("--baseline", metavar="BIN", default="",
                        help="also run the SparkDeck gateway of another build (peer 'before') in every cell and print "
                             "this build against it")
    parser.add_argument("--litellm-venv", default="/tmp/litellm-venv", help="venv with litellm[proxy]")
    parser.add_argument("--no-install", action="store_true", help="do not pip install LiteLLM when it is missing")
    parser.add_argument("--no-auth", action="store_true",
                        help="run SparkDeck without API keys and LiteLLM without a master key (default: both check one)")
    parser.add_argument("--loop", choices=["uvloop", "asyncio"], default="uvloop",
                        help="the load generator's event loop (uvloop when installed, default)")
    parser.add_argument("--paced-rate", default="500", metavar="REQ_PER_S[,...]",
                        help="also run non-streaming c=64 at these fixed total rates (default 500; 0: skip)")
    parser.add_argument("--quiet-wait", type=float, default=120.0, metavar="SECONDS",
                        help="before each measurement wait up to this long for other work on the machine to stop "
                             "(default 120; 0: never wait)")
    parser.add_argument("--quiet-cpu", type=float, default=20.0, metavar="PERCENT",
                        help="'quiet' = everything on the machine uses less than this %% of one core (default 20)")
    parser.add_argument("--soak", type=float, default=0.0, metavar="SECONDS",
                        help="run only the soak: 256 streaming clients through SparkDeck for SECONDS")
    parser.add_argument("--no-proxy-bound", action="store_true",
                        help="skip the 1-client cells with the sim unpaced (run by default when 1 is a concurrency)")
    parser.add_argument("--json", metavar="FILE", help="write every number to FILE")
    parser.add_argument("--keep-logs", action="store_true", help="keep the temporary folder with the servers' logs")
    parser.add_argument("--layout", choices=["split", "shared"], default=None,
                        help="split: generator + sim on the first half of the CPUs, the proxy on the other half "
                             "(default with 2+ CPUs); shared: everything on every CPU")
    args = parser.parse_args()
    available = sorted(os.sched_getaffinity(0))
    if args.layout is None:
        args.layout = "split" if len(available) >= 2 else "shared"
    if args.layout == "split":
        if len(available) < 2:
            parser.error("--layout split needs at least 2 CPUs")
        half = len(available) // 2
        args.load_cpus, args.proxy_cpus = set(available[:half]), set(available[half:])
    else:
        args.load_cpus = args.proxy_cpus = None
    args.concurrency = [int(c) for c in args.concurrency.split(",") if c.strip()]
    args.modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    for mode in args.modes:
        if mode not in ("nonstream", "stream"):
            parser.error(f"unknown mode {mode}")
    args.peers = {p.strip() for p in args.peers.split(",") if p.strip()}
    try:
        args.paced_rates = [float(r) for r in args.paced_rate.split(",") if r.strip() and float(r) > 0]
    except ValueError:
        parser.error(f"--paced-rate takes numbers separated by commas, got {args.paced_rate!r}")
    if args.soak:
        args.peers = {"direct", "sparkdeck"}
    if "direct" not in args.peers:
        parser.error("the direct peer is needed (the others are compared with it)")
    return args


def raise_fd_limit() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def main() -> int:
    args = parse_args()
    binary = shutil.which(args.bin) or args.bin
    if not os.access(binary, os.X_OK):
        print(f"no sparkdeck binary at {binary} (give --bin)", file=sys.stderr)
        return 2
    raise_fd_limit()
    loop_name = install_loop(args)

    def on_term(signum, frame):  # noqa: ARG001
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_term)
    procs = Processes()
    tmp = Path(tempfile.mkdtemp(prefix="sparkdeck-gateway-bench-"))
    peers: dict[str, Peer] = {}
    litellm_reason = ""
    try:
        print(f"SparkDeck gateway benchmark: {binary}")
        if args.layout == "split":
            os.sched_setaffinity(0, args.load_cpus)
            where = (f"layout split: the load generator ({loop_name}, aiohttp {aiohttp.__version__}, one process) "
                     f"and the sim on CPUs {sorted(args.load_cpus)}, the proxy under test on CPUs "
                     f"{sorted(args.proxy_cpus)} (as on separate machines; direct leaves the proxy CPUs idle)")
        else:
            where = (f"layout shared: the load generator ({loop_name}, aiohttp {aiohttp.__version__}, one process), "
                     f"the sim and the proxy share every CPU, so the closed-loop cells saturate the machine")
        print(f"os.cpu_count() = {os.cpu_count()}; load average before the run "
              f"{open('/proc/loadavg').read().split()[0]}; {where}. CPU columns are % of one core (the machine has "
              f"{os.cpu_count() * 100} %): 'gen cpu%' near 100 means the generator is the bottleneck; 'other cpu%' is "
              f"everything else on the machine (idle peers included), and more than ~10 means the run was disturbed.")
        print("auth: " + ("none (--no-auth)" if args.no_auth else
                          "SparkDeck checks an API key (sparkdeck keys create), LiteLLM its master key"))
        print(f"sim: --tokens-per-second {args.tokens_per_second:g}; non-streaming max_tokens 1, "
              f"streaming max_tokens {args.stream_max_tokens}; logs in {tmp}")
        sim = start_sim(procs, binary, tmp, args.tokens_per_second, args.load_cpus)
        sim_port = int(sim.base.rsplit(":", 1)[1])
        peers["direct"] = sim
        if "sparkdeck" in args.peers:
            peers["sparkdeck"] = start_sparkdeck(procs, binary, tmp, sim_port, not args.no_auth, args.proxy_cpus)
        if args.baseline:
            # The same gateway from another build (e.g. the last release), in front of the same sim, so a change's
            # cost is measured in the same run, cell by cell.
            (tmp / "before").mkdir()
            before = start_sparkdeck(procs, args.baseline, tmp / "before", sim_port, not args.no_auth, args.proxy_cpus)
            peers["before"] = Peer("before", before.base, before.pids, before.proc, before.key, before.log)
        if "litellm" in args.peers:
            exe, litellm_reason = litellm_install(Path(args.litellm_venv), not args.no_install, tmp)
            if exe is not None:
                try:
                    version = subprocess.run([str(Path(args.litellm_venv) / "bin" / "python"), "-c",
                                              "import importlib.metadata as m; print(m.version('litellm'))"],
                                             capture_output=True, text=True, timeout=60).stdout.strip()
                    peer = start_litellm(procs, exe, tmp, sim_port, not args.no_auth, args.proxy_cpus)
                    sanity_check(peer)
                    peers["litellm"] = peer
                    print(f"LiteLLM {version}: --num_workers 1, LITELLM_LOG=ERROR, LITELLM_LOCAL_MODEL_COST_MAP=True, "
                          + ("no master key" if args.no_auth else "a master key (LITELLM_MASTER_KEY)"))
                except BenchError as error:
                    litellm_reason = str(error).splitlines()[0]
            if "litellm" not in peers:
                print(f"LiteLLM: not available ({litellm_reason})")
        for name in ("direct", "sparkdeck", "before"):
            if name in peers:
                sanity_check(peers[name])
        print("peers: " + ", ".join(f"{p.name} {p.base} (pid {p.pids[0]})" for p in peers.values()), flush=True)

        report: dict[str, Any] = {"cpu_count": os.cpu_count(), "layout": args.layout, "binary": binary, "args": {
            k: (sorted(v) if isinstance(v, set) else v) for k, v in vars(args).items()}}
        if args.soak:
            if "sparkdeck" not in peers:
                raise BenchError("the soak needs SparkDeck")
            report["soak"] = run_soak(peers["sparkdeck"], peers["direct"], args)
        else:
            all_results = run_matrix(peers, args)
            if 1 in args.concurrency and not args.no_proxy_bound:
                all_results.update(run_proxy_bound(peers, procs, binary, tmp, args))
            ratios = print_summary(all_results, peers, litellm_reason, args)
            report["cells"] = [
                {"mode": mode, "concurrency": c, "peer": name, "rps": r.rps, "completed": r.completed,
                 "p50_ms": percentile(r.latencies, 50), "p99_ms": percentile(r.latencies, 99),
                 "ttft_p50_ms": percentile(r.ttfts, 50), "ttft_p99_ms": percentile(r.ttfts, 99),
                 "errors": r.errors, "error_kinds": r.error_kinds, "max_gap_ms": r.max_gap_ms,
                 "peak_rss_mb": r.peak_rss_mb, "server_cpu_pct": r.server_cpu, "sim_cpu_pct": r.sim_cpu, "client_cpu_pct": r.client_cpu,
                 "other_cpu_pct": r.other_cpu}
                for (mode, c), results in all_results.items() for name, r in results.items()]
            report["ratios"] = ratios
            report["litellm"] = "available" if "litellm" in peers else f"not available ({litellm_reason})"
        if args.json:
            Path(args.json).write_text(json.dumps(report, indent=2, default=str))
            print(f"\nnumbers written to {args.json}")
        for name, peer in peers.items():
            if peer.proc is not None and peer.proc.poll() is not None:
                print(f"WARNING: {name} exited during the run with {peer.proc.returncode}")
        return 0
    except KeyboardInterrupt:
        print("\ninterrupted; stopping everything this bench started", file=sys.stderr)
        return 130
    except BenchError as error:
        print(f"\nbench failed: {error}", file=sys.stderr)
        return 1
    finally:
        procs.stop_all()
        if args.keep_logs:
            print(f"logs kept in {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
