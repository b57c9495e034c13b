"""The dashboard's search panel in a real browser: make a collection, index pasted text, query it, see the hit with
both scores."""

from __future__ import annotations

from selenium.webdriver.common.by import By

from e2e_support import ARTIFACTS, Demo
from test_dashboard import browser, open_dashboard, wait_page  # noqa: F401 - `browser` is a fixture

TEXT = " ".join([f"Minute {n} notes the usual agenda of the weekly call." for n in range(40)]
                + ["The harbour master ordered seven crates of lemons."]
                + [f"Minute {n} closes with the next date." for n in range(40, 60)])


def test_search_panel_indexes_and_finds_with_both_scores(demo: Demo, browser):  # noqa: F811
    open_dashboard(browser, demo, "dashboard-search-failed.png")
    browser.find_element(By.ID, "search-new").send_keys("panel")
    browser.find_element(By.ID, "search-create").click()
    wait_page(browser, lambda d: "Created panel" in d.find_element(By.ID, "search-status").text, 15,
              "the new collection confirmed", "dashboard-search-failed.png")
    browser.execute_script("document.getElementById('search-text').value = arguments[0];", TEXT)
    browser.find_element(By.ID, "search-doc-id").send_keys("minutes")
    browser.find_element(By.ID, "search-index").click()
    wait_page(browser, lambda d: "Indexed minutes as" in d.find_element(By.ID, "search-status").text, 30,
              "the text indexed", "dashboard-search-failed.png")
    browser.find_element(By.ID, "search-query").send_keys("harbour master lemons")
    browser.find_element(By.ID, "search-rerank").click()
    browser.find_element(By.ID, "search-run").click()
    wait_page(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "#search-results tr"), 30,
              "a hit row", "dashboard-search-failed.png")
    cells = [c.text for c in browser.find_elements(By.CSS_SELECTOR, "#search-results tr:first-child td")]
    browser.save_screenshot(str(ARTIFACTS / "dashboard-search.png"))
    assert cells[0] == "minutes" and int(cells[1]) > 0, cells
    assert float(cells[2]) > 0 and float(cells[3]) > 0, "search and rerank scores both shown"
    assert "seven crates of lemons" in cells[4]
