"""End-to-end: model swaps against `sparkdeck demo` — from the dashboard in a real headless Chromium, a CUDA OOM that
rolls back, and the API's refusals (confirm, unknown model, conflict, cancel, content type).

The tests share one demo (module-scoped fixture) and run in file order; each one starts by waiting until no swap
runs and ends only after the swaps it started have ended, so the next one finds a settled demo:
  1. dashboard swap demo-small -> demo-large-tp2         (leaves demo-large-tp2 active)
  2. OOM swap to demo-huge-oom, rolled back to the previous model (leaves that model active)
  3. refusals, and a confirmed swap cancelled while it loads (leaves the previous model active)
"""

from __future__ import annotations

import json
import re
import time
from typing import Any

import pytest
import requests
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By

from e2e_support import ARTIFACTS, Demo, PollTimeout, parse_time, poll
from test_dashboard import browser, console, open_dashboard  # noqa: F401 - `browser` is a fixture

RUNNING_STATES = ("draining", "stopping", "releasing", "launching", "loading", "verifying")
SWAP_END_TIMEOUT = 90.0
PLAN_TAIL = 'Send "confirm": true to go ahead.'


# --------------------------------------------------------------------------------------------- API helpers

def post_json(demo: Demo, path: str, body: Any) -> requests.Response:
    return requests.post(demo.url(path), json=body, timeout=10.0)


def api_error(response: requests.Response) -> dict:
    """The `error` object of an error answer (fails the test when the answer is not the error envelope)."""
    try:
        doc = response.json()
    except ValueError:
        pytest.fail(f"HTTP {response.status_code} answer is not JSON: {response.text[:300]!r}", pytrace=False)
    error = doc.get("error") if isinstance(doc, dict) else None
    assert isinstance(error, dict) and isinstance(error.get("message"), str), (
        f"HTTP {response.status_code} answer is not an {{'error': {{'message': ...}}}} envelope: {response.text[:300]}"
    )
    return error


def models_doc(demo: Demo) -> dict:
    return demo.get_json("/api/models")


def active_model(demo: Demo) -> str | None:
    return models_doc(demo)["active"]


def model_names(demo: Demo) -> dict[str, str]:
    return {m["id"]: m["name"] for m in models_doc(demo)["models"]}


def wait_no_swap(demo: Demo, timeout: float = SWAP_END_TIMEOUT) -> None:
    """Waits until /api/status says no swap runs (`swap` is null)."""
    poll(lambda: ((swap := demo.status().get("swap")) is None, swap and {k: swap.get(k) for k in ("id", "state")}),
         timeout, "/api/status `swap` null (no swap running)", interval=0.2)


def wait_swap_end(demo: Demo, swap_id: str, timeout: float = SWAP_END_TIMEOUT) -> dict:
    """Polls GET /api/swaps/{id} until its `result` is set; returns the final document."""

    def check() -> tuple[bool, Any]:
        doc = demo.get_json(f"/api/swaps/{swap_id}")
        return doc.get("result") is not None, doc

    try:
        return poll(check, timeout, f"swap {swap_id} ending (`result` set)", interval=0.2)
    except PollTimeout as exc:
        pytest.fail(f"{exc}\n{demo.log_tail()}", pytrace=False)


def stage_names(doc: dict) -> list[str]:
    return [s["state"] for s in doc.get("stages") or []]


def start_swap(demo: Demo, model: str) -> dict:
    response = post_json(demo, "/api/swaps", {"model": model, "confirm": True})
    assert response.status_code == 202, f"POST /api/swaps {model} with confirm: HTTP {response.status_code}: {response.text[:500]}"
    doc = response.json()
    assert doc.get("model") == model and doc.get("id"), f"swap document: {json.dumps(doc)[:500]}"
    return doc


def settle(demo: Demo) -> str:
    """Waits until no swap runs, every service is up and a model is active (at start-up the demo loads its default
    model outside any swap, and /api/models says `active: null` until it answers). Returns the active model."""
    wait_no_swap(demo)
    demo.wait_all_up(timeout=60)
    return poll(lambda: ((active := active_model(demo)) is not None, active), 10, "/api/models naming an active model")


