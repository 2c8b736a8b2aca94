"""Markdown items (`.md`): YAML front matter, then a CommonMark body with tables."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import TYPE_CHECKING

from ..config import ReadSettings
from ..errors import Diagnostics
from ..model import Article
from .frontmatter import Source, split_front_matter
from .item import make_article

if TYPE_CHECKING:
    from markdown_it import MarkdownIt

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
    # Imported here: most items are plain paragraphs (see `render_plain`), and a build after
    # editing one need not pay for importing the parser (some 35 ms).
    from markdown_it import MarkdownIt

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
            plain = " ".join(_inline_plain(token.children or ()).split())
            if plain:
                blocks.append(("p" if in_paragraph else "h", plain))
    return sanitize(md.renderer.render(tokens, md.options, {})), blocks


# Elements whose content the sanitizer drops with them (nh3's default `clean_content_tags`):
# their text is not the item's either (summary, description, search, filing).
_HIDDEN_OPEN = re.compile(r"<(script|style)(?=[\s/>])", re.I)
_HIDDEN_CLOSE = re.compile(r"</(script|style)\s*>", re.I)


def _inline_plain(children) -> str:
    """The plain text of a paragraph's or heading's inline tokens."""
    parts = []
    hidden = None  # the element whose content is being skipped
    for child in children:
        if child.type == "html_inline":
            if hidden is None and (opened := _HIDDEN_OPEN.match(child.content)):
                hidden = opened.group(1).lower()
            elif hidden is not None and (closed := _HIDDEN_CLOSE.match(child.content)) \
                    and closed.group(1).lower() == hidden:
                hidden = None
        elif hidden is not None:
            continue
        elif child.type in ("softbreak", "hardbreak"):
            parts.append(" ")
        elif child.type in ("text", "code_inline"):
            parts.append(child.content)
    return "".join(parts)


# Most news items are paragraphs of plain prose. For a body with nothing CommonMark
# could read as markup, its HTML is known without running the parser (several times
# slower) or the sanitizer: `<p>` per block of lines, lines joined by newlines, and
# thematic breaks standing alone between blank lines. The checks are deliberately
# wider than CommonMark's rules; tests compare both paths.
#
# Characters that are markup wherever they stand. `#` opens a heading only at a line's
# start, `!` is markup only before `[`, `_` only away from letters and digits: those
# are checked below.
_MARKUP_CHARACTERS = re.compile(r"[\\`*\[\]<>~|&=\t\r\x00\x0b\x0c]")
# What opens a block at a line's start: indented code, heading, list item, setext
# underline or rule, ordered list. `-`/`+` then a letter is prose («-وأضاف»).
_BLOCK_OPENER = r"(?:[ #]|[-+](?:[-+\s]|\Z)|\d{1,9}[.)])"
_FIRST_LINE_BLOCK = re.compile(_BLOCK_OPENER)
_LATER_LINE_BLOCK = re.compile(r"\n" + _BLOCK_OPENER)  # the literal `\n` makes the search fast
# `_` with a letter or digit on both sides can neither open nor close emphasis
# (markdown-it counts no such character as white space or punctuation).
_LONE_UNDERSCORE = re.compile(r"_(?:(?<![^\W_]_)|(?![^\W_]))")
_RULE = re.compile(r"-{3,}|_{3,}")
# White space other than a space at a line's edge: markdown-it trims it off a paragraph's
# ends, which the shortcut would not.
_EDGE_SPACE = re.compile(r"^[^\S\n ]|[^\S\n ] *$", re.M)


def plain_paragraphs(text: str) -> bool:
    """True when `text` holds no Markdown markup at all: only paragraphs of prose and rules."""
    if "---" in text or "___" in text:
        text = "\n\n".join(block for block in text.split("\n\n") if not _is_rule(block))
    return not (_MARKUP_CHARACTERS.search(text) or _LONE_UNDERSCORE.search(text)
                or _FIRST_LINE_BLOCK.match(text) or _LATER_LINE_BLOCK.search(text)
                or "  \n" in text or text.endswith("  ") or _EDGE_SPACE.search(text))


def _is_rule(block: str) -> bool:
    """A block between blank lines that is one line of `---` or `___`: a thematic break."""
    return _RULE.fullmatch(block.strip("\n")) is not None


def render_plain(text: str) -> tuple[str, list[tuple[str, str]]]:
    """`render_commonmark` of a text `plain_paragraphs` accepts.

    Its lines open with no space and end with at most one, which CommonMark drops.
    The HTML is what `sanitize` would give: the text holds no `<`, `>` or `&`, and the
    sanitizer only writes `"` as itself and a no-break space as `&nbsp;`.
    """
    html: list[str] = []
    blocks: list[tuple[str, str]] = []
    for block in text.replace(" \n", "\n").rstrip(" ").split("\n\n"):
        block = block.strip("\n")
        if not block:
            continue
        if _is_rule(block):
            html.append("<hr>\n")
            continue
        html.append("<p>" + block + "</p>\n")
        plain = _single_spaced(block.replace("\n", " "))
        if plain:
            blocks.append(("p", plain))
    return "".join(html).replace("\xa0", "&nbsp;"), blocks


_UNUSUAL_SPACE = re.compile(r"[^\S ]")


def _single_spaced(text: str) -> str:
    """`" ".join(text.split())`, without splitting the many texts that are single-spaced already."""
    if "  " in text or _UNUSUAL_SPACE.search(text) or text.startswith(" ") or text.endswith(" "):
        return " ".join(text.split())
    return text


def sanitize(html: str) -> str:
    import nh3

    return nh3.clean(html, tags=_TAGS, attributes=_ATTRIBUTES,
                     url_schemes={"http", "https", "mailto"}, link_rel="noopener noreferrer")


def load_markdown(data: str, path: str, settings: ReadSettings, diagnostics: Diagnostics) -> Article | None:
    source: Source = split_front_matter(data, path, required=True)
    html, blocks = render_markdown(source.body)
    return make_article(source, html, blocks, settings, diagnostics)
