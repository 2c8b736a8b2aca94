"""`newsgen build`: files -> records -> site model -> pages -> output folder."""

from __future__ import annotations

import gc
import threading
import time
from contextlib import ExitStack
from datetime import datetime
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterable

from .arabic import formatted_dates, remember_dates
from .config import SiteConfig
from .errors import BuildFailed, Diagnostics, NewsgenError, Problem
from .feeds import NewsArchive, feed_files, feed_lists, news_sitemaps, resolve_build_time, robots, sitemap_urls, sitemaps
from .loaders import load_articles, load_pages, published, scan_item_files, settled
from .model import Article, SiteModel
from .cache import BuildCache, RecordEntry, TemplateCode, code_digest, config_digest, digest, tree_digest
from .edits import EditedFiles, EditIndex, edited_build, item_file, placed_articles
from .output import SpooledPages, StagedOutput, content_token, output_token, update_output
from .parallel import map_forked, return_freed_memory, worker_count
from .render import MORE_ITEMS, THEME, PageJob, Renderer, RenderedFile, SiteRenderer, output_path
from .site import build_site_model

if TYPE_CHECKING:
    from concurrent.futures import Future

    from .search import SearchIndexReport


@dataclass
class BuildReport:
    items: int = 0
    pages: int = 0
    topics: int = 0
    undated: int = 0
    files: int = 0
    seconds: float = 0.0
    warnings: list[Problem] = field(default_factory=list)
    changed: list[str] | None = None  # output paths written or removed
    rendered: int = 0  # pages rendered (the others were unchanged)
    details: list[str] = field(default_factory=list)  # for --verbose
    related_stale: bool = False  # related items kept from before an edit; a build without `quick` is due
    index_later: bool = False  # a full build's search index, handed to `defer`: not written yet


def load_site(config: SiteConfig, diagnostics: Diagnostics, *, drafts: bool = False,
              records: dict | None = None, found: list | None = None, scanned_ns: int = 0) -> SiteModel:
    """Read every item and page and derive the site model; errors raise `BuildFailed`.
    (`found`: the item files, when the caller has scanned for them; `scanned_ns`: see
    `load_articles`.)"""
    articles = load_articles(config, diagnostics, drafts=drafts, records=records, found=found,
                             scanned_ns=scanned_ns)
    pages = load_pages(config, diagnostics)
    diagnostics.raise_if_errors()
    model = build_site_model(articles, pages, config, diagnostics)
    diagnostics.raise_if_errors()
    return model


def index_body_edits(target: Path, config: SiteConfig, listings: Path, edited: tuple[Article, ...],
                     index: EditIndex | None, records_of: Callable[[list[str]], dict[str, RecordEntry]],
                     model: Callable[[], SiteModel]) -> None:
    """Bring the search index in `target` up to date after the body edits of `edited` (as
    placed): into the shard of recent edits by themselves when the listings allow
    (`search.add_recent_edits`, reading the other recent items from `records_of(paths)` as
    `index` placed them), else from the site model that `model()` derives."""
    topic_names = {topic.key: topic.name for topic in index.topics} if index is not None else {}
    if index is None or not _search().add_recent_edits(
            target, config, listings, list(edited), topic_names,
            lambda paths: placed_articles(config, records_of(paths), index, paths)):
        finish_output(target, model(), config, listings=listings)


def model_of_records(config: SiteConfig, records: dict[str, RecordEntry], drafts: bool = False) -> SiteModel:
    """The site model of records read before (as `load_site` derives it)."""
    diagnostics = Diagnostics()
    return build_site_model(published(records.values(), drafts), load_pages(config, diagnostics), config, diagnostics)


@dataclass(frozen=True)
class FileGroup:
    """Files besides the pages (a list's feeds, the sitemaps...) made together from what `fingerprint` sums up."""

    key: str
    fingerprint: str
    make: Callable[[], Iterable[RenderedFile]]


def site_file_groups(model: SiteModel, config: SiteConfig, renderer: SiteRenderer, prints: "Fingerprints",
                     feeds: list[tuple[str, str, list]]) -> list[FileGroup]:
    """Feeds, sitemaps, robots.txt and the search page, in groups that change together.

    A feed shows the full text of its newest items, so it changes with them; the
    sitemaps change with the addresses and dates only. (The Google News sitemap
    depends on the build time too, and is made at every build.)
    """
    groups = [FileGroup(f"feeds:{folder}", digest(prints.site, folder, title, *(prints.articles[a.slug] for a in entries)),
                        lambda folder=folder, title=title, entries=entries: feed_files(folder, title, entries, model,
                                                                                      config))
              for folder, title, entries in feeds]
    urls = list(sitemap_urls(model))
    groups.append(FileGroup("sitemaps", digest(*(f"{url} {modified.isoformat() if modified else ''}"
                                                 for url, modified in urls)), lambda: sitemaps(urls, config)))
    groups.append(FileGroup("site", digest(prints.site, str(len(model.articles))), lambda: [robots(config)] + (
        [_search().render_search_page(model, config, renderer)] if config.search else [])))
    return groups


