"""`newsgen init` makes a site that builds at once; `newsgen new` writes an item that builds."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml
from bs4 import BeautifulSoup

from newsgen.cli import main
from newsgen.config import load_config

REPO = Path(__file__).resolve().parent.parent


def run(*argv) -> int:
    return main([str(a) for a in argv])


def build(site: Path, *extra) -> None:
    assert run("build", "--config", site / "site.toml", "-q", *extra) == 0


def front_matter(path: Path) -> dict:
    text = path.read_text(encoding="utf-8")
    assert text.startswith("---\n")
    return yaml.safe_load(text.split("---\n", 2)[1])


def article_titles(site: Path) -> dict[str, BeautifulSoup]:
    pages = {}
    for page in (site / "public" / "articles").glob("*/index.html"):
        soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
        pages[soup.select_one("h1.article-title").get_text(strip=True)] = soup
    return pages


@pytest.fixture
def site(tmp_path: Path) -> Path:
    root = tmp_path / "site"
    assert run("init", root, "-q") == 0
    return root


# -- init -----------------------------------------------------------------------

def test_init_makes_a_site_that_builds(site: Path):
    assert (site / "site.toml").is_file()
    assert (site / "content" / "about.md").is_file()
    samples = list((site / "seeds" / "content").rglob("*.md"))
    assert len(samples) == 1
    assert front_matter(samples[0])["source"] == "عينة"
    # The default templates stay in the package: nothing is copied.
    assert not any((site / "templates").glob("*.html"))

    build(site)
    public = site / "public"
    assert (public / "index.html").is_file()
    assert (public / "about" / "index.html").is_file()
    pages = article_titles(site)
    assert len(pages) == 1
    (soup,) = pages.values()
    assert soup.find("html")["dir"] == "rtl"
    assert [a.get_text() for a in soup.select(".meta-topics a")] == ["ثقافة"]


def test_init_copies_the_arabic_topic_set(site: Path):
    config = load_config(site / "site.toml")
    assert [t.key for t in config.topics] == ["politics", "defense", "economy", "sport", "culture", "technology",
                                              "health", "middle-east", "world", "general"]
    assert config.topic("economy").name == "اقتصاد"
    assert "البنك المركزي" in config.topic("economy").keywords
    assert config.timezone == "Asia/Damascus"
    template = REPO / "site.toml"
    if template.is_file():
        assert config.topics == load_config(template).topics


def test_init_title_and_base_url(tmp_path: Path):
    root = tmp_path / "news"
    title = 'صحيفة "الغد" \\ اليومية'
    assert run("init", root, "--title", title, "--base-url", "https://example.org/archive/",
               "--timezone", "Africa/Cairo", "-q") == 0
    config = load_config(root / "site.toml")
    assert config.title == title
    assert config.base_url == "https://example.org/archive/"
    assert config.timezone == "Africa/Cairo"
    build(root)
    home = (root / "public" / "index.html").read_text(encoding="utf-8")
    assert "https://example.org/archive/" in home


def test_init_refuses_a_folder_that_is_not_empty(tmp_path: Path, capsys):
    root = tmp_path / "busy"
    root.mkdir()
    (root / "notes.txt").write_text("keep me", encoding="utf-8")
    assert run("init", root) == 1
    err = capsys.readouterr().err
    assert "not empty" in err and "--force" in err and "Traceback" not in err
    assert sorted(p.name for p in root.iterdir()) == ["notes.txt"]

    assert run("init", root, "--force", "-q") == 0
    assert (root / "notes.txt").read_text(encoding="utf-8") == "keep me"
    build(root)


def test_init_in_an_empty_existing_folder(tmp_path: Path):
    root = tmp_path / "empty"
    root.mkdir()
    assert run("init", root, "-q") == 0
    build(root)


def test_init_refuses_a_file_and_a_bad_time_zone(tmp_path: Path, capsys):
    path = tmp_path / "file"
    path.write_text("x", encoding="utf-8")
    assert run("init", path) == 1
    assert "not a folder" in capsys.readouterr().err
    assert run("init", tmp_path / "new", "--timezone", "Nowhere/City") == 1
    assert "time zone" in capsys.readouterr().err
    assert not (tmp_path / "new").exists()


# -- new ------------------------------------------------------------------------

def new(site: Path, capsys, *args) -> Path:
    assert run("new", *args, "--config", site / "site.toml") == 0
    printed = capsys.readouterr().out.strip().splitlines()[-1]
    path = Path(printed)
    return path if path.is_absolute() else Path.cwd() / path


def test_new_writes_an_item_that_builds(site: Path, capsys):
    before = datetime.now(ZoneInfo("Asia/Damascus"))
    path = new(site, capsys, "وزير الاقتصاد يعلن خطة جديدة للاستثمار", "--topic", "economy")
    assert path.is_file() and path.suffix == ".md"
    assert path.is_relative_to(site / "seeds" / "content")
    meta = front_matter(path)
    assert meta["title"] == "وزير الاقتصاد يعلن خطة جديدة للاستثمار"
    assert meta["topics"] == ["اقتصاد"]
    assert meta["slug"] == "وزير-الاقتصاد-يعلن-خطة-جديدة-للاستثمار"
    date = meta["date"]
    assert isinstance(date, datetime) and date.utcoffset() is not None
    assert date.utcoffset() == ZoneInfo("Asia/Damascus").utcoffset(date.replace(tzinfo=None))
    assert abs(date - before) < timedelta(minutes=2)
    assert path.name.startswith(date.date().isoformat())

    build(site)
    pages = article_titles(site)
    soup = pages["وزير الاقتصاد يعلن خطة جديدة للاستثمار"]
    assert [a.get_text() for a in soup.select(".meta-topics a")] == ["اقتصاد"]
    assert datetime.fromisoformat(soup.select_one(".meta-date time")["datetime"]) == date


def test_new_never_overwrites(site: Path, capsys):
    first = new(site, capsys, "خبر مكرر")
    first.write_text(first.read_text(encoding="utf-8") + "\nنص كتبه المحرر.\n", encoding="utf-8")
    edited = first.read_bytes()
    second = new(site, capsys, "خبر مكرر")
    third = new(site, capsys, "خبر مكرر", "--format", "txt")
    assert len({first, second, third}) == 3
    assert second.stem.endswith("-2") and third.stem.endswith("-3")
    assert first.read_bytes() == edited
    assert run("build", "--config", site / "site.toml") == 0
    out = capsys.readouterr()
    assert "warning" not in out.err  # every copy has its own slug
    titles = [BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser").select_one("h1").get_text(strip=True)
              for page in (site / "public" / "articles").glob("*/index.html")]
    assert titles.count("خبر مكرر") == 3


def test_new_plain_text_breaking_item(site: Path, capsys):
    path = new(site, capsys, "انقطاع التيار الكهربائي عن العاصمة", "--format", "txt", "--breaking",
               "--topic", "صحة")
    assert path.suffix == ".txt"
    text = path.read_text(encoding="utf-8")
    assert "\nانقطاع التيار الكهربائي عن العاصمة\n" in text
    meta = front_matter(path)
    assert meta["breaking"] is True and meta["topics"] == ["صحة"]
    assert "title" not in meta  # the headline line is the title of a .txt item
    build(site)
    soup = article_titles(site)["انقطاع التيار الكهربائي عن العاصمة"]
    assert soup.select_one(".badge-large") is not None


def test_new_draft_is_not_published(site: Path, capsys):
    path = new(site, capsys, "مسودة لم تكتمل", "--draft")
    assert front_matter(path)["draft"] is True
    build(site)
    assert "مسودة لم تكتمل" not in article_titles(site)
    build(site, "--drafts")
    assert "مسودة لم تكتمل" in article_titles(site)


def test_new_reports_problems(site: Path, tmp_path: Path, capsys):
    assert run("new", "عنوان", "--config", tmp_path / "missing.toml") == 1
    assert "missing.toml" in capsys.readouterr().err
    assert run("new", "   ", "--config", site / "site.toml") == 1
    assert "title" in capsys.readouterr().err
    # An undeclared topic is allowed, with a note.
    path = new(site, capsys, "خبر عن الفضاء", "--topic", "فضاء")
    assert front_matter(path)["topics"] == ["فضاء"]
