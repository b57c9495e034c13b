"""Capacity sweeps against demo mode: the ASR sim has a capacity model (full speed up to 2 in flight, shared past
it, 1-4 s stalls past 3), so a sweep has a known knee to find. Its proposal applies live and lands in the inventory
file; a sweep during a swap or during another sweep is refused; the dashboard draws the result."""

from __future__ import annotations

import io
import math
import struct
import time
import wave

import requests
from selenium.webdriver.common.by import By

from e2e_support import ARTIFACTS, Demo, poll
from test_dashboard import browser, open_dashboard, wait_page  # noqa: F401 - `browser` is a fixture

# DemoCluster.asrCapacity and ttsCapacity: the demo starts its ASR and TTS sims with `--capacity 2`.
ASR_CAPACITY = 2
TTS_CAPACITY = 2


def post(demo: Demo, path: str, body: dict) -> requests.Response:
    return requests.post(demo.url(path), json=body, timeout=30)


def error_code(response: requests.Response) -> str:
    return response.json()["error"]["code"]


def wait_sweep(demo: Demo, sweep_id: str, timeout: float = 240) -> dict:
    def ended():
        sweep = demo.get_json(f"/api/capacity/sweeps/{sweep_id}")["sweep"]
        return sweep["state"] != "running", sweep
    return poll(ended, timeout, f"sweep {sweep_id} to end", interval=0.5)


def wait_swap(demo: Demo, swap_id: str, timeout: float = 120) -> dict:
    def ended():
        doc = demo.get_json(f"/api/swaps/{swap_id}")
        return doc.get("result") is not None, doc
    return poll(ended, timeout, f"swap {swap_id} to end", interval=0.5)