def finish_output(folder: Path, model: SiteModel, config: SiteConfig, previous: Path | None = None,
                  listings: Path | None = None, progress: Callable[[int, int], None] | None = None,
                  cancel: threading.Event | None = None) -> "SearchIndexReport | None":
    """Write the search index of the complete output: before it replaces the previous one
    (`previous`, whose search index shards are reused where their items did not change), or in
    the output itself. `listings`: what the
    search index's shards hold, kept in the build cache (`BuildCache.search_listings`), or None
    for a build that keeps no cache. `progress`: how many of the shards to index are done, of how many.
    `cancel`: set, the index is given up (`search.SearchIndexCancelled`)."""
    if config.search:
        return _search().write_search_index(folder, model, config, previous=previous, listings=listings,
                                             progress=progress, cancel=cancel)
    _search().remove_search_index(folder)
    return None


def index_detail(index: "SearchIndexReport") -> str:
    """What writing the search index did, for `--verbose`: Pagefind's runs are most of a cold
    build with search on."""
    shards, recent = ("s" if count != 1 else "" for count in (index.shards, index.recent))
    return (f"search index: {index.records} records in {index.shards} shard{shards}, {index.rebuilt} indexed by "
            f"Pagefind ({index.pagefind_seconds:.1f} s of CPU), {index.recent} item{recent} in the shard of recent "
            f"edits, in {index.seconds:.2f} s")


def _search():
    """`newsgen.search`, imported when first needed: builds that derive no site model
    (see `shortcut_build`) do without its 0.015 s of importing."""
    from . import search
    return search


def build(config: SiteConfig, *, drafts: bool = False, output: Path | None = None,
          progress: Callable[[int, int, str], None] | None = None, cache: BuildCache | None = None,
          use_cache: bool = True, build_time: datetime | None = None, templates: Renderer | None = None,
          defer: Callable[[Callable[[], None]], None] | None = None, workers: int | None = None,
          quick: bool = False, found: list | None = None, scanned_ns: int | None = None,
          search_index: bool = True, cancel: threading.Event | None = None) -> BuildReport:
    """Build the site into its output folder; the previous output survives any failure.

    With a cache from an earlier build of the same output, unchanged files are not
    parsed again, unchanged pages are not rendered again, and only files whose
    bytes changed are written. Otherwise the site is written beside the output
    folder and swapped in.

    `templates` reuses a Jinja environment from an earlier build; `defer` takes
    the search index update to run later, in the output (serve hands it to a
    background thread so that the page reloads first; a full build's pages are
    then swapped in without an index, or with the one the output had). `workers` is how many
    processes render pages (None: as many as pay off, up to the cores). `progress(done, total,
    what)` is told how far the build is: `what` is "pages", or "search index" (of shards). `quick`
    lets an edit keep the previous related items for a moment (see `related_lists`);
    the report's `related_stale` then says a build without it is due. `found` is
    `scan_item_files` of the items folders, when the caller has just made it, and
    `scanned_ns` the `time.time_ns()` just before it. `search_index=False` writes no search index
    (the search page is made; an index the output has is left as it is): `newsgen check`
    reads the pages, not the index. `cancel` gives up a search index handed to `defer`.
    """
    started = time.perf_counter()
    if scanned_ns is None:
        scanned_ns = time.time_ns()  # before any item file is looked at
    build_time = resolve_build_time(build_time)  # a bad SOURCE_DATE_EPOCH stops the build before any work
    target = (output or config.output_dir).absolute()
    key = cache_key(config, drafts)
    listings = BuildCache.search_listings(config) if use_cache or cache is not None else None
    if cache is None and use_cache:
        main = BuildCache.load_main(config, key)
        if main is not None and found is None:
            found = scan_item_files(config.item_dirs)
        if main is not None and main.state:
            remember_dates(main.state.get("dates", {}))
        def records_of(paths: list[str]) -> dict[str, RecordEntry]:
            main.load_shards(config, [item_file(config, path) for path in paths])
            return main.records

        def model() -> SiteModel:
            main.load_records(config)
            return model_of_records(config, main.records, drafts)

        def index_edits(edited: EditedFiles) -> None:
            # Should this fail, the cache is not saved: the next build finds the output changed
            # and makes it whole.
            index_body_edits(target, config, listings, edited.articles, main.load_edit_index(config),
                             records_of, model)

        report = shortcut_build(config, main, target, build_time, found, scanned_ns, templates,
                                after_edits=index_edits if config.search and listings else None) \
            if main is not None else None
        if report is not None:
            main.save(config)
            report.seconds = time.perf_counter() - started
            report.warnings[:0] = config.warnings
            return report
        if main is not None:
            main.load_records(config)
            cache = main
    if cache is None or cache.key != key:
        cache = BuildCache.load(config, key) if use_cache else BuildCache(key=key)
    if templates is None and use_cache:
        templates = Renderer(config, TemplateCode(config))
    diagnostics = Diagnostics()
    before = dict(cache.records)
    try:
        report = _build(config, cache, target, diagnostics, before, started, drafts=drafts, progress=progress,
                        build_time=build_time, templates=templates, defer=defer, workers=workers, quick=quick,
                        found=found, scanned_ns=scanned_ns, save_records=use_cache, listings=listings,
                        search_index=search_index, cancel=cancel)
    except BuildFailed as failed:
        failed.problems[:0] = config.warnings
        raise
    finally:
        if use_cache:
            cache.save(config)  # parsed records are worth keeping even when the build fails
    # Not kept in the cache's state with the build's warnings: a build that takes the shortcut
    # shows them as they are now.
    report.warnings[:0] = config.warnings
    return report


