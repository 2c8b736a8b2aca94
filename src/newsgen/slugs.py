"""URL slugs: readable Arabic by default, transliterated Latin or id-based on request.

Whatever a content file says, a slug is one path segment that cannot climb out
of the output folder.
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath

from slugify import slugify

from .arabic import strip_marks, western_digits

MAX_LENGTH = 80
_UNSAFE = re.compile(r"[/\\\x00-\x1f]|^\.|\.\.")
_FILE_DATE_PREFIX = re.compile(r"^\d{4}-\d{2}-\d{2}[-_ ]?")


def make_slug(text: str, style: str = "arabic") -> str:
    """A slug for `text`; may be empty when the text has no letters or digits."""
    text = western_digits(strip_marks(text))
    if style == "latin":
        return slugify(text, max_length=MAX_LENGTH, word_boundary=True)
    return slugify(text, allow_unicode=True, max_length=MAX_LENGTH, word_boundary=True)


def slug_from_path(path: str) -> str:
    """The id-style slug: the file name without extension or date prefix."""
    stem = PurePosixPath(path).stem
    return make_slug(_FILE_DATE_PREFIX.sub("", stem) or stem, "latin") or make_slug(stem, "arabic")


def is_safe_slug(value: str) -> bool:
    return bool(value.strip()) and not _UNSAFE.search(value)
