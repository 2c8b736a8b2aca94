"""The content model: immutable records that the rest of newsgen passes around.

Nothing here reads files or knows about templates.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import NamedTuple


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


class PageLink(NamedTuple):
    """One entry of a list page's page links: a page, or a gap between runs of pages."""

    number: int | None  # None for a gap and for the newest page
    url: str | None
    current: bool = False
    gap: bool = False
    newest: bool = False  # the list's own URL: shown as «الأحدث», never by its number


_GAP = PageLink(None, None, gap=True)


@dataclass(frozen=True)
class Pagination:
    """Where a list page stands among its list's pages, holding only what the page shows.

    Pages are numbered from the oldest: page 1 holds a list's oldest `per_page` items, page 2
    the next, and so on. The newest page is the list's own URL and holds the rest (from
    `per_page` up to twice that, less one). A new item therefore changes the newest page
    only, and once in `per_page` new items the page it becomes and the two below it: a
    numbered page keeps its URL, its items and its links, so a build rewrites (and a host
    receives) a few pages, not every page of the list. For the same reason nothing here
    tells how many pages there are.
    """

    current: int
    base_url: str  # site-relative URL of the list, where its newest page is
    newer: int  # how many pages are newer than this one, counted up to 3: all its links tell of them

    @classmethod
    def of(cls, current: int, total: int, base_url: str) -> "Pagination":
        return cls(current, base_url, min(total - current, 3))

    def _numbered(self, number: int) -> str:
        return f"{self.base_url}page/{number}/"

    @property
    def newest(self) -> bool:
        return self.newer == 0

    @property
    def url(self) -> str:
        """This page's site-relative URL."""
        return self.base_url if self.newest else self._numbered(self.current)

    @property
    def prev_url(self) -> str | None:
        """The newer page."""
        if self.newer == 0:
            return None
        return self.base_url if self.newer == 1 else self._numbered(self.current + 1)

    @property
    def next_url(self) -> str | None:
        """The older page."""
        return self._numbered(self.current - 1) if self.current > 1 else None

    @property
    def pages(self) -> tuple[PageLink, ...]:
        """The newest, the oldest and the pages beside this one, newest first; a gap between runs.

        A list of hundreds of pages stays short on every page (and cheap to render).
        """
        current = self.current
        links = []
        if self.newer:
            links.append(PageLink(None, self.base_url, newest=True))
            if self.newer >= 3:
                links.append(_GAP)
            if self.newer >= 2:
                links.append(PageLink(current + 1, self._numbered(current + 1)))
        links.append(PageLink(None if self.newest else current, self.url, current=True, newest=self.newest))
        if current > 1:
            links.append(PageLink(current - 1, self._numbered(current - 1)))
        if current > 3:
            links.append(_GAP)
        if current > 2:
            links.append(PageLink(1, self._numbered(1)))
        return tuple(links)


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