def other_inputs(config: SiteConfig) -> dict[str, tuple[int, int]]:
    """Size and time of every standing page and asset (items are in the records)."""
    pages = scan_item_files([config.pages_dir], (".md",)) if config.pages_dir else []
    found = {name: (stat.st_size, stat.st_mtime_ns) for name, stat in pages if not isinstance(stat, OSError)}
    for path in asset_sources(config).values():
        try:
            stat = path.stat()
        except OSError:
            continue
        found[str(path)] = (stat.st_size, stat.st_mtime_ns)
    return found


def shortcut_build(config: SiteConfig, cache: BuildCache, target: Path, build_time: datetime,
                   found: list, scanned_ns: int, templates: Renderer | None = None, stale_ok: bool = False,
                   after_edits: Callable[[EditedFiles], None] | None = None) -> BuildReport | None:
    """The build when no page, asset or template changed since the last one (the code and
    configuration are the cache's key), and no item either or only a few items' bodies, without
    deriving the site model: the edited items' pages and feeds (`edits.edited_build`) and the
    Google News sitemap, which depends on the build time, are made again. None otherwise.
    `found` is `scan_item_files` of the items folders, begun at `scanned_ns`; `stale_ok`: see
    `edited_build`. `after_edits` runs once the files are written, when items were edited: with
    search on, it is what brings the index up to date (without it, edits take no shortcut)."""
    state = cache.state
    if not state or state.get("related_stale") or state.get("search_due") or not _describes(cache, target):
        return None
    items = {}
    for name, stat in found:
        if isinstance(stat, OSError):
            return None
        items[name] = (stat.st_size, stat.st_mtime_ns)
    if items.keys() != state["items"].keys() or other_inputs(config) != state["other"] or \
            tree_digest(template_folders(config)) != state["templates"] or not state["news"].serves(build_time):
        return None
    changed = {name: value for name, value in items.items() if state["items"][name] != value}
    unsure = [name for name, (_, mtime_ns) in items.items()
              if name not in changed and not settled(mtime_ns, cache.scanned_ns)]
    changed.update((name, items[name]) for name in _rewritten(config, cache, unsure))
    edited = edited_build(config, cache, target, changed, templates, after_edits is not None, stale_ok) \
        if changed else EditedFiles([], 0, False)
    if edited is None:
        return None
    news = list(news_sitemaps(state["news"], config, build_time))
    writes = {f.path: f.data for f in news if cache.files.get(f.path) != digest(f.data)}
    removals = sorted({path for path in cache.files if path.startswith("sitemap-news")} - {f.path for f in news})
    files = {path: value for path, value in cache.files.items() if path not in removals}
    files.update((f.path, digest(f.data)) for f in news)
    cache.marker = update_output(target, writes, removals, cache.marker, cache.files, files)
    cache.files = files
    cache.scanned_ns = scanned_ns
    handed = after_edits is not None and bool(edited.articles)
    if handed:
        after_edits(edited)
    articles, topics, undated = state["report"]
    details = [f"{len(changed)} item files changed in their bodies only: their pages, their feeds and the "
               "Google News sitemap were made again" + (" (and the search index takes the edits)" if handed else "")
               if changed else
               "no item, page, asset or template changed since the last build: only the Google News sitemap "
               "was made again"]
    return BuildReport(items=articles, pages=sum(1 for path in files if path.endswith(".html")), topics=topics,
                       undated=undated, files=len(files), warnings=list(state["warnings"]),
                       changed=sorted(edited.written + list(writes) + removals), rendered=edited.pages,
                       details=details, related_stale=edited.stale)


