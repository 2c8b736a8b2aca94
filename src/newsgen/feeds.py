"""Machine-readable files: Atom, RSS 2.0 and JSON Feed feeds, sitemaps, robots.txt.

Absolute URLs come from `base_url`. No build time is written into any of these
files except the Google News sitemap, whose 48-hour window is measured from the
build time (`--build-time`, else `SOURCE_DATE_EPOCH`, else now); everything else
gives the same bytes for the same input.

Files written, each for the whole site and for every topic (`topics/<key>/...`):

    feed.xml    Atom 1.0 (always)
    rss.xml     RSS 2.0 (`[feeds] rss`)
    feed.json   JSON Feed 1.1 (`[feeds] json`)

and, for the whole site, `sitemap.xml` (a sitemap index over `sitemap-N.xml` when
the archive outgrows one sitemap), `sitemap-news.xml` (an index over
`sitemap-news-N.xml` past 1,000 recent items) and `robots.txt`.
"""

from __future__ import annotations

import html
import json
import os
import re
from dataclasses import dataclass
from functools import lru_cache
from datetime import datetime, timedelta, timezone
from typing import Iterable, Iterator, Mapping, NamedTuple, Sequence
from urllib.parse import quote, urljoin, urlsplit

from .config import SiteConfig
from .errors import ConfigError
from .model import Article, SiteModel
from .render import RenderedFile

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)

# Limits of the sitemap protocol and of Google News sitemaps.
SITEMAP_MAX_URLS = 50_000
SITEMAP_MAX_BYTES = 50 * 1024 * 1024
NEWS_SITEMAP_MAX_URLS = 1_000
NEWS_WINDOW = timedelta(hours=48)

ATOM_TYPE = "application/atom+xml"
RSS_TYPE = "application/rss+xml"
JSON_FEED_TYPE = "application/feed+json"


# -- URLs ----------------------------------------------------------------------


def absolute(path: str, config: SiteConfig) -> str:
    """A site-relative path (`articles/x/`, `assets/a.png`) as an absolute URL; URLs are kept."""
    if "://" in path:
        return path
    return config.base_url + path


def escape(text: str) -> str:
    """`xml.sax.saxutils.escape`: `&`, `<` and `>` as entities.

    Here rather than imported: `xml.sax.saxutils` imports `urllib.request`, which costs a
    process some 25 ms of start-up, and every build makes a feed or a sitemap.
    """
    return html.escape(text, quote=False)


def quoteattr(text: str) -> str:
    """`xml.sax.saxutils.quoteattr`: the text escaped for an attribute, in the quotes that need
    no escaping (double quotes, escaped as entities, when it has both kinds)."""
    text = escape(text).replace("\n", "&#10;").replace("\r", "&#13;").replace("\t", "&#9;")
    if '"' not in text:
        return f'"{text}"'
    if "'" not in text:
        return f"'{text}'"
    return '"' + text.replace('"', "&quot;") + '"'


# Remembered: `quote` loops over each byte in Python, 10 us for an item's URL with its Arabic slug,
# and serve makes the sitemap of every item again after a date edit or a new item.
@lru_cache(maxsize=1 << 17)
def uri(iri: str) -> str:
    """An IRI (Arabic path segments) as a URI: non-ASCII and spaces percent-encoded, `%xx` kept."""
    return quote(iri, safe=":/?#[]@!$&'()*+,;=%~")


# A start tag whose attributes are double-quoted, as the sanitizer writes them.
_TAG = re.compile(r"<[A-Za-z][A-Za-z0-9]*(?:\s+[^\s\"'>/=]+(?:\s*=\s*\"[^\"]*\")?)*\s*/?>")
_URL_ATTRIBUTE = re.compile(r"(\s(?:href|src)\s*=\s*\")([^\"]*)(\")", re.I)


def absolutize_html(fragment: str, page_url: str) -> str:
    """Make every relative `href`/`src` in an HTML fragment absolute against `page_url`.

    Feed readers show item HTML away from the site, where a relative link would
    lead nowhere. Links with a scheme (`https:`, `mailto:`) are kept as written.
    """

    def fix_attribute(match: re.Match) -> str:
        value = html.unescape(match.group(2)).strip()
        if not value or urlsplit(value).scheme:
            return match.group(0)
        return match.group(1) + html.escape(urljoin(page_url, value), quote=True) + match.group(3)

    def fix_tag(match: re.Match) -> str:
        return _URL_ATTRIBUTE.sub(fix_attribute, match.group(0))

    return _TAG.sub(fix_tag, fragment)


