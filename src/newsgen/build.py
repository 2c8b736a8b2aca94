"""`newsgen build`: files -> records -> site model -> pages -> output folder."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

from .config import SiteConfig
from .errors import Diagnostics, Problem
from .feeds import news_sitemaps, robots, site_feeds, sitemap_urls, sitemaps
from .loaders import load_articles, load_pages
from .model import SiteModel
from .cache import BuildCache, code_digest, config_digest, digest, tree_digest
from .output import MARKER, StagedOutput, apply_changes
from .render import THEME, PageJob, Renderer, RenderedFile, SiteRenderer, output_path
from .search import remove_search_index, render_search_page, write_search_index
from .site import build_site_model


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


def load_site(config: SiteConfig, diagnostics: Diagnostics, *, drafts: bool = False,
              records: dict | None = None) -> SiteModel:
    """Read every item and page and derive the site model; errors raise `BuildFailed`."""
    articles = load_articles(config, diagnostics, drafts=drafts, records=records)
    pages = load_pages(config, diagnostics)
    diagnostics.raise_if_errors()
    model = build_site_model(articles, pages, config, diagnostics)
    diagnostics.raise_if_errors()
    return model


def render_site(model: SiteModel, config: SiteConfig,
                renderer: SiteRenderer | None = None, build_time: datetime | None = None) -> Iterator[RenderedFile]:
    """Every file of the site but the assets; pages the renderer is told to skip are left out.

    `build_time` only sets the Google News sitemap's 48-hour window (None: SOURCE_DATE_EPOCH, else now).
    """
    yield from (renderer or SiteRenderer(model, config)).render_all()
    yield from site_feeds(model, config)
    yield from sitemaps(sitemap_urls(model), config)
    yield from news_sitemaps(model, config, build_time)
    yield robots(config)
    yield from ([render_search_page(model, config, renderer)] if config.search else [])


def finish_output(folder: Path, model: SiteModel, config: SiteConfig) -> None:
    """Work on the complete output before it replaces the previous one."""
    if config.search:
        write_search_index(folder, model, config)
    else:
        remove_search_index(folder)


def build(config: SiteConfig, *, drafts: bool = False, output: Path | None = None,
          progress: Callable[[int, int], None] | None = None, cache: BuildCache | None = None,
          use_cache: bool = True, build_time: datetime | None = None, templates: Renderer | None = None,
          defer: Callable[[Callable[[], None]], None] | None = None) -> BuildReport:
    """Build the site into its output folder; the previous output survives any failure.

    With a cache from an earlier build of the same output, unchanged files are not
    parsed again, unchanged pages are not rendered again, and only files whose
    bytes changed are written. Otherwise the site is written beside the output
    folder and swapped in.

    `templates` reuses a Jinja environment from an earlier build; `defer` takes
    the search index update of an incremental build to run later (serve hands it
    to a background thread so that the page reloads first).
    """
    started = time.perf_counter()
    target = (output or config.output_dir).absolute()
    key = digest(code_digest(), config_digest(config), f"drafts={drafts}")
    if cache is None or cache.key != key:
        cache = BuildCache.load(config, key) if use_cache else BuildCache(key=key)
    diagnostics = Diagnostics()
    before = dict(cache.records)
    try:
        model = load_site(config, diagnostics, drafts=drafts, records=cache.records)
    finally:
        if use_cache:
            cache.save(config)  # parsed records are worth keeping even when the build fails
    parsed = sum(1 for key, entry in cache.records.items() if before.get(key) is not entry)
    loaded = time.perf_counter()

    renderer = SiteRenderer(model, config, templates)
    fingerprints = page_fingerprints(model, config, renderer, cache)
    incremental = (cache.output == str(target) and bool(cache.files) and (target / MARKER).is_file())
    if incremental:
        renderer.skip = lambda job: _unchanged(job, fingerprints, cache, target)
    total = sum(1 for path in fingerprints if not incremental or cache.pages.get(path) != fingerprints[path])

    def counted(files: Iterator[RenderedFile]) -> Iterator[RenderedFile]:
        for done, rendered in enumerate(files, start=1):
            if progress is not None and done % 50 == 0:
                progress(min(done, total), total)
            yield rendered

    assets = asset_sources(config)
    files: dict[str, str] = {}
    if incremental:
        def finish(folder: Path) -> None:
            if defer is None:
                finish_output(folder, model, config)
            else:
                defer(lambda: finish_output(folder, model, config))

        changed = _write_changes(target, counted(render_site(model, config, renderer, build_time)), assets, cache,
                                 files, set(fingerprints), finish)
    else:
        changed = _write_everything(target, counted(render_site(model, config, renderer, build_time)), assets, files,
                                    lambda folder: finish_output(folder, model, config))
    cache.pages = fingerprints
    cache.files = files
    cache.output = str(target)
    if use_cache:
        cache.save(config)
    if progress is not None:
        progress(total, total)
    pages = sum(1 for path in files if path.endswith(".html"))
    finished = time.perf_counter()
    details = [
        f"read {len(cache.records)} item files ({parsed} parsed, {len(cache.records) - parsed} from the cache) "
        f"in {loaded - started:.2f} s",
        f"{'incremental' if incremental else 'full'} build: rendered {total} of {len(fingerprints)} pages, "
        f"{len(changed)} files written or removed, in {finished - loaded:.2f} s",
    ]
    return BuildReport(
        items=len(model.articles), pages=pages, topics=len(model.topics), undated=len(model.undated),
        files=len(files), seconds=finished - started, warnings=diagnostics.warnings,
        changed=changed, rendered=total, details=details,
    )


def page_fingerprints(model: SiteModel, config: SiteConfig, renderer: SiteRenderer,
                      cache: BuildCache) -> dict[str, str]:
    """For each page's output path, a digest of everything the page shows."""
    templates = tree_digest(template_folders(config))
    site = digest(templates, repr([(t.key, t.name) for t in model.topics]),
                  repr([(p.slug, p.title) for p in model.pages]))
    content = {entry.article.path: entry.content for entry in cache.records.values() if entry.article}
    articles = {a.slug: digest(content[a.path], a.slug, repr(a.topic_keys), str(a.topics_inferred))
                for a in model.articles}
    return {output_path(job.url): digest(site, job.kind, job.url, repr(job.extra),
                                         *(articles[slug] for slug in job.slugs))
            for job in renderer.jobs()}


