"""Loaders: files in, immutable records out. One module per input format."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path
from typing import Callable, Iterable, Iterator

from ..cache import RecordEntry, digest
from ..config import ReadSettings, SiteConfig
from ..errors import ContentError, Diagnostics
from ..model import Article, StandingPage
from ..parallel import MAX_WORKERS, cores
from ..terms import TermCounts, terms_of
from ..slugs import is_safe_slug, make_slug, slug_from_path
from ..storage import BodySpool, encoded_bodies
from .fields import read_fields
from .frontmatter import decode, split_front_matter
from .markdown import load_markdown, render_markdown
from .plaintext import load_plaintext

Loader = Callable[[str, str, SiteConfig, Diagnostics], "Article | None"]
LOADERS: dict[str, Loader] = {".md": load_markdown, ".txt": load_plaintext}


def find_item_files(folders: tuple[Path, ...] | list[Path], suffixes=tuple(LOADERS)) -> list[Path]:
    """Every item file below the folders, in a stable order; `.`/`_` names skipped."""
    return [Path(name) for name, _ in scan_item_files(folders, suffixes)]


def scan_item_files(folders: tuple[Path, ...] | list[Path],
                    suffixes=tuple(LOADERS)) -> list[tuple[str, os.stat_result | OSError]]:
    """(path, stat) of every item file below the folders, in a stable order; the error
    instead of the stat when the file cannot be read (a link to nowhere, say).

    Paths stay strings here: making a `Path` for each of tens of thousands of files
    costs more than reading the directories.
    """
    found: list[tuple[str, os.stat_result | OSError]] = []

    def walk(folder: str) -> None:
        """A folder's files, then its sub-folders, each by name (the order of `os.walk`)."""
        try:
            with os.scandir(folder) as scan:
                entries = sorted(scan, key=lambda entry: entry.name)
        except OSError:
            return
        folders = []
        for entry in entries:
            if entry.name.startswith((".", "_")):
                continue
            try:
                if entry.is_dir():
                    if not entry.is_symlink():  # links to folders are not followed
                        folders.append(entry.path)
                elif entry.name.lower().endswith(suffixes):
                    found.append((entry.path, _stat(entry)))
            except OSError:
                continue
        for path in folders:
            walk(path)

    for folder in folders:
        if folder.is_dir():
            walk(str(folder))
    return found


def _stat(entry: os.DirEntry) -> os.stat_result | OSError:
    try:
        return entry.stat()
    except OSError as exc:
        return exc


def display_path(path: Path, root: Path) -> str:
    # A file found below the root (the usual case) is shown by cutting the root off its
    # text, which is what `relative_to` gives for such paths at a fraction of the cost.
    text, base = str(path), str(root)
    if os.sep == "/" and base != "/" and text.startswith(base) and text[len(base):len(base) + 1] == "/":
        return text[len(base) + 1:]
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.as_posix()


def load_article(path: Path, settings: ReadSettings, diagnostics: Diagnostics,
                 data: bytes | None = None) -> Article | None:
    """One item file to a record, or None with the reason in `diagnostics`."""
    shown = display_path(path, settings.root)
    try:
        text = decode(path.read_bytes() if data is None else data, shown)
        return LOADERS[path.suffix.lower()](text, shown, settings, diagnostics)
    except ContentError as exc:
        diagnostics.add(exc)
    except OSError as exc:
        diagnostics.error(f"cannot read the file: {exc.strerror}", shown)
    return None


def load_articles(config: SiteConfig, diagnostics: Diagnostics, *, drafts: bool = False,
                  records: dict[str, RecordEntry] | None = None,
                  found: list[tuple[str, os.stat_result | OSError]] | None = None,
                  scanned_ns: int = 0) -> list[Article]:
    """All published items (drafts too when asked), in file order.

    With `records` (the build cache), files whose size, time and then bytes are
    unchanged are not parsed again; `records` is updated in place to hold
    exactly the files found now. `found` is `scan_item_files` of the items
    folders, when the caller has it already. `scanned_ns` is when the scan that
    recorded the records began: a file's size and time vouch for it only when it
    is older than that (`settled`), else its bytes are compared.
    """
    for folder in config.item_dirs:
        if not folder.is_dir():
            diagnostics.error("the items folder does not exist; create it or fix `content.items` in site.toml",
                              display_path(folder, config.root))
    previous = records if records is not None else {}
    current: dict[str, RecordEntry] = {}
    to_read: list[tuple[str, os.stat_result, RecordEntry | None]] = []
    for key, stat in found if found is not None else scan_item_files(config.item_dirs):
        if isinstance(stat, OSError):
            diagnostics.error(f"cannot read the file: {stat.strerror}", display_path(Path(key), config.root))
            continue
        entry = previous.get(key)
        if entry is not None and entry.size == stat.st_size and entry.mtime_ns == stat.st_mtime_ns and \
                settled(stat.st_mtime_ns, scanned_ns):
            current[key] = entry
        else:
            to_read.append((key, stat, entry))
    jobs = [(key, entry.content if entry is not None else None) for key, _, entry in to_read]
    for (key, stat, entry), (content, parsed) in zip(to_read, read_many(jobs, config.reading())):
        if content is None:  # the file could not be read: `parsed` says why
            diagnostics.error(f"cannot read the file: {parsed}", display_path(Path(key), config.root))
        elif parsed is None:  # the same bytes under a new time
            current[key] = replace(entry, size=stat.st_size, mtime_ns=stat.st_mtime_ns)
        else:
            current[key] = RecordEntry(stat.st_size, stat.st_mtime_ns, content, *parsed)

    for entry in current.values():
        diagnostics.problems.extend(entry.problems)
    articles = published(current.values(), drafts)
    if records is not None:
        records.clear()
        records.update(current)
    return articles


