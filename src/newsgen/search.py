"""Static full-text search: a sharded Pagefind index of the items and the page that queries it.

Pagefind (the `pagefind` program that `pagefind-bin` ships) writes the index into
the output folder, under `pagefind/`, after every page is rendered. What it indexes
for an item is newsgen's folding of the item's text: every word through
`arabic.normalize`, followed by the forms it takes without its prefix clitics
(`arabic.stems`), so «والدفاع» is found as «الدفاع» and «دفاع». What readers see
(headline, date, topics, the text the excerpt is cut from) is kept as written, in
the record's metadata.

The index is split into shards, each a Pagefind bundle of its own that the search
page merges (Pagefind's `mergeIndex`), so that one Pagefind run holds a bounded
number of items in memory. An edited, added or deleted item does not index its
shard again: its new record goes into a small shard of recent edits, and the
manifest hides its old record, until the recent edits grow past `RECENT_ITEMS`
and the shards with most of them are indexed again. See `write_search_index`.

The search page folds the query with the same tables: they are computed from
`arabic` at build time and written into the page, never copied by hand, and the
browser code (theme/static/search.js) applies them in the same order as
`normalize`, `words` and `stems` do here. `query_keys` is the Python reference
of what the page looks up for a query; the browser tests compare the two.
"""

from __future__ import annotations

import gzip
import hashlib
import html
import importlib.util
import json
import os
import re
import shutil
import subprocess
import tempfile
import threading
import time
import zlib
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Callable, TypeVar
from urllib.parse import unquote

from markupsafe import Markup

from .arabic import (CLITIC_PREFIXES, UNDATED, folding_tables, format_arabic_date, join_list, on_site_calendar, stems,
                     strip_marks, words)
from .config import SiteConfig
from .errors import NewsgenError
from .model import Article, SiteModel
from .parallel import cores
from .storage import text_digest

SEARCH_URL = "search/"
BUNDLE = "pagefind"
# Pagefind stems words of the languages it knows (Arabic among them) and reads the
# language from <html lang>. Records are declared as "und" (undetermined) so that
# Pagefind adds no stemming of its own: the only folding is newsgen's. Each shard adds a
# private-use subtag of its own ("und-x-s3"), which Pagefind puts before the hash that
# names a record, so that records of different shards never share a name (see search.js).
INDEX_LANGUAGE = "und"
# A key shorter than this is never made by removing a clitic: «ولد» stays «ولد».
MIN_KEY = 3
# A word of the query as typed (marks removed, letters not folded): what `words` finds
# in it, and the characters `normalize` drops from inside a word.
_TYPED_WORD = re.compile(r"[\w\u200c\u200d\u200e\u200f\ufeff]+")
# The most items a shard holds on average (see `shard_count`): one Pagefind run keeps
# about 0.22 MiB per item in memory besides 15 MiB of its own (bench/search_index.py),
# so that indexing a shard stays under 256 MiB.
SHARD_ITEMS = 800
# Pagefind's size of an index file, and how many of that size the page may load for a
# word from all shards together (see `_chunk_units`): up to 16 shards (12,800 items)
# Pagefind's own size, smaller files beyond. Smaller files cost the reader fewer bytes
# but Pagefind misses more of the words that start with a short key (it loads only the
# file where the key itself would stand). Pagefind reads the size from a variable it
# calls unstable: without it, files are larger, never wrong.
PAGEFIND_CHUNK_UNITS = 20_000
INDEX_CHUNK_SPREAD = 16
MIN_CHUNK_UNITS = 1_000
# Written into the bundle: which shard folders make the index, and which of their records
# are hidden (see `write_search_index`).
MANIFEST = "newsgen-shards.json"
# The most items the shard of recent edits holds. Pagefind indexes a record in about 3.4 ms
# (a shard of 625 items in 2.1 s): a shard of 100 costs a third of a second to index again,
# and a reader's first query one more bundle to load. Past it, the shards with most edits
# are indexed again until it holds at most half as many.
RECENT_ITEMS = 100
# Written into each shard, last: the digest of what it was made from, then how many files
# and bytes Pagefind wrote (so that a build which keeps the shard need not count them).
DIGEST_FILE = "newsgen-shard.sha256"
# Files of Pagefind's own search interfaces, which the search page does not use.
UNUSED_BUNDLE_FILES = ("pagefind-ui.js", "pagefind-ui.css", "pagefind-modular-ui.js",
                       "pagefind-modular-ui.css", "pagefind-component-ui.js",
                       "pagefind-component-ui.css", "pagefind-highlight.js")
# jemalloc (Pagefind's allocator) returns freed memory to the system at once instead of
# after 10 s: about 15% less peak memory for the same run time.
_ALLOCATOR = ("_RJEM_MALLOC_CONF", "dirty_decay_ms:0,muzzy_decay_ms:0")


T = TypeVar("T")


class SearchIndexError(NewsgenError):
    """The search index could not be written."""


class SearchIndexCancelled(SearchIndexError):
    """Writing the search index was given up when asked (`cancel`): serve is stopping."""


# -- what is indexed -------------------------------------------------------------

def index_tokens(text: str) -> list[str]:
    """The words Pagefind indexes for `text`: each folded word and its clitic-free forms."""
    return _index_line(text).split()


# Remembered per word while an index is written (the same words recur across items), and
# forgotten after: `arabic.stems` is computed afresh here rather than through its own memo,
# which would hold every word a second time.
@lru_cache(maxsize=200_000)
def _forms(word: str) -> str:
    return " ".join(stems.__wrapped__(word))


def _index_line(text: str) -> str:
    return " ".join(map(_forms, words(text)))


