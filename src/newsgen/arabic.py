"""Arabic text as newsgen compares, counts and prints it.

`normalize` is the one folding used everywhere Arabic text is compared: topic
names, keywords, search. Display text is never normalized.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime
from functools import lru_cache

from babel.dates import format_date, format_datetime

# Harakat, shadda, sukun, superscript alef, Quranic marks; tatweel.
_MARKS = re.compile("[\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06dc\u06df-\u06e8\u06ea-\u06ed\u0640]")
_FOLD = str.maketrans({
    "أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا",
    "ى": "ي",
    "ة": "ه",
    # Arabic-Indic and Eastern Arabic-Indic (Persian) digits compare as Western ones.
    **{chr(0x0660 + i): str(i) for i in range(10)},
    **{chr(0x06F0 + i): str(i) for i in range(10)},
    "\u200c": None, "\u200d": None, "\u200e": None, "\u200f": None, "\ufeff": None,
})
_TO_ARABIC_INDIC = str.maketrans({str(i): chr(0x0660 + i) for i in range(10)} | {"%": "٪", ",": "٬", ".": "٫"})
_TO_ARABIC_INDIC_TEXT = str.maketrans({str(i): chr(0x0660 + i) for i in range(10)})
_WORD = re.compile(r"\w+")

# Prefix clitics: conjunctions (و ف), prepositions (ب ل ك), the article (ال),
# and their usual combinations. Longest first so that «وال» wins over «و».
CLITIC_PREFIXES = ("وبال", "فبال", "وكال", "فكال", "وال", "فال", "بال", "كال", "ولل", "فلل",
                   "ال", "لل", "وب", "ول", "وك", "فب", "فل", "فك", "و", "ف", "ب", "ل", "ك")
_MIN_STEM = 2

UNDATED = "غير مؤرخ"


def normalize(text: str) -> str:
    """Fold the spelling variants Arabic readers treat as the same.

    Compatibility forms (presentation forms, ligatures) are decomposed, marks and
    tatweel removed, hamza forms of alef, alef maqsura and ta marbuta folded, digits
    made Western and Latin letters case-folded.
    """
    text = unicodedata.normalize("NFKC", text)
    text = _MARKS.sub("", text)
    return text.translate(_FOLD).casefold()


def strip_marks(text: str) -> str:
    """Remove diacritics and tatweel only: for slugs, which stay readable."""
    return _MARKS.sub("", unicodedata.normalize("NFKC", text))


def words(text: str) -> list[str]:
    """Normalized words of `text`."""
    return _WORD.findall(normalize(text))


def count_words(text: str) -> int:
    return len(_WORD.findall(text))


@lru_cache(maxsize=200_000)
def stems(word: str) -> tuple[str, ...]:
    """The normalized word and what is left of it after each possible prefix clitic.

    «والدفاع» gives («والدفاع», «الدفاع», «دفاع»...): a keyword matches a word when
    the keyword's own stem is among them.
    """
    found = [word]
    for prefix in CLITIC_PREFIXES:
        if word.startswith(prefix) and len(word) - len(prefix) >= _MIN_STEM:
            rest = word[len(prefix):]
            if prefix.endswith("لل"):
                # «لل» is «ل» + «ال» with the alef dropped: «للجيش» is «ل + الجيش».
                found.append("ال" + rest)
            found.append(rest)
    return tuple(dict.fromkeys(found))


def keyword_stem(keyword_word: str) -> str:
    """A keyword's word without its article, so «الدفاع» also matches «دفاع»."""
    word = normalize(keyword_word)
    if word.startswith("ال") and len(word) - 2 >= _MIN_STEM + 1:
        return word[2:]
    return word


def to_digits(text: str, style: str) -> str:
    """Write the digits of `text` as the site chooses: "western" or "arabic-indic"."""
    if style == "arabic-indic":
        return text.translate(_TO_ARABIC_INDIC_TEXT)
    return text


def format_number(value: int, style: str) -> str:
    """An integer for display, without grouping (page numbers, counts, minutes)."""
    return to_digits(str(value), style)


@lru_cache(maxsize=4096)
def _format_date_cached(value: date, locale: str, pattern: str) -> str:
    return format_date(value, pattern, locale=locale)


def format_arabic_date(value: date | datetime | None, *, locale: str, digits: str,
                       pattern: str = "d MMMM y") -> str:
    """«15 كانون الثاني 2024» (or «غير مؤرخ») in the site's month names and digits."""
    if value is None:
        return UNDATED
    day = value.date() if isinstance(value, datetime) else value
    return to_digits(_format_date_cached(day, locale, pattern), digits)


def format_arabic_time(value: datetime, *, locale: str, digits: str) -> str:
    return to_digits(format_datetime(value, "h:mm a", locale=locale), digits)


def format_month(year: int, month: int, *, locale: str, digits: str) -> str:
    """«كانون الثاني 2024»: a month of the archive."""
    return to_digits(_format_date_cached(date(year, month, 1), locale, "LLLL y"), digits)


def join_list(items) -> str:
    """Join with the Arabic comma, as lists read in Arabic text."""
    return "، ".join(str(i) for i in items)
