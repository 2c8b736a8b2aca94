"""WordPress exports (WXR: Tools > Export > All content), read as a stream.

The XML goes through the parser in chunks; only the `<item>` being read is kept
in memory, and comments inside items are not kept at all. A first quick pass
collects the attachments' addresses, so that a post's featured image can be
found even when its attachment comes later in the file.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterator
from urllib.parse import unquote

from ..config import SiteConfig
from ..errors import NewsgenError
from .values import BadValue, TopicMapper, parse_date
from .writer import BadRecord, NotImported, Record, one_line

DESCRIPTION = """\
Import a WordPress export (WXR, from Tools > Export). Posts become news items:
categories and tags become topics, the publication time keeps its offset, the
author is the display name, the excerpt is the summary, the HTML is converted
to Markdown (headings, lists, links, images and quotations kept; styles and
scripts dropped) and drafts stay drafts (`draft: true`). Pages, revisions, menu
items and attachments are left out; --include-pages writes pages to the site's
pages folder."""

CHUNK = 256 * 1024
IMPORTED_TYPES = ("post", "page")
DRAFT_STATUSES = ("draft", "pending", "future", "private")
LEFT_OUT_STATUSES = ("trash", "auto-draft", "inherit")
_ZERO_DATE = re.compile(r"^0000-00-00")


def add_arguments(parser) -> None:
    parser.add_argument("--include-pages", action="store_true",
                        help="also import pages, as standing pages in the site's pages folder")
    parser.add_argument("--no-tags", action="store_true",
                        help="make topics of categories only, not of tags")


# -- a small streaming tree ------------------------------------------------------

def _prefix(uri: str) -> str:
    if "wordpress.org/export" in uri:
        return "excerpt" if uri.rstrip("/").endswith("excerpt") else "wp"
    if uri.startswith("http://purl.org/rss/1.0/modules/content"):
        return "content"
    if uri.startswith("http://purl.org/dc/elements"):
        return "dc"
    return uri


_SHORT: dict[str, str] = {}


def _short(tag: str) -> str:
    """`{http://wordpress.org/export/1.2/}post_id` -> `wp:post_id`, whatever the WXR version."""
    name = _SHORT.get(tag)
    if name is None:
        if tag.startswith("{"):
            uri, local = tag[1:].split("}", 1)
            name = f"{_prefix(uri)}:{local}"
        else:
            name = tag
        _SHORT[tag] = name
    return name


@dataclass
class Node:
    name: str
    attrs: dict[str, str]
    text: str = ""
    children: list["Node"] = field(default_factory=list)

    def get(self, name: str) -> str:
        for child in self.children:
            if child.name == name:
                return child.text
        return ""

    def all(self, name: str) -> list["Node"]:
        return [child for child in self.children if child.name == name]


class _Collector:
    """A parser target that builds only the channel's items and authors, one at a time.

    `keep`, when given, limits whose text is kept (the first pass needs only a few);
    elements named in `skip` are passed over with everything inside them.
    """

    CAPTURED = ("item", "wp:author")

    def __init__(self, keep: set[str] | None = None, skip: tuple[str, ...] = ("wp:comment",)):
        self.keep = keep
        self.skip = skip
        self.depth = 0
        self.root = ""
        self.saw_wordpress = False
        self.expat = None
        self.ready: list[tuple[Node, int]] = []
        self._nodes: list[Node] = []
        self._texts: list[list[str] | None] = []
        self._line = 0
        self._skipping = 0

    def start(self, tag: str, attrib: dict) -> None:
        self.depth += 1
        if self._skipping:
            self._skipping += 1
            return
        name = _short(tag)
        if self.depth == 1:
            self.root = name
        if not self._nodes:
            if self.depth == 3 and name in self.CAPTURED:
                self._line = self.expat.CurrentLineNumber if self.expat is not None else 0
                node = Node(name, {_short(k): v for k, v in attrib.items()})
                self._nodes.append(node)
                self._texts.append([])
            if name.startswith("wp:"):
                self.saw_wordpress = True
            return
        if name in self.skip:
            self._skipping = 1
            return
        if name.startswith("wp:"):
            self.saw_wordpress = True
        node = Node(name, {_short(k): v for k, v in attrib.items()})
        self._nodes[-1].children.append(node)
        self._nodes.append(node)
        self._texts.append([] if self.keep is None or name in self.keep else None)

    def data(self, text: str) -> None:
        if self._nodes and not self._skipping:
            buffer = self._texts[-1]
            if buffer is not None:
                buffer.append(text)

    def end(self, tag: str) -> None:
        self.depth -= 1
        if self._skipping:
            self._skipping -= 1
            return
        if not self._nodes:
            return
        node = self._nodes.pop()
        buffer = self._texts.pop()
        if buffer:
            node.text = "".join(buffer)
        if not self._nodes:
            self.ready.append((node, self._line))

    def close(self) -> None:
        return None


def _parser(collector: _Collector):
    from defusedxml.ElementTree import DefusedXMLParser

    parser = DefusedXMLParser(target=collector)
    collector.expat = parser.parser
    return parser


def _parse(path: Path, shown: str, collector: _Collector, progress: Callable[[int], None],
           offset: int = 0) -> Iterator[tuple[Node, int]]:
    """Items and authors as the parser finishes them; a broken file raises `NewsgenError`
    after everything before the break was handed on."""
    from xml.etree.ElementTree import ParseError

    from defusedxml import DefusedXmlException

    parser = _parser(collector)
    done = 0
    with open(path, "rb") as handle:
        while True:
            chunk = handle.read(CHUNK)
            try:
                if chunk:
                    parser.feed(chunk)
                else:
                    parser.close()
            except ParseError as exc:
                yield from _drain(collector)
                line = exc.position[0] if exc.position else None
                raise NewsgenError(_xml_problem(path, exc, line), shown, line) from None
            except DefusedXmlException as exc:
                yield from _drain(collector)
                line = collector.expat.CurrentLineNumber if collector.expat is not None else None
                raise NewsgenError(f"the file declares XML entities or a DTD ({type(exc).__name__}); "
                                   "a WordPress export has none, so it is not read", shown, line) from None
            if collector.root and collector.root != "rss":
                raise NewsgenError(f"this is not a WordPress export: its root element is <{collector.root}>, "
                                   "not <rss>; export it from WordPress with Tools > Export", shown, 1)
            yield from _drain(collector)
            if not chunk:
                break
            done += len(chunk)
            progress(offset + done)


def _drain(collector: _Collector) -> Iterator[tuple[Node, int]]:
    while collector.ready:
        ready, collector.ready = collector.ready, []
        yield from ready


def _xml_problem(path: Path, exc, line: int | None) -> str:
    message = re.sub(r":\s*line \d+, column \d+$", "", str(exc))
    if line and ("invalid token" in message or "not well-formed" in message):
        bad = _undecodable(path, line)
        if bad:
            return (f"the file is not valid UTF-8 here ({bad}), as a WordPress export must be; "
                    "save it as UTF-8 and import it again")
    if "no element found" in message or "unclosed token" in message:
        return f"broken XML: {message}; the file ends too soon (was the export cut off?)"
    return f"broken XML: {message}; the rest of the file cannot be read"


def _undecodable(path: Path, line: int) -> str:
    with open(path, "rb") as handle:
        for number, raw in enumerate(handle, start=1):
            if number == line:
                try:
                    raw.decode("utf-8")
                except UnicodeDecodeError as exc:
                    return f"byte 0x{raw[exc.start]:02x} at column {exc.start + 1}"
                return ""
    return ""


# -- items to records ------------------------------------------------------------

def _scan_attachments(path: Path, shown: str, progress: Callable[[int], None]) -> dict[str, tuple[str, str]]:
    """Attachment post id -> its file's address and alternative text.

    A broken file is reported by the main pass, after the items before the break.
    """
    collector = _Collector(keep={"wp:post_id", "wp:post_type", "wp:attachment_url", "wp:meta_key",
                                 "wp:meta_value"},
                           skip=("wp:comment", "content:encoded", "excerpt:encoded", "title", "category"))
    found: dict[str, tuple[str, str]] = {}
    try:
        for node, _ in _parse(path, shown, collector, progress):
            if node.name == "item" and node.get("wp:post_type") == "attachment":
                url = node.get("wp:attachment_url").strip()
                alt = next((one_line(meta.get("wp:meta_value")) for meta in node.all("wp:postmeta")
                            if meta.get("wp:meta_key") == "_wp_attachment_image_alt"), "")
                if url:
                    found[node.get("wp:post_id").strip()] = (url, alt)
    except NewsgenError:
        pass
    return found


def _wordpress_date(text: str, zone, *, utc: bool) -> datetime | None:
    text = text.strip()
    if not text or _ZERO_DATE.match(text):
        return None
    value = datetime.fromisoformat(text)  # "2018-02-26 08:20:10"
    if utc:
        return value.replace(tzinfo=timezone.utc).astimezone(zone)
    return value.replace(tzinfo=zone)


class _Items:
    def __init__(self, config: SiteConfig, mapper: TopicMapper, attachments: dict[str, tuple[str, str]], *,
                 include_pages: bool, tags: bool):
        self.tz = config.tz
        self.mapper = mapper
        self.attachments = attachments
        self.include_pages = include_pages
        self.tags = tags
        self.authors: dict[str, str] = {}

    def author(self, node: Node) -> None:
        login = node.get("wp:author_login").strip()
        name = one_line(html.unescape(node.get("wp:author_display_name")))
        if login and name:
            self.authors[login] = name

    def item(self, node: Node, line: int) -> Record | BadRecord | NotImported:
        post_type = node.get("wp:post_type").strip() or "post"
        status = node.get("wp:status").strip() or "publish"
        if post_type not in IMPORTED_TYPES:
            return NotImported(line, post_type.replace("_", " "))
        if post_type == "page" and not self.include_pages:
            return NotImported(line, "page")
        if status in LEFT_OUT_STATUSES:
            return NotImported(line, f"{status} {post_type}")
        post_id = node.get("wp:post_id").strip()
        problems: list[str] = []
        title = one_line(html.unescape(node.get("title")))
        if not title:
            problems.append("missing title")
        try:
            date = _wordpress_date(node.get("wp:post_date_gmt"), self.tz, utc=True) or \
                _wordpress_date(node.get("wp:post_date"), self.tz, utc=False)
            if date is None and node.get("pubDate").strip() and status == "publish":
                parsed = parse_date(node.get("pubDate"), self.tz)
                date = parsed if isinstance(parsed, datetime) else None
        except (ValueError, BadValue) as exc:
            date = None
            value = (node.get("wp:post_date_gmt") or node.get("wp:post_date")).strip()
            problems.append(f"bad date {value!r} ({exc}); WordPress writes YYYY-MM-DD HH:MM:SS")
        if problems:
            return BadRecord(line, [f"post {post_id}: {problems[0]}" if post_id else problems[0], *problems[1:]])

        from .htmlmd import html_to_markdown, html_to_text
        try:
            body = html_to_markdown(node.get("content:encoded"))
            summary = html_to_text(node.get("excerpt:encoded"))
        except Exception as exc:  # an odd post costs one record, not the run
            return BadRecord(line, [f"post {post_id}: cannot convert its HTML: {exc}"])
        draft = status in DRAFT_STATUSES
        slug = unquote(node.get("wp:post_name").strip())
        if post_type == "page":
            return Record(position=line, title=title, body=body, slug=slug, summary=summary, draft=draft,
                          page=True, source_id="" if slug else f"page-{post_id}")
        topics: list[str] = []
        for category in node.all("category"):
            domain = category.attrs.get("domain", "category")
            nicename = unquote(category.attrs.get("nicename", ""))
            if domain == "category" and nicename == "uncategorized":
                continue  # WordPress's default for a post nobody filed
            if domain not in ("category", "post_tag") or (domain == "post_tag" and not self.tags):
                continue
            name = one_line(html.unescape(category.text))
            mapped = self.mapper.map(name, nicename) if name else None
            if mapped and mapped not in topics:
                topics.append(mapped)
        login = node.get("dc:creator").strip()
        image = image_alt = ""
        for meta in node.all("wp:postmeta"):
            if meta.get("wp:meta_key") == "_thumbnail_id":
                image, image_alt = self.attachments.get(meta.get("wp:meta_value").strip(), ("", ""))
        return Record(
            position=line,
            title=title,
            body=body,
            date=date,
            topics=topics,
            slug=slug,
            summary=summary,
            author=self.authors.get(login, login),
            source_url=node.get("link").strip(),
            image=image,
            image_alt=image_alt,
            draft=draft,
            source_id="" if slug else f"post-{post_id}",
        )


def read(path: Path, shown: str, config: SiteConfig, mapper: TopicMapper, progress: Callable[[int], None],
         *, include_pages: bool = False, tags: bool = True) -> Iterator[Record | BadRecord | NotImported]:
    size = path.stat().st_size
    attachments = _scan_attachments(path, shown, lambda done: progress(done // 4))
    items = _Items(config, mapper, attachments, include_pages=include_pages, tags=tags)
    collector = _Collector()
    seen_items = 0
    for node, line in _parse(path, shown, collector, lambda done: progress(size // 4 + done * 3 // 4)):
        if node.name == "wp:author":
            items.author(node)
        else:
            seen_items += 1
            yield items.item(node, line)
    if not seen_items and not collector.saw_wordpress:
        raise NewsgenError("this RSS file is not a WordPress export (no wp: elements); "
                           "export it from WordPress with Tools > Export", shown, 1)
