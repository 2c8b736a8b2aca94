"""End-to-end: build real Arabic sites and inspect the output as a reader's browser would."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from urllib.parse import unquote, urljoin, urlparse

import feedparser
import pytest
from bs4 import BeautifulSoup

from conftest import write_site, copy_sample_site
from newsgen.cli import main

SEED_TITLE = "وصل وفد رسمي من وزارة الدفاع السورية إلى موسكو في زيارة رسمية."


def build(site: Path, *extra: str) -> int:
    return main(["build", "--config", str(site / "site.toml"), "--quiet", *extra])


def soup(path: Path) -> BeautifulSoup:
    return BeautifulSoup(path.read_text("utf-8"), "html.parser")


def html_files(out: Path) -> list[Path]:
    return sorted(out.rglob("*.html"))


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def built_sample(tmp_path_factory) -> Path:
    site = copy_sample_site(tmp_path_factory.mktemp("sample"))
    assert build(site) == 0
    return site / "public"


def seed_page(out: Path) -> Path:
    for path in (out / "articles").glob("*/index.html"):
        h1 = soup(path).find_all("h1")
        if h1 and h1[0].get_text(strip=True) == SEED_TITLE:
            return path
    raise AssertionError("the seed item's page is missing")


def test_seed_page(built_sample):
    page = soup(seed_page(built_sample))
    assert [h.get_text(strip=True) for h in page.find_all("h1")] == [SEED_TITLE]
    assert [h.get_text(strip=True) for h in page.select("article h2")][:2] == [
        "عاجل.. وصول وفد رسمي من وزارة الدفاع السورية إلى موسكو", "زيارة دفاعية سورية روسية لتعزيز الشراكات"]
    assert "عاجل" in page.find("main").get_text()
    assert "غير مؤرخ" in page.find("main").get_text()


def test_seed_is_listed_under_politics_and_defense(built_sample):
    for key in ("politics", "defense"):
        titles = [a.get_text(strip=True) for a in soup(built_sample / "topics" / key / "index.html").select("main a")]
        pages = sorted((built_sample / "topics" / key).glob("page/*/index.html"))
        for extra in pages:
            titles += [a.get_text(strip=True) for a in soup(extra).select("main a")]
        assert SEED_TITLE in titles, key


def test_every_page_is_arabic_right_to_left(built_sample):
    pages = html_files(built_sample)
    assert len(pages) > 40
    for path in pages:
        html = soup(path).find("html")
        assert html.get("lang") == "ar" and html.get("dir") == "rtl", path


def test_every_internal_link_and_asset_resolves(built_sample):
    missing = []
    for path in html_files(built_sample):
        if path.name == "404.html":
            continue  # links there are absolute under base_url's path; checked below
        page_url = "file://" + path.as_posix()
        for tag, attr in (("a", "href"), ("link", "href"), ("img", "src"), ("script", "src")):
            for element in soup(path).find_all(tag):
                target = element.get(attr)
                if not target or target.startswith(("#", "mailto:")) or urlparse(target).scheme in ("http", "https"):
                    continue
                resolved = Path(unquote(urlparse(urljoin(page_url, target)).path))
                if resolved.is_dir():
                    resolved = resolved / "index.html"
                if not resolved.exists():
                    missing.append(f"{path.relative_to(built_sample)} -> {target}")
    assert missing == []


def test_404_links_are_absolute_under_the_base_path(built_sample):
    links = [a["href"] for a in soup(built_sample / "404.html").find_all("a") if a.get("href")]
    internal = [l for l in links if not l.startswith(("http", "#"))]
    assert internal and all(l.startswith("/archive/") for l in internal)
    for link in internal:
        target = built_sample / unquote(link[len("/archive/"):])
        assert target.exists() or (target / "index.html").exists(), link


def test_canonical_feed_sitemap_and_robots(built_sample):
    page = soup(seed_page(built_sample))
    canonical = page.find("link", rel="canonical")["href"]
    assert canonical.startswith("https://example.org/archive/articles/")
    feed = feedparser.parse((built_sample / "feed.xml").read_bytes())
    assert not feed.bozo and len(feed.entries) >= 10
    assert all(e.link.startswith("https://example.org/archive/articles/") for e in feed.entries)
    topic_feed = feedparser.parse((built_sample / "topics/economy/feed.xml").read_bytes())
    assert not topic_feed.bozo and topic_feed.entries
    sitemap = (built_sample / "sitemap.xml").read_text("utf-8")
    assert sitemap.count("<loc>") > 40 and "https://example.org/archive/topics/politics/" in sitemap
    assert "Sitemap: https://example.org/archive/sitemap.xml" in (built_sample / "robots.txt").read_text()


def test_pretty_urls_archives_pagination_and_standing_pages(built_sample):
    assert (built_sample / "archive/2024/11/index.html").exists()
    assert (built_sample / "archive/2024/index.html").exists()
    assert (built_sample / "archive/undated/index.html").exists()
    assert (built_sample / "topics/politics/index.html").exists()
    assert (built_sample / "about/index.html").exists()
    assert (built_sample / "404.html").exists()
    assert (built_sample / "topics/بيئة/index.html").exists()
    assert (built_sample / "topics/general/index.html").exists()
    assert list((built_sample / "assets").glob("*.css"))


def test_two_builds_give_identical_bytes(sample_site):
    assert build(sample_site) == 0
    first = snapshot(sample_site / "public")
    assert build(sample_site) == 0
    assert snapshot(sample_site / "public") == first


def test_drafts_only_with_the_flag(sample_site):
    assert build(sample_site) == 0
    count = len(list((sample_site / "public/articles").iterdir()))
    assert build(sample_site, "--drafts") == 0
    assert len(list((sample_site / "public/articles").iterdir())) == count + 1


BAD_ITEMS = {
    "malformed YAML": ("a.md", "---\ntitle: [unclosed\n---\n", "items/a.md:3: malformed YAML"),
    "unclosed front matter": ("a.md", "---\ntitle: x\n", "items/a.md:1: the front matter opened on line 1 is never closed"),
    "missing title": ("a.md", "---\ndate: 2024-01-01\n---\nنص\n", "items/a.md:1: the item has no title"),
    "bad date": ("a.md", "---\ntitle: x\ndate: 14/05/2024\n---\n", "items/a.md:3: `date` '14/05/2024' is not a date"),
    "topics of the wrong type": ("a.md", "---\ntitle: x\ntopics: 5\n---\n", "items/a.md:3: `topics` must be a list"),
    "invalid UTF-8": ("a.txt", b"\xd8\xb9\xff\n", "items/a.txt:1: invalid UTF-8"),
    "empty file": ("a.md", b"", "items/a.md:1: the file is empty"),
    "binary .md": ("a.md", bytes(range(256)), "items/a.md:1: this is a binary file"),
    "escaping slug": ("a.md", "---\ntitle: x\nslug: ../../x\n---\n", "items/a.md:3: `slug` '../../x' is not allowed"),
}


@pytest.mark.parametrize("case", list(BAD_ITEMS))
def test_bad_input_fails_cleanly_and_keeps_the_previous_output(tmp_path, case):
    name, body, expected = BAD_ITEMS[case]
    site = write_site(tmp_path, {"good.md": "---\ntitle: خبر سليم\n---\nنص.\n"})
    assert build(site) == 0
    before = snapshot(site / "public")
    bad = site / "items" / name
    bad.write_bytes(body if isinstance(body, bytes) else body.encode())
    result = subprocess.run([sys.executable, "-m", "newsgen.cli", "build", "--config", str(site / "site.toml")],
                            capture_output=True, text=True, cwd=site)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert expected in result.stderr
    assert snapshot(site / "public") == before
    assert not (site / "x").exists() and not (tmp_path / "x").exists()
    assert [p.name for p in site.iterdir() if p.name.startswith(".public")] == []


def test_all_errors_are_reported_together(tmp_path):
    site = write_site(tmp_path, {"a.md": "", "b.md": "---\ntitle: x\n", "c.md": "---\ntitle: x\ndate: no\n---\n"})
    result = subprocess.run([sys.executable, "-m", "newsgen.cli", "build", "--config", str(site / "site.toml")],
                            capture_output=True, text=True)
    assert result.returncode == 1
    assert [l.split(":")[0] for l in result.stderr.splitlines()[:3]] == ["items/a.md", "items/b.md", "items/c.md"]
    assert "build failed with 3 errors" in result.stderr


def test_duplicate_slugs_and_unknown_keys_warn_but_build(tmp_path):
    site = write_site(tmp_path, {"a.md": "---\ntitle: نفس العنوان\ndate: 2024-01-01\n---\nنص\n",
                                 "b.md": "---\ntitle: نفس العنوان\ndate: 2024-02-01\nsumary: x\n---\nنص\n"})
    result = subprocess.run([sys.executable, "-m", "newsgen.cli", "build", "--config", str(site / "site.toml")],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "items/b.md: warning: slug «نفس-العنوان» is also used by items/a.md" in result.stderr
    assert "items/b.md:4: warning: unknown front matter key `sumary`; did you mean `summary`?" in result.stderr
    assert (site / "public/articles/نفس-العنوان/index.html").exists()
    assert (site / "public/articles/نفس-العنوان-2/index.html").exists()
    assert "built 2 items" in result.stdout and "2 warnings" in result.stdout


def test_a_foreign_output_folder_is_never_replaced(tmp_path):
    site = write_site(tmp_path, {"a.md": "---\ntitle: خبر\n---\nنص\n"})
    precious = tmp_path / "precious"
    precious.mkdir()
    (precious / "thesis.txt").write_text("do not lose me")
    assert build(site, "--output", str(precious)) == 1
    assert (precious / "thesis.txt").read_text() == "do not lose me"


def test_quiet_prints_nothing_and_summary_otherwise(tmp_path):
    site = write_site(tmp_path, {"a.md": "---\ntitle: خبر\n---\nنص\n"})
    command = [sys.executable, "-m", "newsgen.cli", "build", "--config", str(site / "site.toml")]
    quiet = subprocess.run(command + ["--quiet"], capture_output=True, text=True)
    assert quiet.returncode == 0 and quiet.stdout == "" and quiet.stderr == ""
    loud = subprocess.run(command, capture_output=True, text=True)
    assert loud.stdout.startswith("built 1 items, 1 undated,") and " s -> " in loud.stdout


@pytest.mark.parametrize("style, expected", [("latin", "the-port"), ("id", "port-news")])
def test_slug_styles(tmp_path, style, expected):
    site = write_site(tmp_path, {"2024-01-02-port-news.md": "---\ntitle: The Port\n---\nنص\n"}, config=f"""\
        [site]
        title = "x"
        [content]
        items = ["items"]
        [build]
        slugs = "{style}"
        """)
    assert build(site) == 0
    assert (site / "public" / "articles" / expected / "index.html").exists()


def test_links_work_from_a_sub_path(built_sample):
    # Relative links: every href on a deep page climbs back to the site root, never to "/".
    page = soup(built_sample / "archive/2024/11/index.html")
    hrefs = [a["href"] for a in page.find_all("a") if a.get("href")]
    assert hrefs and not [h for h in hrefs if h.startswith("/")]


def test_version_and_help():
    out = subprocess.run([sys.executable, "-m", "newsgen.cli", "--version"], capture_output=True, text=True)
    assert out.stdout.startswith("newsgen ")
    # `python -m newsgen` is the command too, for a Python whose scripts are not on PATH.
    module = subprocess.run([sys.executable, "-m", "newsgen", "--version"], capture_output=True, text=True)
    assert module.returncode == 0 and module.stdout == out.stdout
    help_text = subprocess.run([sys.executable, "-m", "newsgen.cli", "build", "--help"],
                               capture_output=True, text=True).stdout
    for option in ("--config", "--output", "--drafts", "--quiet", "--verbose"):
        assert option in help_text


def test_a_site_template_overrides_the_theme(built_sample):
    assert "أرشيف تجريبي: أخباره عينات متخيلة" in (built_sample / "index.html").read_text("utf-8")


def test_template_errors_are_reported_with_file_and_line(tmp_path):
    site = write_site(tmp_path, {"a.md": "---\ntitle: خبر\n---\nنص\n"})
    (site / "templates").mkdir()
    (site / "templates" / "article.html").write_text('{% extends "base.html" %}\n{% block content %}\n{{ article.nope }}\n{% endblock %}\n')
    result = subprocess.run([sys.executable, "-m", "newsgen.cli", "build", "--config", str(site / "site.toml")],
                            capture_output=True, text=True)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "\ntemplates/article.html:3: template error" in "\n" + result.stderr
    (site / "templates" / "article.html").write_text('{% extends "base.html" %}\n{% block content %\n')
    result = subprocess.run([sys.executable, "-m", "newsgen.cli", "build", "--config", str(site / "site.toml")],
                            capture_output=True, text=True)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "\ntemplates/article.html:2: template syntax error" in "\n" + result.stderr


def test_a_site_card_and_header_are_used_on_every_page_that_shows_them(sample_site):
    partials = sample_site / "templates" / "partials"
    (partials / "article_card.html").write_text(
        '<article class="own-card" data-level="{{ card_level|default(2) }}">{{ article.title }}</article>\n', "utf-8")
    (partials / "header.html").write_text('<header class="own-header">{{ page.kind }}</header>\n', "utf-8")
    assert build(sample_site) == 0
    out = sample_site / "public"
    topic = soup(out / "topics" / "politics" / "index.html")
    assert topic.select(".own-card") and not topic.select("article.card")
    assert {c["data-level"] for c in topic.select(".own-card")} == {"2"}
    assert len(topic.select(".cards-list > li")) == len(topic.select(".cards-list > li > .own-card"))
    home = soup(out / "index.html")
    assert home.select(".own-card") and {c["data-level"] for c in home.select(".own-card")} == {"3"}
    assert soup(out / "archive" / "2024" / "index.html").select(".own-card")
    assert soup(seed_page(out)).select_one(".own-header").get_text() == "article"


def _sample_renderer(tmp_path: Path):
    from newsgen.build import load_site
    from newsgen.config import load_config
    from newsgen.errors import Diagnostics
    from newsgen.render import SiteRenderer
    site = copy_sample_site(tmp_path / "site")
    config = load_config(site / "site.toml")
    model = load_site(config, Diagnostics())
    return SiteRenderer(model, config, related={}), model


def test_an_article_view_holds_the_body_without_a_copy(tmp_path):
    from markupsafe import Markup
    renderer, model = _sample_renderer(tmp_path)
    article = model.articles[0]
    view = renderer.views[article.slug]
    assert view.article is article and "body_html" not in vars(view)
    assert isinstance(view.body_html, Markup) and view.body_html == article.body_html
    page = renderer.render_article(article.slug).data.decode("utf-8")
    assert article.body_html in page


def test_remembered_dates_keep_the_zone_each_was_written_in(tmp_path):
    from datetime import datetime, timedelta, timezone
    renderer, _ = _sample_renderer(tmp_path)
    isodate, date = renderer.renderer.env.filters["isodate"], renderer.renderer.env.filters["date"]
    utc = datetime(2024, 11, 5, 21, 30, tzinfo=timezone.utc)
    same_instant = utc.astimezone(timezone(timedelta(hours=3)))
    assert utc == same_instant
    assert isodate(utc) == "2024-11-05T21:30:00+00:00"
    assert isodate(same_instant) == "2024-11-06T00:30:00+03:00"
    assert isodate(utc) == "2024-11-05T21:30:00+00:00"
    assert date(utc) == date(same_instant)  # both shown on the site's calendar day
    assert isodate(None) == ""


def test_page_and_site_read_as_attributes_and_as_items(tmp_path):
    from newsgen.render import TemplateDict
    renderer, _ = _sample_renderer(tmp_path)
    template = renderer.renderer.env.from_string(
        "{{ page.title }}|{{ page['title'] }}|{{ page.nope is defined }}|{{ site.title }}|{{ page.items() | list | length }}")
    page = TemplateDict(title="عنوان")
    assert template.render(page=page, site=renderer.site) == f"عنوان|عنوان|False|{renderer.site['title']}|1"
    assert page == {"title": "عنوان"} and not hasattr(page, "nope")


@pytest.mark.parametrize("hijri", [False, True])
def test_the_card_written_out_in_lists_matches_the_card_partial(tmp_path, hijri):
    """list.html writes the theme's card out; a site's copy of the partial is included instead.
    Both must give the same bytes, so the two stay in step."""
    from newsgen.render import THEME
    outputs = []
    for name in ("theme", "copy"):
        site = copy_sample_site(tmp_path / name)
        if hijri:
            config = site / "site.toml"
            config.write_text(config.read_text("utf-8").replace("[site]\n", "[site]\nhijri = true\n", 1), "utf-8")
        if name == "copy":
            (site / "templates" / "partials" / "article_card.html").write_bytes(
                (THEME / "templates" / "partials" / "article_card.html").read_bytes())
        assert build(site) == 0
        outputs.append(snapshot(site / "public"))
    theme, copy = outputs
    lists = [p for p in theme if p.startswith(("topics/", "archive/")) and p.endswith("index.html")]
    assert len(lists) > 5 and any("<article class=\"card" in theme[p].decode("utf-8") for p in lists)
    assert {p: theme[p] for p in lists} == {p: copy[p] for p in lists}


@pytest.mark.parametrize("hijri", [False, True])
def test_the_dates_written_out_on_article_pages_match_the_when_macro(tmp_path, hijri):
    """article.html writes the markup of its `when` macro out for the item's own date and for
    its related items' dates; the "updated" line still calls the macro. All three must agree."""
    from dataclasses import replace

    from newsgen.config import load_config
    from newsgen.render import SiteRenderer
    _, model = _sample_renderer(tmp_path)
    config = load_config(tmp_path / "site" / "site.toml")
    first, second = [a for a in model.articles if a.date][:2]
    renderer = SiteRenderer(model, replace(config, hijri=hijri), related={second.slug: (first.slug,)})
    renderer.views[second.slug] = replace(renderer.views[second.slug], updated=first.date)

    def markup(elements) -> str:
        return "".join(str(e) for e in elements if getattr(e, "name", None) in ("time", "span"))

    own = BeautifulSoup(renderer.render_article(first.slug).data, "html.parser")
    other = BeautifulSoup(renderer.render_article(second.slug).data, "html.parser")
    written_out = markup(own.select_one("li.meta-date").contents)
    related = next(li for li in other.select(".more-list li") if li.a and li.a.get_text() == first.title)
    assert "<time" in written_out and ("date-hijri" in written_out) == hijri
    assert markup(related.contents) == written_out
    assert markup(other.select_one("li.meta-updated").contents) == written_out  # the macro's markup


def test_the_url_filter_gives_what_the_url_function_gives(tmp_path):
    from newsgen.config import load_config
    from newsgen.render import Renderer
    site = copy_sample_site(tmp_path / "site")
    (site / "templates" / "links.html").write_text(
        "{% macro inside(p) %}{{ url(p) }} {{ p|url }}{% endmacro %}"
        "{% for p in paths %}{{ url(p) }} {{ p|url }}\n{{ inside(p) }}\n{% endfor %}", "utf-8")
    renderer = Renderer(load_config(site / "site.toml"))
    paths = ["", "topics/", "articles/خبر/", "assets/style.css", "feed.xml"]
    for page in ("", "articles/خبر/", "topics/economy/page/2/", "404.html"):
        lines = renderer.render("links.html", page, {"paths": paths}).decode("utf-8").splitlines()
        assert len(lines) == 2 * len(paths)
        assert all(function == given for function, given in (line.split(" ") for line in lines)), (page, lines)
