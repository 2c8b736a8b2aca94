"""Static full-text search: a Pagefind index of the items and the page that queries it.

Pagefind (its Python API drives the `pagefind` binary that `pagefind-bin` ships)
writes the index into the output folder, under `pagefind/`, after every page is
rendered. What it indexes for an item is newsgen's folding of the item's text:
every word through `arabic.normalize`, followed by the forms it takes without its
prefix clitics (`arabic.stems`), so «والدفاع» is found as «الدفاع» and «دفاع».
What readers see (headline, date, topics, the text the excerpt is cut from) is
kept as written, in the record's metadata.

The search page folds the query with the same tables: they are computed from
`arabic` at build time and written into the page, never copied by hand, and the
browser code (theme/static/search.js) applies them in the same order as
`normalize`, `words` and `stems` do here. `query_keys` is the Python reference
of what the page looks up for a query; the browser tests compare the two.
"""

from __future__ import annotations

import asyncio
import hashlib
import html
import json
import os
import re
import shutil
import tempfile
import threading
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from markupsafe import Markup

from .arabic import (CLITIC_PREFIXES, UNDATED, folding_tables, format_arabic_date, join_list, stems, strip_marks,
                     words)
from .config import SiteConfig
from .errors import NewsgenError
from .model import Article, SiteModel

SEARCH_URL = "search/"
BUNDLE = "pagefind"
# Pagefind stems words of the languages it knows (Arabic among them) and reads the
# language from <html lang>. Records are declared as "und" (undetermined) so that
# Pagefind adds no stemming of its own: the only folding is newsgen's.
INDEX_LANGUAGE = "und"
# A key shorter than this is never made by removing a clitic: «ولد» stays «ولد».
MIN_KEY = 3
# A word of the query as typed (marks removed, letters not folded): what `words` finds
# in it, and the characters `normalize` drops from inside a word.
_TYPED_WORD = re.compile(r"[\w\u200c\u200d\u200e\u200f\ufeff]+")
# Written into the bundle: the digest of what it was made from (see `write_search_index`).
DIGEST_FILE = "newsgen-index.sha256"
# Files of Pagefind's own search interfaces, which the search page does not use.
UNUSED_BUNDLE_FILES = ("pagefind-ui.js", "pagefind-ui.css", "pagefind-modular-ui.js",
                       "pagefind-modular-ui.css", "pagefind-component-ui.js",
                       "pagefind-component-ui.css", "pagefind-highlight.js")


class SearchIndexError(NewsgenError):
    """The search index could not be written."""


# -- what is indexed -------------------------------------------------------------

def index_tokens(text: str) -> list[str]:
    """The words Pagefind indexes for `text`: each folded word and its clitic-free forms."""
    return _index_line(text).split()


@lru_cache(maxsize=200_000)
def _forms(word: str) -> str:
    return " ".join(stems(word))


def _index_line(text: str) -> str:
    return " ".join(map(_forms, words(text)))


def _body_text(article: Article) -> str:
    """The item's text without its headline (`Article.text` starts with it)."""
    head, _, rest = article.text.partition("\n")
    return rest if head.strip() == article.title.strip() else article.text


@dataclass(frozen=True)
class SearchRecord:
    """One item as the index holds it: folded words to match, original text to show."""

    url: str  # site-relative, like `articles/<slug>/`
    title_tokens: str
    body_tokens: str
    meta: dict[str, str]


def make_record(article: Article, config: SiteConfig, topic_names: dict[str, str]) -> SearchRecord:
    """What the index holds for `article`.

    Searched: the headline, summary, text, topic names, date (as the site writes
    it), place and author, all folded. Shown: headline, date, topics, summary and
    text as written; the page cuts the excerpt from the text.
    """
    topics = [topic_names[k] for k in article.topic_keys if k in topic_names]
    date = format_arabic_date(article.date, locale=config.date_locale, digits=config.digits) \
        if article.date else ""
    body = _body_text(article)
    summary = article.summary if article.summary.rstrip("…") not in body else ""
    searchable = "\n".join(part for part in (
        summary, body, " ".join(topics), date, article.location, article.author) if part)
    meta = {
        "headline": article.title,
        "date": date,
        "topics": join_list(topics),
        "summary": article.summary,
        "text": body,
    }
    return SearchRecord(url=article.url, title_tokens=_index_line(article.title),
                        body_tokens=_index_line(searchable), meta=meta)


