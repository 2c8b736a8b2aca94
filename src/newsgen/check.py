"""`newsgen check`: what a reader or a crawler would trip over, found before publishing.

The check builds the site into a temporary folder and inspects that, never the
site's own output folder: what it reports is what `newsgen build` would publish
from the files as they are now (the output folder may be stale, or missing), and
checking leaves the published output and the build cache untouched.

Checks, each a row of the summary table:

- content: every error of the content contract at once (the loaders' own
  diagnostics); when there are errors nothing else can be checked;
- internal links: every `href` in the built pages that stays inside the site
  must lead to a file that exists (and `#fragment` to an element with that id);
- images and assets: `src` of images, scripts, stylesheets, `url()` in CSS, the
  site logo and the share image must exist in the output;
- alt text: every image of an item or page needs alternative text;
- duplicate titles, items with no topic (filed only under the fallback topic):
  warnings, since both happen in real archives (a yearly event, a brief);
- future-dated items: an item dated after the build time is published at once;
- feeds and sitemaps: every XML and JSON file of the output must parse;
- external links (`--external` only): a HEAD request to each, GET where HEAD is
  refused.

The exit status is 1 when any check found an error (or, with `--strict`, a warning).
"""

from __future__ import annotations

import argparse
import json
import posixpath
import re
import sys
import tempfile
import time
import xml.etree.ElementTree as ElementTree
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Callable
from urllib.parse import unquote, urljoin, urlsplit

from . import __version__
from .arabic import normalize
from .config import SiteConfig, load_config
from .errors import BuildFailed, Diagnostics, NewsgenError, format_location
from .model import SiteModel
from .parallel import map_forked, worker_count

CHECKS: tuple[tuple[str, str], ...] = (
    ("content", "content contract"),
    ("links", "internal links"),
    ("assets", "images and assets"),
    ("alt", "image alt text"),
    ("titles", "duplicate titles"),
    ("topics", "items with no topic"),
    ("dates", "future-dated items"),
    ("files", "feeds and sitemaps"),
    ("external", "external links"),
)
_ORIGIN = "http://newsgen.invalid"
_CSS_URL = re.compile(r"url\(\s*(['\"]?)([^'\")]+)\1\s*\)")
_ASSET_TAGS = {"img", "source", "script", "video", "audio", "track", "iframe", "embed", "input"}


@dataclass(frozen=True)
class Finding:
    check: str
    severity: str  # "error" or "warning"
    path: str
    line: int | None
    message: str

    def __str__(self) -> str:
        message = self.message if self.severity == "error" else f"warning: {self.message}"
        return format_location(self.path or None, self.line or None, message)


@dataclass
class CheckReport:
    findings: list[Finding] = field(default_factory=list)
    skipped: set[str] = field(default_factory=set)
    items: int = 0
    pages: int = 0
    links: int = 0
    external: int = 0

    def add(self, check: str, severity: str, path: str, line: int | None, message: str) -> None:
        finding = Finding(check, severity, path, line, message)
        if finding not in self.findings:
            self.findings.append(finding)

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "error"]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "warning"]

    def count(self, check: str, severity: str) -> int:
        return sum(1 for f in self.findings if f.check == check and f.severity == severity)

    def failed(self, strict: bool = False) -> bool:
        return bool(self.errors) or (strict and bool(self.warnings))


# -- reading the built pages ---------------------------------------------------------


@dataclass(frozen=True)
class Reference:
    tag: str
    attr: str
    value: str
    line: int
    asset: bool  # an image, script, stylesheet... rather than a link to follow