# The coarsest steps in which file systems keep a file's time (FAT: 2 s; ext4 on older kernels:
# a clock tick of a few milliseconds).
TIME_STEP_NS = 2_000_000_000


def settled(mtime_ns: int, scanned_ns: int) -> bool:
    """Whether a file's time, as recorded by a scan that began at `scanned_ns` (`time.time_ns()`),
    tells that the file is unchanged as long as the time and size are.

    A file rewritten within one step of the file system's clock keeps its time; at the same size,
    its size and time cannot tell the rewrite. That can have happened after the scan only to a
    file whose time is within one step of the scan, or later (git calls such files "racily clean").
    """
    return mtime_ns < scanned_ns - TIME_STEP_NS


def published(entries: Iterable[RecordEntry], drafts: bool = False) -> list[Article]:
    """The articles of the records that are published (drafts too when asked)."""
    return [entry.article for entry in entries if entry.article is not None and (drafts or not entry.article.draft)]


PARALLEL_FROM = 300  # below this, starting worker processes costs more than it saves


def read_many(jobs: list[tuple[str, str | None]], settings: ReadSettings) -> Iterator[tuple]:
    """`_read_one` of each (path, digest of the bytes known), across the cores when there are many.

    Worker processes read the files themselves and send articles back with their body and
    text still UTF-8 (`storage.encoded_bodies`), which are parked in a `BodySpool` as they
    arrive: this process neither reads, decodes nor holds the archive's text, and pages
    decode their own body where they render.
    """
    workers = min(cores(), MAX_WORKERS)
    if len(jobs) < PARALLEL_FROM or workers < 2:
        yield from (_read_one(job, settings) for job in jobs)
        return
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor
    from functools import partial

    spool = BodySpool()
    context = multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods() else None)
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        for content, parsed in pool.map(partial(_read_one, settings=settings, to_send=True), jobs, chunksize=64):
            if content is not None and parsed is not None and parsed[0] is not None:
                spool.park(parsed[0])
            yield content, parsed


def _read_one(job: tuple[str, str | None], settings: ReadSettings, to_send: bool = False) -> tuple:
    """(digest, (article, problems, term counts)) of a file; (digest, None) when its digest is the
    one known; (None, why) when it cannot be read."""
    name, known = job
    try:
        data = Path(name).read_bytes()
    except OSError as exc:
        return None, exc.strerror
    content = digest(data)
    if content == known:
        return content, None
    article, problems, terms = parse_item((Path(name), data), settings)
    return content, (encoded_bodies(article) if to_send and article is not None else article, problems, terms)


def parse_item(job: tuple[Path, bytes], settings: ReadSettings) -> tuple[Article | None, list, TermCounts | None]:
    """An item file's bytes to its record, the problems found and its term counts
    (`settings`: `SiteConfig.reading()`, which is all that reading an item may depend on)."""
    path, data = job
    diagnostics = Diagnostics()
    article = load_article(path, settings, diagnostics, data)
    # Term counts for related items are worked out here, once per file version and in
    # the worker processes, rather than over the whole archive at every build.
    terms = TermCounts.pack(terms_of(article.title, article.text), article.title) if article is not None else None
    return article, diagnostics.problems, terms


def load_pages(config: SiteConfig, diagnostics: Diagnostics) -> list[StandingPage]:
    """Standing pages from `content/`: Markdown with a `title` and optional `slug`."""
    if config.pages_dir is None or not config.pages_dir.is_dir():
        return []
    pages = []
    for order, path in enumerate(find_item_files([config.pages_dir], (".md",))):
        shown = display_path(path, config.root)
        try:
            source = split_front_matter(decode(path.read_bytes(), shown), shown, required=True)
        except ContentError as exc:
            diagnostics.add(exc)
            continue
        fields = read_fields(source.meta, source.meta_lines, shown, config.tz, diagnostics,
                             known=("title", "slug", "summary", "draft", "date", "updated"))
        if not fields.title:
            diagnostics.error("the page has no title; add `title: ...` to the front matter", shown, 1)
            continue
        if fields.slug and not is_safe_slug(fields.slug):
            diagnostics.error(f"`slug` {fields.slug!r} is not allowed: use one name without `/` or `..`",
                              shown, fields.lines.get("slug"))
            continue
        if fields.draft:
            continue
        slug = make_slug(fields.slug, "arabic") if fields.slug else slug_from_path(shown)
        html, _ = render_markdown(source.body)
        pages.append(StandingPage(shown, fields.title, slug or make_slug(fields.title), html, order))
    return pages
