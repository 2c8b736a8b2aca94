"""Golden files: one rendered page of each kind, compared byte for byte.

After an intended change to templates or rendering, regenerate them with
`NEWSGEN_UPDATE_GOLDEN=1 python -m pytest tests/test_golden.py` and review the diff.
"""

from __future__ import annotations

import difflib
import os
from pathlib import Path

import pytest

from conftest import copy_sample_site
from newsgen.cli import main

GOLDEN = Path(__file__).parent / "golden"
PAGES = {
    "home.html": "index.html",
    "article-seed.html": "articles/وصل-وفد-رسمي-من-وزارة-الدفاع-السورية-إلى-موسكو-في-زيارة-رسمية/index.html",
    "article-markdown.html": "articles/central-bank-rates/index.html",
    "topic.html": "topics/politics/index.html",
    "topic-page-1.html": "topics/politics/page/1/index.html",
    "archive.html": "archive/index.html",
    "archive-year.html": "archive/2024/index.html",
    "archive-month.html": "archive/2024/11/index.html",
    "undated.html": "archive/undated/index.html",
    "topics.html": "topics/index.html",
    "standing-page.html": "about/index.html",
    "404.html": "404.html",
    "feed.xml": "feed.xml",
}


@pytest.fixture(scope="module")
def output(tmp_path_factory) -> Path:
    site = copy_sample_site(tmp_path_factory.mktemp("golden"))
    assert main(["build", "--config", str(site / "site.toml"), "--quiet"]) == 0
    return site / "public"


@pytest.mark.parametrize("name", list(PAGES))
def test_page_matches_its_golden_file(output, name):
    actual = (output / PAGES[name]).read_text("utf-8")
    golden = GOLDEN / name
    if os.environ.get("NEWSGEN_UPDATE_GOLDEN") == "1":
        GOLDEN.mkdir(exist_ok=True)
        golden.write_text(actual, "utf-8")
    expected = golden.read_text("utf-8")
    if actual != expected:
        diff = "".join(difflib.unified_diff(expected.splitlines(True), actual.splitlines(True),
                                            f"golden/{name}", PAGES[name], n=2))
        pytest.fail(f"{PAGES[name]} differs from its golden file:\n{diff[:4000]}")