def _rewritten(config: SiteConfig, cache: BuildCache, paths: list[str]) -> list[str]:
    """Of item files whose size and time are as recorded but too close to the last scan to vouch
    for them (`loaders.settled`), those whose bytes are not the recorded ones."""
    if not paths:
        return []
    cache.load_shards(config, paths)
    rewritten = []
    for path in paths:
        entry = cache.records.get(path)
        try:
            same = entry is not None and digest(Path(path).read_bytes()) == entry.content
        except OSError:
            same = False
        if not same:
            rewritten.append(path)
    return rewritten


def _describes(cache: BuildCache, target: Path) -> bool:
    """Whether the cache describes the output folder as it is: the same folder, and the marker of
    the build that last changed it (a build whose cache is not saved yet leaves another)."""
    return cache.output == str(target) and bool(cache.marker) and output_token(target) == cache.marker


def cache_key(config: SiteConfig, drafts: bool) -> str:
    """What a build cache belongs to: newsgen's code, the configuration, drafts or not."""
    return digest(code_digest(), config_digest(config), f"drafts={drafts}")


def _build(config: SiteConfig, cache: BuildCache, target: Path, diagnostics: Diagnostics,
           before: dict, started: float, *, drafts: bool, progress: Callable[[int, int, str], None] | None,
           build_time: datetime | None, templates: Renderer | None,
           defer: Callable[[Callable[[], None]], None] | None, workers: int | None,
           quick: bool, found: list | None, scanned_ns: int, save_records: bool = False,
           listings: Path | None = None, search_index: bool = True,
           cancel: threading.Event | None = None) -> BuildReport:
    model = load_site(config, diagnostics, drafts=drafts, records=cache.records, found=found,
                      scanned_ns=cache.scanned_ns)
    parsed = sum(1 for key, entry in cache.records.items()
                 if key not in before or before[key].article is not entry.article)
    loaded = time.perf_counter()
    incremental = bool(cache.files) and _describes(cache, target)
    assets = asset_sources(config)
    files: dict[str, str] = {}
    renderer = SiteRenderer(model, config, templates)
    ranked: list[tuple[dict[str, tuple[str, ...]], bool]] = []
    indexed: "SearchIndexReport | None" = None  # what writing the search index did, when this build wrote it
    index_later: Callable[[], object] | None = None  # a full build's search index, deferred once the pages are out

    def rank() -> None:
        ranked.append(related_lists(model, cache, config, stale_ok=quick))

    with ExitStack() as stack:
        staged = None if incremental else stack.enter_context(StagedOutput(target))
        first: list[PageJob] = []  # a full build's pages rendered while it ranks
        early: list[PageResult] = []
        if staged is None:
            rank()
        else:
            def write(rendered: RenderedFile) -> PageResult:
                staged.write(rendered.path, rendered.data)
                return rendered.path, digest(rendered.data), None

            for relative, source in assets.items():
                files[relative] = write(RenderedFile(relative, source.read_bytes()))[1]
            # A full build renders the pages that show no related items (lists, home...) while
            # this process ranks them: ranking is one process's work, and would leave the
            # other cores idle.
            first = list(renderer.jobs(articles=False))
            every = len(first) + len(model.articles)
            shown = (lambda done: progress(min(done, every), every, "pages")) if progress is not None else None
            early = render_pages(first, write, shown, workers, meanwhile=rank)
        related, stale = ranked[0]
        renderer.related = related
        if incremental:
            pending: list[PageJob] = []
            prints = Fingerprints.of(model, config, renderer.jobs(), cache, changed=pending)
        else:
            jobs = first + list(renderer.jobs(others=False))
            prints = Fingerprints.of(model, config, jobs, cache)
            pending = jobs[len(first):]  # the items' pages, the rest being rendered
        fingerprints = prints.pages
        if save_records:
            cache.open_changed_bodies()  # make_others saves them while forked processes render pages
        feeds = feed_lists(model, config)
        groups = site_file_groups(model, config, renderer, prints, feeds)
        made: dict[str, tuple[str, tuple[str, ...]]] = {}  # group key -> (fingerprint, its files)
        kept = set(fingerprints)  # in an incremental build, pages and files not made again keep their bytes
        others: list[PageResult] = []
        done = len(early)
        total = done + len(pending)
        report = (lambda count: progress(min(done + count, total), total, "pages")) if progress is not None else None
        shards_done = (lambda count, shards: progress(count, shards, "search index")) if progress is not None else None

        def make_others(handle: Callable[[RenderedFile], PageResult]) -> None:
            """The files made whole (feeds, sitemaps...: `groups`) and the news sitemaps, each through
            `handle` into `others`; and the records saved. It runs while the pages render."""
            for group in groups:
                previous = cache.groups.get(group.key) if incremental else None
                if previous is not None and previous[0] == group.fingerprint:
                    made[group.key] = previous
                    kept.update(previous[1])
                    continue
                group_files = list(group.make())
                made[group.key] = (group.fingerprint, tuple(f.path for f in group_files))
                others.extend(map(handle, group_files))
            others.extend(map(handle, news_sitemaps(model, config, build_time)))
            if save_records:
                cache.save_records(config)

        if staged is not None:
            results = early + render_pages(pending, write, report, workers,
                                           meanwhile=lambda: make_others(write)) + others
            for path, data_digest, _ in results:
                files[path] = data_digest
            staged.token = content_token(files)
            if search_index and defer is not None and config.search:
                # serve shows the pages first. The search index follows in the output, from the
                # shards of the index it had, which the stage takes along as it is swapped in.
                staged.carry(_search().BUNDLE)
                index_later = partial(finish_output, target, model, config, listings=listings, cancel=cancel)
            elif search_index:
                indexed = finish_output(staged.stage, model, config, previous=target, listings=listings,
                                        progress=shards_done)
        else:
            def finish(folder: Path) -> None:
                nonlocal indexed
                if not search_index:
                    return
                if defer is None:
                    indexed = finish_output(folder, model, config, listings=listings, progress=shards_done)
                else:
                    defer(lambda: finish_output(folder, model, config, listings=listings, cancel=cancel))

            spool = SpooledPages(target)

            def compare(rendered: RenderedFile) -> PageResult:
                """The page's bytes are kept (on disk) only when they differ from the output's."""
                data_digest = digest(rendered.data)
                return rendered.path, data_digest, None if cache.files.get(rendered.path) == data_digest else \
                    spool.write(rendered.path, rendered.data)

            try:
                results = render_pages(pending, compare, report, workers, meanwhile=lambda: make_others(compare)) \
                    + others
                # A search index left unwritten (given up or failed in serve's background) is
                # written now, though no page changed.
                due = bool(cache.state and cache.state.get("search_due"))
                changed = _write_changes(target, results, assets, cache, files, kept, finish, due)
            finally:
                spool.remove()
    if staged is not None:
        changed = sorted(files)
        cache.marker = staged.token
        if index_later is not None:
            defer(index_later)  # given whenever `index_later` is set
    cache.pages = fingerprints
    cache.groups = made
    cache.edit_index = EditIndex.of(model, config, feeds, related_current=not stale, records=cache.records)
    cache.state = {"items": {key: (entry.size, entry.mtime_ns) for key, entry in cache.records.items()},
                   "other": other_inputs(config), "templates": prints.templates, "news": NewsArchive.of(model, build_time),
                   "report": (len(model.articles), len(model.topics), len(model.undated)),
                   "warnings": list(diagnostics.warnings), "edit_index": cache.edit_index.token,
                   "dates": formatted_dates(),
                   **({"related_stale": True} if stale else {})}
    cache.files = files
    cache.output = str(target)
    cache.scanned_ns = scanned_ns
    if progress is not None:
        progress(total, total, "pages")
    pages = sum(1 for path in files if path.endswith(".html"))
    finished = time.perf_counter()
    details = [
        f"read {len(cache.records)} item files ({parsed} parsed, {len(cache.records) - parsed} from the cache) "
        f"in {loaded - started:.2f} s",
        f"{'incremental' if incremental else 'full'} build: rendered {total} of {len(fingerprints)} pages, "
        f"{len(changed)} files written or removed, in {finished - loaded:.2f} s",
    ] + ([index_detail(indexed)] if indexed is not None else []) + \
        (["the search index is being written in the background"] if index_later is not None else [])
    return BuildReport(
        items=len(model.articles), pages=pages, topics=len(model.topics), undated=len(model.undated),
        files=len(files), seconds=finished - started, warnings=diagnostics.warnings,
        changed=changed, rendered=total, details=details, related_stale=stale,
        index_later=index_later is not None,
    )


