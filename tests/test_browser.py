"""The sample archive in a real headless Chromium: right-to-left layout, screenshots kept."""

from __future__ import annotations

import functools
import http.server
import threading
from pathlib import Path
from urllib.parse import quote

import pytest

from conftest import ARTIFACTS, copy_sample_site
from newsgen.cli import main

pytestmark = pytest.mark.browser
SEED_TITLE = "وصل وفد رسمي من وزارة الدفاع السورية إلى موسكو في زيارة رسمية."


@pytest.fixture(scope="module")
def served_sample(tmp_path_factory):
    site = copy_sample_site(tmp_path_factory.mktemp("browser-site"))
    assert main(["build", "--config", str(site / "site.toml"), "--quiet"]) == 0
    handler = functools.partial(QuietHandler, directory=str(site / "public"))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield site / "public", f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def seed_url(out: Path, base: str) -> str:
    for path in (out / "articles").glob("*/index.html"):
        if "<h1" in (text := path.read_text("utf-8")) and SEED_TITLE in text.split("<h1", 1)[1][:400]:
            return base + "articles/" + quote(path.parent.name) + "/"
    raise AssertionError("no page for the seed item")


LAYOUT = """() => {
  const h1 = document.querySelector('h1');
  const range = document.createRange();
  range.selectNodeContents(h1);
  const text = range.getBoundingClientRect();
  const box = h1.getBoundingClientRect();
  return {
    htmlDir: getComputedStyle(document.documentElement).direction,
    lang: document.documentElement.lang,
    bodyDir: getComputedStyle(document.body).direction,
    h1Dir: getComputedStyle(h1).direction,
    h1Align: getComputedStyle(h1).textAlign,
    textRight: text.right, textLeft: text.left, boxRight: box.right, boxLeft: box.left,
    scrollWidth: document.documentElement.scrollWidth, viewport: window.innerWidth,
    fontFamily: getComputedStyle(document.body).fontFamily,
  };
}"""


@pytest.mark.parametrize("width", [1280, 390])
@pytest.mark.parametrize("which", ["home", "seed"])
def test_pages_are_laid_out_right_to_left(browser, served_sample, which, width):
    out, base = served_sample
    url = base if which == "home" else seed_url(out, base)
    page = browser.new_page(viewport={"width": width, "height": 900})
    try:
        page.goto(url, wait_until="load")
        layout = page.evaluate(LAYOUT)
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"{which}-{width}.png"), full_page=True)
    finally:
        page.close()
    assert layout["lang"] == "ar"
    assert layout["htmlDir"] == layout["bodyDir"] == layout["h1Dir"] == "rtl"
    # The headline starts at the right edge of its box; a short one leaves room on the left.
    assert abs(layout["textRight"] - layout["boxRight"]) <= 2, layout
    assert layout["textLeft"] >= layout["boxLeft"] - 1, layout
    # Nothing pushes the page sideways on a phone.
    assert layout["scrollWidth"] <= layout["viewport"] + 1, layout


def test_seed_headline_text_and_breaking_badge_render(browser, served_sample):
    out, base = served_sample
    page = browser.new_page()
    try:
        page.goto(seed_url(out, base))
        assert page.locator("h1").inner_text().strip() == SEED_TITLE
        assert page.get_by_text("عاجل", exact=True).first.is_visible()
        fonts_ok = page.evaluate("document.fonts.ready.then(() => document.fonts.check('20px \"Noto Naskh Arabic\"', 'سلام'))")
        assert fonts_ok
    finally:
        page.close()
