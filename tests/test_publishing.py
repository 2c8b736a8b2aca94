"""Publishing-grade output: JSON-LD, OpenGraph and Twitter cards, feeds in three formats, sitemaps."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import xml.etree.ElementTree as ElementTree
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from pathlib import Path
from urllib.parse import unquote, urljoin, urlparse

import feedparser
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from bs4 import BeautifulSoup

from conftest import write_site, copy_sample_site
from newsgen.cli import main
from newsgen.config import load_config
from newsgen.feeds import news_sitemaps, parse_build_time, resolve_build_time, sitemaps
from newsgen.model import Article, SiteModel
from newsgen.structured import json_for_html

BASE = "https://example.org/archive/"
# 14 hours after the newest item of the sample archive (2025-09-12 20:00 in Damascus).
BUILD_TIME = "2025-09-13T10:00:00+03:00"
SM = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
NEWS = "{http://www.google.com/schemas/sitemap-news/0.9}"


def build(site: Path, *extra: str) -> int:
    return main(["build", "--config", str(site / "site.toml"), "--quiet", *extra])


def soup(path: Path) -> BeautifulSoup:
    return BeautifulSoup(path.read_text("utf-8"), "html.parser")


def graph(page: BeautifulSoup) -> list[dict]:
    scripts = page.find_all("script", type="application/ld+json")
    nodes = []
    for script in scripts:
        data = json.loads(script.string)
        assert data["@context"] == "https://schema.org"
        nodes += data.get("@graph", [data])
    return nodes


def node(page: BeautifulSoup, kind: str) -> dict:
    found = [n for n in graph(page) if n.get("@type") == kind]
    assert len(found) == 1, (kind, [n.get("@type") for n in graph(page)])
    return found[0]


def meta(page: BeautifulSoup, key: str) -> list[str]:
    return [m["content"] for m in page.find_all("meta") if m.get("property") == key or m.get("name") == key]


def crumbs(page: BeautifulSoup) -> list[str]:
    return [item["name"] for item in node(page, "BreadcrumbList")["itemListElement"]]


@pytest.fixture(scope="module")
def sample(tmp_path_factory) -> tuple[Path, Path]:
    site = copy_sample_site(tmp_path_factory.mktemp("publishing") / "site")
    assert build(site, "--build-time", BUILD_TIME) == 0
    return site, site / "public"


@pytest.fixture(scope="module")
def out(sample) -> Path:
    return sample[1]


@pytest.fixture(scope="module")
def model(sample):
    from newsgen.build import load_site
    from newsgen.errors import Diagnostics
    return load_site(load_config(sample[0] / "site.toml"), Diagnostics())


def article_page(out: Path, article) -> BeautifulSoup:
    return soup(out / "articles" / article.slug / "index.html")


# -- JSON-LD, OpenGraph, Twitter --------------------------------------------------------


def test_every_article_carries_news_article_json_ld(out, model):
    for article in model.articles:
        page = article_page(out, article)
        item = node(page, "NewsArticle")
        canonical = page.find("link", rel="canonical")["href"]
        assert item["headline"] == article.title == page.find("h1").get_text(strip=True)
        assert item["inLanguage"] == "ar"
        assert item["mainEntityOfPage"]["@id"] == canonical == BASE + article.url
        assert item["url"] == canonical
        assert item["author"] and all(a["name"] for a in item["author"])
        if article.author:
            assert item["author"] == [{"@type": "Person", "name": article.author}]
        publisher = item["publisher"]
        assert publisher["name"] == "أرشيف الأخبار التجريبي" and publisher["logo"]["url"] == BASE + "assets/logo.svg"
        assert item["image"] and item["image"][0]["url"].startswith(BASE)
        topics = {t.key: t.name for t in model.topics}
        sections = item["articleSection"] if isinstance(item["articleSection"], list) else [item["articleSection"]]
        assert sections == [topics[k] for k in article.topic_keys]
        if article.date is None:
            assert "datePublished" not in item
        else:
            assert datetime.fromisoformat(item["datePublished"]) == article.date
            assert re.search(r"[+-]\d\d:\d\d$", item["datePublished"]), "the date needs its offset"
            assert datetime.fromisoformat(item["dateModified"]) == (article.updated or article.date)
        if article.summary:
            assert item["description"] == article.summary


def test_undated_items_simply_omit_date_published(out, model):
    undated = [a for a in model.articles if a.date is None]
    assert undated
    for article in undated:
        page = article_page(out, article)
        item = node(page, "NewsArticle")
        assert "datePublished" not in item and "dateModified" not in item
        assert meta(page, "article:published_time") == []


def test_article_opengraph_twitter_canonical_and_description(out, model):
    article = next(a for a in model.articles if a.date and a.summary)
    page = article_page(out, article)
    canonical = page.find("link", rel="canonical")["href"]
    assert canonical == BASE + article.url
    assert meta(page, "description") == [article.summary]
    assert meta(page, "og:type") == ["article"]
    assert meta(page, "og:title") == [article.title]
    assert meta(page, "og:url") == [canonical]
    assert meta(page, "og:description") == [article.summary]
    assert meta(page, "og:site_name") == ["أرشيف الأخبار"]
    assert meta(page, "og:locale") == ["ar_AR"]
    assert meta(page, "twitter:card") == ["summary"]  # no image of its own, and an SVG logo cannot be a card
    assert meta(page, "twitter:title") == [article.title]
    assert meta(page, "og:image") == []
    assert datetime.fromisoformat(meta(page, "article:published_time")[0]) == article.date
    assert crumbs(page)[0] == "الرئيسية" and crumbs(page)[-1] == article.title


def test_list_and_index_pages_carry_collection_pages_and_breadcrumbs(out, model):
    topic = soup(out / "topics/politics/index.html")
    collection = node(topic, "CollectionPage")
    assert collection["@id"] == BASE + "topics/politics/"
    assert crumbs(topic) == ["الرئيسية", "الأقسام", "سياسة"]
    listed = [e["url"] for e in collection["mainEntity"]["itemListElement"]]
    shown = [urljoin(BASE + "topics/politics/", a["href"]) for a in topic.select("main .card-title a")]
    assert listed == shown and listed
    month = soup(out / "archive/2024/11/index.html")
    assert crumbs(month)[:3] == ["الرئيسية", "الأرشيف", "أرشيف ٢٠٢٤"] and len(crumbs(month)) == 4
    assert [i["item"] for i in node(month, "BreadcrumbList")["itemListElement"]] == [
        BASE, BASE + "archive/", BASE + "archive/2024/", BASE + "archive/2024/11/"]
    assert crumbs(soup(out / "archive/2024/index.html")) == ["الرئيسية", "الأرشيف", "أرشيف ٢٠٢٤"]
    assert crumbs(soup(out / "archive/undated/index.html")) == ["الرئيسية", "الأرشيف", "أخبار غير مؤرخة"]
    assert crumbs(soup(out / "topics/index.html")) == ["الرئيسية", "الأقسام"]
    assert node(soup(out / "topics/index.html"), "CollectionPage")["hasPart"]
    assert crumbs(soup(out / "archive/index.html")) == ["الرئيسية", "الأرشيف"]
    standing = soup(out / "about/index.html")
    assert node(standing, "WebPage")["url"] == BASE + "about/"
    home = soup(out / "index.html")
    assert node(home, "WebSite")["url"] == BASE
    assert node(home, "Organization")["logo"]["url"] == BASE + "assets/logo.svg"
    not_found = soup(out / "404.html")
    assert graph(not_found) == [] and meta(not_found, "robots") == ["noindex"]


def test_list_positions_count_from_the_oldest_item_as_pages_do(tmp_path):
    items = {f"{i:02d}.md": f"---\ntitle: خبر رقم {i}\ndate: 2024-01-{i:02d}\ntopics: [economy]\n---\nنص.\n"
             for i in range(1, 8)}
    site = write_site(tmp_path, items)  # two items a page: pages 1 and 2, then the newest three
    assert build(site) == 0

    def listed(page):
        return [(e["position"], e["name"]) for e in node(page, "CollectionPage")["mainEntity"]["itemListElement"]]

    second = soup(site / "public/topics/economy/page/2/index.html")
    assert listed(second) == [(4, "خبر رقم 4"), (3, "خبر رقم 3")]
    assert crumbs(second) == ["الرئيسية", "الأقسام", "اقتصاد", "الصفحة 2"]
    newest = soup(site / "public/topics/economy/index.html")
    assert listed(newest) == [(7, "خبر رقم 7"), (6, "خبر رقم 6"), (5, "خبر رقم 5")]
    assert crumbs(newest) == ["الرئيسية", "الأقسام", "اقتصاد"]


def test_the_default_logo_ships_and_a_site_logo_replaces_it(out, tmp_path):
    logo = out / "assets/logo.svg"
    assert logo.is_file() and ElementTree.parse(logo).getroot().tag.endswith("svg")
    site = write_site(tmp_path, {"a.md": "---\ntitle: خبر\ndate: 2024-01-01\n---\nنص.\n"})
    config = (site / "site.toml").read_text("utf-8").replace(
        'timezone = "Asia/Riyadh"', 'timezone = "Asia/Riyadh"\nlogo = "assets/brand.png"')
    (site / "site.toml").write_text(config, "utf-8")
    (site / "static").mkdir()
    (site / "static/brand.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    assert build(site) == 0
    page = soup(next((site / "public/articles").glob("*/index.html")))
    assert node(page, "NewsArticle")["publisher"]["logo"]["url"] == "https://example.org/news/assets/brand.png"
    assert meta(page, "og:image") == ["https://example.org/news/assets/brand.png"]  # a raster logo can be shared


def test_an_item_image_becomes_the_share_image(tmp_path):
    site = write_site(tmp_path, {"a.md": "---\ntitle: خبر بصورة\ndate: 2024-01-01\nimage: assets/p.jpg\n"
                                         "image_alt: رصيف الميناء\n---\nنص.\n"})
    assert build(site) == 0
    page = soup(next((site / "public/articles").glob("*/index.html")))
    image = node(page, "NewsArticle")["image"][0]
    assert image == {"@type": "ImageObject", "url": "https://example.org/news/assets/p.jpg", "caption": "رصيف الميناء"}
    assert meta(page, "og:image") == ["https://example.org/news/assets/p.jpg"]
    assert meta(page, "og:image:alt") == ["رصيف الميناء"]
    assert meta(page, "twitter:card") == ["summary_large_image"]


@pytest.mark.parametrize("written, shared, shown", [
    # A leading slash names the site's root, not the host's: the site is published under /news/.
    ("/assets/p.jpg", "https://example.org/news/assets/p.jpg", "../../assets/p.jpg"),
    ("assets/./x/../p.jpg", "https://example.org/news/assets/p.jpg", "../../assets/p.jpg"),
    # A URL without a scheme of its own is shared with one.
    ("//cdn.example.org/p.jpg", "https://cdn.example.org/p.jpg", "https://cdn.example.org/p.jpg"),
    ("https://cdn.example.org/p.jpg", "https://cdn.example.org/p.jpg", "https://cdn.example.org/p.jpg"),
])
def test_an_item_image_is_a_path_from_the_sites_root_or_a_url(tmp_path, written, shared, shown):
    site = write_site(tmp_path, {"a.md": f"---\ntitle: خبر بصورة\ndate: 2024-01-01\nimage: {written}\n"
                                         "image_alt: رصيف الميناء\n---\nنص.\n"})
    assert build(site) == 0
    page = soup(next((site / "public/articles").glob("*/index.html")))
    assert meta(page, "og:image") == [shared]
    assert node(page, "NewsArticle")["image"][0]["url"] == shared
    assert page.select_one("figure.article-image img")["src"] == shown


HOSTILE = '</script><script>alert("x")</script> & <!-- «عاجل»'


def test_json_ld_cannot_be_broken_out_of(tmp_path):
    site = write_site(tmp_path, {"a.md": f"---\ntitle: '{HOSTILE}'\ndate: 2024-01-01\nsummary: '<b>ملخص</b> & </SCRIPT>'\n"
                                         "author: '</script>'\n---\nنص.\n"})
    assert build(site) == 0
    path = next((site / "public/articles").glob("*/index.html"))
    text = path.read_text("utf-8")
    start = text.index('<script type="application/ld+json">') + len('<script type="application/ld+json">')
    body = text[start:text.index("</script>", start)]
    assert not re.search(r"[<>&]", body)
    item = next(n for n in json.loads(body)["@graph"] if n["@type"] == "NewsArticle")
    assert item["headline"] == HOSTILE
    assert item["description"] == "<b>ملخص</b> & </SCRIPT>"
    assert item["author"] == [{"@type": "Person", "name": "</script>"}]
    page = soup(path)
    assert [s.get("type") for s in page.find_all("script")] == ["application/ld+json"]


def test_json_for_html_escapes_what_html_would_read():
    text = json_for_html({"t": "</script><!--&'\"\u2028"})
    assert str(text) == '{"t":"\\u003c/script\\u003e\\u003c!--\\u0026\'\\"\\u2028"}'
    assert json.loads(str(text)) == {"t": "</script><!--&'\"\u2028"}


# -- feeds ------------------------------------------------------------------------------


def feed_lists(model) -> list[tuple[str, list]]:
    lists = [("", list(model.articles))]
    lists += [(t.url, [model.by_slug[s] for s in t.article_slugs]) for t in model.topics]
    return lists


def expected_entries(articles, limit: int = 20) -> list:
    return [a for a in articles if a.date is not None][:limit]


def test_every_atom_and_rss_feed_parses_with_the_expected_entries(out, model):
    checked = 0
    for folder, articles in feed_lists(model):
        expected = expected_entries(articles)
        for name, version in (("feed.xml", "atom10"), ("rss.xml", "rss20")):
            feed = feedparser.parse((out / folder / name).read_bytes())
            assert not feed.bozo, (folder, name, feed.get("bozo_exception"))
            assert feed.version == version
            assert len(feed.entries) == len(expected), (folder, name)
            assert [e.title for e in feed.entries] == [a.title for a in expected]
            for entry, article in zip(feed.entries, expected):
                assert unquote(entry.link) == BASE + article.url
                assert datetime(*entry.published_parsed[:6], tzinfo=timezone.utc) == article.date
            checked += 1
    assert checked == 2 * (1 + len(model.topics))


def test_rss_dates_are_rfc_822_with_offsets(out, model):
    text = (out / "rss.xml").read_text("utf-8")
    dates = re.findall(r"<pubDate>([^<]+)</pubDate>", text)
    expected = expected_entries(model.articles)
    assert len(dates) == len(expected)
    for written, article in zip(dates, expected):
        assert re.fullmatch(r"(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) "
                            r"\d{4} \d\d:\d\d:\d\d [+-]\d{4}", written), written
        assert parsedate_to_datetime(written) == article.date
    assert re.search(r"<lastBuildDate>[^<]+ [+-]\d{4}</lastBuildDate>", text)


def check_json_feed(path: Path, title: str, expected: list) -> dict:
    """The JSON Feed 1.1 rules (feedparser does not read JSON Feed)."""
    feed = json.loads(path.read_text("utf-8"))
    assert feed["version"] == "https://jsonfeed.org/version/1.1"
    assert feed["title"] == title
    assert feed["home_page_url"].startswith("https://") and feed["feed_url"].startswith("https://")
    assert unquote(feed["feed_url"]).endswith(path.name)
    assert feed["language"] == "ar"
    assert len(feed["items"]) == len(expected)
    for item, article in zip(feed["items"], expected):
        assert isinstance(item["id"], str) and item["id"]
        assert unquote(item["url"]) == BASE + article.url
        assert item["title"] == article.title
        assert "content_html" in item or "content_text" in item
        assert datetime.fromisoformat(item["date_published"]) == article.date
        assert re.search(r"[+-]\d\d:\d\d$", item["date_published"])
        if "authors" in item:
            assert all(a["name"] for a in item["authors"])
    return feed


def test_every_json_feed_follows_json_feed_1_1(out, model):
    for folder, articles in feed_lists(model):
        topic = model.topic(folder.split("/")[1]) if folder else None
        title = f"{topic.name} — أرشيف الأخبار" if topic else "أرشيف الأخبار"
        check_json_feed(out / folder / "feed.json", title, expected_entries(articles))


def test_every_page_links_its_feeds_in_the_head(out):
    for path, folders in (("index.html", [""]), ("topics/economy/index.html", ["", "topics/economy/"]),
                          ("archive/2024/index.html", [""])):
        page = soup(out / path)
        links = page.head.find_all("link", rel="alternate")
        assert [l["type"] for l in links] == ["application/atom+xml", "application/rss+xml",
                                              "application/feed+json"] * len(folders)
        for link in links:
            target = urlparse(urljoin("file://" + (out / path).as_posix(), link["href"])).path
            assert Path(unquote(target)).is_file(), link["href"]


RELATIVE = ("---\ntitle: خبر بروابط\ndate: 2024-02-02T10:00:00+03:00\ntopics: [economy]\n---\n"
            "اقرأ [الخبر الآخر](../other/) و[الأقسام](../../topics/) و[مرجع](#note) و[بريد](mailto:a@example.org).\n\n"
            "![صورة الميناء](../../assets/port.jpg)\n")


def test_relative_links_in_feed_items_become_absolute(tmp_path):
    site = write_site(tmp_path, {"a.md": RELATIVE, "b.md": "---\ntitle: الآخر\nslug: other\ndate: 2024-01-01\n---\nنص.\n"})
    assert build(site) == 0
    out = site / "public"
    article = "https://example.org/news/articles/" + next(p.name for p in (out / "articles").iterdir()
                                                           if p.name != "other") + "/"
    wanted = ["https://example.org/news/articles/other/", "https://example.org/news/topics/", article + "#note",
              "mailto:a@example.org"]
    atom = feedparser.parse((out / "feed.xml").read_bytes())
    rss = feedparser.parse((out / "rss.xml").read_bytes())
    json_item = json.loads((out / "feed.json").read_text("utf-8"))["items"][0]
    for content in (atom.entries[0].content[0].value, rss.entries[0].content[0].value, json_item["content_html"]):
        body = BeautifulSoup(content, "html.parser")
        assert [unquote(a["href"]) for a in body.find_all("a")] == wanted
        assert [i["src"] for i in body.find_all("img")] == ["https://example.org/news/assets/port.jpg"]


def test_summary_feeds_carry_no_full_text(tmp_path):
    site = write_site(tmp_path, {"a.md": RELATIVE})
    (site / "site.toml").write_text((site / "site.toml").read_text("utf-8") + '\n[feeds]\ncontent = "summary"\n', "utf-8")
    assert build(site) == 0
    out = site / "public"
    atom = (out / "feed.xml").read_text("utf-8")
    assert "<summary>" in atom and "<content" not in atom
    rss = (out / "rss.xml").read_text("utf-8")
    assert "<description>" in rss and "content:encoded>" not in rss
    item = json.loads((out / "feed.json").read_text("utf-8"))["items"][0]
    assert "content_html" not in item and item["content_text"] == item["summary"]
    for name in ("feed.xml", "rss.xml"):
        assert not feedparser.parse((out / name).read_bytes()).bozo


def test_rss_and_json_feeds_can_be_turned_off(tmp_path):
    site = write_site(tmp_path, {"a.md": RELATIVE})
    (site / "site.toml").write_text((site / "site.toml").read_text("utf-8") + "\n[feeds]\nrss = false\njson = false\n",
                                    "utf-8")
    assert build(site) == 0
    out = site / "public"
    assert (out / "feed.xml").is_file() and not list(out.rglob("rss.xml")) and not list(out.rglob("feed.json"))
    assert [l["type"] for l in soup(out / "index.html").find_all("link", rel="alternate")] == ["application/atom+xml"]


def test_a_wrong_feed_setting_names_its_key(tmp_path):
    site = write_site(tmp_path, {"a.md": RELATIVE})
    (site / "site.toml").write_text((site / "site.toml").read_text("utf-8") + '\n[feeds]\ncontent = "everything"\n',
                                    "utf-8")
    result = subprocess.run([sys.executable, "-m", "newsgen.cli", "build", "--config", str(site / "site.toml")],
                            capture_output=True, text=True)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "`feeds.content` must be one of 'full', 'summary', not 'everything'" in result.stderr


# -- sitemaps ---------------------------------------------------------------------------


def test_news_sitemap_lists_the_last_48_hours(out, model):
    root = ElementTree.parse(out / "sitemap-news.xml").getroot()
    assert root.tag == SM + "urlset"
    urls = root.findall(SM + "url")
    recent = [a for a in model.articles if a.date and timedelta(0) <= parse_build_time(BUILD_TIME, None) - a.date
              <= timedelta(hours=48)]
    assert len(urls) == len(recent) == 1
    entry, article = urls[0], recent[0]
    assert unquote(entry.findtext(SM + "loc")) == BASE + article.url
    news = entry.find(NEWS + "news")
    assert news.findtext(f"{NEWS}publication/{NEWS}name") == "أرشيف الأخبار التجريبي"
    assert news.findtext(f"{NEWS}publication/{NEWS}language") == "ar"
    assert datetime.fromisoformat(news.findtext(NEWS + "publication_date")) == article.date
    assert news.findtext(NEWS + "title") == article.title
    assert "sitemap-news.xml" in (out / "robots.txt").read_text("utf-8")


def test_sitemap_urls_are_percent_encoded(out):
    text = (out / "sitemap.xml").read_text("utf-8")
    locs = re.findall(r"<loc>([^<]+)</loc>", text)
    assert locs and all(l.isascii() and " " not in l for l in locs)
    assert BASE + "topics/%D8%A8%D9%8A%D8%A6%D8%A9/" in locs  # topics/بيئة/


def news_items(site: Path) -> list[str]:
    root = ElementTree.parse(site / "public/sitemap-news.xml").getroot()
    return [n.findtext(NEWS + "title") for n in root.iter(NEWS + "news")]


WINDOW_ITEMS = {
    "old.md": "---\ntitle: قبل يومين وساعة\ndate: 2024-05-10T08:00:00+03:00\n---\nنص.\n",
    "recent.md": "---\ntitle: قبل يوم\ndate: 2024-05-11T09:00:00+03:00\n---\nنص.\n",
    "later.md": "---\ntitle: بعد وقت البناء\ndate: 2024-05-12T10:00:00+03:00\n---\nنص.\n",
}


def test_the_build_time_comes_from_the_command_line_or_source_date_epoch(tmp_path, monkeypatch):
    site = write_site(tmp_path, WINDOW_ITEMS)
    at = datetime(2024, 5, 12, 9, 0, tzinfo=timezone(timedelta(hours=3)))
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(int(at.timestamp())))
    assert build(site) == 0
    assert news_items(site) == ["قبل يوم"]
    first = {p.relative_to(site / "public"): p.read_bytes() for p in (site / "public").rglob("*") if p.is_file()}
    assert build(site, "--build-time", "2024-05-12T10:30:00+03:00") == 0  # the option wins over the variable
    assert news_items(site) == ["بعد وقت البناء", "قبل يوم"]
    assert build(site, "--build-time", "2024-05-12T10:30:00") == 0  # no offset: the site's time zone (+03:00)
    assert news_items(site) == ["بعد وقت البناء", "قبل يوم"]
    second = {p.relative_to(site / "public"): p.read_bytes() for p in (site / "public").rglob("*") if p.is_file()}
    assert first.keys() == second.keys()
    # The news sitemap changed, and the output's marker with it (it holds a digest of the files).
    assert sorted(str(p) for p in first if first[p] != second[p]) == [".newsgen-output", "sitemap-news.xml"]
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "yesterday")
    result = subprocess.run([sys.executable, "-m", "newsgen.cli", "build", "--config", str(site / "site.toml")],
                            capture_output=True, text=True)
    assert result.returncode == 1 and "SOURCE_DATE_EPOCH 'yesterday' must be a whole number" in result.stderr
    assert "Traceback" not in result.stderr
    assert build(site, "--build-time", "soon") == 1


def test_build_time_parsing():
    utc = timezone.utc
    assert parse_build_time("@0", utc) == datetime(1970, 1, 1, tzinfo=utc)
    assert parse_build_time("1700000000", utc) == datetime.fromtimestamp(1700000000, utc)
    assert parse_build_time("2024-05-12T10:00:00Z", utc) == datetime(2024, 5, 12, 10, tzinfo=utc)
    assert resolve_build_time(None, {"SOURCE_DATE_EPOCH": "86400"}) == datetime(1970, 1, 2, tzinfo=utc)
    fixed = datetime(2020, 1, 1, tzinfo=utc)
    assert resolve_build_time(fixed, {"SOURCE_DATE_EPOCH": "86400"}) == fixed
    assert abs(resolve_build_time(None, {}) - datetime.now(utc)) < timedelta(minutes=1)


def synthetic_model(count: int, newest: datetime) -> SiteModel:
    articles = tuple(Article(path=f"items/{i}.md", title=f"خبر {i}", slug=f"item-{i}", body_html="", text="",
                             date=newest - timedelta(seconds=i)) for i in range(count))
    return SiteModel(articles=articles, topics=(), years=(), months=(), undated=(), pages=(), list_pages=(),
                     by_slug={a.slug: a for a in articles})


def test_news_sitemap_holds_at_most_1000_urls_a_file(tmp_path):
    config = load_config(write_site(tmp_path, {}) / "site.toml")
    now = datetime(2024, 5, 12, 12, tzinfo=timezone.utc)
    files = {f.path: f.data for f in news_sitemaps(synthetic_model(1001, now), config, now)}
    assert sorted(files) == ["sitemap-news-1.xml", "sitemap-news-2.xml", "sitemap-news.xml"]
    index = ElementTree.fromstring(files["sitemap-news.xml"])
    assert index.tag == SM + "sitemapindex"
    assert [e.findtext(SM + "loc") for e in index] == ["https://example.org/news/sitemap-news-1.xml",
                                                        "https://example.org/news/sitemap-news-2.xml"]
    counts = [len(ElementTree.fromstring(files[f"sitemap-news-{n}.xml"]).findall(SM + "url")) for n in (1, 2)]
    assert counts == [1000, 1]
    empty = {f.path: f.data for f in news_sitemaps(synthetic_model(3, now - timedelta(days=3)), config, now)}
    assert list(empty) == ["sitemap-news.xml"]
    assert ElementTree.fromstring(empty["sitemap-news.xml"]).findall(SM + "url") == []


def test_a_sitemap_index_past_50000_urls(tmp_path):
    config = load_config(write_site(tmp_path, {}) / "site.toml")
    urls = [(f"articles/item-{i}/", None) for i in range(50_001)]
    files = {f.path: f.data for f in sitemaps(urls, config)}
    assert sorted(files) == ["sitemap-1.xml", "sitemap-2.xml", "sitemap.xml"]
    index = ElementTree.fromstring(files["sitemap.xml"])
    assert index.tag == SM + "sitemapindex"
    assert [e.findtext(SM + "loc") for e in index] == ["https://example.org/news/sitemap-1.xml",
                                                        "https://example.org/news/sitemap-2.xml"]
    assert [len(ElementTree.fromstring(files[p]).findall(SM + "url")) for p in ("sitemap-1.xml", "sitemap-2.xml")] \
        == [50_000, 1]
    single = {f.path: f.data for f in sitemaps(urls[:50_000], config)}
    assert list(single) == ["sitemap.xml"] and ElementTree.fromstring(single["sitemap.xml"]).tag == SM + "urlset"
    by_size = {f.path: f.data for f in sitemaps(urls[:100], config, max_bytes=2_000)}
    assert len(by_size) > 2 and all(len(data) <= 2_000 for path, data in by_size.items() if path != "sitemap.xml")


@settings(max_examples=300)
@given(st.text(alphabet=st.sampled_from("ab&<>\"'\n\r\t عربي;#")) | st.text())
def test_feed_escaping_is_what_xml_sax_saxutils_gives(text):
    from xml.sax.saxutils import escape, quoteattr

    from newsgen import feeds

    assert feeds.escape(text) == escape(text)
    assert feeds.quoteattr(text) == quoteattr(text)
