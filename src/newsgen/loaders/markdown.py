"""Markdown items (`.md`): YAML front matter, then a CommonMark body with tables."""

from __future__ import annotations

import re
from functools import lru_cache

import nh3
from markdown_it import MarkdownIt

from ..config import SiteConfig
from ..errors import Diagnostics
from ..model import Article
from .frontmatter import Source, split_front_matter
from .item import make_article

# What may survive from HTML written inside Markdown. No scripts, styles, forms,
# frames or event handlers; links only to the web, mail and relative addresses.
_TAGS = {
    "a", "abbr", "b", "bdi", "bdo", "blockquote", "br", "caption", "cite", "code", "del", "details",
    "dfn", "div", "em", "figcaption", "figure", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img",
    "ins", "kbd", "li", "mark", "ol", "p", "pre", "q", "s", "small", "span", "strong", "sub",
    "summary", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "time", "tr", "u", "ul",
}
_ATTRIBUTES = {
    "*": {"dir", "lang", "title"},
    "a": {"href"},
    "img": {"src", "alt", "width", "height"},
    "td": {"colspan", "rowspan", "align"},
    "th": {"colspan", "rowspan", "align", "scope"},
    "time": {"datetime"},
    "ol": {"start"},
    "bdo": {"dir"},
}


@lru_cache(maxsize=1)
def _parser() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": True, "typographer": False}).enable("table").enable("strikethrough")
    return md


def render_markdown(text: str) -> tuple[str, list[tuple[str, str]]]:
    """Markdown to sanitized HTML and the plain text of its blocks.

    A `#` heading becomes `h2`: the page's only h1 is the title. The first plain
    block that is a paragraph gives the summary.
    """
    return render_plain(text) if plain_paragraphs(text) else render_commonmark(text)


def render_commonmark(text: str) -> tuple[str, list[tuple[str, str]]]:
    md = _parser()
    tokens = md.parse(text)
    blocks: list[tuple[str, str]] = []
    in_paragraph = False
    for token in tokens:
        if token.type in ("heading_open", "heading_close") and token.tag == "h1":
            token.tag = "h2"
        elif token.type == "paragraph_open":
            in_paragraph = True
        elif token.type == "paragraph_close":
            in_paragraph = False
        elif token.type == "inline":
            plain = "".join(" " if child.type in ("softbreak", "hardbreak") else child.content
                            for child in token.children or ()
                            if child.type in ("text", "code_inline", "softbreak", "hardbreak"))
            plain = " ".join(plain.split())
            if plain:
                blocks.append(("p" if in_paragraph else "h", plain))
    return sanitize(md.renderer.render(tokens, md.options, {})), blocks


# Most news items are paragraphs of plain prose. For a body with nothing CommonMark
# could read as markup, its HTML is known without running the parser (several times
# slower): `<p>` per block of lines, lines joined by newlines, `"` escaped. The
# checks are deliberately wider than CommonMark's rules; tests compare both paths.
_MARKUP_CHARACTERS = re.compile(r"[\\`*_\[\]!<>#~|&=\t\r\x00\x0b\x0c]")
_MARKUP_LINE = re.compile(r"^(?:[ +\-]|\d{1,9}[.)])|  $", re.M)


def plain_paragraphs(text: str) -> bool:
    """True when `text` holds no Markdown markup at all: only paragraphs of prose."""
    return not _MARKUP_CHARACTERS.search(text) and not _MARKUP_LINE.search(text)


def render_plain(text: str) -> tuple[str, list[tuple[str, str]]]:
    html: list[str] = []
    blocks: list[tuple[str, str]] = []
    for paragraph in re.split(r"\n[ ]*\n", text):
        lines = [line.strip(" ") for line in paragraph.split("\n")]
        lines = [line for line in lines if line]
        if not lines:
            continue
        html.append("<p>" + "\n".join(lines).replace('"', "&quot;") + "</p>\n")
        plain = " ".join(" ".join(lines).split())
        if plain:
            blocks.append(("p", plain))
    return sanitize("".join(html)), blocks


def sanitize(html: str) -> str:
    return nh3.clean(html, tags=_TAGS, attributes=_ATTRIBUTES,
                     url_schemes={"http", "https", "mailto"}, link_rel="noopener noreferrer")


def load_markdown(data: str, path: str, config: SiteConfig, diagnostics: Diagnostics) -> Article | None:
    source: Source = split_front_matter(data, path, required=True)
    html, blocks = render_markdown(source.body)
    return make_article(source, html, blocks, config, diagnostics)
