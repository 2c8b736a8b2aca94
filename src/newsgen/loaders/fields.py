"""Front matter keys of the content contract, checked and typed.

Both item formats share this, so a key means the same in a `.md` and a `.txt` file.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, tzinfo
from pathlib import PurePosixPath

from ..config import closest
from ..errors import Diagnostics

KNOWN_KEYS = ("title", "date", "updated", "topics", "slug", "summary", "author", "source",
              "source_url", "location", "image", "image_alt", "breaking", "draft")
_STRING_KEYS = ("title", "slug", "summary", "author", "source", "source_url", "location",
                "image", "image_alt")
_FILE_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:[-_ ]|$)")


@dataclass
class Fields:
    """The checked front matter of one item; absent keys keep their defaults."""

    title: str = ""
    date: datetime | None = None
    updated: datetime | None = None
    topics: tuple[str, ...] = ()
    slug: str = ""
    summary: str = ""
    author: str = ""
    source: str = ""
    source_url: str = ""
    location: str = ""
    image: str = ""
    image_alt: str = ""
    breaking: bool = False
    draft: bool = False
    lines: dict[str, int] = field(default_factory=dict)


def read_fields(meta: dict, meta_lines: dict[str, int], path: str, tz: tzinfo,
                diagnostics: Diagnostics, *, known: tuple[str, ...] = KNOWN_KEYS) -> Fields:
    fields = Fields(lines=meta_lines)

    def line(key: str) -> int:
        return meta_lines.get(key, 1)

    for key, value in meta.items():
        key_text = str(key)
        if key_text not in known:
            hint = closest(key_text, known)
            diagnostics.warning(f"unknown front matter key `{key_text}`" +
                                (f"; did you mean `{hint}`?" if hint else "; it is ignored"),
                                path, line(key_text))
            continue
        if value is None:
            continue
        if key_text in _STRING_KEYS:
            if isinstance(value, bool) or not isinstance(value, (str, int, float)):
                diagnostics.error(f"`{key_text}` must be text, not {_kind(value)}; write it on one line, quoted if needed",
                                  path, line(key_text))
                continue
            text = str(value).strip()
            if key_text == "image" and text:
                text, problem = site_image(text)
                if problem:
                    diagnostics.error(problem, path, line(key_text))
                    continue
            setattr(fields, key_text, text)
        elif key_text in ("breaking", "draft"):
            if not isinstance(value, bool):
                diagnostics.error(f"`{key_text}` must be true or false, not {value!r}", path, line(key_text))
                continue
            setattr(fields, key_text, value)
        elif key_text in ("date", "updated"):
            parsed = parse_date(value, tz)
            if parsed is None:
                diagnostics.error(f"`{key_text}` {str(value)!r} is not a date; use ISO 8601 such as "
                                  "2024-05-14 or 2024-05-14T09:30:00+03:00", path, line(key_text))
                continue
            setattr(fields, key_text, parsed)
        elif key_text == "topics":
            topics = _topics(value)
            if topics is None:
                diagnostics.error("`topics` must be a list of topic names, e.g. topics: [سياسة, اقتصاد], "
                                  f"not {_kind(value)}", path, line(key_text))
                continue
            fields.topics = topics
    if fields.date is not None and fields.updated is not None and fields.updated < fields.date:
        diagnostics.warning(f"`updated` ({fields.updated.isoformat()}) is before `date` ({fields.date.isoformat()}): "
                            "the page would say the item was updated before it was published; correct one of "
                            "them, or remove `updated`", path, line("updated"))
    return fields


_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")


def site_image(value: str) -> tuple[str, str]:
    """An item's `image` as pages and feeds use it, and what is wrong with it ("" when nothing).

    A URL is kept (`//host/x.png`, which has no scheme of its own, as https). Anything else is a
    path from the site's root (the files of `static/` are published under `assets/`): a leading
    `/` names that root (on a site published under a sub-path, `/assets/a.jpg` is the site's, not
    the host's), and a path may not climb out of it."""
    if _SCHEME.match(value):
        return value, ""
    if value.startswith("//"):
        return "https:" + value, ""
    path = posixpath.normpath(value.lstrip("/"))
    if path == ".." or path.startswith("../"):
        return value, (f"`image` «{value}» points outside the site; put the file in the site's static/ folder "
                       "(published under assets/) and write `image: assets/...`, or give a full URL")
    return ("" if path == "." else path), ""


def parse_date(value, tz: tzinfo) -> datetime | None:
    """ISO 8601 date or date-time; without an offset it is in the site's zone."""
    if isinstance(value, datetime):
        result = value
    elif isinstance(value, date):
        result = datetime.combine(value, time())
    elif isinstance(value, str):
        text = value.strip()
        if text.endswith("Z"):
            text = text[:-1] + "+00:00"
        try:
            result = datetime.fromisoformat(text)
        except ValueError:
            return None
    else:
        return None
    if result.tzinfo is None:
        result = result.replace(tzinfo=tz)
    return result


def date_from_file_name(path: str, tz: tzinfo) -> datetime | None:
    match = _FILE_DATE.match(PurePosixPath(path).name)
    if not match:
        return None
    try:
        return datetime(int(match[1]), int(match[2]), int(match[3]), tzinfo=tz)
    except ValueError:
        return None


def _topics(value) -> tuple[str, ...] | None:
    if isinstance(value, str):
        value = [part for part in re.split(r"[,،]", value)]
    if not isinstance(value, list):
        return None
    topics = []
    for entry in value:
        if isinstance(entry, bool) or not isinstance(entry, (str, int)):
            return None
        text = str(entry).strip()
        if text and text not in topics:
            topics.append(text)
    return tuple(topics)


def _kind(value) -> str:
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, (int, float)):
        return "a number"
    return type(value).__name__