@dataclass(frozen=True)
class Fingerprints:
    """Digests of what pages show: the site-wide part, each article, and each page (by output path)."""

    site: str
    articles: dict[str, str]
    pages: dict[str, str]
    templates: str = ""

    @classmethod
    def of(cls, model: SiteModel, config: SiteConfig, jobs: Iterable[PageJob], cache: BuildCache,
           changed: list[PageJob] | None = None) -> "Fingerprints":
        """With `changed`, the jobs whose pages are not what the cache says the output holds are
        added to it, and the others let go as they are summed up: an incremental build at 10,000
        items held 7 MiB of jobs it did not render until it had made every page's digest."""
        templates = tree_digest(template_folders(config))
        site = digest(templates, repr([(t.key, t.name) for t in model.topics]),
                      repr([(p.slug, p.title) for p in model.pages]))
        content = {entry.article.path: entry.content for entry in cache.records.values() if entry.article}
        articles = {a.slug: digest(content[a.path], a.slug, repr(a.topic_keys), str(a.topics_inferred))
                    for a in model.articles}
        pages: dict[str, str] = {}
        made, output = cache.pages, cache.files
        for job in jobs:
            path = output_path(job.url)
            pages[path] = page = digest(site, job.kind, job.url, repr(job.extra), *(articles[slug] for slug in job.slugs))
            if changed is not None and (made.get(path) != page or path not in output):
                changed.append(job)
        return cls(site, articles, pages, templates)


