"""What both item formats share: from checked fields and body to an `Article`."""

from __future__ import annotations

from ..arabic import count_words
from ..config import ReadSettings
from ..errors import Diagnostics
from ..filing import topic_key
from ..model import Article
from ..slugs import is_safe_slug, make_slug, slug_from_path
from .fields import date_from_file_name, read_fields
from .frontmatter import Source


def make_article(source: Source, body_html: str, blocks: list[tuple[str, str]], settings: ReadSettings,
                 diagnostics: Diagnostics, *, headline: str = "", headline_line: int = 0,
                 breaking: bool = False) -> Article | None:
    """Assemble the record; problems go to `diagnostics` and give None for errors.

    `blocks` are the body's plain-text blocks as ("p", text) for paragraphs and
    ("h", text) for headings and other blocks.
    """
    path = source.path
    local = Diagnostics()
    fields = read_fields(source.meta, source.meta_lines, path, settings.tz, local)
    title = fields.title or headline
    if not title:
        where = "add `title: ...` to the front matter" if path.endswith(".md") else \
            "the first non-empty line of the file is the headline"
        local.error(f"the item has no title; {where}", path, fields.lines.get("title", 1))

    slug = ""
    if fields.slug:
        if not is_safe_slug(fields.slug):
            local.error(f"`slug` {fields.slug!r} is not allowed: a slug is one name without `/`, `\\` or `..`; "
                        "use letters, digits and hyphens, e.g. slug: central-bank-rates",
                        path, fields.lines.get("slug"))
        else:
            slug = make_slug(fields.slug, "arabic")
            if not slug:
                local.error(f"`slug` {fields.slug!r} has no letters or digits; use e.g. slug: central-bank-rates",
                            path, fields.lines.get("slug"))
    elif title:
        slug = slug_from_path(path) if settings.slugs == "id" else make_slug(title, settings.slugs)
        slug = slug or slug_from_path(path)

    diagnostics.problems.extend(local.problems)
    if local.errors:
        return None

    paragraphs = [text for kind, text in blocks if kind == "p"]
    summary = fields.summary or _trim_words(paragraphs[0] if paragraphs else "", settings.summary_words)
    body_text = "\n".join(text for _, text in blocks)
    date = fields.date or date_from_file_name(path, settings.tz)
    # Resolved here, in the worker and once per file version, rather than at every build.
    topic_keys = tuple(dict.fromkeys(key for key in (topic_key(name, settings) for name in fields.topics) if key))
    return Article(
        path=path,
        title=title,
        slug=slug,
        body_html=body_html,
        text=f"{title}\n{body_text}",
        date=date,
        updated=fields.updated,
        topics=fields.topics,
        summary=summary,
        breaking=fields.breaking or breaking,
        draft=fields.draft,
        source=fields.source,
        source_url=fields.source_url,
        author=fields.author,
        location=fields.location,
        image=fields.image,
        image_alt=fields.image_alt,
        word_count=count_words(body_text),
        slug_line=fields.lines.get("slug", 0),
        topic_keys=topic_keys,
        topics_inferred=not topic_keys,
    )


def _trim_words(text: str, limit: int) -> str:
    parts = text.split()
    if len(parts) <= limit:
        return text
    return " ".join(parts[:limit]).rstrip("،,؛;:.") + "…"