# -- build time ----------------------------------------------------------------


def parse_build_time(text: str, tz) -> datetime:
    """`--build-time`: ISO 8601 (a time without an offset is in the site's time zone) or `@SECONDS`."""
    value = text.strip()
    try:
        if value.startswith("@") or value.isdigit():
            return datetime.fromtimestamp(int(value.lstrip("@")), timezone.utc)
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except (ValueError, OverflowError, OSError):
        raise ConfigError(f"--build-time {text!r} is not a time; use ISO 8601 such as "
                          "2024-05-14T09:30:00+03:00, or @SECONDS since 1970 as in SOURCE_DATE_EPOCH") from None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=tz)


def resolve_build_time(build_time: datetime | None = None, environ: Mapping[str, str] | None = None) -> datetime:
    """The build time for time windows: the given one, else `SOURCE_DATE_EPOCH`, else now."""
    if build_time is not None:
        return build_time if build_time.tzinfo is not None else build_time.replace(tzinfo=timezone.utc)
    environ = os.environ if environ is None else environ
    raw = environ.get("SOURCE_DATE_EPOCH", "").strip()
    if raw:
        if not raw.isdigit():
            raise ConfigError(f"SOURCE_DATE_EPOCH {raw!r} must be a whole number of seconds since 1970 "
                              "(see reproducible-builds.org); unset it or fix it")
        try:
            return datetime.fromtimestamp(int(raw), timezone.utc)
        except (OverflowError, OSError, ValueError):
            raise ConfigError(f"SOURCE_DATE_EPOCH {raw!r} is out of range") from None
    return datetime.now(timezone.utc)


# -- feeds ---------------------------------------------------------------------


@dataclass(frozen=True)
class FeedLink:
    """One feed of a page, for `<link rel="alternate">`: site-relative `url`."""

    type: str
    title: str
    url: str
    format: str  # "atom", "rss" or "json"


def feed_links(config: SiteConfig, folder: str, title: str) -> list[FeedLink]:
    """The feeds newsgen writes for the list at `folder` (`""` for the site, `topics/x/`)."""
    links = [FeedLink(ATOM_TYPE, title, f"{folder}feed.xml", "atom")]
    if config.feed_rss:
        links.append(FeedLink(RSS_TYPE, f"{title} (RSS)", f"{folder}rss.xml", "rss"))
    if config.feed_json:
        links.append(FeedLink(JSON_FEED_TYPE, f"{title} (JSON Feed)", f"{folder}feed.json", "json"))
    return links


def _stamp(value: datetime) -> str:
    return value.isoformat()


def _entries(articles: Iterable[Article], config: SiteConfig) -> list[Article]:
    """Dated items, newest first, as many as `feed_items` (undated items have no place in a feed)."""
    return [a for a in articles if a.date is not None][: config.feed_items]


def _content_html(article: Article, config: SiteConfig) -> str:
    return absolutize_html(article.body_html, absolute(article.url, config))


def _names(model: SiteModel | None, config: SiteConfig) -> dict[str, str]:
    names = {t.key: t.name for t in config.topics}
    if model is not None:
        names.update({t.key: t.name for t in model.topics})
    return names


def atom_feed(title: str, feed_url: str, page_url: str, articles: Iterable[Article], config: SiteConfig,
              topic_names: Mapping[str, str] | None = None) -> bytes:
    """An Atom 1.0 feed of dated items, newest first."""
    base = config.base_url
    names = topic_names or {}
    entries = _entries(articles, config)
    updated = max((a.updated or a.date for a in entries), default=EPOCH)
    out = [
        '<?xml version="1.0" encoding="utf-8"?>',
        '<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="ar">',
        f"  <title>{escape(title)}</title>",
    ]
    if config.description:
        out.append(f"  <subtitle>{escape(config.description)}</subtitle>")
    out += [
        f"  <id>{escape(base + feed_url)}</id>",
        f"  <link rel=\"self\" type=\"application/atom+xml\" href={quoteattr(base + feed_url)}/>",
        f"  <link rel=\"alternate\" type=\"text/html\" href={quoteattr(base + page_url)}/>",
        f"  <updated>{_stamp(updated)}</updated>",
        f"  <author><name>{escape(config.publisher or config.title)}</name></author>",
        "  <generator>newsgen</generator>",
    ]
    for article in entries:
        link = base + article.url
        out += [
            "  <entry>",
            f"    <title>{escape(article.title)}</title>",
            f"    <id>{escape(link)}</id>",
            f"    <link rel=\"alternate\" type=\"text/html\" href={quoteattr(link)}/>",
            f"    <published>{_stamp(article.date)}</published>",
            f"    <updated>{_stamp(article.updated or article.date)}</updated>",
        ]
        if article.author:
            out.append(f"    <author><name>{escape(article.author)}</name></author>")
        for key in article.topic_keys:
            label = names.get(key)
            out.append(f"    <category term={quoteattr(key)}" + (f" label={quoteattr(label)}" if label else "") + "/>")
        if article.summary:
            out.append(f"    <summary>{escape(article.summary)}</summary>")
        if config.feed_content == "full" or not article.summary:
            out.append(f"    <content type=\"html\">{escape(_content_html(article, config))}</content>")
        out.append("  </entry>")
    out.append("</feed>")
    return ("\n".join(out) + "\n").encode("utf-8")