def record_html(record: SearchRecord) -> str:
    """The page Pagefind reads for one record.

    The folded words are the page's text, the folded headline its <h1>, so
    Pagefind weighs it as a heading and returns it as the `title` metadata. What
    readers see is metadata read from attributes. Pagefind also searches
    metadata; the texts there are the same words before folding, so they find
    nothing the folded ones do not. (No filters: Pagefind 1.5 writes filter
    indexes in a different order on each run, and builds must be reproducible.)
    """
    keys = ", ".join(f"{key}[data-{key}]" for key in record.meta)
    attributes = " ".join(f'data-{key}="{html.escape(value, quote=True)}"' for key, value in record.meta.items())
    return (f'<!doctype html><html lang="{INDEX_LANGUAGE}"><head><meta charset="utf-8"></head><body>'
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
    """`arabic.folding_tables()` and the query rules above, for search.js."""
    return {**folding_tables(), "article_clitics": list(article_clitics()), "min_key": MIN_KEY}


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
    files: int = 0
    bytes: int = 0
    seconds: float = 0.0


def write_search_index(folder: Path, model: SiteModel, config: SiteConfig) -> SearchIndexReport:
    """Index every item of `model` into `folder/pagefind/`.

    The bundle is written beside its place and swapped in, so a site being served
    from `folder` keeps a working search while the new index is built. When the
    folder already holds the index of exactly these records (a rebuild after an
    edit that changed no item), it is kept as it is.
    """
    started = time.perf_counter()
    topic_names = {t.key: t.name for t in model.topics}
    records = [make_record(a, config, topic_names) for a in model.articles]
    # `articles/<slug>.html`, not `articles/<slug>/index.html`: one folder for all instead
    # of one each, which halves the time it takes to write them. Pagefind gives the record
    # the URL `/articles/<slug>.html`; the search page links to `articles/<slug>/`.
    pages = {record.url.rstrip("/") + ".html": record_html(record) for record in records}
    digest = _digest(pages)
    bundle = folder / BUNDLE
    if not (bundle / DIGEST_FILE).is_file() or (bundle / DIGEST_FILE).read_text("utf-8").strip() != digest:
        fresh = folder / f".{BUNDLE}.new-{os.getpid()}"
        shutil.rmtree(fresh, ignore_errors=True)
        try:
            with tempfile.TemporaryDirectory(prefix="newsgen-search-") as scratch:
                source = Path(scratch) / "site"
                for name in {path.rpartition("/")[0] for path in pages}:
                    (source / name).mkdir(parents=True, exist_ok=True)
                for path, text in pages.items():
                    (source / path).write_text(text, encoding="utf-8")
                if pages:
                    _run(_pagefind(source, fresh))
            if pages:
                for name in UNUSED_BUNDLE_FILES:
                    (fresh / name).unlink(missing_ok=True)
                (fresh / DIGEST_FILE).write_text(digest + "\n", encoding="utf-8")
            remove_search_index(folder)
            if fresh.is_dir():
                os.rename(fresh, bundle)
        finally:
            shutil.rmtree(fresh, ignore_errors=True)
    files = [p for p in bundle.rglob("*") if p.is_file()] if bundle.is_dir() else []
    return SearchIndexReport(records=len(records), files=len(files), bytes=sum(p.stat().st_size for p in files),
                             seconds=time.perf_counter() - started)


def _digest(pages: dict[str, str]) -> str:
    """What the bundle is made from: the records and the Pagefind that indexes them."""
    try:
        from importlib.metadata import version
        pagefind_version = version("pagefind_bin")
    except Exception:  # another way of installing Pagefind: no version to compare, so no reuse
        pagefind_version = str(time.time())
    binary = os.environ.get("PAGEFIND_BINARY_PATH", "")
    digest = hashlib.sha256(f"pagefind {pagefind_version} {binary}\n".encode())
    for path in sorted(pages):
        digest.update(f"{path}\n{pages[path]}\n".encode())
    return digest.hexdigest()


def remove_search_index(folder: Path) -> None:
    """Remove the index from an output folder (search turned off, or about to be replaced)."""
    bundle = folder / BUNDLE
    if bundle.is_dir():
        old = folder / f".{BUNDLE}.old-{os.getpid()}"
        shutil.rmtree(old, ignore_errors=True)
        os.rename(bundle, old)
        shutil.rmtree(old, ignore_errors=True)


async def _pagefind(source: Path, bundle: Path) -> None:
    try:
        from pagefind.service import PagefindService
    except ImportError:
        raise SearchIndexError(
            "search is on but Pagefind is not installed; run `pip install pagefind pagefind-bin`, "
            "or turn search off with `[search] enabled = false` in site.toml") from None
    try:
        async with PagefindService() as service:
            index = await service.create_index()
            # One request for the whole folder: the Python API answers each request after a
            # 0.1 s poll, so adding the records one by one costs about 0.1 s per item.
            result = await index.add_directory(str(source))
            if not result.get("page_count"):
                raise SearchIndexError("Pagefind indexed no items")
            await index.write_files(output_path=str(bundle))
            await _written(bundle)
    except FileNotFoundError as exc:
        raise SearchIndexError(
            f"search is on but the Pagefind program is missing ({exc}); run `pip install pagefind-bin`, "
            "or turn search off with `[search] enabled = false` in site.toml") from None
    except SearchIndexError:
        raise
    except Exception as exc:  # the Pagefind service reports its own failures as plain exceptions
        raise SearchIndexError(f"Pagefind could not write the search index: {exc}") from None


async def _written(bundle: Path, timeout: float = 60.0) -> None:
    """Wait until Pagefind's files hold their data.

    Pagefind answers "written" once it has handed every file to its writer
    threads, not when they are on disk; stopping the service then (as closing it
    does) can leave a file empty, and an empty `wasm.unknown.pagefind` breaks the
    search page. Each file is written in one piece, so a bundle whose files are
    all non-empty, twice in a row, is complete.
    """
    deadline = time.monotonic() + timeout
    previous = None
    while True:
        sizes = {p: p.stat().st_size for p in bundle.rglob("*") if p.is_file()}
        if sizes and all(sizes.values()) and sizes == previous:
            return
        if time.monotonic() > deadline:
            empty = sorted(str(p.relative_to(bundle)) for p, size in sizes.items() if not size)
            raise SearchIndexError(f"Pagefind did not finish writing the search index (still empty: "
                                   f"{', '.join(empty[:5]) or 'none'})")
        previous = sizes
        await asyncio.sleep(0.05)


def _run(coroutine) -> None:
    """Run `coroutine` to the end, even when called from code that has an event loop running."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        asyncio.run(coroutine)
        return
    failure: list[BaseException] = []

    def target() -> None:
        try:
            asyncio.run(coroutine)
        except BaseException as exc:  # handed to the calling thread
            failure.append(exc)

    thread = threading.Thread(target=target, name="newsgen-search-index")
    thread.start()
    thread.join()
    if failure:
        raise failure[0]