PageResult = tuple[str, str, "bytes | Path | None"]  # output path, digest of its bytes, the bytes still to write
# (or the file that holds them, see `output.SpooledPages`)


def render_pages(jobs: list[PageJob], handle: Callable[[RenderedFile], PageResult],
                 progress: Callable[[int], None] | None = None, workers: int | None = None,
                 meanwhile: Callable[[], None] | None = None) -> list[PageResult]:
    """Render the pages, across the cores when there are many, each result through `handle`;
    `meanwhile` runs in this process while the worker processes start on the pages.

    One page of each kind is rendered here first, so that the templates are
    compiled once, before the worker processes are forked.
    """
    first: dict[str, PageJob] = {}
    for job in jobs:
        first.setdefault(job.kind, job)
    warm = set(map(id, first.values()))
    results = [handle(job.render()) for job in first.values()]
    rest = [job for job in jobs if id(job) not in warm]
    workers = worker_count(len(rest)) if workers is None else workers
    return results + map_forked(lambda job: handle(job.render()), rest, workers, progress, meanwhile)


def related_lists(model: SiteModel, cache: BuildCache, config: SiteConfig, *, stale_ok: bool = False
                  ) -> tuple[dict[str, tuple[str, ...]], bool]:
    """Related items of every article, from the cache when nothing they depend on changed;
    and whether they are stale.

    They depend on every item's term counts and headline (which the digest of its
    `TermCounts` stands for, or else its file's), slug, topics and place in the archive's
    order: an edit that changes none of these (past the words counted, or of punctuation in a
    text shorter than they are counted in) keeps them. With `stale_ok`, when ranking again would
    rank every item (words changed, items came), the previous lists serve while they name only
    items of the site (see `_kept_lists`); the cache keeps saying they are out of date, so the
    next build ranks them again. After an edit of topics or dates alone, only the items it can
    change are ranked again, from the cache's `related.Ranking`, stale_ok or not.
    """
    entries = {entry.article.path: entry for entry in cache.records.values() if entry.article}
    key = digest(str(MORE_ITEMS), *(f"{a.path}\0{_ranked_digest(entries[a.path])}\0{a.slug}\0{a.topic_keys}"
                                     for a in model.articles))
    if cache.related is not None and cache.related[0] == key:
        return cache.related[1], False
    if stale_ok and cache.related is not None and not _ranks_again_cheaply(model, entries, cache, config):
        kept = _kept_lists(model, cache.related[1])
        if kept is not None:
            return kept, True
    from .related import Vocabulary, related_ranking  # numpy: imported only by builds that rank them
    vocabulary = cache.vocabulary
    if not isinstance(vocabulary, Vocabulary):
        token, terms = cache.terms or (None, ())
        vocabulary = cache.vocabulary = Vocabulary(terms, token)
    counts, known = {}, {}
    for name, entry in cache.records.items():
        if entry.article is None or entry.terms is None:
            continue
        if entry.term_ids is None or entry.term_ids[0] != vocabulary.token:
            entry = cache.records[name] = replace(entry, term_ids=(vocabulary.token, vocabulary.ids_of(entry.terms)))
        counts[entry.article.path] = entry.terms
        known[entry.article.path] = entry.term_ids[1]
    related, cache.ranking = related_ranking(model, MORE_ITEMS, term_counts=counts, vocabulary=vocabulary,
                                             term_ids=known, previous=cache.load_ranking(config))
    if vocabulary.in_use and len(vocabulary.terms) > 2 * vocabulary.in_use + 1000:
        # Terms of items since edited or deleted pile up: the next ranking looks every item's up
        # again, in a new vocabulary.
        vocabulary = cache.vocabulary = Vocabulary()
    cache.terms = (vocabulary.token, vocabulary.terms)
    cache.related = (key, related)
    return related, False