# Pagefind indexes the words of every metadata value for search, which costs about a
# third of its memory and lets the text as written match queries. What readers see is
# therefore written in private-use characters, which Pagefind stores but never takes
# for words: each code point below _HIDDEN_DIRECT as one character from U+E000, any
# other as three characters from _HIDDEN_ESCAPE carrying 8 bits each. search.js
# `reveal` reads it back.
_HIDDEN_FIRST = 0xE000
_HIDDEN_DIRECT = 0x1800
_HIDDEN_ESCAPE = 0xF800
_HIDE = {cp: _HIDDEN_FIRST + cp for cp in range(_HIDDEN_DIRECT)}
_NOT_DIRECT = re.compile(f"[^\\x00-{chr(_HIDDEN_DIRECT - 1)}]")


def _escape(match: re.Match) -> str:
    cp = ord(match.group())
    return "".join(chr(_HIDDEN_ESCAPE + (cp >> shift & 0xFF)) for shift in (16, 8, 0))


def hide(text: str) -> str:
    """`text` in private-use characters that Pagefind does not index (see `reveal`)."""
    return _NOT_DIRECT.sub(_escape, text).translate(_HIDE)


def reveal(text: str) -> str:
    """The text `hide` was given."""
    out: list[str] = []
    points = [ord(ch) for ch in text]
    at = 0
    while at < len(points):
        cp = points[at]
        if _HIDDEN_ESCAPE <= cp < _HIDDEN_ESCAPE + 0x100 and at + 2 < len(points):
            high, middle, low = (p - _HIDDEN_ESCAPE for p in points[at:at + 3])
            out.append(chr(high << 16 | middle << 8 | low))
            at += 3
            continue
        out.append(chr(cp - _HIDDEN_FIRST) if _HIDDEN_FIRST <= cp < _HIDDEN_FIRST + _HIDDEN_DIRECT else chr(cp))
        at += 1
    return "".join(out)


@dataclass(frozen=True)
class RecordSource:
    """Everything an item's record is made from (its digest tells whether the record changed).

    It refers to the item's own strings, and reads its text from the article when asked (the
    article may hold it as UTF-8 or in a file): the sources of a whole archive cost little memory.
    """

    path: str  # the item's file, relative to the site: what decides its shard
    url: str
    title: str
    summary: str
    topics: tuple[str, ...]
    date: str  # as the site writes it
    location: str
    author: str
    article: Article = field(repr=False, compare=False)

    @property
    def text(self) -> str:
        """`Article.text`: the headline, then the body."""
        return self.article.text

    @property
    def body(self) -> str:
        """The item's text without its headline."""
        text = self.text
        head, _, rest = text.partition("\n")
        return rest if head.strip() == self.title.strip() else text

    def digest(self) -> bytes:
        return _source_digest(self.path, self.url, self.title, self.summary, self.topics, self.date, self.location,
                              self.author, self.article)


def _source_digest(path: str, url: str, title: str, summary: str, topics: tuple[str, ...], date: str,
                   location: str, author: str, article: Article) -> bytes:
    parts = (path, url, title, summary, "\x1f".join(topics), date, location, author)
    # The text by its digest: saved with the body, it is known without reading the body.
    return hashlib.blake2b("\x00".join(parts).encode("utf-8") + b"\x00" + text_digest(article),
                           digest_size=16).digest()


def _shown_topics(article: Article, topic_names: dict[str, str]) -> tuple[str, ...]:
    return tuple(topic_names[k] for k in article.topic_keys if k in topic_names)


def _shown_date(article: Article, config: SiteConfig) -> str:
    # The day its page shows: an item sent at 23:30 UTC is of the next day in Damascus.
    return format_arabic_date(on_site_calendar(article.date, config.tz), locale=config.date_locale,
                              digits=config.digits) if article.date else ""


def record_source(article: Article, config: SiteConfig, topic_names: dict[str, str]) -> RecordSource:
    return RecordSource(path=article.path, url=article.url, title=article.title, summary=article.summary,
                        topics=_shown_topics(article, topic_names), date=_shown_date(article, config),
                        location=article.location, author=article.author, article=article)


def source_digest(article: Article, config: SiteConfig, topic_names: dict[str, str]) -> bytes:
    """`record_source(article, ...).digest()`, without making the record source."""
    return _source_digest(article.path, article.url, article.title, article.summary,
                          _shown_topics(article, topic_names), _shown_date(article, config), article.location,
                          article.author, article)


@dataclass(frozen=True)
class SearchRecord:
    """One item as the index holds it: folded words to match, original text to show."""

    url: str  # site-relative, like `articles/<slug>/`
    title_tokens: str
    body_tokens: str
    meta: dict[str, str]


def make_record(article: Article, config: SiteConfig, topic_names: dict[str, str]) -> SearchRecord:
    """What the index holds for `article` (see `record_from`)."""
    return record_from(record_source(article, config, topic_names))


def record_from(source: RecordSource) -> SearchRecord:
    """What the index holds for an item.

    Searched: the headline, summary, text, topic names, date (as the site writes
    it), place and author, all folded. Shown: headline, date, topics, summary and
    text as written; the page cuts the excerpt from the text.
    """
    body = source.body
    summary = source.summary if source.summary.rstrip("…") not in body else ""
    searchable = "\n".join(part for part in (
        summary, body, " ".join(source.topics), source.date, source.location, source.author) if part)
    meta = {
        "headline": source.title,
        "date": source.date,
        "topics": join_list(list(source.topics)),
        "summary": source.summary,
        "text": body,
    }
    return SearchRecord(url=source.url, title_tokens=_index_line(source.title),
                        body_tokens=_index_line(searchable), meta=meta)


def record_html(record: SearchRecord, language: str = INDEX_LANGUAGE) -> str:
    """The page Pagefind reads for one record.

    The folded words are the page's text, the folded headline its <h1>, so
    Pagefind weighs it as a heading and returns it as the `title` metadata, which
    the page's ranking lifts. What readers see is metadata read from attributes,
    written by `hide`. (No filters: Pagefind 1.5 writes filter indexes in a
    different order on each run, and builds must be reproducible.)
    """
    keys = ", ".join(f"{key}[data-{key}]" for key in record.meta)
    # Runs of white space made one space, as Pagefind does with metadata it can read.
    attributes = " ".join(f'data-{key}="{html.escape(hide(" ".join(value.split())), quote=True)}"'
                          for key, value in record.meta.items())
    return (f'<!doctype html><html lang="{language}"><head><meta charset="utf-8"></head><body>'
            f"<main data-pagefind-body><h1>{html.escape(record.title_tokens)}</h1>"
            f"<p>{html.escape(record.body_tokens)}</p></main>"
            f'<div data-pagefind-meta="{keys}" {attributes}></div></body></html>\n')