def template_folders(config: SiteConfig) -> list[Path]:
    return [d for d in (config.templates_dir, THEME / "templates") if d is not None]


def _unchanged(job: PageJob, fingerprints: dict[str, str], cache: BuildCache, target: Path) -> bool:
    path = output_path(job.url)
    return cache.pages.get(path) == fingerprints[path] and path in cache.files


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


def _write_everything(target: Path, rendered: Iterator[RenderedFile], assets: dict[str, Path],
                      files: dict[str, str], finish: Callable[[Path], None]) -> list[str]:
    staged = StagedOutput(target)
    try:
        for relative, source in assets.items():
            data = source.read_bytes()
            staged.write(relative, data)
            files[relative] = digest(data)
        for item in rendered:
            staged.write(item.path, item.data)
            files[item.path] = digest(item.data)
        finish(staged.stage)
        staged.commit()
    except BaseException:
        staged.discard()
        raise
    return sorted(files)


def _write_changes(target: Path, rendered: Iterator[RenderedFile], assets: dict[str, Path], cache: BuildCache,
                   files: dict[str, str], pages: set[str], finish: Callable[[Path], None]) -> list[str]:
    """Render what changed into memory, then write only files whose bytes differ.

    Nothing is written until every page has rendered, so a template error leaves
    the output as it was; each file is replaced atomically.
    """
    writes: dict[str, bytes] = {}
    for relative, source in assets.items():
        data = source.read_bytes()
        files[relative] = digest(data)
        if cache.files.get(relative) != files[relative]:
            writes[relative] = data
    for item in rendered:
        files[item.path] = digest(item.data)
        if cache.files.get(item.path) != files[item.path]:
            writes[item.path] = item.data
    for path in pages:  # pages not rendered again keep their previous bytes
        if path not in files:
            files[path] = cache.files[path]
    removals = sorted(set(cache.files) - set(files))
    apply_changes(target, writes, removals)
    if writes or removals:
        finish(target)
    return sorted(writes) + removals


class SiteBuilder:
    """Builds one site again and again (for `serve`), keeping its cache in memory between builds.

    `build()` raises `BuildFailed`/`NewsgenError` and leaves the output as it was
    when the content, configuration or templates are wrong.
    """

    def __init__(self, config: SiteConfig, *, drafts: bool = False, output: Path | None = None,
                 background_search: bool = True):
        self.config = config
        self.drafts = drafts
        self.output = output or config.output_dir
        self.cache: BuildCache | None = None
        self._templates: tuple[str, Renderer] | None = None
        self._later = ThreadPoolExecutor(max_workers=1) if background_search else None

    def build(self) -> BuildReport:
        if self.cache is None:
            self.cache = BuildCache.load(self.config, "")
        defer = (lambda work: self._later.submit(work)) if self._later is not None else None
        return build(self.config, drafts=self.drafts, output=self.output, cache=self.cache,
                     templates=self._renderer(), defer=defer)

    def _renderer(self) -> Renderer:
        """The same Jinja environment while no template file changes (compiling costs)."""
        key = tree_digest(template_folders(self.config))
        if self._templates is None or self._templates[0] != key:
            self._templates = (key, Renderer(self.config))
        return self._templates[1]

    def wait(self) -> None:
        """Finish the deferred work (the search index) of earlier builds."""
        if self._later is not None:
            self._later.submit(lambda: None).result()