def _kept_lists(model: SiteModel, previous: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]] | None:
    """The related items of before, for a quick build, while they name only items of the site
    and none has gone or changed its slug; an item added since has none of before, and shows
    the items of its topic nearest to it in time (as any item does when too few are like it)
    until the next build ranks them all. None when they cannot serve."""
    slugs = model.by_slug
    if not all(slug in slugs and all(s in slugs for s in picks) for slug, picks in previous.items()):
        return None
    added = [a for a in model.articles if a.slug not in previous]
    if not added:
        return previous
    from .related import nearest_in_topic

    topics = {t.key: t for t in model.topics}
    first = {a.topic_keys[0] for a in added if a.topic_keys}
    positions = {key: {slug: i for i, slug in enumerate(topics[key].article_slugs)} for key in first if key in topics}
    kept = dict(previous)
    kept.update((a.slug, tuple(nearest_in_topic(a, topics, positions, MORE_ITEMS))) for a in added)
    return kept


def _ranks_again_cheaply(model: SiteModel, entries: dict[str, RecordEntry], cache: BuildCache,
                         config: SiteConfig) -> bool:
    """Whether the last ranking holds the same items with the same words (an edit of topics or
    dates), so that ranking them again is a matter of the items the edit can reach: at 10,000
    items, related items took 0.17-0.49 s of serve's quick build that way, against 1.13-1.30 s
    for the second build that keeping the lists of before made necessary (in-process, RAM disk)."""
    if any(entries[a.path].terms is None for a in model.articles):
        return False
    ranking = cache.load_ranking(config)
    return ranking is not None and ranking.keeps_words(
        [a.path for a in model.articles], [entries[a.path].terms.digest for a in model.articles], MORE_ITEMS)


def _ranked_digest(entry: RecordEntry) -> str:
    """What related items read of an item's file: its term counts with its headline."""
    return entry.terms.digest if entry.terms is not None else entry.content


def template_folders(config: SiteConfig) -> list[Path]:
    return [d for d in (config.templates_dir, THEME / "templates") if d is not None]


def asset_sources(config: SiteConfig) -> dict[str, Path]:
    """Output path -> source file of every asset; the site's own override the theme's."""
    sources: dict[str, Path] = {}
    for folder in (THEME / "static", config.static_dir):
        if folder is None or not folder.is_dir():
            continue
        for path in sorted(folder.rglob("*")):
            relative = path.relative_to(folder)
            if path.is_file() and not any(part.startswith(".") for part in relative.parts):
                sources["assets/" + relative.as_posix()] = path
    return sources


def _write_changes(target: Path, results: list[PageResult], assets: dict[str, Path], cache: BuildCache,
                   files: dict[str, str], pages: set[str], finish: Callable[[Path], None],
                   finish_anyway: bool = False) -> list[str]:
    """Write only files whose bytes differ, once every page has rendered; then `finish` the
    output when a file changed (or `finish_anyway`).

    Nothing is written until every page has rendered, so a template error leaves
    the output as it was; each file is replaced atomically.
    """
    writes: dict[str, bytes | Path] = {}
    for relative, source in assets.items():
        data = source.read_bytes()
        files[relative] = digest(data)
        if cache.files.get(relative) != files[relative]:
            writes[relative] = data
    for path, data_digest, data in results:
        files[path] = data_digest
        if data is not None:
            writes[path] = data
    for path in pages:  # pages not rendered again keep their previous bytes
        if path not in files:
            files[path] = cache.files[path]
    removals = sorted(set(cache.files) - set(files))
    cache.marker = update_output(target, writes, removals, cache.marker, cache.files, files)
    if writes or removals or finish_anyway:
        finish(target)
    return sorted(writes) + removals