def ensure_active(demo: Demo, model: str) -> None:
    """Makes `model` the active one (through a confirmed swap when it is not), with no swap running afterwards."""
    if settle(demo) == model:
        return
    doc = wait_swap_end(demo, start_swap(demo, model)["id"])
    assert doc["result"] == "ready", f"setting up: swap to {model} ended {doc['result']}: {doc.get('error')}"
    assert active_model(demo) == model


def other_model(demo: Demo) -> tuple[str, str]:
    """(active model, the one of demo-small / demo-large-tp2 that is not active), once the demo has settled."""
    active = settle(demo)
    assert active in ("demo-small", "demo-large-tp2"), f"unexpected active model {active!r}"
    return active, ("demo-large-tp2" if active == "demo-small" else "demo-small")


# --------------------------------------------------------------------------------------------- page helpers

PANEL_JS = """
const t = (id) => { const el = document.getElementById(id); return el ? el.textContent.trim() : null; };
const dlg = document.getElementById('confirm-dialog');
return {
  panel_hidden: document.getElementById('swap').hidden,
  state: t('swap-state'),
  percent: t('swap-percent'),
  width: document.getElementById('swap-progress').style.width,
  result: t('swap-result'),
  result_hidden: document.getElementById('swap-result').hidden,
  swap_error: t('swap-error'),
  dialog_open: !!(dlg && dlg.open),
  log_tail: (t('swap-log') || '').slice(-200),
};
"""


def panel(driver) -> dict:
    return driver.execute_script(PANEL_JS)


def model_is_active(driver, model_id: str) -> bool:
    return bool(driver.execute_script(
        "return !!document.querySelector(arguments[0]);", f'#model-list [data-model-id="{model_id}"] .badge.active'))


def percent_value(text: str | None) -> int | None:
    match = re.fullmatch(r"(\d+)%", (text or "").strip())
    return int(match.group(1)) if match else None


def screenshot_swap(driver, name: str) -> None:
    """A screenshot with the swap panel in view."""
    driver.execute_script("const el = document.getElementById('swap'); if (el && !el.hidden) el.scrollIntoView({block: 'start'});")
    driver.save_screenshot(str(ARTIFACTS / name))


def fail_page(driver, what: str, screenshot: str, observed: Any = None) -> None:
    path = ARTIFACTS / screenshot
    driver.save_screenshot(str(path))
    pytest.fail(
        f"{what}\nlast seen: {observed}\nswap panel now: {json.dumps(panel(driver))}\n"
        f"console: {json.dumps(console(driver), indent=1)}\nscreenshot: {path}",
        pytrace=False,
    )


def wait_panel(driver, check, timeout: float, what: str, screenshot: str, interval: float = 0.05) -> Any:
    """Polls the page with `check(driver) -> (done, observed)`; fails with the panel, console and a screenshot."""
    try:
        return poll(lambda: check(driver), timeout, what, interval=interval)
    except PollTimeout as exc:
        fail_page(driver, str(exc), screenshot)


def click_load(driver, model_id: str, screenshot: str) -> None:
    """Clicks a model card's Load button (retrying if the card was re-rendered under us)."""
    selector = f'#model-list [data-model-id="{model_id}"] button.load'

    def check(d) -> tuple[bool, Any]:
        buttons = d.find_elements(By.CSS_SELECTOR, selector)
        if not buttons:
            return False, f"no {selector} on the page"
        if not buttons[0].is_enabled():
            return False, f"{selector} is disabled"
        try:
            buttons[0].click()
        except StaleElementReferenceException:
            return False, "button was re-rendered before the click"
        return True, None

    wait_panel(driver, check, 10, f"clicking {selector}", screenshot, interval=0.1)


def unexpected_severe(driver, base_url: str) -> list[dict]:
    """SEVERE console entries, except the network errors of the unconfirmed POST /api/swaps (HTTP 400).

    That POST is how the dashboard asks for the plan sentence; Chromium logs every 4xx response as SEVERE with
    source "network", e.g. "http://127.0.0.1:1234/api/swaps - Failed to load resource: the server responded with a
    status of 400 (Bad Request)". Only that exact URL (not /api/swaps/<id>...) and status 400 are allowed.
    """
    allowed = re.compile(
        re.escape(base_url) + r"/api/swaps - Failed to load resource: the server responded with a status of 400\b"
    )
    bad = []
    for entry in console(driver):
        if entry.get("level") != "SEVERE":
            continue
        message = entry.get("message", "")
        if entry.get("source") == "network" and allowed.match(message):
            continue
        bad.append(entry)
    return bad


