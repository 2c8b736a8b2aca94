"""The content model: immutable records that the rest of newsgen passes around.

Nothing here reads files or knows about templates.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class Article:
    """One news item, as loaded from its file.

    `topics` holds what the item itself declares (names or keys as written); the
    site model resolves them, or files the item by keyword, into `topic_keys`.
    """

    path: str  # relative to the site root, with forward slashes
    title: str
    slug: str
    body_html: str
    text: str  # plain text of headline and body, for filing, counting and search
    date: datetime | None = None
    updated: datetime | None = None
    topics: tuple[str, ...] = ()
    summary: str = ""
    breaking: bool = False
    draft: bool = False
    source: str = ""
    source_url: str = ""
    author: str = ""
    location: str = ""
    image: str = ""
    image_alt: str = ""
    word_count: int = 0
    slug_line: int = 0  # where a declared slug stands, for messages
    topic_keys: tuple[str, ...] = ()
    topics_inferred: bool = False

    @property
    def url(self) -> str:
        return f"articles/{self.slug}/"

    @property
    def sort_key(self) -> tuple:
        """Newest first; undated items after all dated ones; ties broken by path."""
        stamp = -self.date.timestamp() if self.date else float("inf")
        return (stamp, self.path)


@dataclass(frozen=True)
class StandingPage:
    """A page from `content/` (about, editorial policy): not a news item."""

    path: str
    title: str
    slug: str
    body_html: str
    order: int = 0

    @property
    def url(self) -> str:
        return f"{self.slug}/"


@dataclass(frozen=True)
class Topic:
    key: str
    name: str
    declared: bool = True
    article_slugs: tuple[str, ...] = ()

    @property
    def url(self) -> str:
        return f"topics/{self.key}/"

    @property
    def count(self) -> int:
        return len(self.article_slugs)


@dataclass(frozen=True)
class PageLink:
    """One entry of a list page's page links: a page, or a gap between runs of pages."""

    number: int | None  # None for a gap and for the newest page
    url: str | None
    current: bool = False
    gap: bool = False
    newest: bool = False  # the list's own URL: shown as «الأحدث», never by its number


@dataclass(frozen=True)
class Pagination:
    """Where a list page stands among its list's pages, holding only what the page shows.

    Pages are numbered from the oldest: page 1 holds a list's oldest `per_page` items, page 2
    the next, and so on. The newest page is the list's own URL and holds the rest (from
    `per_page` up to twice that, less one). A new item therefore changes the newest page
    only, and once in `per_page` new items the page beside it: a numbered page keeps its
    URL, its items and its links, so a build rewrites (and a host receives) a few pages, not
    every page of the list. Nothing here tells how many pages there are, for the same reason.
    """

    current: int
    base_url: str  # site-relative URL of the list, where its newest page is
    newest: bool  # this page is the newest
    prev_url: str | None  # the newer page
    next_url: str | None  # the older page
    pages: tuple[PageLink, ...]  # the oldest, the newest and the pages beside this one

    @classmethod
    def of(cls, current: int, total: int, base_url: str) -> "Pagination":
        def url_of(number: int) -> str:
            return base_url if number == total else f"{base_url}page/{number}/"

        shown = sorted({1, total, *range(max(1, current - 1), min(total, current + 1) + 1)}, reverse=True)
        links: list[PageLink] = []
        for before, number in zip([None, *shown], shown):
            if before is not None and before - number > 1:
                links.append(PageLink(None, None, gap=True))
            # The newest page goes without its number, which grows as items are added.
            links.append(PageLink(None if number == total else number, url_of(number), current=number == current,
                                  newest=number == total))
        return cls(current, base_url, current == total, url_of(current + 1) if current < total else None,
                   url_of(current - 1) if current > 1 else None, tuple(links))


@dataclass(frozen=True)
class ListPage:
    """One page of a paginated list of items (a topic, an archive month...)."""

    kind: str  # "topic", "archive-year", "archive-month", "undated"
    url: str
    heading: str
    article_slugs: tuple[str, ...]
    pagination: Pagination
    topic_key: str | None = None
    period: tuple[int, ...] = ()


@dataclass(frozen=True)
class ArchivePeriod:
    year: int
    month: int | None
    article_slugs: tuple[str, ...]

    @property
    def url(self) -> str:
        if self.month is None:
            return f"archive/{self.year:04d}/"
        return f"archive/{self.year:04d}/{self.month:02d}/"

    @property
    def count(self) -> int:
        return len(self.article_slugs)


@dataclass(frozen=True)
class SiteModel:
    """Everything the renderer needs, derived from the records alone."""

    articles: tuple[Article, ...]  # newest first, undated last
    topics: tuple[Topic, ...]  # declared order, then undeclared by name
    years: tuple[ArchivePeriod, ...]  # newest first
    months: tuple[ArchivePeriod, ...]  # newest first
    undated: tuple[str, ...]
    pages: tuple[StandingPage, ...]
    list_pages: tuple[ListPage, ...]
    by_slug: dict[str, Article] = field(default_factory=dict, compare=False, hash=False)

    def article(self, slug: str) -> Article:
        return self.by_slug[slug]

    def topic(self, key: str) -> Topic | None:
        return next((t for t in self.topics if t.key == key), None)
