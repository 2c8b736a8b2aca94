"""Machine-readable files: Atom feeds, sitemap.xml, robots.txt.

Absolute URLs come from `base_url`; no build time is written anywhere, so the
same input gives the same bytes.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Iterable, Iterator
from xml.sax.saxutils import escape, quoteattr

from .config import SiteConfig
from .model import Article, SiteModel
from .render import RenderedFile, output_path

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def _stamp(value: datetime) -> str:
    return value.isoformat()


def atom_feed(title: str, feed_url: str, page_url: str, articles: Iterable[Article], config: SiteConfig) -> bytes:
    """An Atom 1.0 feed of dated items, newest first (undated items have no place in a feed)."""
    base = config.base_url
    entries = [a for a in articles if a.date is not None][: config.feed_items]
    updated = max((a.updated or a.date for a in entries), default=EPOCH)
    out = [
        '<?xml version="1.0" encoding="utf-8"?>',
        '<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="ar">',
        f"  <title>{escape(title)}</title>",
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
            out.append(f"    <category term={quoteattr(key)}/>")
        if article.summary:
            out.append(f"    <summary>{escape(article.summary)}</summary>")
        out.append(f"    <content type=\"html\">{escape(article.body_html)}</content>")
        out.append("  </entry>")
    out.append("</feed>")
    return ("\n".join(out) + "\n").encode("utf-8")


def site_feeds(model: SiteModel, config: SiteConfig) -> Iterator[RenderedFile]:
    yield RenderedFile("feed.xml", atom_feed(config.title, "feed.xml", "", model.articles, config))
    for topic in model.topics:
        feed_url = f"{topic.url}feed.xml"
        articles = [model.by_slug[s] for s in topic.article_slugs]
        yield RenderedFile(feed_url, atom_feed(f"{topic.name} — {config.title}", feed_url, topic.url, articles, config))


def sitemap(urls: Iterable[tuple[str, datetime | None]], config: SiteConfig) -> RenderedFile:
    lines = ['<?xml version="1.0" encoding="utf-8"?>',
             '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">']
    for url, modified in urls:
        entry = f"  <url><loc>{escape(config.base_url + url)}</loc>"
        if modified is not None:
            entry += f"<lastmod>{modified.date().isoformat()}</lastmod>"
        lines.append(entry + "</url>")
    lines.append("</urlset>")
    return RenderedFile("sitemap.xml", ("\n".join(lines) + "\n").encode("utf-8"))


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


def robots(config: SiteConfig) -> RenderedFile:
    text = f"User-agent: *\nAllow: /\n\nSitemap: {config.base_url}sitemap.xml\n"
    return RenderedFile("robots.txt", text.encode("utf-8"))


__all__ = ["atom_feed", "site_feeds", "sitemap", "sitemap_urls", "robots", "output_path"]