# --------------------------------------------------------------------------------------------- tests

def test_swap_from_the_dashboard(demo: Demo, browser):  # noqa: F811 - fixture imported above
    ensure_active(demo, "demo-small")
    names = model_names(demo)
    open_dashboard(browser, demo, "swap-dashboard-failed.png")
    wait_panel(browser, lambda d: (model_is_active(d, "demo-small"), panel(d)), 15,
               'the demo-small card marked active', "swap-dashboard-failed.png")
    assert not model_is_active(browser, "demo-large-tp2"), "demo-large-tp2 marked active before any swap"

    # Load asks first: the dialog shows the server's plan sentence.
    click_load(browser, "demo-large-tp2", "swap-dashboard-failed.png")
    wait_panel(browser, lambda d: ((p := panel(d))["dialog_open"], p), 5,
               "the confirmation dialog opening after Load", "swap-dashboard-failed.png")
    text = browser.find_element(By.ID, "confirm-text").text
    for needle in ("Stops SparkSim Small 8B", "SparkSim Large 70B", names["demo-large-tp2"], "503"):
        assert needle in text, f"#confirm-text does not say {needle!r}: {text!r}"
    assert '"confirm"' not in text, f"the dialog shows the API instruction meant for API clients: {text!r}"
    before = panel(browser)
    assert before["panel_hidden"] or not before["result_hidden"], f"a swap shows as running before confirming: {before}"
    assert demo.status().get("swap") is None, "the unconfirmed Load started a swap"

    browser.find_element(By.ID, "confirm-yes").click()
    clicked = time.monotonic()
    seen = wait_panel(browser, lambda d: ((p := panel(d))["state"] in RUNNING_STATES and not p["panel_hidden"], p), 5,
                      f"#swap-state showing a running state {RUNNING_STATES} within 5 s of confirming",
                      "swap-dashboard-failed.png")
    assert not panel(browser)["dialog_open"], "the confirmation dialog stayed open after Go ahead"

    # While loading, the percentage rises above 0% at some point (stop looking, and fail, if the swap ends first).
    def loading_with_progress(d) -> tuple[bool, Any]:
        p = panel(d)
        ended = bool(p["result"]) and not p["result_hidden"]
        pct = percent_value(p["percent"])
        return ended or (p["state"] == "loading" and pct is not None and pct > 0), p

    seen = wait_panel(browser, loading_with_progress, 40, "#swap-percent above 0% while #swap-state is `loading`",
                      "swap-dashboard-failed.png", interval=0.1)
    if seen["state"] != "loading":
        fail_page(browser, "the swap ended without #swap-percent ever above 0% during `loading`",
                  "swap-dashboard-failed.png", seen)
    assert seen["width"] == seen["percent"], f"#swap-progress width {seen['width']!r} vs #swap-percent {seen['percent']!r}"
    # For a more telling picture, give the load a moment to reach the weights (not a check: it may go faster).
    try:
        poll(lambda: ((p := panel(browser))["state"] == "loading" and (percent_value(p["percent"]) or 0) >= 10, p),
             8, "load progress at 10%", interval=0.1)
    except PollTimeout:
        pass
    screenshot_swap(browser, "swap-progress.png")

    remaining = 60 - (time.monotonic() - clicked)
    done = wait_panel(browser, lambda d: ((p := panel(d))["state"] == "ready" and not p["result_hidden"]
                                          and "Loaded" in (p["result"] or ""), p),
                      max(remaining, 0.1), "#swap-state `ready` and #swap-result saying Loaded within 60 s of confirming",
                      "swap-dashboard-failed.png", interval=0.2)
    assert names["demo-large-tp2"] in done["result"], f"#swap-result does not name the model: {done['result']!r}"
    assert done["percent"] == "100%", f"#swap-percent at the end: {done['percent']!r}"

    wait_panel(browser, lambda d: (model_is_active(d, "demo-large-tp2") and not model_is_active(d, "demo-small"),
                                   {m: model_is_active(d, m) for m in ("demo-small", "demo-large-tp2")}),
               10, "the demo-large-tp2 card marked active (and demo-small not)", "swap-dashboard-failed.png")

    # The swap the page started, as the API knows it.
    latest = demo.get_json("/api/swaps?limit=1")["swaps"][0]
    assert latest["model"] == "demo-large-tp2" and latest["from_model"] == "demo-small", json.dumps(latest)[:500]
    assert latest["result"] == "ready", f"API says the swap ended {latest['result']}: {latest.get('error')}"
    assert active_model(demo) == "demo-large-tp2"

    row_selector = f'#history tbody tr[data-swap-id="{latest["id"]}"]'

    def history_row(d) -> tuple[bool, Any]:
        rows = d.find_elements(By.CSS_SELECTOR, row_selector)
        text = rows[0].text if rows else None
        return bool(text) and names["demo-large-tp2"] in text and "ready" in text, text

    wait_panel(browser, history_row, 10, f"a history row {row_selector} naming the model and `ready`",
               "swap-dashboard-failed.png", interval=0.2)
    screenshot_swap(browser, "swap-done.png")

    severe = unexpected_severe(browser, demo.base_url)
    assert not severe, "SEVERE browser console entries:\n" + json.dumps(severe, indent=1)


