"""Imported records to item files: one Markdown file per record, written once.

A record's file name depends only on the record (date and source id, or date and
title), so importing the same source again finds the files it wrote before and
leaves them as they are. A file that exists with other content is never replaced
unless the user asks for it.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from datetime import date, datetime, tzinfo
from pathlib import Path

import yaml

from ..slugs import make_slug

STEM_LENGTH = 60


@dataclass
class Record:
    """One item read from an export, already in the terms of the content contract.

    `body` is Markdown. `position` is the line of the source file the record
    starts on, for messages.
    """

    position: int
    title: str
    body: str = ""
    date: datetime | date | None = None
    updated: datetime | date | None = None
    topics: list[str] = field(default_factory=list)
    slug: str = ""
    summary: str = ""
    author: str = ""
    source: str = ""
    source_url: str = ""
    location: str = ""
    image: str = ""
    image_alt: str = ""
    breaking: bool = False
    draft: bool = False
    source_id: str = ""  # the export's own id, for the file name only
    page: bool = False  # a standing page (for `content/`) rather than a news item


@dataclass
class BadRecord:
    """A record that cannot be imported, and why."""

    position: int
    problems: list[str]

    @property
    def message(self) -> str:
        return "; ".join(self.problems)


@dataclass
class NotImported:
    """A record the format reader leaves out on purpose (a page, an attachment...)."""

    position: int
    kind: str


def front_matter(meta: dict) -> str:
    """A `---` block of `key: value` lines; Arabic stays readable, one key per line."""
    dumped = yaml.safe_dump(meta, allow_unicode=True, sort_keys=False, width=1_000_000)
    return f"---\n{dumped}---\n"


def _yaml_date(value: datetime | date | None):
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.replace(microsecond=0)
    return value


def render_record(record: Record) -> str:
    """The whole text of the record's Markdown file."""
    meta: dict = {"title": record.title}
    if record.page:
        # Standing pages know fewer keys than news items.
        if record.slug:
            meta["slug"] = record.slug
        if record.summary:
            meta["summary"] = record.summary
        if record.draft:
            meta["draft"] = True
    else:
        values = {
            "date": _yaml_date(record.date),
            "updated": _yaml_date(record.updated),
            "topics": list(record.topics) or None,
            "slug": record.slug,
            "summary": record.summary,
            "author": record.author,
            "source": record.source,
            "source_url": record.source_url,
            "location": record.location,
            "image": record.image,
            "image_alt": record.image_alt,
        }
        meta.update((key, value) for key, value in values.items() if value)
        if record.breaking:
            meta["breaking"] = True
        if record.draft:
            meta["draft"] = True
    body = record.body.strip()
    return front_matter(meta) + ("\n" + body + "\n" if body else "")


def _short_slug(text: str) -> str:
    slug = make_slug(text, "latin")
    if len(slug) > STEM_LENGTH:
        slug = slug[:STEM_LENGTH].rsplit("-", 1)[0] or slug[:STEM_LENGTH]
    return slug.strip("-")


def record_stem(record: Record) -> str:
    """The file name without folder, number or extension: from the source id, else the slug or title."""
    for text in (record.source_id, record.slug, record.title):
        if text:
            stem = _short_slug(text)
            if stem:
                return stem
    arabic = make_slug(record.title, "arabic")[:STEM_LENGTH].strip("-")
    return arabic or "item"


def record_path(record: Record, items_dir: Path, pages_dir: Path, tz: tzinfo) -> Path:
    """Where the record goes: `YYYY/YYYY-MM-DD-stem.md` below the items folder."""
    stem = record_stem(record)
    if record.page:
        return pages_dir / f"{stem}.md"
    if record.date is None:
        return items_dir / "undated" / f"{stem}.md"
    day = record.date.astimezone(tz).date() if isinstance(record.date, datetime) else record.date
    prefix = day.isoformat()
    if stem.startswith(prefix.replace("-", "")) or stem.startswith(prefix):
        stem = stem[len(prefix):].lstrip("-") or stem
    return items_dir / f"{day.year:04d}" / f"{prefix}-{stem}.md"


@dataclass
class Outcome:
    status: str  # "new", "unchanged", "replaced" or "collision"
    path: Path


class ItemWriter:
    """Writes records as files; remembers which names this run has given out.

    Two different records that want the same name in one run get `-2`, `-3`...
    in the order they come, so a second run gives every record the same name again.
    """

    def __init__(self, items_dir: Path, pages_dir: Path, tz: tzinfo, *, dry_run: bool = False,
                 overwrite: bool = False):
        self.items_dir = items_dir
        self.pages_dir = pages_dir
        self.tz = tz
        self.dry_run = dry_run
        self.overwrite = overwrite
        self._claimed: set[Path] = set()
        self._made: set[Path] = set()

    def write(self, record: Record) -> Outcome:
        base = record_path(record, self.items_dir, self.pages_dir, self.tz)
        path = base
        number = 2
        while path in self._claimed:
            path = base.with_name(f"{base.stem}-{number}{base.suffix}")
            number += 1
        self._claimed.add(path)
        data = render_record(record).encode("utf-8")
        try:
            existing = path.read_bytes()
        except FileNotFoundError:
            existing = None
        if existing == data:
            return Outcome("unchanged", path)
        if existing is not None and not self.overwrite:
            return Outcome("collision", path)
        if not self.dry_run:
            self._write(path, data, replace=existing is not None)
        return Outcome("new" if existing is None else "replaced", path)

    def _write(self, path: Path, data: bytes, *, replace: bool) -> None:
        """Write beside the target, then rename: an interrupted run leaves no half-written item."""
        parent = path.parent
        if parent not in self._made:
            parent.mkdir(parents=True, exist_ok=True)
            self._made.add(parent)
        temporary = parent / f".{path.name}.tmp-{os.getpid()}"
        try:
            temporary.write_bytes(data)
            if replace:
                os.replace(temporary, path)
            else:
                os.link(temporary, path)  # fails rather than replace a file that appeared meanwhile
        finally:
            if temporary.exists():
                temporary.unlink()


_SPACES = re.compile(r"\s+")


def one_line(text: str) -> str:
    """Runs of white space (new lines too) as one space; ends trimmed."""
    return _SPACES.sub(" ", text).strip()