# -- what is looked up -----------------------------------------------------------

@lru_cache(maxsize=1)
def article_clitics() -> tuple[str, ...]:
    """The prefix clitics that carry the article («ال», «وال», «بال», «لل»...), longest first."""
    return tuple(p for p in CLITIC_PREFIXES if "ال" in p or p.endswith("لل"))


def query_keys(query: str) -> list[tuple[str, ...]]:
    """What the search page looks up for each word of `query`.

    The first key is the folded word without an article clitic («والدفاع» ->
    «دفاع»): the index holds every word's clitic-free forms, so it finds the word
    with or without any clitic. The article is taken off only where the reader
    typed it: «آليات» folds to «اليات» but keeps its «ال». The other keys are the
    word without other prefix clitics («ومستشفى» -> «مستشفي»); the page tries
    them only when the first keys find nothing, since a leading «و ف ب ل ك» is as
    often part of the word («وزير», «بحيرة»). A clitic is removed only if at
    least MIN_KEY letters remain.
    """
    keys: list[tuple[str, ...]] = []
    for typed in _TYPED_WORD.findall(strip_marks(query)):
        for position, word in enumerate(words(typed)):
            first = word
            for prefix in article_clitics():
                if (word.startswith(prefix) and (position or typed.startswith(prefix))
                        and len(word) - len(prefix) >= MIN_KEY):
                    first = word[len(prefix):]
                    break
            rest = [s for s in stems(word)[1:] if len(s) >= MIN_KEY and s != first]
            keys.append(tuple(dict.fromkeys([first, *rest])))
    return keys


def word_matches(word: str, key: str) -> bool:
    """Whether Pagefind finds `key` in a text holding `word`: a form of the word starts with it."""
    return any(form.startswith(key) for normalized in words(word) for form in stems(normalized))


# -- the folding tables, for the browser -------------------------------------------

def browser_tables() -> dict:
    """`arabic.folding_tables()`, the query rules above and how `hide` writes, for search.js."""
    return {**folding_tables(), "article_clitics": list(article_clitics()), "min_key": MIN_KEY,
            "hidden": {"first": _HIDDEN_FIRST, "direct": _HIDDEN_DIRECT, "escape": _HIDDEN_ESCAPE}}


