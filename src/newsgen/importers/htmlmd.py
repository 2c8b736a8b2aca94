"""HTML from a CMS to clean Markdown.

Keeps what an article is made of (paragraphs, headings, lists, links, images,
quotations, tables, emphasis) and drops what only styled or scripted it: inline
styles, classes, scripts, forms and editor comments. WordPress specifics: content
saved without `<p>` tags (blank lines separate paragraphs) and the `[caption]` and
`[embed]` shortcodes.
"""

from __future__ import annotations

import re
from html import escape

_BLOCK_TAG = re.compile(
    r"^\s*<(?:p|h[1-6]|ul|ol|li|blockquote|div|figure|table|thead|tbody|tr|pre|hr|section|article|"
    r"aside|header|footer|address|dl|dd|dt|iframe|video|audio|form|style|script|!--)[\s>/]", re.I)
_HAS_PARAGRAPHS = re.compile(r"<p[\s>]", re.I)
_CAPTION = re.compile(r"\[caption[^\]]*\](.*?)\[/caption\]", re.I | re.S)
_EMBED = re.compile(r"\[embed[^\]]*\]\s*(\S+?)\s*\[/embed\]", re.I | re.S)
_MEDIA_SHORTCODE = re.compile(r"\[(?:gallery|playlist|audio|video)\b[^\]]*\](?:.*?\[/(?:audio|video)\])?", re.I | re.S)
_DROP = ("script", "style", "noscript", "template", "form", "button", "input", "select", "textarea",
         "svg", "canvas", "object", "embed", "link", "meta", "head", "title")
_SAFE_URL = re.compile(r"^(?:https?:|mailto:|/|\.{0,2}/|#|[^:/?#]+(?:[/?#]|$))", re.I)


def autop(html: str) -> str:
    """WordPress's own rule for content saved without `<p>`: blank lines separate
    paragraphs, a single new line is a line break."""
    html = html.replace("\r\n", "\n").replace("\r", "\n")
    if _HAS_PARAGRAPHS.search(html):
        return html
    parts = []
    for chunk in re.split(r"\n\s*\n", html):
        chunk = chunk.strip()
        if not chunk:
            continue
        if _BLOCK_TAG.match(chunk):
            parts.append(chunk)
        else:
            parts.append("<p>" + re.sub(r"\s*\n\s*", "<br>\n", chunk) + "</p>")
    return "\n".join(parts)


def _caption(match: re.Match) -> str:
    inner = match.group(1).strip()
    image = re.match(r"^((?:<a\b[^>]*>\s*)?<img\b[^>]*>(?:\s*</a>)?)(.*)$", inner, re.I | re.S)
    if not image:
        return f"<figure>{inner}</figure>"
    caption = image.group(2).strip()
    return f"<figure>{image.group(1)}<figcaption>{caption}</figcaption></figure>" if caption \
        else f"<figure>{image.group(1)}</figure>"


def _embed(match: re.Match) -> str:
    url = match.group(1)
    return f'<p><a href="{escape(url)}">{escape(url)}</a></p>' if url.startswith(("http://", "https://")) else ""


def expand_shortcodes(html: str) -> str:
    html = _CAPTION.sub(_caption, html)
    html = _EMBED.sub(_embed, html)
    return _MEDIA_SHORTCODE.sub("", html)


def html_to_markdown(html: str) -> str:
    """Clean Markdown for an HTML fragment; empty for an empty one."""
    if not html or not html.strip():
        return ""
    from bs4 import BeautifulSoup, Comment
    from markdownify import MarkdownConverter

    # As WordPress does it: paragraphs first, then shortcodes.
    soup = BeautifulSoup(expand_shortcodes(autop(html)), "html.parser")
    for comment in soup.find_all(string=lambda text: isinstance(text, Comment)):
        comment.extract()
    for tag in soup.find_all(True):  # one pass; parents come before their children
        if tag.decomposed:
            continue
        name = tag.name
        if name in _DROP:
            tag.decompose()
        elif name in ("iframe", "video", "audio"):
            _media_link(soup, tag)
        elif name == "a":
            href = (tag.get("href") or "").strip()
            if not href or not _SAFE_URL.match(href):
                tag.unwrap()
        elif name == "img":
            source = (tag.get("src") or "").strip()
            if source.startswith("//"):
                tag["src"] = source = "https:" + source
            if not source or not _SAFE_URL.match(source):
                tag.decompose()
        elif name == "figcaption":
            tag.name = "p"
            inner = soup.new_tag("em")
            for child in list(tag.contents):
                inner.append(child.extract())
            tag.append(inner)
        elif name == "figure":
            tag.name = "div"

    converter = MarkdownConverter(heading_style="ATX", bullets="-", newline_style="backslash",
                                  strong_em_symbol="*", escape_misc=False)
    text = converter.convert_soup(soup)
    text = re.sub(r"[ \t\u00a0]+\n", "\n", text)
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text.strip()


def _media_link(soup, frame) -> None:
    """An embedded player becomes a link to what it plays."""
    source = frame.get("src") or ""
    if not source:
        inner = frame.find("source")
        source = inner.get("src", "") if inner else ""
    if source.startswith("//"):
        source = "https:" + source
    if source.startswith(("http://", "https://")):
        paragraph = soup.new_tag("p")
        link = soup.new_tag("a", href=source)
        link.string = source
        paragraph.append(link)
        frame.replace_with(paragraph)
    else:
        frame.decompose()


def html_to_text(html: str) -> str:
    """The words of an HTML fragment on one line (for summaries)."""
    if not html or not html.strip():
        return ""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "html.parser")
    for tag in soup.find_all(_DROP):
        tag.decompose()
    return " ".join(soup.get_text(" ").split())