class SiteBuilder:
    """Builds one site again and again (for `serve`), keeping its cache in memory between builds.

    `build()` raises `BuildFailed`/`NewsgenError` and leaves the output as it was
    when the content, configuration or templates are wrong.
    """

    def __init__(self, config: SiteConfig, *, drafts: bool = False, output: Path | None = None,
                 background_search: bool = True,
                 on_deferred_error: Callable[[NewsgenError], None] | None = None,
                 on_index_written: Callable[[float], None] | None = None):
        """`on_deferred_error` is told when the work done in the background (the search index)
        fails; serve shows it as it shows a failed build. `on_index_written` is told when the
        search index of a full build, written after the build returned (`index_later`), is
        done, with the seconds it took since."""
        self.config = config
        self.drafts = drafts
        self.output = output or config.output_dir
        self.on_deferred_error = on_deferred_error
        self.on_index_written = on_index_written
        self.cache: BuildCache | None = None
        self._templates: tuple[str, Renderer] | None = None
        from concurrent.futures import ThreadPoolExecutor  # here: `newsgen build` does without importing it
        self._later = ThreadPoolExecutor(max_workers=1) if background_search else None
        self._deferred: Future | None = None
        self._stopping = threading.Event()  # set by `give_up_background`

    def build(self, quick: bool = False) -> BuildReport:
        if self.cache is None:
            self.cache = BuildCache.load(self.config, cache_key(self.config, self.drafts))
        defer = self._defer if self._later is not None else None
        # Rendering forks worker processes for large builds; not while the search index of an
        # earlier build is being written in a thread, whose locks a forked child would inherit held.
        busy = self._deferred is not None and not self._deferred.done()
        try:
            scanned_ns = time.time_ns()
            found = scan_item_files(self.config.item_dirs)  # once for both ways of building
            report = self._after_body_edits(quick, found, scanned_ns)
            if report is not None:
                return report
            report = build(self.config, drafts=self.drafts, output=self.output, cache=self.cache,
                           templates=self._renderer(), defer=defer, workers=1 if busy else None, quick=quick,
                           use_cache=False, found=found, scanned_ns=scanned_ns, cancel=self._stopping)
            if report.index_later and self.on_index_written is not None and self._deferred is not None:
                index, told, returned = self._deferred, self.on_index_written, time.perf_counter()
                self._later.submit(lambda: index.result() and told(time.perf_counter() - returned))
            return report
        finally:
            # Saved after the tabs are told (the cache on disk is for the next process), from
            # a copy of the records, since the next build changes them.
            cache, records = self.cache, dict(self.cache.records)
            if self._later is None:
                cache.save(self.config, records)
                return_freed_memory()
            else:
                self._later.submit(cache.save, self.config, records)
                self._later.submit(return_freed_memory)  # once the search index is written too

    def _after_body_edits(self, quick: bool, found: list, scanned_ns: int) -> BuildReport | None:
        """The build when nothing changed or only some items' bodies (`shortcut_build`, which
        `quick` lets keep the related items of before); with search on, the search index is
        brought up to date afterwards, in the background. None otherwise."""
        cache, config = self.cache, self.config
        if not cache.state or (config.search and self._later is None):
            return None
        started = time.perf_counter()
        target = self.output.absolute()
        edits: list[EditedFiles] = []
        report = shortcut_build(config, cache, target, resolve_build_time(None), found, scanned_ns,
                                self._renderer(), stale_ok=quick, after_edits=edits.append if config.search else None)
        if report is None:
            return None
        if edits:
            # As they are now (the next build changes them); serve's cache holds every record.
            records, index = dict(cache.records), cache.load_edit_index(config)
            self._defer(lambda: index_body_edits(
                target, config, BuildCache.search_listings(config), edits[0].articles, index,
                lambda paths: records, lambda: model_of_records(config, records, self.drafts)))
        report.seconds = time.perf_counter() - started
        return report

    def _defer(self, work: Callable[[], None]) -> None:
        assert self._later is not None

        cache = self.cache

        def run() -> bool:
            """Whether the work was done. When it was not, the cache (saved after it) says the
            search index is due, so the next build takes no shortcut that would leave it as it is."""
            try:
                work()
            except Exception as exc:  # otherwise kept in a future that no one asks
                if cache is not None and cache.state is not None:
                    cache.state["search_due"] = True
                if self._stopping.is_set():
                    return False  # given up as asked: nothing to tell
                if self.on_deferred_error is None:
                    raise
                self.on_deferred_error(exc if isinstance(exc, NewsgenError) else NewsgenError(
                    f"the search index could not be written: {type(exc).__name__}: {exc}"))
                return False
            return True

        self._deferred = self._later.submit(run)

    def _renderer(self) -> Renderer:
        """The same Jinja environment while no template file changes (compiling costs)."""
        key = tree_digest(template_folders(self.config))
        if self._templates is None or self._templates[0] != key:
            self._templates = (key, Renderer(self.config, TemplateCode(self.config)))
        return self._templates[1]

    def wait(self) -> None:
        """Finish the deferred work of earlier builds: the search index, and saving the cache."""
        if self._later is not None:
            self._later.submit(lambda: None).result()

    def give_up_background(self) -> None:
        """Have a search index being written in the background given up (its Pagefind runs
        stopped), and any to come: the builder is being shut down. The cache, saved after it,
        says the index is due."""
        self._stopping.set()

    def close(self) -> None:
        """Finish the deferred work and let go of the cache (serve makes a new builder when
        site.toml changes). The records were frozen out of the collector's passes when loaded
        (`BuildCache.load_records`), and some refer to one another: only a pass over them, no
        longer frozen, frees them. Without it, each edit of site.toml kept 30-70 MiB more in a
        serve session at 10,000 items."""
        self.wait()
        if self._later is not None:
            self._later.shutdown()
        self.cache = None
        self._templates = None
        self._deferred = None
        gc.unfreeze()
        gc.collect()
        return_freed_memory()
