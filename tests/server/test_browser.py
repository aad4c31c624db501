"""The web app driven in a real headless Chromium (Debian's chromium + chromium-driver, through selenium):
fill the advisor form, ask a question and watch the streamed answer, open a report. Screenshots are kept in
test-artifacts/ for people to look at."""
from __future__ import annotations

import shutil
import threading
import time
from pathlib import Path

import pytest

from ragft.advise import Profile, advise
from report.sample_run import SCRIPT
from server.conftest import free_port

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"

try:
    import selenium  # noqa: F401
except ImportError:
    selenium = None

pytestmark = pytest.mark.skipif(
    not (CHROMIUM and CHROMEDRIVER and selenium),
    reason="browser tests need Debian's chromium and chromium-driver (apt-get install chromium chromium-driver) "
           "and selenium (pip install -e '.[dev]')",
)


@pytest.fixture(scope="module")
def base_url(index_path, runs_dir):
    import uvicorn

    from ragft.server.app import create_app

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(index_path, runs_dir), host="127.0.0.1", port=port,
                                           log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage", "--window-size=1280,1000", "--hide-scrollbars",
                 f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(executable_path=CHROMEDRIVER))
    driver.set_page_load_timeout(20)
    ARTIFACTS.mkdir(exist_ok=True)
    yield driver
    driver.quit()


def _wait(driver, condition, seconds: float = 10):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, seconds).until(condition)


def _screenshot(driver, name: str) -> Path:
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(1280, min(max(height, 800), 12000))
    path = ARTIFACTS / name
    driver.save_screenshot(str(path))
    driver.set_window_size(1280, 1000)
    return path


def test_filling_the_advisor_form_shows_the_traced_verdict(browser, base_url):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    browser.get(base_url + "/")
    browser.find_element(By.ID, "f-name").send_keys("Docs assistant")
    browser.find_element(By.ID, "f-knowledge_valid_months").send_keys("12")
    browser.find_element(By.ID, "f-latency_p95_s").send_keys("1.5")
    Select(browser.find_element(By.ID, "f-streaming_ok")).select_by_visible_text("yes")
    Select(browser.find_element(By.ID, "f-knowledge")).select_by_value("documents")
    Select(browser.find_element(By.ID, "f-hallucination_tolerance")).select_by_value("zero-tolerance")
    Select(browser.find_element(By.ID, "f-validation_available")).select_by_visible_text("yes")
    browser.find_element(By.ID, "advise-button").click()
    label = _wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, ".banner .label"))[0].text
    expected = advise(Profile(name="Docs assistant", knowledge_valid_months=12, latency_p95_s=1.5, streaming_ok=True,
                              knowledge="documents", hallucination_tolerance="zero-tolerance",
                              validation_available=True))
    assert label == expected.label
    rows = browser.find_elements(By.CSS_SELECTOR, "table.trace tbody tr")
    assert [r.find_element(By.TAG_NAME, "td").text for r in rows] == [s.question for s in expected.trace]
    assert _screenshot(browser, "advisor-verdict.png").stat().st_size > 10_000


def _ask(browser, base_url: str, question: str) -> None:
    """Type the question, press Ask, wait until the streaming script reports the answer done."""
    from selenium.webdriver.common.by import By

    browser.get(base_url + "/ask")
    browser.find_element(By.ID, "question").send_keys(question)
    browser.find_element(By.ID, "ask-button").click()
    _wait(browser, lambda d: "done" in d.find_element(By.ID, "status").get_attribute("class"))


def test_asking_streams_an_answer_with_its_citation(browser, base_url):
    from selenium.webdriver.common.by import By

    _ask(browser, base_url, "How do I create a virtual environment?")
    assert browser.current_url == base_url + "/ask"          # answered in place by the streaming script
    assert "python -m venv DIR" in browser.find_element(By.ID, "answer").text
    citations = browser.find_elements(By.CSS_SELECTOR, "#citations li")
    assert citations and citations[0].find_element(By.TAG_NAME, "b").text == "Virtual environments"
    assert _screenshot(browser, "ask-streamed.png").stat().st_size > 10_000


def test_hostile_document_text_is_shown_not_run(browser, base_url):
    from selenium.webdriver.common.by import By

    _ask(browser, base_url, "Markup in documents must be shown as text")
    assert SCRIPT in browser.find_element(By.ID, "citations").text
    assert browser.execute_script("return document.querySelectorAll('#result img, #result script').length") == 0


def test_a_report_opens_from_the_runs_list(browser, base_url):
    from selenium.webdriver.common.by import By

    browser.get(base_url + "/runs")
    _screenshot(browser, "runs.png")
    browser.find_element(By.LINK_TEXT, "sample-run").click()
    _wait(browser, lambda d: d.find_elements(By.ID, "measured"))
    assert browser.current_url == base_url + "/runs/sample-run"
    assert len(browser.find_elements(By.CSS_SELECTOR, ".chart svg")) == 3
    assert browser.find_elements(By.CSS_SELECTOR, "table.measured td.win")
    worst = browser.find_elements(By.CSS_SELECTOR, "#worst ~ details")[0]
    worst.find_element(By.TAG_NAME, "summary").click()
    assert worst.get_attribute("open") is not None
    assert browser.execute_script("return document.querySelectorAll('img, script').length") == 0
    assert _screenshot(browser, "report.png").stat().st_size > 10_000


def test_a_missing_run_is_a_clear_error_page(browser, base_url):
    from selenium.webdriver.common.by import By

    browser.get(base_url + "/runs/no-such-run")
    assert browser.find_element(By.TAG_NAME, "h1").text == "Not found"
    assert "no run 'no-such-run'" in browser.find_element(By.ID, "error-message").text
    assert _screenshot(browser, "error-404.png").stat().st_size > 5_000


def test_a_five_system_report_fits_a_1280_px_laptop_screen(browser, tmp_path):
    """The measured table with five systems and the notes a real run writes: no horizontal scrollbar at 1280 px
    and no row taller than a few lines."""
    from report.sample_run import FIVE_SYSTEMS, write_sample_run

    from ragft.report import load_run, render_html

    run = write_sample_run(tmp_path / "five", "five-systems", FIVE_SYSTEMS)
    page = tmp_path / "report.html"
    page.write_text(render_html(load_run(run)), encoding="utf-8")
    browser.set_window_size(1280, 1000)
    browser.get(page.as_uri())
    assert browser.execute_script("return window.innerWidth") == 1280
    headers = browser.execute_script(
        "return Array.from(document.querySelectorAll('table.measured th')).map(th => th.textContent)")
    assert [s.name for s in FIVE_SYSTEMS] == headers[1:6]
    assert browser.execute_script("return document.documentElement.scrollWidth") <= 1280
    heights = browser.execute_script("return Array.from(document.querySelectorAll('table.measured tbody tr'))"
                                     ".map(tr => tr.getBoundingClientRect().height)")
    assert len(heights) >= 5 and max(heights) < 200
    assert _screenshot(browser, "report-five-systems-1280.png").stat().st_size > 0