def test_oom_swap_rolls_back_and_the_page_says_so(demo: Demo, browser):  # noqa: F811
    previous = settle(demo)

    open_dashboard(browser, demo, "swap-oom-failed.png")
    browser.execute_script("window.__sparkdeckNoReload = 'still here';")

    swap_id = start_swap(demo, "demo-huge-oom")["id"]
    doc = wait_swap_end(demo, swap_id, timeout=90)
    summary = json.dumps({k: doc.get(k) for k in ("result", "error", "rollback")} | {"stages": stage_names(doc)})

    assert doc["result"] == "rolled_back", f"result: {summary}"
    assert "CUDA out of memory" in (doc.get("error") or ""), f"error: {summary}"
    assert doc["from_model"] == previous, f"from_model {doc['from_model']!r}, expected {previous!r}"
    stages = stage_names(doc)
    assert "loading" in stages and "failed" in stages, f"stages: {stages}"
    failed = stages.index("failed")
    assert stages.index("loading") < failed, f"failed before loading: {stages}"
    assert "rolling_back" in stages[failed + 1:], f"no rolling_back after failed: {stages}"
    assert stages[-1] == "rolled_back", f"last stage: {stages}"
    assert doc["state"] == "rolled_back", f"state: {doc['state']}"
    times = [parse_time(s["at"]) for s in doc["stages"]]
    assert times == sorted(times), f"stage timestamps out of order: {[s['at'] for s in doc['stages']]}"

    models = models_doc(demo)
    assert models["active"] == previous, f"/api/models active {models['active']!r}, expected {previous!r} back"
    assert [m["id"] for m in models["models"] if m["active"]] == [previous], json.dumps(models)[:500]
    wait_no_swap(demo, timeout=5)

    def rolled_back_shown(d) -> tuple[bool, Any]:
        p = panel(d)
        return not p["result_hidden"] and "Rolled back" in (p["result"] or ""), p

    shown = wait_panel(browser, rolled_back_shown, 10, '#swap-result saying "Rolled back"', "swap-oom-failed.png",
                       interval=0.2)
    assert "CUDA out of memory" in shown["result"], f"#swap-result does not give the cause: {shown['result']!r}"
    assert shown["state"] == "rolled_back", f"#swap-state: {shown['state']!r}"
    screenshot_swap(browser, "swap-rolled-back.png")
    assert browser.execute_script("return window.__sparkdeckNoReload;") == "still here", "the page reloaded"
    wait_panel(browser, lambda d: (model_is_active(d, previous), panel(d)), 10,
               f"the {previous} card marked active again", "swap-oom-failed.png")

    severe = unexpected_severe(browser, demo.base_url)
    assert not severe, "SEVERE browser console entries:\n" + json.dumps(severe, indent=1)