def folding_json() -> Markup:
    """The tables as JSON safe inside <script type="application/json">."""
    text = json.dumps(browser_tables(), ensure_ascii=False, separators=(",", ":"))
    return Markup(text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026"))


# -- the page --------------------------------------------------------------------

def render_search_page(model: SiteModel, config: SiteConfig, site_renderer=None):
    """`/search/index.html` through the `search.html` template (with the build's renderer, if given)."""
    from .render import SiteRenderer, RenderedFile, output_path

    site_renderer = site_renderer or SiteRenderer(model, config)
    page = {"kind": "search", "title": f"بحث — {config.title}", "url": SEARCH_URL,
            "canonical": config.base_url + SEARCH_URL,
            "description": f"البحث في {config.title}", "feed_url": None}
    data = site_renderer.renderer.render("search.html", SEARCH_URL, {
        "site": site_renderer.site, "page": page,
        "search": {"folding": folding_json(), "digits": config.digits, "bundle": f"{BUNDLE}/",
                   "total": len(model.articles), "undated": UNDATED},
    })
    return RenderedFile(output_path(SEARCH_URL), data)


# -- the index -------------------------------------------------------------------

@dataclass
class SearchIndexReport:
    records: int = 0
    files: int = 0  # of the Pagefind bundles of all shards
    bytes: int = 0
    seconds: float = 0.0
    shards: int = 0
    rebuilt: int = 0  # shards indexed by this call; the others were kept or reused
    overlaid: int = 0  # shards kept though their items changed, the changes in the shard of recent edits
    recent: int = 0  # items in the shard of recent edits
    pagefind_seconds: float = 0.0  # CPU time of the Pagefind runs
    pagefind_peak_bytes: int = 0  # the largest peak memory (RSS) of one Pagefind run


@dataclass(frozen=True)
class Shard:
    """One part of the index: its items, and the folder its bundle has under `pagefind/`."""

    number: int
    count: int
    # The items' record sources, or their articles, which `source_of` makes into record sources
    # when first asked (`sources`): a build keeps most shards as they are and needs only digests.
    members: tuple = field(repr=False, compare=False)
    digest: str = field(compare=False)
    source_digests: tuple[str, ...] = field(default=(), compare=False)  # `RecordSource.digest`, hex, in order
    recent: bool = False  # the shard of recent edits, which holds items of every other shard
    source_of: Callable[[Article], RecordSource] | None = field(default=None, repr=False, compare=False)

    @cached_property
    def sources(self) -> tuple[RecordSource, ...]:
        return tuple(self.members) if self.source_of is None else tuple(map(self.source_of, self.members))

    @property
    def language(self) -> str:
        return f"{INDEX_LANGUAGE}-x-recent" if self.recent else f"{INDEX_LANGUAGE}-x-s{self.number}"

    @property
    def name(self) -> str:
        # Named after what it holds: a new version of a shard never overwrites the old
        # one, so the manifest can switch from one to the other at once.
        return f"recent-{self.digest[:16]}" if self.recent else f"{self.number:03d}-{self.digest[:16]}"


def shard_count(items: int) -> int:
    """How many shards hold `items` items: the smallest power of two giving at most SHARD_ITEMS each.

    A power of two, so that the count (and with it the shard of every item, and so
    every shard) changes only when the archive doubles or halves, not with each item.
    """
    count = 1
    while items > count * SHARD_ITEMS:
        count *= 2
    return count


def shard_number(path: str, count: int) -> int:
    """The shard of the item whose file is `path`, out of `count`.

    A hash of the file's path, not of the URL (which a new headline can change) nor
    of the date (which would put all new items, and all their edits, in one growing
    shard): an edit leaves the item in its shard, and shards are of even size and
    mix every period, so each ranks its results with like statistics.
    """
    digest = hashlib.blake2b(path.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big") % count


def plan_shards(model: SiteModel, config: SiteConfig) -> list[Shard]:
    """The shards of the index of `model`, with the digest of what each is made from."""
    topic_names = {t.key: t.name for t in model.topics}
    count = shard_count(len(model.articles))
    members: list[list[Article]] = [[] for _ in range(count)]
    for article in model.articles:
        members[shard_number(article.path, count)].append(article)

    def source_of(article: Article) -> RecordSource:
        return record_source(article, config, topic_names)

    shards = []
    for number, articles in enumerate(members):
        if not articles:
            continue
        articles.sort(key=lambda article: article.path)
        shards.append(_shard(number, count, articles,
                             [source_digest(article, config, topic_names).hex() for article in articles],
                             source_of=source_of))
    return shards


def _shard(number: int, count: int, members: list, digests: list[str], recent: bool = False,
           source_of: Callable[[Article], RecordSource] | None = None) -> Shard:
    """The shard of `members` (record sources, or articles that `source_of` makes into record
    sources) whose record sources have `digests` (in hex)."""
    digest = hashlib.sha256(f"{_index_code()}\n{'recent' if recent else number}/{count}\n".encode())
    for member_digest in digests:
        digest.update(bytes.fromhex(member_digest))
    return Shard(number, count, tuple(members), digest.hexdigest(), tuple(digests), recent, source_of)


def _shard_of_sources(number: int, count: int, members: list[tuple[RecordSource, str]], recent: bool = False
                      ) -> Shard:
    """The shard of `members`, record sources with their digests (in hex)."""
    return _shard(number, count, [source for source, _ in members], [digest for _, digest in members], recent)


def write_search_index(folder: Path, model: SiteModel, config: SiteConfig,
                       previous: Path | None = None, listings: Path | None = None,
                       progress: Callable[[int, int], None] | None = None,
                       cancel: threading.Event | None = None) -> SearchIndexReport:
    """Index every item of `model` into `folder/pagefind/`, one Pagefind bundle per shard.

    A shard whose folder already holds the index of exactly its items is kept, or
    linked from `previous` (the output folder this one replaces). A shard whose items
    changed since its folder was indexed keeps that folder too, while the changed and
    added items fit in the shard of recent edits (`RECENT_ITEMS`): the manifest hides
    the records of its items as they were. The others are indexed as many at a time as
    there are cores, each Pagefind run holding at most a shard in memory. `listings` is the
    folder (in the build cache, since the output is published) where what each shard folder
    holds is kept: the digest of each item's record source and the id of its record. Without
    it, every changed shard is indexed again. Then
    `newsgen-shards.json` names the new set of shard folders, replaced in one rename,
    and only then are the folders it no longer names deleted: a site being served from
    `folder` always has a complete index.
    """
    started = time.perf_counter()
    shards = plan_shards(model, config)
    report = SearchIndexReport(records=len(model.articles), shards=len(shards))
    if not shards:
        remove_search_index(folder)
        report.seconds = time.perf_counter() - started
        return report
    bundle = folder / BUNDLE
    if bundle.is_dir() and not (bundle / MANIFEST).is_file():
        remove_search_index(folder)  # the index of an older newsgen: one bundle, not shards
    bundle.mkdir(parents=True, exist_ok=True)
    _remove_leftovers(bundle)
    if MEMORY_FOLDER.is_dir():
        _remove_leftovers(MEMORY_FOLDER, SCRATCH_PREFIX)
    earlier_bundle = previous / BUNDLE if previous is not None else None
    installed = [(b, _installed(_read_manifest(b))) for b in (bundle, earlier_bundle) if b is not None]
    to_index: list[Shard] = []
    stale: list[tuple[Shard, OlderShard]] = []
    for shard in shards:
        if _holds_or_link(bundle, earlier_bundle, shard):
            continue
        older = _older_version(shard, listings, installed) if listings is not None else None
        if older is None:
            to_index.append(shard)
        else:
            stale.append((shard, older))
    overlaid, refold = _recent_plan(stale)
    to_index += refold
    for _, older in overlaid:
        if older.folder.parent != bundle and not (bundle / older.folder.name).is_dir():
            _link_into(bundle, older.folder)
    recent = None
    if overlaid:
        members = sorted((member for _, older in overlaid for member in older.changed),
                         key=lambda member: member[0].path)
        if members:
            recent = _shard_of_sources(0, shards[0].count, members, recent=True)
            if not _holds_or_link(bundle, earlier_bundle, recent):
                to_index.append(recent)
    report.recent = len(recent.sources) if recent is not None else 0
    report.overlaid = len(overlaid)
    for run in _index_shards(bundle, to_index, listings, progress=progress, cancel=cancel):
        report.rebuilt += 1
        report.pagefind_seconds += run.cpu_seconds
        report.pagefind_peak_bytes = max(report.pagefind_peak_bytes, run.peak_bytes)
    older_of = {shard.number: older for shard, older in overlaid}
    names = [older_of[shard.number].folder.name if shard.number in older_of else shard.name for shard in shards]
    if recent is not None:
        names.append(recent.name)
    hidden = sorted(record_id for _, older in overlaid for record_id in older.hidden)
    _write_manifest(bundle, names, len(model.articles), hidden)
    for entry in bundle.iterdir():
        if entry.name not in names and entry.name != MANIFEST:
            _delete(entry)
    if listings is not None:
        _prune_listings(listings, names)
    for name in names:
        files, size = _size(bundle / name)
        report.files += files
        report.bytes += size
    _forms.cache_clear()
    report.seconds = time.perf_counter() - started
    return report


def add_recent_edits(folder: Path, config: SiteConfig, listings: Path, edited: list[Article],
                     topic_names: dict[str, str], articles_of: Callable[[list[str]], dict[str, Article] | None]
                     ) -> bool:
    """Bring the index in `folder` up to date after edits of `edited` items' bodies alone (their
    place, headline, topics and the number of items unchanged), without planning every shard: the
    edited items go into the shard of recent edits (or leave it, when edited back to the text
    their own shard holds), the manifest hides or shows their records in their own shards. The
    other items of the recent edits are read through `articles_of` (by file; None when it
    cannot). False, with the index as it was, when the listings or the manifest do not allow it,
    or the recent edits would grow past `RECENT_ITEMS` (counted as `write_search_index` counts
    them): then it is the caller's to call that."""
    bundle = folder / BUNDLE
    manifest = _read_manifest(bundle)
    if manifest is None:
        return False
    names, hidden, items = manifest["names"], set(manifest["hidden"]), manifest["items"]
    count = shard_count(items)
    home = _installed(manifest)
    recent_names = [name for name in names if name.startswith("recent-")]
    if len(home) + len(recent_names) != len(names) or len(recent_names) > 1:
        return False
    read: dict[str | None, dict | None] = {}

    def listing_of(name: str | None) -> dict | None:
        if name not in read:
            read[name] = _read_listing(listings, name, count) if name is not None else None
        return read[name]

    def home_record(path: str) -> list[str] | None:
        """What the item's own shard lists of it: the digest of its record source, and its id."""
        listing = listing_of(home.get(shard_number(path, count)))
        return listing["items"].get(path) if listing is not None else None

    members: set[str] = set()  # item files in the recent edits
    if recent_names:
        listing = listing_of(recent_names[0])
        if listing is None:
            return False
        members = set(listing["items"])
    sources: dict[str, tuple[RecordSource, str]] = {}  # of the recent edits: source and its digest
    for article in edited:
        source = record_source(article, config, topic_names)
        source_digest = source.digest().hex()
        known = home_record(source.path)
        if known is None:
            return False
        if source_digest == known[0]:  # as its own shard holds it
            members.discard(source.path)
            hidden.discard(known[1])
        else:
            members.add(source.path)
            hidden.add(known[1])
            sources[source.path] = (source, source_digest)
    # What waits, as `_recent_plan` counts it: the items in the recent edits, and those gone from
    # their shards (the hidden records that are not the old records of recent edits).
    gone = len(hidden) - sum(1 for path in members if home_record(path) is not None)
    if len(members) + gone > RECENT_ITEMS:
        return False
    others = sorted(members - sources.keys())
    found = articles_of(others) if others else {}
    if found is None or found.keys() != set(others):
        return False
    for path, article in found.items():
        source = record_source(article, config, topic_names)
        sources[path] = (source, source.digest().hex())
    kept = [name for name in names if not name.startswith("recent-")]
    if members:
        recent = _shard_of_sources(0, count, [sources[path] for path in sorted(members)], recent=True)
        if not _holds(bundle / recent.name, recent):
            _place(bundle, bundle / recent.name, lambda fresh: _index_shard(recent, fresh, listings))
        kept.append(recent.name)
    _write_manifest(bundle, kept, items, sorted(hidden))
    for name in recent_names:
        if name not in kept:
            _delete(bundle / name)
    _prune_listings(listings, kept)
    _forms.cache_clear()
    return True


def _holds_or_link(bundle: Path, earlier_bundle: Path | None, shard: Shard) -> bool:
    """Whether `bundle` holds `shard` already, or now does, linked from the output being replaced."""
    target = bundle / shard.name
    if _holds(target, shard):
        return True
    earlier = earlier_bundle / shard.name if earlier_bundle is not None else None
    if earlier is not None and _holds(earlier, shard):
        _link_into(bundle, earlier)
        return True
    return False


def _link_into(bundle: Path, folder: Path) -> None:
    """A shard folder of the output being replaced, in `bundle` under its name, its files linked."""
    _place(bundle, bundle / folder.name, lambda fresh: shutil.copytree(folder, fresh, copy_function=_link_or_copy))


@dataclass(frozen=True)
class OlderShard:
    """A folder holding an earlier version of a shard, and how the shard differs from it."""

    folder: Path
    changed: list[tuple[RecordSource, str]]  # items new or changed since, with their digests
    hidden: list[str]  # ids of the folder's records of items since changed or gone
    gone: int = 0  # of those, items gone from the shard

    @property
    def waiting(self) -> int:
        """The edits this folder leaves to the shard of recent edits and the manifest."""
        return len(self.changed) + self.gone


def _read_manifest(bundle: Path) -> dict | None:
    """A bundle's manifest, with `names`, the shard folders it names; None when there is none that
    this code wrote."""
    try:
        manifest = json.loads((bundle / MANIFEST).read_text("utf-8"))
        manifest["names"] = [str(name).rstrip("/") for name in manifest["shards"]]
        manifest["hidden"], manifest["items"] = list(manifest["hidden"]), int(manifest["items"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return manifest


def _installed(manifest: dict | None) -> dict[int, str]:
    """The folders of the shards (not the recent edits) a manifest names, by shard number."""
    found = {}
    for name in manifest["names"] if manifest is not None else ():
        number = name.split("-")[0]
        if number.isdigit():
            found[int(number)] = name
    return found


def _older_version(shard: Shard, listings: Path, installed: list[tuple[Path, dict[int, str]]]
                   ) -> OlderShard | None:
    """The folder, in the output or the one being replaced, of the shard of the same number in an
    index of as many shards made by this code, with its listing; None when there is none."""
    for bundle, names in installed:
        name = names.get(shard.number)
        if name is None or not (bundle / name / DIGEST_FILE).is_file():
            continue
        listing = _read_listing(listings, name, shard.count)
        if listing is None:
            continue
        items: dict[str, list[str]] = listing["items"]
        changed, hidden = [], []
        for source, source_digest in zip(shard.sources, shard.source_digests):
            known = items.get(source.path)
            if known is None or known[0] != source_digest:
                changed.append((source, source_digest))
                if known is not None:
                    hidden.append(known[1])
        paths = {source.path for source in shard.sources}
        gone = [known[1] for path, known in items.items() if path not in paths]
        return OlderShard(bundle / name, changed, hidden + gone, len(gone))
    return None


def _recent_plan(stale: list[tuple[Shard, OlderShard]]
                 ) -> tuple[list[tuple[Shard, OlderShard]], list[Shard]]:
    """Which changed shards keep their older folder beside the shard of recent edits, and which
    are indexed again: all kept while their edits (items changed, added or gone) number at most
    `RECENT_ITEMS`, else the shards with most are indexed again until the rest number at most
    half as many. (Deletions count too: their records stay in their shards, hidden.)"""
    total = sum(older.waiting for _, older in stale)
    if total <= RECENT_ITEMS:
        return stale, []
    kept = sorted(stale, key=lambda pair: (pair[1].waiting, pair[0].number))
    refold = []
    while kept and total > RECENT_ITEMS // 2:
        shard, older = kept.pop()
        total -= older.waiting
        refold.append(shard)
    return sorted(kept, key=lambda pair: pair[0].number), sorted(refold, key=lambda shard: shard.number)


def _read_listing(listings: Path, name: str, count: int) -> dict | None:
    """The listing of the shard folder `name`, when this code wrote it for an index of `count`
    shards; None otherwise (then the shard is indexed again)."""
    try:
        listing = json.loads((listings / f"{name}.json").read_text("utf-8"))
    except (OSError, ValueError):
        return None
    items = listing.get("items") if isinstance(listing, dict) else None
    if not isinstance(items, dict) or listing.get("code") != _index_code() or listing.get("count") != count \
            or not all(isinstance(known, list) and len(known) == 2 and all(isinstance(part, str) for part in known)
                       for known in items.values()):
        return None
    return listing


def _write_listing(listings: Path, shard: Shard, fresh: Path) -> None:
    """Record which id Pagefind gave each item's record in the bundle `fresh` of `shard`. Without
    a record for each item (a Pagefind that names them otherwise), none is written, and the
    shard is indexed again when its items change."""
    ids = {}
    for path in (fresh / "fragment").glob("*.pf_fragment"):
        try:
            ids[unquote(_fragment_url(path.read_bytes()))] = path.name[:-len(".pf_fragment")]
        except (OSError, ValueError, KeyError, TypeError, EOFError, gzip.BadGzipFile, zlib.error):
            return
    items = {}
    for source, source_digest in zip(shard.sources, shard.source_digests):
        record_id = ids.get("/" + source.url.rstrip("/") + ".html")
        if record_id is None:
            return
        items[source.path] = [source_digest, record_id]
    target = listings / f"{shard.name}.json"
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fresh_listing = target.with_name(f".new-{os.getpid()}-{target.name}")
        fresh_listing.write_text(json.dumps({"code": _index_code(), "count": shard.count, "items": items},
                                            ensure_ascii=False), encoding="utf-8")
        os.replace(fresh_listing, target)
    except OSError:
        pass  # without it, the shard is indexed again when it changes


# A fragment is "pagefind_dcd" and a JSON object whose first key is the record's URL.
_FRAGMENT_URL = re.compile(rb'^pagefind_dcd\{"url":"((?:[^"\\]|\\.)*)"')


def _fragment_url(compressed: bytes) -> str:
    """The URL of a record, from its gzipped fragment: from the fragment's first bytes, which is
    all of it that needs unpacking (the rest, some 14 KB, is the record's words and metadata)."""
    match = _FRAGMENT_URL.match(zlib.decompressobj(wbits=31).decompress(compressed, 4096))
    if match:
        return json.loads(b'"' + match.group(1) + b'"')
    data = gzip.decompress(compressed)  # another layout: read it all
    stored = json.loads(data[data.index(b"{"):])
    return stored.get("raw_url") or stored["url"]


def _prune_listings(folder: Path, names: list[str]) -> None:
    """Remove the listings of shard folders the index no longer names."""
    if not folder.is_dir():
        return
    kept = {f"{name}.json" for name in names}
    for entry in folder.iterdir():
        if entry.name not in kept:
            entry.unlink(missing_ok=True)


def _stop_if_given_up(cancel: threading.Event | None) -> None:
    if cancel is not None and cancel.is_set():
        raise SearchIndexCancelled("writing the search index was given up")


def _index_shards(bundle: Path, shards: list[Shard], listings: Path | None,
                  progress: Callable[[int, int], None] | None = None,
                  cancel: threading.Event | None = None) -> list[PagefindRun]:
    """Index the shards, as many at once as there are cores; `progress` is told how many of
    them are done (of how many) at the start and as each is done. Once `cancel` is set, no
    shard is begun and running Pagefind programs are stopped (`SearchIndexCancelled`).

    One Pagefind run keeps about one core and a third busy, and its pages are written
    first by this process: two at a time overlap the writing of one shard's pages with the
    indexing of another's, and fill both cores of a small machine.
    """
    done = 0
    counting = threading.Lock()

    def index(shard: Shard) -> PagefindRun:
        nonlocal done
        _stop_if_given_up(cancel)
        run = _place(bundle, bundle / shard.name, lambda fresh: _index_shard(shard, fresh, listings, cancel))
        if progress is not None:
            with counting:
                done += 1
                progress(done, len(shards))
        return run

    if progress is not None and shards:
        progress(0, len(shards))
    at_once = min(len(shards), cores())
    if at_once <= 1:
        return [index(shard) for shard in shards]
    from concurrent.futures import ThreadPoolExecutor  # here: a body edit's build does without importing it
    with ThreadPoolExecutor(max_workers=at_once) as pool:
        runs = [pool.submit(index, shard) for shard in shards]
        return [run.result() for run in runs]


def remove_search_index(folder: Path) -> None:
    """Remove the index from an output folder (search turned off, or about to be replaced)."""
    bundle = folder / BUNDLE
    if bundle.is_dir():
        old = folder / f".{BUNDLE}.old-{os.getpid()}"
        shutil.rmtree(old, ignore_errors=True)
        os.rename(bundle, old)
        shutil.rmtree(old, ignore_errors=True)


def _holds(folder: Path, shard: Shard) -> bool:
    """Whether `folder` is the complete bundle of `shard` (its digest file is written last)."""
    try:
        return (folder / DIGEST_FILE).read_text("utf-8").split("\n")[0] == shard.digest
    except OSError:
        return False


def _size(folder: Path) -> tuple[int, int]:
    """How many files and bytes Pagefind wrote into a shard folder, as its digest file says."""
    try:
        files, size = (folder / DIGEST_FILE).read_text("utf-8").split("\n")[1].split()
        return int(files), int(size)
    except (OSError, ValueError, IndexError):
        written = [p for p in folder.rglob("*") if p.is_file() and p.name != DIGEST_FILE]
        return len(written), sum(p.stat().st_size for p in written)


@dataclass(frozen=True)
class PagefindRun:
    cpu_seconds: float = 0.0
    peak_bytes: int = 0


def _place(bundle: Path, target: Path, make: Callable[[Path], T]) -> T:
    """Make a shard folder beside its place with `make(fresh)`, then rename it into place."""
    fresh = bundle / f".new-{os.getpid()}-{target.name}"
    _delete(fresh)
    try:
        result = make(fresh)
        _delete(target)  # an unfinished folder of the same name, left by a build that died
        os.rename(fresh, target)
    finally:
        _delete(fresh)
    return result


def _index_shard(shard: Shard, fresh: Path, listings: Path | None, cancel: threading.Event | None = None
                 ) -> PagefindRun:
    """Run Pagefind on the records of `shard`, written as pages into a scratch folder; and list
    the records for later builds (`_write_listing`).

    The scratch folder is in memory (`MEMORY_FOLDER`) where the system has one with room
    for the pages, else beside `fresh`, on the output's disk.
    """
    source = _scratch_pages(shard, fresh)
    try:
        run = _pagefind(source, fresh, _chunk_units(shard.count), cancel)
    finally:
        _delete(source)
    for name in UNUSED_BUNDLE_FILES:
        (fresh / name).unlink(missing_ok=True)
    files, size = _size(fresh)
    if listings is not None:
        _write_listing(listings, shard, fresh)
    (fresh / DIGEST_FILE).write_text(f"{shard.digest}\n{files} {size}\n", encoding="utf-8")
    return run


# Pagefind reads a shard's records as pages from a scratch folder, made and removed for
# each shard. On disk, those are thousands of files deleted during the build, and on ext4
# without a journal a file made within 30 s of many deletions costs several times the
# system time (the inode allocator skips each recently freed inode): the shards indexed
# next and the next build paid for them. A memory-backed folder has no such cost.
MEMORY_FOLDER = Path("/dev/shm")
SCRATCH_PREFIX = "newsgen-search-"


def _scratch_pages(shard: Shard, fresh: Path) -> Path:
    """The folder the records of `shard` are written into as pages: in `MEMORY_FOLDER` when it
    exists and has room for them, else beside `fresh`."""
    try:
        memory = Path(tempfile.mkdtemp(prefix=f"{SCRATCH_PREFIX}{os.getpid()}-", dir=MEMORY_FOLDER))
        _write_or_remove(shard, memory)
        return memory
    except OSError:  # no memory folder, or no room in it
        pass
    on_disk = fresh.with_name(fresh.name + ".pages")
    _delete(on_disk)
    _write_or_remove(shard, on_disk)
    return on_disk


def _write_or_remove(shard: Shard, source: Path) -> None:
    """`_write_record_pages`, leaving no folder written in part."""
    try:
        _write_record_pages(shard, source)
    except BaseException:
        _delete(source)
        raise


def _write_record_pages(shard: Shard, source: Path) -> None:
    # `articles/<slug>.html`, not `articles/<slug>/index.html`: one folder for all instead
    # of one each, which halves the time it takes to write them. Pagefind gives the record
    # the URL `/articles/<slug>.html`; the search page links to `articles/<slug>/`.
    made: set[Path] = set()  # folders: a mkdir that finds the folder costs a failed call and a stat
    for item in shard.sources:
        path = source / (item.url.rstrip("/") + ".html")
        if path.parent not in made:
            path.parent.mkdir(parents=True, exist_ok=True)
            made.add(path.parent)
        path.write_text(record_html(record_from(item), shard.language), encoding="utf-8")


def _chunk_units(shards: int) -> int:
    """How large Pagefind makes the index files of a shard (in its own units).

    The page loads, for each word of a query, the index file where it stands from
    every shard: with files of 1/n Pagefind's size past INDEX_CHUNK_SPREAD shards,
    that stays under INDEX_CHUNK_SPREAD files' worth however large the archive.
    """
    return max(MIN_CHUNK_UNITS, PAGEFIND_CHUNK_UNITS * min(shards, INDEX_CHUNK_SPREAD) // shards)


def _pagefind(source: Path, output: Path, chunk_units: int = 0, cancel: threading.Event | None = None
              ) -> PagefindRun:
    """Run the Pagefind program on the pages in `source`, writing its bundle to `output`
    (stopped, and `SearchIndexCancelled` raised, once `cancel` is set)."""
    command = [str(_binary()), "--site", str(source), "--output-path", str(output), "--silent"]
    # Pagefind also reads its options from PAGEFIND_* variables and from a pagefind.yml in
    # its working folder: neither may change what newsgen builds.
    environment = {name: value for name, value in os.environ.items() if not name.startswith("PAGEFIND_")}
    environment.setdefault(*_ALLOCATOR)
    if chunk_units:
        environment["PAGEFIND_UNSTABLE_INDEX_CHUNK_SIZE"] = str(chunk_units)
    with tempfile.TemporaryFile() as log:
        try:
            process = subprocess.Popen(command, cwd=source, env=environment, stdin=subprocess.DEVNULL,
                                       stdout=log, stderr=subprocess.STDOUT)
        except OSError as exc:
            raise SearchIndexError(f"search is on but the Pagefind program could not be run ({exc}); run "
                                   "`pip install pagefind-bin`, or turn search off with `[search] enabled = false` "
                                   "in site.toml") from None
        run = _wait(process, cancel)
        log.seek(0)
        said = log.read().decode("utf-8", "replace").strip()
    if process.returncode != 0:
        raise SearchIndexError(f"Pagefind could not write the search index (exit status {process.returncode}): "
                               f"{said[-2000:] or 'no message'}")
    entry = output / "pagefind-entry.json"
    empty = sorted(str(p.relative_to(output)) for p in output.rglob("*") if p.is_file() and not p.stat().st_size)
    if not entry.is_file() or empty:
        raise SearchIndexError(f"Pagefind wrote an incomplete search index (empty: {', '.join(empty[:5]) or 'none'}"
                               f"{'' if entry.is_file() else '; no pagefind-entry.json'}) {said[-2000:]}")
    return run


def _wait(process: subprocess.Popen, cancel: threading.Event | None = None) -> PagefindRun:
    """Wait for `process`; its own CPU time and peak memory where the system tells them.

    The peak is the high-water mark of the program's own memory (VmHWM), read while
    it runs: the child's ru_maxrss cannot tell it, since Linux counts in it the
    memory of the process that started the child, which for a large site is
    newsgen's itself.
    """
    if not hasattr(os, "wait4"):
        process.wait()
        return PagefindRun()
    status_file = Path(f"/proc/{process.pid}/status")
    peak = 0
    # A shard of a few recent edits is indexed in some 20 ms: looking often at first keeps a body
    # edit's build from waiting a whole interval for it; a large shard is looked at every 20 ms.
    interval = 0.001
    try:
        while True:
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                break
            _stop_if_given_up(cancel)
            peak = max(peak, _high_water(status_file))
            time.sleep(interval)
            interval = min(interval * 2, 0.02)
    except BaseException:
        process.kill()
        process.wait()
        raise
    process.returncode = os.waitstatus_to_exitcode(status)
    return PagefindRun(cpu_seconds=usage.ru_utime + usage.ru_stime, peak_bytes=peak)


def _high_water(status_file: Path) -> int:
    """VmHWM from a /proc/<pid>/status file, in bytes; 0 where there is none."""
    try:
        for line in status_file.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0


def _binary() -> Path:
    """The Pagefind program: PAGEFIND_BINARY_PATH, else pagefind-bin's, else one on PATH."""
    configured = os.environ.get("PAGEFIND_BINARY_PATH")
    if configured:
        return Path(configured)
    installed = _packaged_binary()
    if installed is not None:
        return installed
    found = shutil.which("pagefind")
    if found is None:
        raise SearchIndexError(
            "search is on but Pagefind is not installed; run `pip install pagefind-bin`, "
            "or turn search off with `[search] enabled = false` in site.toml")
    return Path(found)


def _packaged_binary() -> Path | None:
    """pagefind-bin's program. Looked for first where `pagefind_bin.get_executable` keeps it in
    the versions newsgen knows, without importing the package (which imports `platform`: 0.008 s
    of a body edit's build); should it not be there, the package is asked."""
    spec = importlib.util.find_spec("pagefind_bin")
    if spec is None:
        return None
    suffix = ".exe" if os.name == "nt" else ""
    for folder in spec.submodule_search_locations or []:
        for name in ("pagefind_extended", "pagefind"):
            program = Path(folder) / f"{name}{suffix}"
            if program.is_file():
                return program
    try:
        from pagefind_bin import get_executable
        return Path(get_executable())
    except (ImportError, OSError):
        return None


@lru_cache(maxsize=1)
def _index_code() -> str:
    """What, besides the items, decides the records and bundles: this code, the folding, Pagefind."""
    from . import arabic
    # The program by its path, size and time, which a new version or a reinstall changes (asking
    # the package's version costs a body edit's build 0.01 s of importing importlib.metadata).
    try:
        program = _binary()
        stat = program.stat()
        pagefind = f"{program} {stat.st_size} {stat.st_mtime_ns}"
    except (OSError, NewsgenError):  # no program to tell: nothing to compare, so no reuse
        pagefind = str(time.time())
    digest = hashlib.sha256(f"pagefind {pagefind}\n".encode())
    for module in (__file__, arabic.__file__):
        digest.update(Path(module).read_bytes())
    return digest.hexdigest()


def _write_manifest(bundle: Path, names: list[str], items: int, hidden: list[str]) -> None:
    """Name the shard folders of the index and the records the page leaves out (of items edited
    since their shard was indexed), in one rename: the page reads this first."""
    manifest = {"version": 1, "items": items, "shards": [f"{name}/" for name in names], "hidden": hidden}
    text = json.dumps(manifest, ensure_ascii=False, indent=1) + "\n"
    path = bundle / MANIFEST
    if path.is_file() and path.read_text("utf-8") == text:
        return
    fresh = bundle / f".new-{os.getpid()}-{MANIFEST}"
    fresh.write_text(text, encoding="utf-8")
    os.replace(fresh, path)


def _remove_leftovers(folder: Path, prefix: str = ".new-") -> None:
    """Folders and files named `<prefix><pid>-...` of builds that died mid-way (their process is gone)."""
    for entry in folder.glob(prefix + "*"):
        pid = entry.name[len(prefix):].split("-")[0]
        if pid.isdigit() and int(pid) != os.getpid():
            try:
                os.kill(int(pid), 0)
            except ProcessLookupError:
                _delete(entry)
            except PermissionError:
                pass


def _link_or_copy(source: str, target: str) -> None:
    """Bundle files are never changed in place, so the new output can share them with the old."""
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def _delete(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    elif path.exists() or path.is_symlink():
        path.unlink(missing_ok=True)