def _rfc822(value: datetime) -> str:
    from email.utils import format_datetime  # here: a build that writes no RSS feed does without importing it
    return format_datetime(value)


def _cdata(text: str) -> str:
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def rss_feed(title: str, feed_url: str, page_url: str, articles: Iterable[Article], config: SiteConfig,
             topic_names: Mapping[str, str] | None = None) -> bytes:
    """An RSS 2.0 feed of dated items, newest first; dates in RFC 822 with their offset."""
    names = topic_names or {}
    entries = _entries(articles, config)
    updated = max((a.updated or a.date for a in entries), default=EPOCH)
    out = [
        '<?xml version="1.0" encoding="utf-8"?>',
        '<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom" '
        'xmlns:content="http://purl.org/rss/1.0/modules/content/" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/">',
        "  <channel>",
        f"    <title>{escape(title)}</title>",
        f"    <link>{escape(uri(absolute(page_url, config)))}</link>",
        f"    <description>{escape(config.description or title)}</description>",
        "    <language>ar</language>",
        f"    <lastBuildDate>{_rfc822(updated)}</lastBuildDate>",
        "    <generator>newsgen</generator>",
        f"    <atom:link rel=\"self\" type=\"{RSS_TYPE}\" href={quoteattr(uri(absolute(feed_url, config)))}/>",
    ]
    for article in entries:
        link = uri(absolute(article.url, config))
        out += [
            "    <item>",
            f"      <title>{escape(article.title)}</title>",
            f"      <link>{escape(link)}</link>",
            f"      <guid isPermaLink=\"true\">{escape(link)}</guid>",
            f"      <pubDate>{_rfc822(article.date)}</pubDate>",
        ]
        if article.author:
            out.append(f"      <dc:creator>{escape(article.author)}</dc:creator>")
        for key in article.topic_keys:
            out.append(f"      <category>{escape(names.get(key, key))}</category>")
        if article.summary:
            out.append(f"      <description>{escape(article.summary)}</description>")
            if config.feed_content == "full":
                out.append(f"      <content:encoded>{_cdata(_content_html(article, config))}</content:encoded>")
        else:
            out.append(f"      <description>{escape(_content_html(article, config))}</description>")
        out.append("    </item>")
    out += ["  </channel>", "</rss>"]
    return ("\n".join(out) + "\n").encode("utf-8")


