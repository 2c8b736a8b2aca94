"""Markdown items (`.md`): YAML front matter, then a CommonMark body with tables."""

from __future__ import annotations

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


def sanitize(html: str) -> str:
    return nh3.clean(html, tags=_TAGS, attributes=_ATTRIBUTES,
                     url_schemes={"http", "https", "mailto"}, link_rel="noopener noreferrer")


def load_markdown(data: str, path: str, config: SiteConfig, diagnostics: Diagnostics) -> Article | None:
    source: Source = split_front_matter(data, path, required=True)
    html, blocks = render_markdown(source.body)
    return make_article(source, html, blocks, config, diagnostics)