class _PageParser(HTMLParser):
    """Collects the ids of a page and every URL it refers to, with their lines."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.ids: set[str] = set()
        self.references: list[Reference] = []
        self.images: list[tuple[dict[str, str | None], int]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        line = self.getpos()[0]
        if values.get("id"):
            self.ids.add(values["id"] or "")
        if tag == "a" and values.get("name"):
            self.ids.add(values["name"] or "")
        if tag == "img":
            self.images.append((values, line))

        def add(attr: str, asset: bool) -> None:
            value = values.get(attr)
            if value is not None and value.strip():
                self.references.append(Reference(tag, attr, value.strip(), line, asset))

        if tag in ("a", "area"):
            add("href", False)
        elif tag == "link":
            rel = (values.get("rel") or "").lower().split()
            add("href", any(r in ("stylesheet", "icon", "preload", "apple-touch-icon", "manifest") for r in rel))
        elif tag in _ASSET_TAGS:
            add("src", True)
            if tag == "video":
                add("poster", True)
            for attr in ("srcset",):
                for candidate in (values.get(attr) or "").split(","):
                    url = candidate.strip().split(" ")[0] if candidate.strip() else ""
                    if url:
                        self.references.append(Reference(tag, attr, url, line, True))
        elif tag == "meta":
            key = (values.get("property") or values.get("name") or "").lower()
            if key in ("og:image", "twitter:image", "og:url"):
                add("content", key != "og:url")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)


@dataclass
class _Page:
    path: str  # output path, forward slashes
    ids: set[str]
    references: list[Reference]
    images: list[tuple[dict[str, str | None], int]]


def _read_pages(folder: Path) -> dict[str, _Page]:
    """Every page of the output, parsed (across the cores: Python's HTML parser takes about a
    millisecond a page)."""
    paths = [relative for relative in (path.relative_to(folder).as_posix() for path in sorted(folder.rglob("*.html")))
             if not any(part.startswith(".") for part in relative.split("/"))]
    pages = map_forked(lambda relative: _read_page(folder, relative), paths, worker_count(len(paths)))
    return {page.path: page for page in pages}


def _read_page(folder: Path, relative: str) -> _Page:
    parser = _PageParser()
    parser.feed((folder / relative).read_text("utf-8", errors="replace"))
    parser.close()
    return _Page(relative, parser.ids, parser.references, parser.images)


class _Resolver:
    """Turns a URL on a built page into a path inside the output, or says it is external."""

    def __init__(self, folder: Path, config: SiteConfig):
        self.folder = folder
        self.config = config
        self.base_path = config.base_path
        self.absolute_base = config.base_url if "://" in config.base_url else ""
        self._targets: dict[str, Path | None] = {}

    def page_base(self, page_path: str) -> str:
        return _ORIGIN + self.base_path + page_path

    def resolve(self, page_path: str, value: str) -> tuple[str, str, str] | None:
        """("internal", site path, fragment), ("external", url, "") or None for nothing to check."""
        relative = _relative_path(page_path, value)
        return relative if relative is not None else self.joined(page_path, value)

    def joined(self, page_path: str, value: str) -> tuple[str, str, str] | None:
        """`resolve` of any URL, through `urljoin`."""
        if self.absolute_base and value.startswith(self.absolute_base):
            value = _ORIGIN + self.base_path + value[len(self.absolute_base):]
        parts = urlsplit(value)
        if parts.scheme and parts.scheme not in ("http", "https"):
            return None
        if parts.scheme and not value.startswith(_ORIGIN):
            return ("external", value, "")
        if value.startswith("//"):
            return ("external", "https:" + value, "")
        joined = urlsplit(urljoin(self.page_base(page_path), value))
        path = unquote(joined.path)
        if not path.startswith(self.base_path):
            return ("internal", "/" + path.lstrip("/"), unquote(joined.fragment))  # outside the site: broken
        return ("internal", path[len(self.base_path):], unquote(joined.fragment))

    def target(self, site_path: str) -> Path | None:
        """The output file a site path is served from, or None (the output does not change
        while it is checked: each is looked up once, though every page links the same ones)."""
        if site_path not in self._targets:
            self._targets[site_path] = self._target(site_path)
        return self._targets[site_path]

    def _target(self, site_path: str) -> Path | None:
        if site_path.startswith("/") or ".." in site_path.split("/"):
            return None
        candidate = self.folder / site_path if site_path else self.folder
        if site_path == "" or site_path.endswith("/") or candidate.is_dir():
            candidate = candidate / "index.html"
        return candidate if candidate.is_file() else None


# What `_relative_path` leaves to `urljoin`: a scheme or a drive (":"), a query, parameters,
# a backslash, an absolute path, an empty segment.
_NOT_PLAIN = re.compile(r"[:?;\\]|^/|//")


def _relative_path(page_path: str, value: str) -> tuple[str, str, str] | None:
    """`_Resolver.resolve` of a plain relative URL (`../topics/`, `#main`, `style.css`), the
    links of nearly every page, without `urljoin` (which took most of checking 475,000 links);
    None for any other URL, or one that climbs out of the site."""
    if _NOT_PLAIN.search(value):
        return None
    path, _, fragment = value.partition("#")
    if not path:
        return ("internal", unquote(page_path), unquote(fragment))
    joined = posixpath.normpath(posixpath.join(posixpath.dirname(page_path), path))
    if joined == ".." or joined.startswith("../") or joined.startswith("/"):
        return None
    if joined == ".":
        joined = ""
    elif path.endswith(("/", "/.", "/..")) or path in (".", ".."):
        joined += "/"
    return ("internal", unquote(joined), unquote(fragment))


# -- where a built page comes from --------------------------------------------------


@dataclass
class _Source:
    path: str  # the item or page file, relative to the site root
    kind: str  # "item" or "page"
    body_html: str
    image: str = ""


class _SourceLines:
    """Finds the line of a thing in a source file, for messages (best effort)."""

    def __init__(self, root: Path):
        self.root = root
        self._lines: dict[str, list[str]] = {}

    def lines(self, path: str) -> list[str]:
        if path not in self._lines:
            try:
                self._lines[path] = (self.root / path).read_text("utf-8-sig", errors="replace").splitlines()
            except OSError:
                self._lines[path] = []
        return self._lines[path]

    def find(self, path: str, *needles: str, key: str | None = None) -> int | None:
        for number, line in enumerate(self.lines(path), start=1):
            if key is not None and re.match(rf"^\s*{re.escape(key)}\s*:", line):
                return number
            if any(n and n in line for n in needles):
                return number
        return None

    def title_line(self, path: str, title: str) -> int | None:
        return self.find(path, key="title") or self.find(path, title)


def _sources(model: SiteModel) -> dict[str, _Source]:
    from .render import output_path
    sources = {output_path(a.url): _Source(a.path, "item", a.body_html, a.image) for a in model.articles}
    sources.update({output_path(p.url): _Source(p.path, "page", p.body_html) for p in model.pages})
    return sources


def _fragment_refs(body_html: str) -> list[Reference]:
    parser = _PageParser()
    parser.feed(body_html)
    parser.close()
    return parser.references


# -- the checks ---------------------------------------------------------------------


def check_site(config: SiteConfig, *, drafts: bool = False, external: bool = False,
               build_time: datetime | None = None,
               fetch: Callable[[str], tuple[int | None, str]] | None = None) -> CheckReport:
    """Run every check on the site of `config`; nothing outside a temporary folder is written."""
    from .build import build, cache_key, load_site
    from .cache import BuildCache
    from .feeds import resolve_build_time

    report = CheckReport()
    for problem in config.warnings:
        report.add("content", problem.severity, problem.path, problem.line, problem.message)
    lines = _SourceLines(config.root)
    diagnostics = Diagnostics()
    # The items are read once: the build below takes the records read here (from files that
    # did not change since, which it checks), in a cache of its own that is never saved.
    cache = BuildCache(key=cache_key(config, drafts))
    cache.scanned_ns = time.time_ns()
    try:
        model = load_site(config, diagnostics, drafts=drafts, records=cache.records)
    except BuildFailed as failed:
        for problem in failed.problems:
            report.add("content", problem.severity, problem.path, problem.line, problem.message)
        report.skipped.update(name for name, _ in CHECKS if name != "content")
        return report
    for problem in diagnostics.problems:
        report.add("content", problem.severity, problem.path, problem.line, problem.message)
    if "://" not in config.base_url:
        report.add("content", "warning", config.path.name if config.path else "site.toml", None,
                   f"`site.base_url` {config.base_url!r} is not an absolute URL: feeds, sitemaps, canonical links "
                   "and structured data need one, e.g. base_url = \"https://example.org/\"")
    report.items = len(model.articles)
    now = resolve_build_time(build_time)

    _check_titles(model, lines, report)
    _check_topics(model, config, lines, report)
    _check_dates(model, now, lines, report)
    _check_item_images(model, lines, report)

    with tempfile.TemporaryDirectory(prefix="newsgen-check-") as temporary:
        folder = Path(temporary) / "public"
        try:
            build(config, drafts=drafts, output=folder, cache=cache, use_cache=False, build_time=now,
                  search_index=False)  # what is checked is the pages; the index costs most of a build
        except NewsgenError as exc:
            report.add("content", "error", exc.path or "", exc.line, f"the build failed: {exc.message}")
            report.skipped.update({"links", "assets", "files", "external"})
            return report
        pages = _read_pages(folder)
        report.pages = len(pages)
        externals = _check_output(folder, pages, model, config, lines, report)
        _check_logo(folder, config, report)
        _check_files(folder, report)
    if external:
        _check_external(externals, report, fetch or _fetch)
    else:
        report.skipped.add("external")
    return report


def _item_line_for(lines: _SourceLines, source: _Source, value: str) -> int | None:
    decoded = unquote(value)
    return lines.find(source.path, value, decoded)


def _check_titles(model: SiteModel, lines: _SourceLines, report: CheckReport) -> None:
    seen: dict[str, list] = defaultdict(list)
    for article in sorted(model.articles, key=lambda a: a.path):
        key = " ".join(normalize(article.title).split()).strip(" .،؛:!؟?")
        seen[key].append(article)
    for group in seen.values():
        if len(group) < 2:
            continue
        first = group[0]
        for article in group[1:]:
            report.add("titles", "warning", article.path, lines.title_line(article.path, article.title),
                       f"the title «{article.title}» is also the title of {first.path}; readers and search "
                       "engines cannot tell the two apart")


def _check_topics(model: SiteModel, config: SiteConfig, lines: _SourceLines, report: CheckReport) -> None:
    fallback = config.fallback_topic
    topic = model.topic(fallback)
    name = topic.name if topic else fallback
    for article in model.articles:
        if article.topics_inferred and tuple(article.topic_keys) == (fallback,):
            line = lines.find(article.path, key="topics") or lines.title_line(article.path, article.title)
            report.add("topics", "warning", article.path, line,
                       f"the item has no topic: it matches no topic's keywords and is filed only under the "
                       f"fallback topic «{name}» ({fallback}); add `topics:` to it, or keywords in site.toml")


def _check_dates(model: SiteModel, now: datetime, lines: _SourceLines, report: CheckReport) -> None:
    for article in model.articles:
        if article.date is not None and article.date > now:
            report.add("dates", "error", article.path, lines.find(article.path, key="date"),
                       f"the item is dated {article.date.isoformat()}, after the build time "
                       f"{now.isoformat(timespec='seconds')}: a build publishes it at once; fix the date, or "
                       "keep it as `draft: true` until it may appear")


def _check_item_images(model: SiteModel, lines: _SourceLines, report: CheckReport) -> None:
    """Alternative text of the lead image and of every image in the text of items and pages."""
    documents = [(a.path, a.body_html, a.image, a.image_alt) for a in model.articles]
    documents += [(p.path, p.body_html, "", "") for p in model.pages]
    for path, body_html, image, image_alt in documents:
        if image and not image_alt.strip():
            report.add("alt", "error", path, lines.find(path, key="image"),
                       f"the lead image «{image}» has no `image_alt`; describe what it shows for readers "
                       "who cannot see it")
        parser = _PageParser()
        parser.feed(body_html)
        parser.close()
        for attrs, _ in parser.images:
            if not (attrs.get("alt") or "").strip():
                src = attrs.get("src") or ""
                report.add("alt", "error", path, _item_line_for(lines, _Source(path, "", ""), src) if src else None,
                           f"the image «{unquote(src)}» in the text has no alternative text; write it in the "
                           "brackets: ![what the image shows](...)")


def _check_output(folder: Path, pages: dict[str, _Page], model: SiteModel, config: SiteConfig,
                  lines: _SourceLines, report: CheckReport) -> dict[str, list[str]]:
    """Internal links, assets and template images of every built page; returns external URLs -> pages."""
    resolver = _Resolver(folder, config)
    sources = _sources(model)
    externals: dict[str, list[str]] = defaultdict(list)
    for page_path, page in pages.items():
        source = sources.get(page_path)
        body_refs = {r.value for r in _fragment_refs(source.body_html)} if source else set()
        for ref in page.references:
            report.links += 1
            resolved = resolver.resolve(page_path, ref.value)
            if resolved is None:
                continue
            kind, target, fragment = resolved
            if kind == "external":
                externals[target].append(page_path)
                continue
            found = resolver.target(target)
            problem = None
            if found is None:
                problem = "missing"
            elif fragment and found.suffix == ".html":
                target_page = pages.get(found.relative_to(folder).as_posix())
                if target_page is not None and fragment not in target_page.ids:
                    problem = "fragment"
            if problem is None:
                continue
            _report_reference(report, lines, page_path, ref, target, fragment, problem, source, body_refs)
        _check_template_images(page, source, report)
    for css in sorted(folder.rglob("*.css")):
        css_path = css.relative_to(folder).as_posix()
        text = css.read_text("utf-8", errors="replace")
        for match in _CSS_URL.finditer(text):
            value = match.group(2).strip()
            resolved = resolver.resolve(css_path, value)
            if resolved is None or resolved[0] == "external":
                continue
            report.links += 1
            if resolver.target(resolved[1]) is None:
                report.add("assets", "error", css_path, text.count("\n", 0, match.start()) + 1,
                           f"the stylesheet refers to «{value}», which is not in the output")
    return externals


def _report_reference(report: CheckReport, lines: _SourceLines, page_path: str, ref: Reference, target: str,
                      fragment: str, problem: str, source: _Source | None, body_refs: set[str]) -> None:
    """One broken reference, told where it was written: the item, the page or the templates."""
    check = "assets" if ref.asset else "links"
    shown = unquote(ref.value)
    place = target or "the home page"
    noun = "image" if ref.tag in ("img", "source") or ref.attr == "content" else \
        {"script": "script", "link": "file"}.get(ref.tag, "file" if ref.asset else "link")
    if source is not None and source.image and ref.asset and shown.endswith(unquote(source.image)):
        report.add(check, "error", source.path, lines.find(source.path, key="image"),
                   f"the lead image «{source.image}» is not in the output; put the file in the site's static/ "
                   "folder (published under assets/) and write `image: assets/...`")
        return
    if source is not None and ref.value in body_refs:
        where, path, line = ("in the text" if source.kind == "item" else "in the page"), source.path, \
            _item_line_for(lines, source, ref.value)
    else:
        where, path, line = "in the templates", page_path, ref.line
    if problem == "fragment":
        message = f"the {noun} «{shown}» {where} points to #{fragment}, which is not on {place}"
    elif ref.asset:
        message = f"the {noun} «{shown}» {where} is not in the output (nothing at {place})"
    else:
        message = f"the {noun} «{shown}» {where} leads nowhere: nothing is built at {place}"
        if where == "in the text":
            message += "; link to a page that exists, e.g. ../other-slug/ for another item"
    report.add(check, "error", path, line, message)


def _check_template_images(page: _Page, source: _Source | None, report: CheckReport) -> None:
    """An `<img>` of a template with no `alt` attribute at all (alt="" marks a decorative image)."""
    if source is not None:
        return  # the item's own images are checked on the item
    for attrs, line in page.images:
        if "alt" not in attrs:
            report.add("alt", "error", page.path, line,
                       f"the image «{unquote(attrs.get('src') or '')}» has no alt attribute (from the templates)")


def _check_logo(folder: Path, config: SiteConfig, report: CheckReport) -> None:
    logo = config.logo
    if not logo or "://" in logo:
        return
    target = _Resolver(folder, config).target(logo.lstrip("/"))
    if target is None:
        report.add("assets", "error", str(config.path.name if config.path else "site.toml"), None,
                   f"`site.logo` «{logo}» is not in the output; put it in the static/ folder and write "
                   "logo = \"assets/...\"")


def _check_files(folder: Path, report: CheckReport) -> None:
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder).as_posix()
        if not path.is_file() or relative.startswith(("assets/", ".")):
            continue
        try:
            if path.suffix == ".xml":
                ElementTree.parse(path)
            elif path.suffix == ".json":
                json.loads(path.read_text("utf-8"))
        except (ElementTree.ParseError, ValueError) as exc:
            report.add("files", "error", relative, None, f"the file does not parse: {exc}")


def _fetch(url: str) -> tuple[int | None, str]:
    """HEAD the URL (GET when HEAD is refused): the status, or None and the reason."""
    import urllib.error
    import urllib.request

    headers = {"User-Agent": f"newsgen-check/{__version__} (link checker)"}
    status: int | None = None
    reason = ""
    for method in ("HEAD", "GET"):
        request = urllib.request.Request(url, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=15) as response:
                return response.status, ""
        except urllib.error.HTTPError as exc:
            status, reason = exc.code, str(exc.reason)
            if exc.code not in (403, 405, 501):
                break
        except (urllib.error.URLError, OSError, ValueError) as exc:
            return None, str(getattr(exc, "reason", exc))
    return status, reason


def _check_external(externals: dict[str, list[str]], report: CheckReport,
                    fetch: Callable[[str], tuple[int | None, str]]) -> None:
    urls = sorted(externals)
    report.external = len(urls)
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(fetch, urls))
    for url, (status, reason) in zip(urls, results):
        if status is not None and status < 400:
            continue
        pages = sorted(set(externals[url]))
        more = f" and {len(pages) - 1} more" if len(pages) > 1 else ""
        state = f"answers {status} {reason}".strip() if status is not None else f"cannot be reached ({reason})"
        report.add("external", "error", pages[0], None, f"the external link «{url}» {state} (linked here{more})")


# -- the command ---------------------------------------------------------------------


def print_report(report: CheckReport, console, *, strict: bool = False, file=None) -> None:
    """Findings as `path:line: message`, then a summary table (rich)."""
    from rich.console import Console as RichConsole
    from rich.table import Table

    out = file or sys.stdout
    for finding in sorted(report.findings, key=lambda f: (f.path, f.line or 0, f.check, f.message)):
        if finding.severity == "error" or not console.quiet:
            print(str(finding), file=out)
    if console.quiet:
        return
    table = Table(title="newsgen check", title_justify="left")
    table.add_column("check")
    table.add_column("errors", justify="right")
    table.add_column("warnings", justify="right")
    table.add_column("result")
    for name, label in CHECKS:
        errors, warnings = report.count(name, "error"), report.count(name, "warning")
        if name in report.skipped:
            result = "skipped" if name != "external" else "skipped (--external to check)"
        elif errors or (strict and warnings):
            result = "FAILED"
        elif warnings:
            result = "ok, with warnings"
        else:
            result = "ok"
        table.add_row(label, str(errors), str(warnings), result)
    rich = RichConsole(file=out, highlight=False, soft_wrap=False, width=max(100, RichConsole(file=out).width))
    print(file=out)
    rich.print(table)
    errors, warnings = len(report.errors), len(report.warnings)
    verdict = "check failed" if report.failed(strict) else "check passed"
    detail = f"{report.items} items, {report.pages} pages, {report.links} links"
    if report.external:
        detail += f", {report.external} external links"
    print(f"{verdict}: {errors} error{'s' if errors != 1 else ''}, {warnings} warning{'s' if warnings != 1 else ''} "
          f"({detail} checked)", file=out)


def add_parser(subparsers, add_site_options: Callable[[argparse.ArgumentParser], None]) -> None:
    parser = subparsers.add_parser(
        "check", help="check content, links, images and alt text before publishing",
        description="Build the site into a temporary folder and check it: content errors, internal links "
                    "and assets, image alt text, duplicate titles, items with no topic, future-dated items, "
                    "feeds and sitemaps. Exits 1 when something is wrong.")
    add_site_options(parser)
    parser.add_argument("--external", action="store_true",
                        help="also check external links with HEAD requests (needs the network)")
    parser.add_argument("--strict", action="store_true", help="fail on warnings too")
    parser.add_argument("--build-time", metavar="TIME",
                        help="the time future dates are measured from: ISO 8601 or @SECONDS "
                             "(default: SOURCE_DATE_EPOCH if set, else now)")
    parser.set_defaults(handler=run_check)


def run_check(args: argparse.Namespace, console) -> int:
    config = load_config(args.config)
    build_time = None
    if args.build_time:
        from .feeds import parse_build_time
        build_time = parse_build_time(args.build_time, config.tz)
    report = check_site(config, drafts=args.drafts, external=args.external, build_time=build_time)
    print_report(report, console, strict=args.strict)
    return 1 if report.failed(args.strict) else 0


__all__ = ["CHECKS", "CheckReport", "Finding", "check_site", "print_report", "add_parser", "run_check"]