def json_feed(title: str, feed_url: str, page_url: str, articles: Iterable[Article], config: SiteConfig,
              topic_names: Mapping[str, str] | None = None) -> bytes:
    """A JSON Feed 1.1 of dated items, newest first."""
    names = topic_names or {}
    feed: dict = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": title,
        "home_page_url": uri(absolute(page_url, config)),
        "feed_url": uri(absolute(feed_url, config)),
    }
    if config.description:
        feed["description"] = config.description
    feed["language"] = "ar"
    feed["authors"] = [{"name": config.publisher or config.title}]
    items = []
    for article in _entries(articles, config):
        link = uri(absolute(article.url, config))
        item: dict = {"id": link, "url": link, "title": article.title}
        if config.feed_content == "full" or not article.summary:
            item["content_html"] = _content_html(article, config)
        else:
            item["content_text"] = article.summary
        if article.summary:
            item["summary"] = article.summary
        if article.image:
            item["image"] = uri(absolute(article.image, config))
        item["date_published"] = _stamp(article.date)
        item["date_modified"] = _stamp(article.updated or article.date)
        if article.author:
            item["authors"] = [{"name": article.author}]
        if article.topic_keys:
            item["tags"] = [names.get(k, k) for k in article.topic_keys]
        items.append(item)
    feed["items"] = items
    return (json.dumps(feed, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


_WRITERS = {"atom": atom_feed, "rss": rss_feed, "json": json_feed}


def feed_lists(model: SiteModel, config: SiteConfig) -> list[tuple[str, str, list[Article]]]:
    """(folder, title, entries) of every feed of the site: the whole site, then each topic."""
    lists: list[tuple[str, str, Sequence[Article]]] = [("", config.title, model.articles)]
    for topic in model.topics:
        lists.append((topic.url, f"{topic.name} — {config.title}", [model.by_slug[s] for s in topic.article_slugs]))
    return [(folder, title, _entries(articles, config)) for folder, title, articles in lists]


def feed_files(folder: str, title: str, entries: list[Article], model: SiteModel,
               config: SiteConfig) -> Iterator[RenderedFile]:
    """One list's feed in each enabled format."""
    names = _names(model, config)
    for link in feed_links(config, folder, title):
        yield RenderedFile(link.url, _WRITERS[link.format](title, link.url, folder, entries, config, names))


def site_feeds(model: SiteModel, config: SiteConfig) -> Iterator[RenderedFile]:
    """Every feed of the site: the whole site, then each topic, in each enabled format."""
    for folder, title, entries in feed_lists(model, config):
        yield from feed_files(folder, title, entries, model, config)


# -- sitemaps --------------------------------------------------------------------

_URLSET = '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
_NEWS_URLSET = ('<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
                'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">')


def _loc(url: str, config: SiteConfig) -> str:
    return escape(uri(absolute(url, config)))


def _sitemap_entry(url: str, modified: datetime | None, config: SiteConfig, tag: str = "url") -> bytes:
    """One `<url>` of a sitemap (or, with `tag`, one `<sitemap>` of an index), as UTF-8."""
    entry = f"  <{tag}><loc>{_loc(url, config)}</loc>"
    if modified is not None:
        entry += f"<lastmod>{modified.date().isoformat()}</lastmod>"
    return f"{entry}</{tag}>".encode("utf-8")


def _document(opening: str, lines: list[bytes], closing: str) -> bytes:
    """The XML file of `lines`, each already UTF-8: a sitemap of 10,000 items is 3.6 MiB, which
    made as text, joined, ended and encoded was held three times over at once."""
    return b"\n".join([b'<?xml version="1.0" encoding="utf-8"?>', opening.encode("utf-8"), *lines,
                       closing.encode("utf-8"), b""])


def _index(path: str, parts: list[tuple[str, datetime | None]], config: SiteConfig) -> RenderedFile:
    lines = [_sitemap_entry(part, modified, config, "sitemap") for part, modified in parts]
    return RenderedFile(path, _document('<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">',
                                        lines, "</sitemapindex>"))


def _chunks(entries: list[tuple[bytes, datetime | None]], max_urls: int, max_bytes: int):
    """Split entries (UTF-8 line, date) into runs that respect both limits of one sitemap file."""
    overhead = 200  # the XML declaration, the opening and the closing tag
    chunk: list[tuple[bytes, datetime | None]] = []
    size = overhead
    for text, modified in entries:
        length = len(text) + 1
        if chunk and (len(chunk) >= max_urls or size + length > max_bytes):
            yield chunk
            chunk, size = [], overhead
        chunk.append((text, modified))
        size += length
    yield chunk


def _latest(chunk: list[tuple[bytes, datetime | None]]) -> datetime | None:
    return max((m for _, m in chunk if m is not None), default=None)


def sitemaps(urls: Iterable[tuple[str, datetime | None]], config: SiteConfig, *,
             max_urls: int = SITEMAP_MAX_URLS, max_bytes: int = SITEMAP_MAX_BYTES) -> Iterator[RenderedFile]:
    """`sitemap.xml`; past one file's limits, an index over `sitemap-1.xml`, `sitemap-2.xml`..."""
    entries = [(_sitemap_entry(url, modified, config), modified) for url, modified in urls]
    chunks = list(_chunks(entries, max_urls, max_bytes))
    if len(chunks) == 1:
        yield RenderedFile("sitemap.xml", _document(_URLSET, [t for t, _ in chunks[0]], "</urlset>"))
        return
    parts = []
    for number, chunk in enumerate(chunks, start=1):
        path = f"sitemap-{number}.xml"
        yield RenderedFile(path, _document(_URLSET, [t for t, _ in chunk], "</urlset>"))
        parts.append((path, _latest(chunk)))
    yield _index("sitemap.xml", parts, config)


def sitemap(urls: Iterable[tuple[str, datetime | None]], config: SiteConfig) -> RenderedFile:
    """One `sitemap.xml` with every URL, whatever the count (see `sitemaps` for the split)."""
    lines = [_sitemap_entry(url, modified, config) for url, modified in urls]
    return RenderedFile("sitemap.xml", _document(_URLSET, lines, "</urlset>"))


def sitemap_urls(model: SiteModel) -> Iterator[tuple[str, datetime | None]]:
    yield "", None
    for article in model.articles:
        yield article.url, article.updated or article.date
    for page in model.list_pages:
        yield page.url, None
    yield "topics/", None
    yield "archive/", None
    for standing in model.pages:
        yield standing.url, None


class NewsEntry(NamedTuple):
    """What the Google News sitemap shows of an item (kept between builds, see `build`)."""

    url: str
    date: datetime
    title: str


@dataclass(frozen=True)
class NewsArchive:
    """The items of a site dated `since` or later, newest first, as `news_sitemaps` reads a `SiteModel`.

    Kept between builds for the Google News sitemap of a build that derives no site model:
    it serves builds whose window starts at `since` or later (see `serves`). An archive's
    older items, nearly all of them, are left out: they only made the cache slower to read.
    """

    articles: tuple[NewsEntry, ...]
    since: datetime

    @classmethod
    def of(cls, model: SiteModel, build_time: datetime) -> "NewsArchive":
        since = build_time - NEWS_WINDOW
        return cls(tuple(NewsEntry(a.url, a.date, a.title) for a in model.articles
                         if a.date is not None and a.date >= since), since)

    def serves(self, build_time: datetime) -> bool:
        """Whether it holds every item the news sitemap of a build at `build_time` may show."""
        return build_time - NEWS_WINDOW >= self.since


def recent_articles(model: SiteModel | NewsArchive, build_time: datetime, window: timedelta = NEWS_WINDOW) -> list[Article]:
    """Items published in the `window` before `build_time` (not after it), newest first."""
    start = build_time - window
    return [a for a in model.articles if a.date is not None and start <= a.date <= build_time]


def news_sitemaps(model: SiteModel | NewsArchive, config: SiteConfig, build_time: datetime | None = None, *,
                  max_urls: int = NEWS_SITEMAP_MAX_URLS) -> Iterator[RenderedFile]:
    """The Google News sitemap: items of the last 48 hours before the build time.

    `sitemap-news.xml` is always written (with no entries when nothing is recent),
    so robots.txt can name it; past `max_urls` items it becomes an index over
    `sitemap-news-1.xml`, `sitemap-news-2.xml`...
    """
    now = resolve_build_time(build_time)
    name = escape(config.publisher or config.title)
    entries = []
    for article in recent_articles(model, now):
        entries.append("\n".join([
            "  <url>",
            f"    <loc>{_loc(article.url, config)}</loc>",
            "    <news:news>",
            f"      <news:publication><news:name>{name}</news:name>"
            "<news:language>ar</news:language></news:publication>",
            f"      <news:publication_date>{article.date.isoformat(timespec='seconds')}</news:publication_date>",
            f"      <news:title>{escape(article.title)}</news:title>",
            "    </news:news>",
            "  </url>",
        ]).encode("utf-8"))
    chunks = [entries[i:i + max_urls] for i in range(0, len(entries), max_urls)] or [[]]
    if len(chunks) == 1:
        yield RenderedFile("sitemap-news.xml", _document(_NEWS_URLSET, chunks[0], "</urlset>"))
        return
    parts = []
    for number, chunk in enumerate(chunks, start=1):
        path = f"sitemap-news-{number}.xml"
        yield RenderedFile(path, _document(_NEWS_URLSET, chunk, "</urlset>"))
        parts.append((path, None))
    yield _index("sitemap-news.xml", parts, config)


def robots(config: SiteConfig) -> RenderedFile:
    text = (f"User-agent: *\nAllow: /\n\nSitemap: {uri(config.base_url)}sitemap.xml\n"
            f"Sitemap: {uri(config.base_url)}sitemap-news.xml\n")
    return RenderedFile("robots.txt", text.encode("utf-8"))


__all__ = ["atom_feed", "rss_feed", "json_feed", "site_feeds", "feed_lists", "feed_files", "feed_links", "FeedLink", "absolute",
           "absolutize_html", "uri", "sitemap", "sitemaps", "sitemap_urls", "news_sitemaps", "recent_articles",
           "parse_build_time", "resolve_build_time", "robots"]
