"""End-to-end: maintenance actions and service logs against `sparkdeck demo`, from the API and from the dashboard in a
real headless Chromium; and the OpenAPI document, checked by the reference validator."""

from __future__ import annotations

import json
import re
import subprocess
import time

import requests
from openapi_spec_validator import validate
from selenium.webdriver.common.by import By

from e2e_support import ARTIFACTS, SPARKDECK_BIN, Demo
from test_dashboard import browser, console, open_dashboard, wait_page  # noqa: F401 - `browser` is a fixture


def read_events(demo: Demo, path: str, until: str, timeout: float = 10.0) -> list[tuple[str, dict]]:
    """Reads the SSE stream at `path` until an event named `until` arrives; returns (name, data) pairs."""
    events: list[tuple[str, dict]] = []
    deadline = time.monotonic() + timeout
    with requests.get(demo.url(path), stream=True, timeout=timeout) as response:
        assert response.status_code == 200, f"GET {path}: HTTP {response.status_code}: {response.text[:300]}"
        assert response.headers["content-type"].startswith("text/event-stream")
        name = None
        for raw in response.iter_lines(decode_unicode=True):
            if time.monotonic() > deadline:
                break
            if raw.startswith("event: "):
                name = raw[len("event: "):]
            elif raw.startswith("data: ") and name:
                events.append((name, json.loads(raw[len("data: "):])))
                if name == until:
                    return events
                name = None
    raise AssertionError(f"no `{until}` event from {path} within {timeout:g} s; got {events[-5:]}")


def text_of(driver, selector: str) -> str:
    """textContent of the first match, read in one step (cards are redrawn on every status event)."""
    return driver.execute_script(
        "const el = document.querySelector(arguments[0]); return el ? el.textContent : '';", selector)


def click(driver, selector: str) -> bool:
    """Clicks the first match in one step; False when nothing matches yet."""
    return driver.execute_script(
        "const el = document.querySelector(arguments[0]); if (!el) return false; el.click(); return true;", selector)


def test_openapi_document_is_valid_and_current(demo: Demo):
    document = demo.get_json("/openapi.json")
    validate(document)  # raises with the first problem
    assert document["info"]["version"] == demo.get_json("/api/version")["version"]
    assert "/api/actions/{id}" in document["paths"] and "/v1/chat/completions" in document["paths"]


def test_action_runs_only_when_confirmed(demo: Demo):
    demo.wait_all_up(timeout=30)
    asr = demo.sim_pid("asr")
    refused = requests.post(demo.url("/api/actions/restart-asr"), json={}, timeout=10)
    assert refused.status_code == 400, refused.text
    assert "Stops the ASR sim" in refused.json()["error"]["message"]
    time.sleep(1.5)
    assert demo.sim_pid("asr") == asr, "the ASR sim was restarted without a confirmation"

    done = requests.post(demo.url("/api/actions/restart-asr"), json={"confirm": True}, timeout=40)
    assert done.status_code == 200, done.text
    run = done.json()
    assert run["state"] == "succeeded" and run["exit_code"] == 0, run
    # The demo's supervisor starts the killed sim again: a new process.
    demo.sim_pid("asr", timeout=10, not_pid=asr)
    listed = {a["id"]: a for a in demo.get_json("/api/actions")["actions"]}
    assert listed["restart-asr"]["last_run"]["id"] == run["id"]


