"""Shared fixtures: the repository, the shared corpus, small sites, a real Chromium."""

from __future__ import annotations

import os
import shutil
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
ARTIFACTS = REPO / "test-artifacts"
CHROMIUM = Path(os.environ.get("NEWSGEN_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


def corpus_file() -> Path:
    """The shared corpus, or a skip (a failure under CI=true) with the reason."""
    folder = Path(os.environ.get("NEWSGEN_CORPUS", REPO.parent / "shared" / "corpus"))
    path = folder / "arabic-news.jsonl" if folder.is_dir() or not folder.suffix else folder
    if not path.is_file():
        reason = (f"the corpus is not at {path}; set NEWSGEN_CORPUS to the folder holding "
                  "arabic-news.jsonl")
        if in_ci():
            pytest.fail(reason + " (CI=true: a missing corpus is a failure)")
        pytest.skip(reason)
    return path


def write_site(root: Path, items: dict[str, str | bytes], *, config: str = "", pages: dict[str, str] | None = None) -> Path:
    """A small site in `root`: site.toml, the given items under items/, pages under content/."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "site.toml").write_text(textwrap.dedent(config) if config else textwrap.dedent("""\
        [site]
        title = "موقع الاختبار"
        base_url = "https://example.org/news/"
        timezone = "Asia/Riyadh"

        [content]
        items = ["items"]

        [build]
        output = "public"
        per_page = 2

        [[topic]]
        key = "economy"
        name = "اقتصاد"
        keywords = ["اقتصاد", "البنك المركزي", "التضخم"]

        [[topic]]
        key = "sport"
        name = "رياضة"
        keywords = ["مباراة", "الدوري", "منتخب"]
        """), encoding="utf-8")
    for name, body in items.items():
        path = root / "items" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(body, bytes):
            path.write_bytes(body)
        else:
            path.write_text(textwrap.dedent(body), encoding="utf-8")
    (root / "items").mkdir(exist_ok=True)
    for name, body in (pages or {}).items():
        path = root / "content" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(body), encoding="utf-8")
    return root


def copy_sample_site(target: Path) -> Path:
    """A copy of the repository's sample archive (site.toml, items, pages, templates) at `target`."""
    target.mkdir(parents=True, exist_ok=True)
    shutil.copy(REPO / "site.toml", target / "site.toml")
    for name in ("seeds", "content", "templates"):
        if (REPO / name).exists():
            shutil.copytree(REPO / name, target / name)
    return target


@pytest.fixture
def sample_site(tmp_path: Path) -> Path:
    """A copy of the repository's sample archive, safe to edit and build."""
    return copy_sample_site(tmp_path / "site")


@pytest.fixture(scope="session")
def browser():
    """A real headless Chromium through Playwright."""
    if not CHROMIUM.exists():
        reason = f"Chromium is not at {CHROMIUM}; install Debian's chromium package"
        if in_ci():
            pytest.fail(reason + " (CI=true: browser tests must run)")
        pytest.skip(reason)
    playwright_api = pytest.importorskip("playwright.sync_api")
    with playwright_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()