def test_swap_api_refusals(demo: Demo):
    active, target = other_model(demo)
    names = model_names(demo)

    # Without confirm: 400 with the plan sentence, and nothing starts.
    response = post_json(demo, "/api/swaps", {"model": target})
    assert response.status_code == 400, f"unconfirmed POST: HTTP {response.status_code}: {response.text[:300]}"
    error = api_error(response)
    assert error.get("type") == "invalid_request_error", f"error: {error}"
    message = error["message"]
    assert message.startswith("Stops "), f"plan message: {message!r}"
    assert message.endswith(PLAN_TAIL), f"plan message: {message!r}"
    assert names[active] in message and names[target] in message and "503" in message, f"plan message: {message!r}"
    assert demo.status().get("swap") is None, "an unconfirmed POST started a swap"

    # `confirm` that is not a boolean is not a yes.
    response = post_json(demo, "/api/swaps", {"model": target, "confirm": "yes"})
    assert response.status_code == 400, f"confirm 'yes': HTTP {response.status_code}: {response.text[:300]}"

    # Unknown model: 404 listing the known ids.
    response = post_json(demo, "/api/swaps", {"model": "no-such-model", "confirm": True})
    assert response.status_code == 404, f"unknown model: HTTP {response.status_code}: {response.text[:300]}"
    message = api_error(response)["message"]
    assert "no-such-model" in message, f"404 message: {message!r}"
    for model_id in names:
        assert model_id in message, f"404 message does not list {model_id}: {message!r}"

    # Wrong content type and a body that is not JSON.
    response = requests.post(demo.url("/api/swaps"), data=json.dumps({"model": target, "confirm": True}),
                             headers={"Content-Type": "text/plain"}, timeout=10.0)
    assert response.status_code == 415, f"text/plain body: HTTP {response.status_code}: {response.text[:300]}"
    api_error(response)
    response = requests.post(demo.url("/api/swaps"), data="model=demo-small&confirm=true",
                             headers={"Content-Type": "application/json"}, timeout=10.0)
    assert response.status_code == 400, f"non-JSON body: HTTP {response.status_code}: {response.text[:300]}"
    assert api_error(response).get("type") == "invalid_request_error"
    assert demo.status().get("swap") is None, "a refused POST started a swap"

    # A confirmed swap; a second one is refused with 409 naming it.
    swap = start_swap(demo, target)
    swap_id = swap["id"]
    try:
        response = post_json(demo, "/api/swaps", {"model": active, "confirm": True})
        assert response.status_code == 409, f"second swap: HTTP {response.status_code}: {response.text[:300]}"
        error = api_error(response)
        assert error.get("type") == "conflict", f"409 error: {error}"
        assert swap_id in error["message"], f"409 message does not name {swap_id}: {error['message']!r}"

        # Cancel it while it loads: without confirm 400, with confirm 202.
        poll(lambda: ((doc := demo.get_json(f"/api/swaps/{swap_id}"))["state"] == "loading", doc["state"]),
             20, f"swap {swap_id} reaching `loading`", interval=0.05)
        response = post_json(demo, f"/api/swaps/{swap_id}/cancel", {})
        assert response.status_code == 400, f"cancel without confirm: HTTP {response.status_code}: {response.text[:300]}"
        api_error(response)
        assert demo.get_json(f"/api/swaps/{swap_id}")["result"] is None, "an unconfirmed cancel ended the swap"

        response = post_json(demo, f"/api/swaps/{swap_id}/cancel", {"confirm": True})
        assert response.status_code == 202, f"cancel with confirm: HTTP {response.status_code}: {response.text[:300]}"
        assert response.json().get("id") == swap_id, f"cancel answer: {response.text[:300]}"
    finally:
        doc = wait_swap_end(demo, swap_id)

    summary = json.dumps({k: doc.get(k) for k in ("result", "error", "rollback")} | {"stages": stage_names(doc)})
    assert doc["result"] == "cancelled_rolled_back", f"cancelled swap: {summary}"
    assert "failed" in stage_names(doc) and stage_names(doc)[-1] == "rolled_back", f"cancelled swap: {summary}"
    assert active_model(demo) == active, f"after the cancel /api/models active is {active_model(demo)!r}, not {active!r}"

    # Cancelling an ended swap: 409.
    response = post_json(demo, f"/api/swaps/{swap_id}/cancel", {"confirm": True})
    assert response.status_code == 409, f"cancel of an ended swap: HTTP {response.status_code}: {response.text[:300]}"
    error = api_error(response)
    assert error.get("type") == "conflict" and swap_id in error["message"], f"409 error: {error}"
    wait_no_swap(demo, timeout=5)
