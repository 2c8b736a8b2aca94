"""`newsgen serve` in a real browser: live reload, the error overlay and stylesheet swaps.

Runs the sample archive of this repository through `python -m newsgen.cli serve` and
watches an open Chromium tab react to edits, without touching the tab.
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import quote

import pytest

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parents[1]
SEED = Path("seeds/content/000_a32ecea6be25f2b2.txt")
SEED_TITLE = "وصل وفد رسمي من وزارة الدفاع السورية إلى موسكو في زيارة رسمية."
NEW_TITLE = "وصل وفد عسكري من وزارة الدفاع السورية إلى موسكو في زيارة رسمية ثانية."
RELOAD_BUDGET_MS = 2000


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _status(port: int) -> dict | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/__newsgen/status", timeout=2) as response:
            return json.loads(response.read())
    except OSError:
        return None


@pytest.fixture
def sample_site(tmp_path: Path) -> Path:
    site = tmp_path / "site"
    site.mkdir()
    shutil.copy2(REPO / "site.toml", site / "site.toml")
    for folder in ("seeds", "content", "templates", "static"):
        if (REPO / folder).is_dir():
            shutil.copytree(REPO / folder, site / folder)
    return site


@pytest.fixture
def served(sample_site: Path, tmp_path: Path):
    """The sample site under `python -m newsgen.cli serve`: (site, base URL, its stdout log)."""
    port = _free_port()
    log = (tmp_path / "serve.out").open("w"), (tmp_path / "serve.err").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "newsgen.cli", "serve", "--config", "site.toml", "--port", str(port)],
        cwd=sample_site, stdout=log[0], stderr=log[1], env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        deadline = time.monotonic() + 30
        while not (_status(port) or {}).get("build"):
            assert process.poll() is None, (tmp_path / "serve.err").read_text()
            assert time.monotonic() < deadline, "the preview did not start"
            time.sleep(0.05)
        yield sample_site, f"http://127.0.0.1:{port}", tmp_path / "serve.out"
    finally:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
        for handle in log:
            handle.close()
    err = (tmp_path / "serve.err").read_text()
    assert "Traceback" not in err, err


@pytest.fixture
def tabs(browser):
    """A fresh browser context per test: its tabs close with it."""
    context = browser.new_context()
    yield context
    context.close()


def _article_url(site: Path, title: str) -> str:
    for page in (site / "public" / "articles").glob("*/index.html"):
        found = re.search(r'<h1 class="article-title"[^>]*>(.*?)</h1>', page.read_text("utf-8"), re.S)
        if found and html.unescape(found.group(1)).strip() == title:
            return f"/articles/{quote(page.parent.name)}/"
    raise AssertionError(f"no article titled {title!r} in the output")


def test_open_tab_follows_edits_errors_and_stylesheets(tabs, served):
    from playwright.sync_api import expect

    site, base, log = served

    def within_budget(check, what: str) -> None:
        """Run an expectation; if it times out, say how long the rebuilds themselves took."""
        try:
            check()
        except AssertionError as exc:
            rebuilds = re.findall(r"rebuilt in [\d.]+ s[^\n]*", log.read_text(encoding="utf-8"))
            raise AssertionError(f"{what} not shown within {RELOAD_BUDGET_MS} ms; "
                                 f"rebuilds so far: {rebuilds}") from exc
    seed = site / SEED
    original = seed.read_text(encoding="utf-8")
    assert original.splitlines()[0] == "عاجل: " + SEED_TITLE

    page = tabs.new_page()
    page.goto(base + _article_url(site, SEED_TITLE))
    headline = page.locator("h1.article-title")
    expect(headline).to_have_text(SEED_TITLE)
    page.wait_for_function("window.__newsgenPreview && window.__newsgenPreview.source "
                           "&& window.__newsgenPreview.source.readyState === 1")

    # A new headline shows up by itself (the item moves to its new address with it).
    edited = original.replace(SEED_TITLE, NEW_TITLE, 1)
    started = time.monotonic()
    seed.write_text(edited, encoding="utf-8")
    within_budget(lambda: expect(headline).to_have_text(NEW_TITLE, timeout=RELOAD_BUDGET_MS), "the new headline")
    assert (time.monotonic() - started) * 1000 < RELOAD_BUDGET_MS + 250
    assert page.url == base + _article_url(site, NEW_TITLE)

    # Broken front matter: the overlay names the file and line, the last good page stays.
    seed.write_text("---\ntitle: [unclosed\n---\n" + edited, encoding="utf-8")
    overlay = page.locator("#newsgen-error-overlay")
    messages = overlay.locator("pre")
    within_budget(lambda: expect(messages).to_contain_text(
        re.compile(r"seeds/content/000_a32ecea6be25f2b2\.txt:\d+: "), timeout=RELOAD_BUDGET_MS), "the error overlay")
    expect(overlay.locator("h2")).to_have_text("تعذّر بناء الموقع")
    expect(overlay.locator(".box")).to_have_attribute("dir", "rtl")
    expect(messages).to_have_attribute("dir", "ltr")
    expect(headline).to_have_text(NEW_TITLE)

    # A tab opened while the build is broken shows the overlay too.
    late = tabs.new_page()
    late.goto(base + "/")
    expect(late.locator("#newsgen-error-overlay pre")).to_contain_text("000_a32ecea6be25f2b2.txt:")
    late.close()

    # The next good save clears it and the page is right.
    seed.write_text(edited, encoding="utf-8")
    within_budget(lambda: expect(overlay).to_have_count(0, timeout=RELOAD_BUDGET_MS), "the fixed page")
    expect(headline).to_have_text(NEW_TITLE)

    # A stylesheet change applies without a navigation.
    before = page.evaluate("getComputedStyle(document.querySelector('h1.article-title')).color")
    assert before != "rgb(12, 34, 56)"
    page.evaluate("window.__marker = 'still here'")
    theme_css = (site / "public" / "assets" / "style.css").read_text(encoding="utf-8")
    (site / "static").mkdir(exist_ok=True)
    (site / "static" / "style.css").write_text(theme_css + "\n.article-title { color: rgb(12, 34, 56); }\n",
                                               encoding="utf-8")
    within_budget(lambda: page.wait_for_function(
        "getComputedStyle(document.querySelector('h1.article-title')).color === 'rgb(12, 34, 56)'",
        timeout=RELOAD_BUDGET_MS), "the new stylesheet")
    assert page.evaluate("window.__marker") == "still here"
    page.wait_for_function("document.querySelectorAll('link[rel~=stylesheet]').length === 1")


def test_tab_reconnects_when_the_server_comes_back(tabs, sample_site):
    from playwright.sync_api import expect

    port = _free_port()
    command = [sys.executable, "-m", "newsgen.cli", "serve", "--config", "site.toml", "--port", str(port), "-q"]

    def start() -> subprocess.Popen:
        process = subprocess.Popen(command, cwd=sample_site, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while not (_status(port) or {}).get("build"):
            assert process.poll() is None and time.monotonic() < deadline
            time.sleep(0.05)
        return process

    process = start()
    try:
        page = tabs.new_page()
        page.goto(f"http://127.0.0.1:{port}/")
        page.wait_for_function("window.__newsgenPreview && window.__newsgenPreview.source "
                               "&& window.__newsgenPreview.source.readyState === 1")
        page.evaluate("window.__marker = 1")
        process.terminate()
        process.wait(timeout=5)
        # While the server is away, an edit lands; when it is back the tab catches up.
        about = sample_site / "content" / "about.md"
        about.write_text(about.read_text(encoding="utf-8").replace("title:", "title: إعادةالاتصال", 1), encoding="utf-8")
        process = start()
        page.wait_for_function("window.__marker === undefined", timeout=10_000)
        expect(page.locator("body")).to_contain_text("إعادةالاتصال")
    finally:
        process.terminate()
        process.wait(timeout=5)


def test_the_search_page_finds_once_the_index_of_a_first_build_is_written(tabs, sample_site, monkeypatch):
    """serve shows a first build's pages before its search index is written: the search page
    says it cannot load the index until then, and finds in the same tab after."""
    import threading

    import newsgen.search
    from newsgen.cli import Console
    from newsgen.serve import PreviewServer

    written = threading.Event()
    write = newsgen.search.write_search_index
    monkeypatch.setattr(newsgen.search, "write_search_index", lambda *a, **k: written.wait(30) and write(*a, **k))
    server = PreviewServer(sample_site / "site.toml", host="127.0.0.1", port=0, console=Console(quiet=True))
    server.start()
    try:
        page = tabs.new_page()
        page.goto(server.url + "search/")

        def search(query: str) -> tuple[str, int]:
            page.evaluate("() => { document.getElementById('search').dataset.state = 'waiting'; }")
            page.fill("#search-q", query)
            page.click(".search-button")
            page.wait_for_function("() => ['done', 'error'].includes(document.getElementById('search').dataset.state)",
                                   timeout=20000)
            return page.eval_on_selector("#search", "e => e.dataset.state"), page.locator(".search-result").count()

        assert not (sample_site / "public" / "pagefind").exists()
        assert search("الدفاع") == ("error", 0)
        assert "تعذّر تحميل فهرس البحث" in page.inner_text("#search-status")
        written.set()
        server.preview.builder.wait()
        state, results = search("الدفاع")
        assert state == "done" and results > 0
    finally:
        written.set()
        server.stop()
        server.preview.builder.close()
