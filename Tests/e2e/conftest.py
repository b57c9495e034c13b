"""Fixtures for the end-to-end tests: `demo` runs `sparkdeck demo` the way a user does."""

from __future__ import annotations

import os
import secrets
import subprocess
import time
from pathlib import Path

import pytest
import requests

from e2e_support import ARTIFACTS, SPARKDECK_BIN, Demo, free_port, log_tail, stop_demo

READY_TIMEOUT = 60.0



def wait_ready(demo: Demo, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    last = "no answer yet"
    while True:
        code = demo.process.poll()
        if code is not None:
            pytest.fail(
                f"`sparkdeck demo` exited with {code} before /readyz answered 200\n{demo.log_tail()}",
                pytrace=False,
            )
        try:
            response = requests.get(demo.url("/readyz"), timeout=1.0)
            if response.status_code == 200:
                return
            last = f"HTTP {response.status_code}: {response.text[:200]}"
        except requests.RequestException as exc:
            last = f"{type(exc).__name__}: {exc}"
        if time.monotonic() >= deadline:
            pytest.fail(
                f"GET {demo.url('/readyz')} was not 200 within {timeout:g} s (last: {last})\n{demo.log_tail()}",
                pytrace=False,
            )
        time.sleep(0.2)


@pytest.fixture(scope="module")
def demo(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    """A running `sparkdeck demo` (one per test module), stopped with SIGINT afterwards and checked for orphans."""
    binary = Path(SPARKDECK_BIN)
    if not (binary.is_file() and os.access(binary, os.X_OK)):
        pytest.fail(f"no sparkdeck binary at {binary} (run `swift build`, or set SPARKDECK_BIN)", pytrace=False)

    module = request.module.__name__.rsplit(".", 1)[-1]
    # A name unique enough that no other process's command line contains it by chance.
    data_dir = tmp_path_factory.mktemp(f"sparkdeck-{module}-{secrets.token_hex(4)}", numbered=False)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    log_path = ARTIFACTS / f"demo-{module}.log"
    port = free_port()

    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [str(binary), "demo", "--port", str(port), "--data", str(data_dir)],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            cwd=data_dir,
        )
    instance = Demo(
        base_url=f"http://127.0.0.1:{port}",
        port=port,
        data_dir=data_dir,
        process=process,
        log_path=log_path,
    )
    problems: list[str] = []
    try:
        wait_ready(instance, READY_TIMEOUT)
        yield instance
    finally:
        problems = stop_demo(instance)
    if problems:
        pytest.fail("demo teardown: " + "\n".join(problems) + "\n" + log_tail(log_path), pytrace=False)
