"""`newsgen build`: files -> records -> site model -> pages -> output folder."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

from .config import SiteConfig
from .errors import Diagnostics, Problem
from .feeds import robots, site_feeds, sitemap, sitemap_urls
from .loaders import load_articles, load_pages
from .model import SiteModel
from .output import StagedOutput
from .render import THEME, RenderedFile, SiteRenderer
from .site import build_site_model


@dataclass
class BuildReport:
    items: int = 0
    pages: int = 0
    topics: int = 0
    undated: int = 0
    files: int = 0
    bytes: int = 0
    seconds: float = 0.0
    warnings: list[Problem] = field(default_factory=list)


def load_site(config: SiteConfig, diagnostics: Diagnostics, *, drafts: bool = False) -> SiteModel:
    """Read every item and page and derive the site model; errors raise `BuildFailed`."""
    articles = load_articles(config, diagnostics, drafts=drafts)
    pages = load_pages(config, diagnostics)
    diagnostics.raise_if_errors()
    model = build_site_model(articles, pages, config, diagnostics)
    diagnostics.raise_if_errors()
    return model


def render_site(model: SiteModel, config: SiteConfig) -> Iterator[RenderedFile]:
    yield from SiteRenderer(model, config).render_all()
    yield from site_feeds(model, config)
    yield sitemap(sitemap_urls(model), config)
    yield robots(config)


def finish_output(folder: Path, model: SiteModel, config: SiteConfig) -> None:
    """Work on the complete output before it replaces the previous one."""


def build(config: SiteConfig, *, drafts: bool = False, output: Path | None = None,
          progress: Callable[[int, int], None] | None = None) -> BuildReport:
    """Build the site into its output folder; the previous output survives any failure."""
    started = time.perf_counter()
    diagnostics = Diagnostics()
    model = load_site(config, diagnostics, drafts=drafts)
    total = len(model.articles) + len(model.list_pages)

    def counted(files: Iterator[RenderedFile]) -> Iterator[RenderedFile]:
        for done, rendered in enumerate(files, start=1):
            if progress is not None and done % 50 == 0:
                progress(min(done, total), total)
            yield rendered

    staged = StagedOutput(output or config.output_dir)
    try:
        staged.copy_tree(THEME / "static", "assets")
        if config.static_dir is not None:
            staged.copy_tree(config.static_dir, "assets")
        for rendered in counted(render_site(model, config)):
            staged.write(rendered.path, rendered.data)
        finish_output(staged.stage, model, config)
        staged.commit()
    except BaseException:
        staged.discard()
        raise
    if progress is not None:
        progress(total, total)
    pages = len(model.articles) + len(model.list_pages) + len(model.pages) + 4
    return BuildReport(
        items=len(model.articles), pages=pages, topics=len(model.topics), undated=len(model.undated),
        files=staged.count, bytes=staged.bytes, seconds=time.perf_counter() - started,
        warnings=diagnostics.warnings,
    )


class SiteBuilder:
    """Builds one site again and again (for `serve`), reusing what it can between builds.

    `build()` raises `BuildFailed`/`NewsgenError` and leaves the output as it was
    when the content, configuration or templates are wrong.
    """

    def __init__(self, config: SiteConfig, *, drafts: bool = False, output: Path | None = None):
        self.config = config
        self.drafts = drafts
        self.output = output or config.output_dir

    def build(self) -> BuildReport:
        return build(self.config, drafts=self.drafts, output=self.output)
