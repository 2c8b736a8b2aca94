"""Plain-text items (`.txt`), as newsrooms and wire services hand over copy.

The first non-empty line is the headline; a leading «عاجل» marker makes the item
breaking; a short unpunctuated line standing alone before a paragraph is a
sub-heading; every other block is a paragraph.
"""

from __future__ import annotations

import re
from html import escape

from ..config import ReadSettings
from ..errors import Diagnostics
from ..model import Article
from .frontmatter import split_front_matter
from .item import make_article

BREAKING_MARKER = re.compile(r"^\s*عاجل\s*(?::|\.{2,}|…|\||-|–|—)\s*")
SUBHEADING_MAX_WORDS = 12
_SENTENCE_END = (".", "!", "؟", "?", ":", "…", "؛", "،")


def load_plaintext(data: str, path: str, settings: ReadSettings, diagnostics: Diagnostics) -> Article | None:
    source = split_front_matter(data, path, required=False)
    headline, headline_line, blocks = parse_plaintext(source.body, source.body_line)
    breaking = False
    if headline:
        marked = BREAKING_MARKER.match(headline)
        if marked:
            breaking = True
            headline = headline[marked.end():].strip()
    html = "\n".join(f"<{'h2' if kind == 'h' else 'p'}>{escape(text, quote=False)}</{'h2' if kind == 'h' else 'p'}>"
                     for kind, text in blocks)
    return make_article(source, html, blocks, settings, diagnostics,
                        headline=headline, headline_line=headline_line, breaking=breaking)


def parse_plaintext(body: str, first_line: int = 1) -> tuple[str, int, list[tuple[str, str]]]:
    """Split the body into its headline and ("h" | "p", text) blocks.

    Lines of one block are joined with a space: wire copy is often hard-wrapped.
    """
    raw_blocks: list[list[str]] = []
    current: list[str] = []
    headline, headline_line = "", 0
    for number, line in enumerate(body.split("\n"), start=first_line):
        text = " ".join(line.split())
        if not headline:
            if text:
                headline, headline_line = text, number
            continue
        if text:
            current.append(text)
        elif current:
            raw_blocks.append(current)
            current = []
    if current:
        raw_blocks.append(current)

    blocks: list[tuple[str, str]] = []
    for index, lines in enumerate(raw_blocks):
        text = " ".join(lines)
        followed_by_paragraph = index + 1 < len(raw_blocks) and not _is_short(" ".join(raw_blocks[index + 1]))
        if len(lines) == 1 and _is_short(text) and followed_by_paragraph:
            blocks.append(("h", text))
        else:
            blocks.append(("p", text))
    return headline, headline_line, blocks


def _is_short(text: str) -> bool:
    return len(text.split()) <= SUBHEADING_MAX_WORDS and not text.rstrip().endswith(_SENTENCE_END)
