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
class Pagination:
    current: int
    total: int
    base_url: str  # site-relative URL of page 1

    def url_of(self, number: int) -> str:
        return self.base_url if number == 1 else f"{self.base_url}page/{number}/"

    @property
    def prev_url(self) -> str | None:
        return self.url_of(self.current - 1) if self.current > 1 else None

    @property
    def next_url(self) -> str | None:
        return self.url_of(self.current + 1) if self.current < self.total else None

    @property
    def pages(self) -> list[dict]:
        """The first, the last and the pages beside the current one; a gap entry between runs.

        A list of hundreds of pages stays short on every page (and cheap to render).
        """
        shown = sorted({1, self.total, *range(max(1, self.current - 1), min(self.total, self.current + 1) + 1)})
        entries: list[dict] = []
        for n in shown:
            if entries and n - (entries[-1]["number"] or 0) > 1:
                entries.append({"number": None, "url": None, "current": False, "gap": True})
            entries.append({"number": n, "url": self.url_of(n), "current": n == self.current, "gap": False})
        return entries


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