def tone_wav(seconds: float = 2.0) -> bytes:
    rate = 16000
    frames = b"".join(
        struct.pack("<h", int(8000 * math.sin(2 * math.pi * 180 * n / rate)) if (n // 4000) % 2 == 0 else 0)
        for n in range(int(rate * seconds)))
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(frames)
    return out.getvalue()


def wait_no_swap(demo: Demo, timeout: float = 120) -> None:
    """The demo loads its first model when it starts: wait until that swap (or any) has ended."""
    poll(lambda: ((status := demo.status())["swap"] is None and status["loaded_model"] is not None, status["swap"]),
         timeout, "no swap running and a model loaded", interval=0.5)


def test_a_sweep_during_a_swap_is_refused(demo: Demo):
    demo.wait_all_up(timeout=60)
    wait_no_swap(demo)
    swap = post(demo, "/api/swaps", {"model": "demo-large-tp2", "confirm": True})
    assert swap.status_code == 202, swap.text
    refused = post(demo, "/api/capacity/sweeps", {"services": ["asr"], "confirm": True})
    assert refused.status_code == 409, refused.text
    assert error_code(refused) == "swap_running"
    assert "swap" in refused.json()["error"]["message"]
    wait_swap(demo, swap.json()["id"])
    assert demo.get_json("/api/capacity/sweeps")["sweeps"] == [], "nothing was swept"


def test_the_asr_sweep_finds_the_sims_knee_and_its_proposal_applies_live_and_to_the_inventory(demo: Demo):
    demo.wait_all_up(timeout=60)
    # One request first, so the ASR's gate is in use when the proposal changes it.
    r = requests.post(demo.url("/v1/audio/transcriptions"), files={"file": ("t.wav", tone_wav(), "audio/wav")},
                      data={"model": "parakeet"}, timeout=60)
    assert r.status_code == 200, r.text

    for body, param in [({"services": ["asr", "asr"], "confirm": True}, "services"),
                        ({"services": ["qdrant"], "confirm": True}, "services"),
                        ({"services": ["asr"], "max_concurrency": 0, "confirm": True}, "max_concurrency"),
                        ({"services": "asr", "confirm": True}, "services")]:
        refused = post(demo, "/api/capacity/sweeps", body)
        assert refused.status_code == 400 and refused.json()["error"]["param"] == param, (body, refused.text)
    asked = post(demo, "/api/capacity/sweeps", {"services": ["asr"]})
    assert asked.status_code == 400 and error_code(asked) == "invalid_request", asked.text
    assert "asr" in asked.json()["error"]["message"] and "confirm" in asked.json()["error"]["message"]
    assert demo.get_json("/api/capacity/sweeps")["sweeps"] == [], "nothing runs without confirmation"

    started = post(demo, "/api/capacity/sweeps", {"services": ["asr", "tts"], "max_concurrency": 6, "confirm": True})
    assert started.status_code == 202, started.text
    sweep_id = started.json()["id"]
    again = post(demo, "/api/capacity/sweeps", {"services": ["embeddings"], "confirm": True})
    assert again.status_code == 409 and error_code(again) == "sweep_running", again.text

    sweep = wait_sweep(demo, sweep_id)
    assert sweep["state"] == "finished", sweep
    asr = next(s for s in sweep["services"] if s["service"] == "asr")
    concurrencies = [level["concurrency"] for level in asr["levels"]]
    assert concurrencies == list(range(1, len(concurrencies) + 1)), concurrencies
    assert abs(asr["knee"] - ASR_CAPACITY) <= 1, asr
    assert asr["limit"] in ("flat_throughput", "latency", "errors"), asr
    assert asr["limited_at"] == asr["knee"] + 1, asr
    proposal = asr["proposal"]
    assert proposal["max_in_flight"] == asr["knee"], asr
    tts = next(s for s in sweep["services"] if s["service"] == "tts")
    assert tts["payload"] and abs(tts["knee"] - TTS_CAPACITY) <= 1, tts

    inventory = demo.data_dir / "demo" / "inventory.yaml"
    before = inventory.read_text()
    unconfirmed = post(demo, f"/api/capacity/sweeps/{sweep_id}/apply", {})
    assert unconfirmed.status_code == 400, unconfirmed.text
    assert inventory.read_text() == before, "nothing changes without confirmation"
    applied = post(demo, f"/api/capacity/sweeps/{sweep_id}/apply", {"confirm": True})
    assert applied.status_code == 200, applied.text
    changes = {c["name"]: c for c in applied.json()["changes"]}
    assert changes["asr"]["to"] == proposal and changes["tts"]["to"] == tts["proposal"], changes

    # Live: the gate in use admits by the new limits, no restart.
    def gate_changed():
        gate = demo.get_json("/api/status")["gateway"]["gates"].get("asr", {})
        return gate.get("max_in_flight") == proposal["max_in_flight"] and gate.get("queue") == proposal["queue"], gate
    poll(gate_changed, 10, "the asr gate to admit by the applied limits")
    guidance = [e for e in demo.get_json("/api/guidance")["endpoints"] if e["service"] == "asr"]
    assert guidance and all(e["max_in_flight"] == proposal["max_in_flight"] and e["queue"] == proposal["queue"]
                            and e["limits_from"] == "capacity_sweep" for e in guidance), guidance

    # In the inventory: the asr entry holds the limits, the rest of the file is as it was, the old file is kept.
    after = inventory.read_text()
    stripped = after
    for entry in (asr, tts):
        line = f"    limits: {{ max_in_flight: {entry['proposal']['max_in_flight']}, queue: {entry['proposal']['queue']} }}\n"
        at = after.index(f"  - id: {entry['service']}\n")
        assert after[at:].split("\n", 1)[1].startswith(line), after
        stripped = stripped.replace(f"  - id: {entry['service']}\n" + line, f"  - id: {entry['service']}\n", 1)
    assert stripped == before
    kept = inventory.with_name(f"inventory.yaml.before-{sweep_id}")
    assert kept.read_text() == before

    # Transcription still works under the applied limits.
    r = requests.post(demo.url("/v1/audio/transcriptions"), files={"file": ("t.wav", tone_wav(), "audio/wav")},
                      data={"model": "parakeet"}, timeout=60)
    assert r.status_code == 200, r.text


def test_a_running_sweep_can_be_cancelled(demo: Demo):
    started = post(demo, "/api/capacity/sweeps", {"services": ["asr"], "max_concurrency": 8, "confirm": True})
    assert started.status_code == 202, started.text
    sweep_id = started.json()["id"]
    cancelled = requests.delete(demo.url(f"/api/capacity/sweeps/{sweep_id}"), timeout=10)
    assert cancelled.status_code == 202, cancelled.text
    sweep = wait_sweep(demo, sweep_id, timeout=120)
    assert sweep["state"] == "cancelled", sweep
    listed = next(s for s in demo.get_json("/api/capacity/sweeps")["sweeps"] if s["id"] == sweep_id)
    assert listed["state"] == "cancelled", "the store holds the cancelled state too, not the last level's"
    late = requests.delete(demo.url(f"/api/capacity/sweeps/{sweep_id}"), timeout=10)
    assert late.status_code == 409 and error_code(late) == "sweep_not_running", late.text
    applying = post(demo, f"/api/capacity/sweeps/{sweep_id}/apply", {"confirm": True})
    assert applying.status_code == 409 and error_code(applying) == "sweep_not_applicable", applying.text


def test_the_dashboard_draws_the_sweep_and_compares_it_with_the_one_before(demo: Demo, browser):  # noqa: F811
    # A second finished sweep, so the chart has one before it to compare with.
    started = post(demo, "/api/capacity/sweeps", {"services": ["asr"], "max_concurrency": 4, "confirm": True})
    assert started.status_code == 202, started.text
    assert wait_sweep(demo, started.json()["id"])["state"] == "finished"

    open_dashboard(browser, demo, "dashboard-capacity-failed.png")
    browser.get(demo.base_url + "/#capacity")

    def drawn(d):
        return d.execute_script(
            "const s = document.querySelector('#capacity-results .capacity-service[data-service=asr]');"
            "if (!s) return null;"
            "const line = s.querySelector('svg.capacity-chart polyline.line-throughput');"
            "const previous = s.querySelector('svg.capacity-chart polyline.line-previous');"
            "const rows = [...s.querySelectorAll('table.capacity-levels tbody tr')].map(r => r.cells[0].textContent);"
            "return line && previous && rows.length >= 2 ? {points: line.getAttribute('points'), rows,"
            " knee: !!s.querySelector('svg line.knee'), status: document.getElementById('capacity-status').textContent}"
            " : null;")
    shown = wait_page(browser, drawn, 30, "the asr sweep's chart, the previous sweep's line and the levels table",
                      "dashboard-capacity-failed.png")
    assert shown["rows"][:2] == ["1", "2"], shown
    assert len(shown["points"].split()) == len(shown["rows"]), shown
    assert shown["knee"], "the knee is marked"
    assert "finished" in shown["status"], shown
    browser.save_screenshot(str(ARTIFACTS / "dashboard-capacity.png"))

    # The sweep button asks with the server's own sentence before anything runs.
    browser.find_element(By.ID, "capacity-start").click()
    text = wait_page(browser, lambda d: d.find_element(By.ID, "confirm-dialog").get_attribute("open") is not None
                     and d.find_element(By.ID, "confirm-text").text, 10, "the sweep's confirmation",
                     "dashboard-capacity-failed.png")
    assert "quiet window" in text, text
    browser.find_element(By.ID, "confirm-no").click()
    time.sleep(0.5)
    assert demo.get_json("/api/capacity/sweeps?limit=1")["sweeps"][0]["id"] == started.json()["id"], \
        "going back started nothing"
