"""End-to-end: the dashboard in a real headless Chromium, live over SSE, against its own `sparkdeck demo`."""

from __future__ import annotations

import json
import signal

import pytest
from selenium import webdriver
from selenium.common.exceptions import TimeoutException, WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from e2e_support import ARTIFACTS, NODE_IDS, SERVICE_IDS, Demo, send

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"


@pytest.fixture
def browser(request: pytest.FixtureRequest):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--window-size=1280,900"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    service = Service(CHROMEDRIVER, log_output=str(ARTIFACTS / f"chromedriver-{request.node.name}.log"))
    driver = webdriver.Chrome(service=service, options=options)
    driver.console = []  # every browser console entry seen so far (get_log drains Chrome's buffer)
    try:
        yield driver
    finally:
        driver.quit()


def console(driver) -> list[dict]:
    """All browser console entries so far."""
    try:
        driver.console.extend(driver.get_log("browser"))
    except WebDriverException:
        pass
    return driver.console


def service_state(driver, service_id: str) -> str | None:
    """The text of a service card's `.state`, or None while the card or its state is not on the page."""
    # One atomic read in the page (a re-rendered card would make a found element stale), and textContent
    # rather than rendered text, so that a CSS text-transform does not change what the state is.
    text = driver.execute_script(
        "const el = document.querySelector(arguments[0]); return el ? el.textContent : null;",
        f'[data-service-id="{service_id}"] .state',
    )
    return None if text is None else text.strip().lower()


def page_snapshot(driver) -> dict:
    return {
        "nodes": {n: bool(driver.find_elements(By.CSS_SELECTOR, f'[data-node-id="{n}"]')) for n in NODE_IDS},
        "services": {s: service_state(driver, s) for s in SERVICE_IDS},
    }


def wait_page(driver, condition, timeout: float, what: str, screenshot: str, poll: float = 0.2):
    """WebDriverWait with a failure message that shows the page's cards, console and a screenshot."""
    try:
        return WebDriverWait(driver, timeout, poll_frequency=poll).until(condition)
    except TimeoutException:
        path = ARTIFACTS / screenshot
        driver.save_screenshot(str(path))
        pytest.fail(
            f"{what}: not within {timeout:g} s\npage: {json.dumps(page_snapshot(driver))}\n"
            f"console: {json.dumps(console(driver), indent=1)}\nscreenshot: {path}",
            pytrace=False,
        )


def all_cards_up(driver) -> bool:
    snap = page_snapshot(driver)
    return all(snap["nodes"].values()) and all(state == "up" for state in snap["services"].values())


def open_dashboard(driver, demo: Demo, screenshot_on_failure: str) -> None:
    demo.wait_all_up(timeout=30)
    driver.get(demo.base_url + "/")
    wait_page(driver, all_cards_up, 30, "node cards and every service card `up` on the dashboard",
              screenshot_on_failure)


def test_dashboard_shows_cluster_without_console_errors(demo: Demo, browser):
    open_dashboard(browser, demo, "dashboard-failed.png")
    severe = [e for e in console(browser) if e.get("level") == "SEVERE"]
    browser.save_screenshot(str(ARTIFACTS / "dashboard.png"))
    assert not severe, "SEVERE browser console entries:\n" + json.dumps(severe, indent=1)


def test_dashboard_shows_outage_live(demo: Demo, browser):
    open_dashboard(browser, demo, "dashboard-outage-failed.png")
    # Set a mark in the page: a reload would wipe it, so it proves the change arrived live (SSE).
    browser.execute_script("window.__sparkdeckNoReload = 'still here';")

    send(demo.sim_pid("qdrant"), signal.SIGKILL)
    wait_page(browser, lambda d: service_state(d, "qdrant") not in ("up", None), 3,
              "qdrant card leaving `up` after its sim was SIGKILLed", "dashboard-outage-failed.png", poll=0.1)
    browser.save_screenshot(str(ARTIFACTS / "dashboard-outage.png"))
    assert browser.execute_script("return window.__sparkdeckNoReload;") == "still here", "the page reloaded"

    wait_page(browser, lambda d: service_state(d, "qdrant") == "up", 30,
              "qdrant card back `up` after the restart", "dashboard-recovery-failed.png")
    assert browser.execute_script("return window.__sparkdeckNoReload;") == "still here", "the page reloaded"


def test_dashboard_on_a_phone(demo: Demo, browser):
    browser.set_window_size(390, 844)
    open_dashboard(browser, demo, "dashboard-phone-failed.png")
    browser.save_screenshot(str(ARTIFACTS / "dashboard-phone.png"))
    inner_width = browser.execute_script("return window.innerWidth;")
    assert inner_width <= 400, f"the window did not shrink to phone size (innerWidth {inner_width})"
    overflow = browser.execute_script(
        "return document.documentElement.scrollWidth - document.documentElement.clientWidth;"
    )
    assert overflow <= 1, f"the dashboard scrolls sideways on a 390 px phone by {overflow} px"


def test_speech_panel_diarizes_an_upload_and_speaks(demo: Demo, browser, tmp_path):
    import subprocess

    parts = []
    for index, (pitch, text) in enumerate([(10, "so we can start the meeting now"), (99, "yes I think that plan works"),
                                           (10, "what about the budget next week")]):
        path = tmp_path / f"turn{index}.wav"
        subprocess.run(["espeak-ng", "-p", str(pitch), "-g", "20", "-w", str(path), text], check=True)
        parts.append(str(path))
    recording = tmp_path / "standup.wav"
    subprocess.run(["sox", *parts, "-r", "16000", str(recording)], check=True)

    open_dashboard(browser, demo, "dashboard-speech-failed.png")
    browser.find_element(By.ID, "diarize-file").send_keys(str(recording))
    browser.find_element(By.ID, "diarize-names").send_keys("Ann, Ben")
    browser.find_element(By.ID, "diarize-run").click()
    wait_page(browser, lambda d: d.find_element(By.ID, "diarize-state").text.startswith("succeeded"), 120,
              "the speech panel's job to succeed", "dashboard-speech-failed.png")
    speakers = [li.text for li in browser.find_elements(By.CSS_SELECTOR, "#diarize-speakers li")]
    assert speakers == ["Ann", "Ben"], speakers
    turns = [li.find_element(By.TAG_NAME, "strong").text
             for li in browser.find_elements(By.CSS_SELECTOR, "#diarize-transcript li") if li.find_elements(By.TAG_NAME, "strong")]
    assert turns == ["Ann", "Ben", "Ann"], turns
    assert len(browser.find_elements(By.CSS_SELECTOR, "#diarize-timeline .speech-seg")) == 3

    wait_page(browser, lambda d: d.find_element(By.ID, "speak-voice").get_attribute("value") != "", 30,
              "the voice list to load", "dashboard-speech-failed.png")
    browser.find_element(By.ID, "speak-input").send_keys("The cluster is ready.")
    browser.find_element(By.ID, "speak-run").click()
    wait_page(browser, lambda d: d.find_element(By.ID, "speak-audio").get_attribute("src").startswith("blob:"), 60,
              "the spoken audio in the player", "dashboard-speech-failed.png")
    browser.save_screenshot(str(ARTIFACTS / "dashboard-speech.png"))
    severe = [e for e in console(browser) if e.get("level") == "SEVERE"]
    assert not severe, "SEVERE browser console entries:\n" + json.dumps(severe, indent=1)
