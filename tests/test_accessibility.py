"""Accessibility of the sample archive in headless Chromium, checked by axe-core.

axe-core comes from the npm registry at a pinned version, installed on first use
into the tools cache outside the repository (npm_tools.py), and is injected into
each page with `page.add_script_tag`. Without npm the tests are skipped, except
under CI=true where that is a failure.
"""

from __future__ import annotations

import functools
import http.server
import threading
from pathlib import Path
from urllib.parse import quote

import pytest

from conftest import copy_sample_site
from newsgen.cli import main
from npm_tools import require_npm_file

pytestmark = pytest.mark.browser

AXE_VERSION = "4.14.1"
BUILD_TIME = "2025-09-13T10:00:00+03:00"
SEED_TITLE = "وصل وفد رسمي من وزارة الدفاع السورية إلى موسكو في زيارة رسمية."
BLOCKING = ("serious", "critical")


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def axe_script() -> Path:
    return require_npm_file("axe-core", AXE_VERSION, "axe.min.js")


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    site = copy_sample_site(tmp_path_factory.mktemp("a11y") / "site")
    assert main(["build", "--config", str(site / "site.toml"), "--quiet", "--build-time", BUILD_TIME]) == 0
    out = site / "public"
    # Served under base_url's path (/archive/), as 404.html's absolute links expect.
    root = site / "served"
    root.mkdir()
    (root / "archive").symlink_to(out, target_is_directory=True)
    handler = functools.partial(_QuietHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield out, f"http://127.0.0.1:{server.server_address[1]}/archive/"
    server.shutdown()


def seed_path(out: Path) -> str:
    for path in (out / "articles").glob("*/index.html"):
        text = path.read_text("utf-8")
        if SEED_TITLE in text.split("<h1", 1)[-1][:400]:
            return "articles/" + quote(path.parent.name) + "/"
    raise AssertionError("no page for the seed item")


PAGES = {
    "home": lambda out: "",
    "article": seed_path,
    "topic": lambda out: "topics/politics/",
    "archive": lambda out: "archive/",
    "archive month": lambda out: "archive/2024/11/",
    "404": lambda out: "404.html",
}

AXE_RUN = """async () => await axe.run(document, {
  resultTypes: ['violations', 'incomplete', 'passes'],
  runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice']},
})"""


def run_axe(browser, url: str, axe_script: Path, *, scheme: str = "light", width: int = 1280) -> dict:
    page = browser.new_page(viewport={"width": width, "height": 900}, color_scheme=scheme)
    try:
        response = page.goto(url, wait_until="load")
        assert response is not None
        page.evaluate("document.fonts.ready")
        page.add_script_tag(path=str(axe_script))
        return page.evaluate(AXE_RUN)
    finally:
        page.close()


def describe(violations: list[dict]) -> str:
    lines = []
    for v in violations:
        targets = [", ".join(n["target"]) for n in v["nodes"][:3]]
        lines.append(f"{v['impact']} {v['id']}: {v['help']} ({len(v['nodes'])} nodes, e.g. {targets})")
    return "\n".join(lines)


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("kind", list(PAGES))
def test_no_serious_or_critical_violations(browser, served, axe_script, kind, scheme):
    out, base = served
    results = run_axe(browser, base + PAGES[kind](out), axe_script, scheme=scheme)
    blocking = [v for v in results["violations"] if v["impact"] in BLOCKING]
    others = [v for v in results["violations"] if v["impact"] not in BLOCKING]
    if others:
        print(f"{kind} ({scheme}): minor and moderate findings:\n{describe(others)}")
    assert blocking == [], describe(blocking)
    # Colour contrast: no violation at all, and the rule did run on this page's text.
    assert [v for v in results["violations"] if v["id"] == "color-contrast"] == []
    assert "color-contrast" in {p["id"] for p in results["passes"]}
    for rule in ("html-has-lang", "html-lang-valid", "document-title"):
        assert rule in {p["id"] for p in results["passes"]}, rule


def test_narrow_screens_too(browser, served, axe_script):
    out, base = served
    for kind in ("home", "article"):
        results = run_axe(browser, base + PAGES[kind](out), axe_script, width=390)
        blocking = [v for v in results["violations"] if v["impact"] in BLOCKING]
        assert blocking == [], f"{kind}: " + describe(blocking)


LANGUAGE_AND_ORDER = """() => {
  const html = document.documentElement;
  const rows = (selector) => [...document.querySelectorAll(selector)].map((el) => {
    const r = el.getBoundingClientRect();
    return {text: el.textContent.trim(), top: Math.round(r.top), left: r.left, right: r.right};
  });
  return {
    lang: html.lang, dir: html.dir, direction: getComputedStyle(html).direction,
    bodyDirection: getComputedStyle(document.body).direction,
    nav: rows('.site-nav li'), crumbs: rows('.breadcrumb li'),
    main: document.querySelector('main').getBoundingClientRect().right,
    h1: (() => { const range = document.createRange(); range.selectNodeContents(document.querySelector('h1'));
                 const r = range.getBoundingClientRect(); const box = document.querySelector('h1').getBoundingClientRect();
                 return {right: r.right, left: r.left, boxRight: box.right, boxLeft: box.left}; })(),
  };
}"""


def in_rtl_order(items: list[dict]) -> bool:
    """On each visual row, items in DOM order run from right to left."""
    for earlier, later in zip(items, items[1:]):
        if abs(earlier["top"] - later["top"]) <= 4 and not later["right"] <= earlier["left"] + 1:
            return False
    return True


@pytest.mark.parametrize("kind", ["home", "article", "topic", "archive", "404"])
def test_language_and_right_to_left_reading_order(browser, served, kind):
    out, base = served
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    try:
        page.goto(base + PAGES[kind](out), wait_until="load")
        page.evaluate("document.fonts.ready")
        layout = page.evaluate(LANGUAGE_AND_ORDER)
        focus = []
        for _ in range(6):
            page.keyboard.press("Tab")
            focus.append(page.evaluate("""() => { const el = document.activeElement; const r = el.getBoundingClientRect();
                return {text: el.textContent.trim(), top: Math.round(r.top), left: r.left, right: r.right,
                        tag: el.tagName}; }"""))
    finally:
        page.close()
    assert (layout["lang"], layout["dir"], layout["direction"], layout["bodyDirection"]) == ("ar", "rtl", "rtl", "rtl")
    assert layout["nav"] and in_rtl_order(layout["nav"]), layout["nav"]
    assert layout["nav"][0]["text"] == "الرئيسية" and layout["nav"][0]["right"] >= max(i["right"] for i in layout["nav"])
    if layout["crumbs"]:
        assert in_rtl_order(layout["crumbs"]), layout["crumbs"]
    # The headline starts at the right edge of its box.
    h1 = layout["h1"]
    assert h1["boxRight"] - h1["right"] < 2 and h1["left"] - h1["boxLeft"] >= -1
    # Keyboard: the skip link first, then the header's links from right to left.
    assert focus[0]["text"] == "انتقل إلى المحتوى"
    links = [f for f in focus[1:] if f["tag"] == "A"]
    assert in_rtl_order(links), links
