"""The page in a real browser: headless Chromium from Debian's packages, driven by Selenium
(.ci/run installs chromium and chromium-driver when missing). It types a query, clicks a
facet, pages, opens an article and its explanation, uses the keyboard, and checks that a
hostile article runs nothing. Screenshots of each view go to a folder the test prints
(CORPUS_SEARCH_SCREENSHOTS=DIR keeps them there, as the README's picture was made)."""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.common.exceptions import NoAlertPresentException, StaleElementReferenceException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait
from test_serve import start
from test_web import HOSTILE_BODY, HOSTILE_TITLE

from corpus_search.indexer import update_index

from conftest import SAMPLE


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    base = tmp_path_factory.mktemp("browser")
    shutil.copytree(SAMPLE, base / "corpus")
    (base / "corpus" / "evil.txt").write_text(f"{HOSTILE_TITLE}\n\n{HOSTILE_BODY}\n", "utf-8")
    update_index(base / "index", [base / "corpus"])
    server = start(base / "index", "--http", "0")
    url = server.announced[0]
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1280,900",
        f"--user-data-dir={tempfile.mkdtemp()}",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(
        service=Service(shutil.which("chromedriver") or "/usr/bin/chromedriver"), options=options
    )
    shots = Path(os.environ.get("CORPUS_SEARCH_SCREENSHOTS") or base / "screenshots")
    shots.mkdir(parents=True, exist_ok=True)
    print(f"\nscreenshots: {shots}")
    try:
        yield driver, url, shots
    finally:
        driver.quit()
        server.terminate()
        server.wait(30)


def wait_text(driver, pattern: str):
    """Wait until the page's text matches (the limit only stops a hung test). While a form
    submit or a link loads the next page, the body found may belong to the page going away:
    a stale element is read again, not an error."""
    WebDriverWait(driver, 60, ignored_exceptions=(StaleElementReferenceException,)).until(
        lambda d: re.search(pattern, d.find_element(By.TAG_NAME, "body").text)
    )
    return driver.find_element(By.TAG_NAME, "body").text