def test_action_from_the_command_line(demo: Demo):
    demo.wait_all_up(timeout=30)
    asr = demo.sim_pid("asr")
    cli = [SPARKDECK_BIN, "action", "--server", demo.base_url]
    listed = subprocess.run(cli, capture_output=True, text=True, timeout=60)
    assert listed.returncode == 0 and "restart-asr  on spark-2" in listed.stdout, listed.stdout + listed.stderr

    asked = subprocess.run(cli + ["restart-asr"], capture_output=True, text=True, timeout=60)
    assert asked.returncode == 1, asked.stdout + asked.stderr
    assert "Stops the ASR sim" in asked.stdout and "Run again with --yes" in asked.stdout, asked.stdout
    assert demo.sim_pid("asr") == asr, "the ASR sim was restarted without --yes"

    done = subprocess.run(cli + ["restart-asr", "--yes"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and "restart-asr succeeded." in done.stdout, done.stdout + done.stderr
    demo.sim_pid("asr", timeout=10, not_pid=asr)


def test_logs_from_the_command_line(demo: Demo):
    missing = subprocess.run([SPARKDECK_BIN, "logs", "nope", "--server", demo.base_url],
                             capture_output=True, text=True, timeout=60)
    assert missing.returncode == 1 and "known services: vllm" in missing.stdout, missing.stdout + missing.stderr

    follower = subprocess.Popen([SPARKDECK_BIN, "logs", "vllm", "--server", demo.base_url],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 15
        seen = []
        while time.monotonic() < deadline:
            line = follower.stdout.readline()
            if not line:
                break
            seen.append(line.rstrip("\n"))
            if "Application startup complete" in line:
                break
        assert any("Application startup complete" in line for line in seen), seen[-5:]
        assert follower.poll() is None, "sparkdeck logs ended while the log goes on"
    finally:
        follower.terminate()
        follower.wait(timeout=10)
    assert "following vllm on spark-1" in follower.stderr.read()


def test_service_log_streams_the_loaded_models_log(demo: Demo):
    events = read_events(demo, "/api/logs/vllm", until="log")
    opened = dict(events)["open"]
    assert opened["service"] == "vllm" and opened["node"] == "spark-1", opened
    missing = requests.get(demo.url("/api/logs/nope"), timeout=10)
    assert missing.status_code == 404 and "known services" in missing.json()["error"]["message"]


def test_actions_and_logs_on_the_dashboard(demo: Demo, browser):  # noqa: F811 - fixture imported above
    open_dashboard(browser, demo, "maintenance-failed.png")
    card = '[data-action-id="restart-asr"]'
    before = demo.get_json("/api/actions")["actions"][0]["last_run"]
    wait_page(browser, lambda d: click(d, card + " button.run-action"), 10,
              "the restart-asr action card's Run button", "maintenance-failed.png")
    wait_page(browser, lambda d: d.execute_script("return document.getElementById('confirm-dialog').open"), 5,
              "the confirmation dialog after Run…", "maintenance-failed.png")
    text = browser.find_element(By.ID, "confirm-text").text
    assert "Stops the ASR sim" in text and '"confirm"' not in text, text
    assert demo.get_json("/api/actions")["actions"][0]["last_run"] == before, "the action ran before it was confirmed"

    browser.find_element(By.ID, "confirm-yes").click()
    wait_page(browser, lambda d: "succeeded" in text_of(d, card + " .action-run"), 40,
              "the action card saying the run succeeded", "maintenance-failed.png")
    after = demo.get_json("/api/actions")["actions"][0]["last_run"]
    assert after and after != before and after["state"] == "succeeded", after

    # The Log button of the vllm card follows its log in the page.
    demo.wait_all_up(timeout=30)
    wait_page(browser, lambda d: click(d, '[data-service-id="vllm"] button.show-log'), 10,
              "a Log button on the vllm card", "maintenance-failed.png")
    wait_page(browser, lambda d: re.search(r"Starting to load model|Loading weights|Application startup",
                                           text_of(d, "#service-log-text")), 10,
              "vLLM's log lines in the log panel", "maintenance-failed.png")
    assert "following on spark-1" in text_of(browser, "#service-log-state")
    browser.execute_script("document.getElementById('maintenance').scrollIntoView()")
    browser.save_screenshot(str(ARTIFACTS / "maintenance.png"))

    # Another card's Log button switches the panel; a line written for a terminal (colour codes, a progress bar's
    # carriage return) shows as a terminal would show it.
    wait_page(browser, lambda d: click(d, '[data-service-id="asr"] button.show-log'), 10,
              "a Log button on the asr card", "maintenance-failed.png")
    wait_page(browser, lambda d: "asr.log" in text_of(d, "#service-log-state"), 10,
              "the log panel following the asr log", "maintenance-failed.png")
    with open(demo.data_dir / "demo" / "logs" / "asr.log", "a") as log:
        log.write("\x1b[1;36m(Worker pid=7)\x1b[0;0m \rLoading shards:  42% Completed | 5/12\n")
    wait_page(browser, lambda d: "Loading shards:  42% Completed | 5/12" in text_of(d, "#service-log-text"), 10,
              "the appended line in the log panel", "maintenance-failed.png")
    shown = text_of(browser, "#service-log-text")
    assert "[1;36m" not in shown and "(Worker pid=7)" not in shown, shown[-300:]
    browser.find_element(By.ID, "service-log-close").click()
    assert not browser.find_element(By.ID, "service-log").is_displayed()

    severe = [e for e in console(browser) if e.get("level") == "SEVERE"
              and not re.search(r"/api/actions/restart-asr - Failed to load resource: .* status of 400", e.get("message", ""))]
    assert not severe, "SEVERE browser console entries:\n" + json.dumps(severe, indent=1)
