"""The dashboard's section bar and its Activity section in a real browser: every section reachable from the bar and
by URL, and the activity of requests just made shown in the table, the chart and the log."""

from __future__ import annotations

import requests
from selenium.webdriver.common.by import By

from e2e_support import ARTIFACTS, Demo
from test_dashboard import browser, open_dashboard, wait_page  # noqa: F401 - `browser` is a fixture

SECTIONS = ["nodes", "models", "playground", "speech", "search", "scrub", "activity", "capacity", "connectivity", "maintenance"]


def table_rows(driver, table: str) -> list[list[str]]:
    """The cells' text of a table's body rows, read in one go in the page: the panel re-renders its tables every
    5 s, so elements found one by one could go stale in between."""
    return driver.execute_script(
        "return [...document.querySelectorAll(`#${arguments[0]} tbody tr`)]"
        ".map(r => [...r.cells].map(c => c.textContent.trim()));", table)


def in_view(driver, section: str) -> bool:
    return driver.execute_script(
        "const r = document.getElementById(arguments[0]).getBoundingClientRect();"
        "return r.top >= -2 && r.top < window.innerHeight / 2;", section)


def test_every_section_is_reachable_from_the_bar_and_by_url(demo: Demo, browser):  # noqa: F811
    open_dashboard(browser, demo, "dashboard-nav-failed.png")
    links = [a.get_attribute("href").split("#")[1] for a in browser.find_elements(By.CSS_SELECTOR, "nav.sections a")]
    assert links == SECTIONS, links
    for section in reversed(SECTIONS[1:]):
        browser.find_element(By.CSS_SELECTOR, f'nav.sections a[href="#{section}"]').click()
        wait_page(browser, lambda d, s=section: in_view(d, s), 5, f"section {section} scrolled into view",
                  "dashboard-nav-failed.png")
        assert browser.execute_script("return location.hash") == f"#{section}"
    # Deep links: a URL with the section opens the page there.
    browser.get(demo.base_url + "/#connectivity")
    wait_page(browser, lambda d: in_view(d, "connectivity"), 10, "the page opened at #connectivity",
              "dashboard-nav-failed.png")
    # Keyboard: the bar's links are reached with Tab and followed with Enter.
    tabbable = browser.execute_script(
        "return [...document.querySelectorAll('nav.sections a')].every(a => a.tabIndex >= 0);")
    assert tabbable


def test_activity_section_shows_the_requests_just_made(demo: Demo, browser):  # noqa: F811
    demo.wait_all_up(timeout=30)
    model = next(m["id"] for m in demo.get_json("/v1/models")["data"] if m.get("kind") == "llm")
    for n in range(3):
        r = requests.post(demo.url("/v1/chat/completions"), timeout=30,
                          json={"model": model, "max_tokens": 4, "messages": [{"role": "user", "content": f"hi {n}"}]})
        assert r.status_code == 200, r.text
    r = requests.post(demo.url("/v1/chat/completions"), timeout=30, json={"model": "no/such", "messages": []})
    assert r.status_code >= 400

    open_dashboard(browser, demo, "dashboard-activity-failed.png")
    browser.get(demo.base_url + "/#activity")

    def chat_row(d):
        for cells in table_rows(d, "activity-table"):
            if cells and cells[1].startswith("chat") and int(cells[2]) >= 4:
                return cells
        return None

    cells = wait_page(browser, chat_row, 20, "a chat row with the 4 requests", "dashboard-activity-failed.png")
    assert cells[0] == "127.0.0.1", f"while the API is open a request belongs to its client's address: {cells}"
    assert int(cells[3]) >= 1, f"the bad model is a client error: {cells}"
    wait_page(browser, lambda d: len(table_rows(d, "activity-log")) >= 4, 10,
              "the last requests in the log", "dashboard-activity-failed.png")
    assert browser.find_elements(By.CSS_SELECTOR, "#activity-chart rect"), "the chart has bars"
    browser.find_element(By.ID, "activity-log-errors").click()

    def only_errors(d):
        statuses = [cells[4] for cells in table_rows(d, "activity-log")]
        return statuses and all(int(s.split()[0]) >= 400 for s in statuses) and statuses
    wait_page(browser, only_errors, 10, "the log filtered to errors", "dashboard-activity-failed.png")
    browser.save_screenshot(str(ARTIFACTS / "dashboard-activity.png"))


def test_playground_streams_an_answer_with_its_timings(demo: Demo, browser):  # noqa: F811
    open_dashboard(browser, demo, "dashboard-playground-failed.png")
    browser.get(demo.base_url + "/#playground")
    browser.find_element(By.ID, "playground-input").send_keys("Say something about the weather.")
    browser.find_element(By.ID, "playground-send").click()
    stats = wait_page(browser, lambda d: (t := d.find_element(By.ID, "playground-stats").text) and "tokens" in t and t,
                      30, "the answer's timings", "dashboard-playground-failed.png")
    answer = browser.find_element(By.ID, "playground-output").text
    browser.save_screenshot(str(ARTIFACTS / "dashboard-playground.png"))
    assert answer.strip(), "the streamed answer is shown"
    assert "first token after" in stats and "tokens/s" in stats, stats
    assert browser.find_element(By.ID, "playground-send").is_enabled(), "ready for the next prompt"