def test_search_facet_page_article(browser):
    driver, url, shots = browser
    driver.get(url)
    box = driver.find_element(By.ID, "q")
    assert driver.switch_to.active_element == box  # the search box has the focus
    box.send_keys("sanctions", Keys.ENTER)
    text = wait_text(driver, r"\b5 hits\b")
    assert "Sanctions hit the Caspian ferry line" in text
    assert driver.find_elements(By.CSS_SELECTOR, "mark")  # matches marked
    driver.save_screenshot(str(shots / "search.png"))
    facet = driver.find_element(By.CSS_SELECTOR, "aside a[href*='author=']")
    facet.click()
    text = wait_text(driver, r"\b\d hits?\b")
    assert int(re.search(r"\b(\d) hits?\b", text).group(1)) < 5
    driver.save_screenshot(str(shots / "facet.png"))
    driver.get(url.split("?")[0] + "?q=*")  # the cookie keeps the token
    text = wait_text(driver, r"\d+ hits, page 1 of \d+")
    total, pages = map(int, re.search(r"(\d+) hits, page 1 of (\d+)", text).groups())
    assert total >= 42 and pages == -(-total // 20)  # every article of the sample, 20 a page
    driver.find_element(By.CSS_SELECTOR, "a[rel=next]").click()
    wait_text(driver, rf"page 2 of {pages}")
    driver.get(url.split("?")[0] + "?q=ferry")
    wait_text(driver, r"\b1 hit\b")
    driver.find_element(By.CSS_SELECTOR, "ol.hits h2 a").click()
    text = wait_text(driver, r"Aktau")
    assert driver.find_element(By.TAG_NAME, "h1").text == "Sanctions hit the Caspian ferry line"
    driver.save_screenshot(str(shots / "article.png"))
    driver.find_element(By.PARTIAL_LINK_TEXT, "what the cleaner removed").click()
    wait_text(driver, r"What the cleaner removed")
    assert "subscribe prompt" in driver.find_element(By.TAG_NAME, "body").text
    driver.save_screenshot(str(shots / "explain.png"))


def test_slash_focuses_the_search_box(browser):
    driver, url, _ = browser
    driver.get(url.split("?")[0] + "?q=grain")
    wait_text(driver, r"hits?")
    link = driver.find_element(By.CSS_SELECTOR, "ol.hits h2 a")
    link.send_keys("/")  # focus is on a link, not in a field: / moves it to the search box
    assert driver.switch_to.active_element.get_attribute("id") == "q"


def test_a_hostile_article_runs_nothing(browser):
    driver, url, shots = browser
    driver.get(url.split("?")[0] + "?q=grain")
    text = wait_text(driver, r"<script>alert\(1\)</script>")
    assert "onerror=alert(2)" in text
    with pytest.raises(NoAlertPresentException):
        driver.switch_to.alert.text  # noqa: B018 - no alert was opened
    driver.get(url.split("?")[0] + "article/evil.txt?q=grain")
    text = wait_text(driver, r"click")
    with pytest.raises(NoAlertPresentException):
        driver.switch_to.alert.text  # noqa: B018
    links = [a.get_attribute("href") or "" for a in driver.find_elements(By.TAG_NAME, "a")]
    assert not any(h.startswith("javascript:") for h in links)
    driver.save_screenshot(str(shots / "hostile.png"))


def test_analysis_views(browser):
    driver, url, shots = browser
    driver.get(url.split("?")[0] + "?q=sanctions")
    wait_text(driver, r"\b5 hits\b")
    driver.find_element(By.LINK_TEXT, "KWIC").click()
    wait_text(driver, r"occurrences in \d+ articles")
    driver.find_element(By.LINK_TEXT, "left").click()
    wait_text(driver, r"occurrences in")
    marks = [m.text.lower() for m in driver.find_elements(By.CSS_SELECTOR, "table.kwic mark")]
    assert marks and all(m.startswith("sanction") for m in marks)
    driver.save_screenshot(str(shots / "kwic.png"))
    driver.get(url.split("?")[0] + "view/reprints")
    wait_text(driver, r"1 cluster among")
    driver.find_element(By.PARTIAL_LINK_TEXT, "diff with the first").click()
    wait_text(driver, r"Aral|pike-perch")
    assert driver.find_elements(By.TAG_NAME, "ins") and driver.find_elements(By.TAG_NAME, "del")
    driver.save_screenshot(str(shots / "diff.png"))


VIEWS = {
    "search": "?q=sanctions",
    "filtered": "?q=*&source=PolitNavigator&lang=ru",
    "split": "?q=*&split=source",
    "article": "article/politnavigator/2023/aral-fishermen.txt?q=aral",
    "explain": "article/politnavigator/2023/aral-fishermen.txt?q=aral&explain=1",
    "kwic": "view/kwic?q=sanctions",
    "kwic-long": "view/kwic?q=the",
    "collocates": "view/collocates?q=sanctions",
    "reprints": "view/reprints",
    "reuse": "view/reuse",
    "keywords": "view/keywords?q=source%3APolitNavigator",
    "ngrams": "view/ngrams?q=*",
    "dispersion": "view/dispersion?q=sanctions",
    "facet": "view/facet/source?q=*",
    "watch": "view/watch",
    "reused-from": "view/reused-from/baltic-monitor/2023/aral-fishermen.md",
    "diff": "view/diff?a=politnavigator/2023/aral-fishermen.txt"
    "&b=baltic-monitor/2023/aral-fishermen.md&q=aral",
}


@pytest.mark.parametrize("width", [1920, 1280, 420])
def test_every_view_fits_the_window(browser, width):
    """No sideways scrolling at wide, desktop and phone widths, on every view (long KWIC
    contexts are cut, not the page); a screenshot of each at both widths."""
    driver, url, shots = browser
    driver.set_window_size(width, 900)
    try:
        base, token = url.split("?")
        for name, path in VIEWS.items():
            driver.get(base + path + ("&" if "?" in path else "?") + token)
            WebDriverWait(driver, 60).until(lambda d: d.title.startswith("corpus-search"))
            assert "no such" not in driver.title and "error" not in driver.title, name
            inner, scroll = driver.execute_script(
                "return [window.innerWidth, document.documentElement.scrollWidth]"
            )
            driver.save_screenshot(str(shots / f"{name}-{width}.png"))
            assert scroll <= inner, f"{name} at {width} px: {scroll} > {inner}"
    finally:
        driver.set_window_size(1280, 900)


def test_the_keyboard_reaches_the_box_the_filters_the_pages_and_the_analyses(browser):
    """Tab alone, from where the page puts the focus: the search box, the chip that removes a filter, the
    analyses, a timeline bar and the next page are each reached."""
    driver, url, _ = browser
    driver.get(url + "&q=*&lang=en")
    wait_text(driver, r"hits, page 1 of")
    reached = []  # from the search box, which has the focus when the page opens
    for _ in range(400):
        el = driver.switch_to.active_element
        reached.append(
            (el.tag_name, el.get_attribute("id") or "", el.get_dom_attribute("href") or "")
        )
        if el.get_attribute("rel") == "next":
            break
        el.send_keys(Keys.TAB)
    hrefs = [h for _, _, h in reached]
    assert ("input", "q", "") in reached
    assert any("/view/kwic" in h for h in hrefs)
    assert any("since=" in h and "until=" in h for h in hrefs)  # a timeline bar
    assert "/?q=%2A" in hrefs  # the chip that removes lang=en
    assert reached[-1][2] and "page=2" in reached[-1][2]


def test_no_serious_accessibility_violation_on_any_view(browser, axe_source):
    """axe-core, loaded from disk into the page, on every view at both widths: no violation
    of serious or critical impact (the rules axe applies by default)."""
    driver, url, _ = browser
    base, token = url.split("?")
    found = {}
    try:
        for width in (1280, 420):
            driver.set_window_size(width, 900)
            for name, path in VIEWS.items():
                driver.get(base + path + ("&" if "?" in path else "?") + token)
                WebDriverWait(driver, 60).until(lambda d: d.title.startswith("corpus-search"))
                result = _axe(driver, axe_source)
                assert result["passes"] > 10, name  # axe ran its rules on this view
                bad = [v for v in result["violations"] if v[1] in ("serious", "critical")]
                if bad:
                    found[f"{name} at {width}"] = bad
        # the check can fail: the search box without its label is a critical violation
        driver.get(base + "?q=grain&" + token)
        WebDriverWait(driver, 60).until(lambda d: d.title.startswith("corpus-search"))
        driver.execute_script(
            "document.querySelector('label[for=q]').remove();"
            "document.getElementById('q').removeAttribute('placeholder')"
        )
        assert "label" in [v[0] for v in _axe(driver, axe_source)["violations"]]
    finally:
        driver.set_window_size(1280, 900)
    assert not found, found


def _axe(driver, source: str) -> dict:
    driver.execute_script(source)
    return driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document).then(r => done({passes: r.passes.length, violations: "
        "r.violations.map(v => [v.id, v.impact, v.nodes.length, v.nodes[0].html])}));"
    )


def test_a_kwic_line_opens_its_article_scrolled_to_that_occurrence(browser):
    driver, url, shots = browser
    driver.get(url + "&q=the")
    driver.get(url.split("?")[0] + "view/kwic?q=the&sort=right")
    wait_text(driver, r"occurrences in")
    rows = driver.find_elements(By.CSS_SELECTOR, "table.kwic tr")
    deep = [r for r in rows if "#m-" in r.find_element(By.TAG_NAME, "a").get_dom_attribute("href")]
    row = max(
        deep,
        key=lambda r: int(
            r.find_element(By.TAG_NAME, "a").get_dom_attribute("href").rsplit("-", 1)[1]
        ),
    )  # the occurrence furthest down its article
    match = row.find_element(By.TAG_NAME, "mark").text
    row.find_element(By.TAG_NAME, "a").click()
    WebDriverWait(driver, 60).until(lambda d: "/article/" in d.current_url)
    target = driver.execute_script(
        "const m = document.querySelector(':target'); if (!m) return null;"
        "const r = m.getBoundingClientRect();"
        "return [m.textContent, r.top, r.bottom, window.innerHeight, window.scrollY];"
    )
    assert target, driver.current_url
    text, top, bottom, height, _ = target
    assert text == match and 0 <= top and bottom <= height  # in sight, the line's match
    driver.save_screenshot(str(shots / "kwic-target.png"))


def test_a_range_dragged_across_the_timeline_narrows_the_search(browser):
    """Press on one bar, release on another: the search keeps the hits from the first bar's
    period to the last's, as many as the bars between them hold."""
    from selenium.webdriver.common.action_chains import ActionChains

    driver, url, _ = browser
    driver.get(url + "&q=*&source=PolitNavigator")
    wait_text(driver, r"hits")
    bars = driver.find_elements(By.CSS_SELECTOR, "figure.timeline a")
    counts = [
        int(re.search(r": (\d+) hits?", b.get_dom_attribute("aria-label")).group(1)) for b in bars
    ]
    nonzero = [i for i, c in enumerate(counts) if c]
    first, last = nonzero[1], nonzero[-2]  # a span inside the timeline, from right to left
    want = sum(counts[first : last + 1])
    assert 0 < want < sum(counts)
    start = re.search(r"since=([\d-]+)", bars[first].get_dom_attribute("href")).group(1)
    end = re.search(r"until=([\d-]+)", bars[last].get_dom_attribute("href")).group(1)
    ActionChains(driver).click_and_hold(bars[last]).move_to_element(bars[first]).release().perform()
    WebDriverWait(driver, 60).until(lambda d: "until=" in d.current_url)
    assert f"since={start}" in driver.current_url and f"until={end}" in driver.current_url
    text = wait_text(driver, r"\d+ hits?")
    assert int(re.search(r"(\d+) hits?", text).group(1)) == want
    # a click on one bar is still that bar's own link
    bar = driver.find_elements(By.CSS_SELECTOR, "figure.timeline a")[0]
    href = bar.get_dom_attribute("href")
    bar.click()
    WebDriverWait(driver, 60).until(lambda d: d.current_url.endswith(href))
