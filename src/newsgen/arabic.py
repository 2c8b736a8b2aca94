"""Arabic text as newsgen compares, counts and prints it.

`normalize` is the one folding used everywhere Arabic text is compared: topic
names, keywords, search. Display text is never normalized.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime, tzinfo
from functools import lru_cache

# Harakat, shadda, sukun, superscript alef, Quranic marks; tatweel.
_MARKS = re.compile("[\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06dc\u06df-\u06e8\u06ea-\u06ed\u0640]")
# Arabic-Indic and Eastern Arabic-Indic (Persian) digits as Western ones.
_TO_WESTERN = {0x0660 + i: str(i) for i in range(10)} | {0x06F0 + i: str(i) for i in range(10)}
_FOLD = str.maketrans({
    "أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا",
    "ى": "ي",
    "ة": "ه",
    **_TO_WESTERN,  # digits compare as Western ones
    "\u200c": None, "\u200d": None, "\u200e": None, "\u200f": None, "\ufeff": None,
})
_TO_ARABIC_INDIC = str.maketrans({str(i): chr(0x0660 + i) for i in range(10)} | {"%": "٪", ",": "٬", ".": "٫"})
_TO_ARABIC_INDIC_TEXT = str.maketrans({str(i): chr(0x0660 + i) for i in range(10)})
_WORD = re.compile(r"\w+")
# The same words as `_WORD`, for counting them: with the empty group `findall` lists empty
# strings instead of copying out each word, and the possessive `++` keeps no way back.
_WORD_TO_COUNT = re.compile(r"\w++()")
# Punctuation of news copy (none of it a word character or white space), most common first.
_PUNCTUATION = tuple('،."():-/#؟%!,–—•٪«»“”‘’*؛+\'')

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
    text = _MARKS.sub("", unicodedata.normalize("NFKC", text))
    # One pass for each folded character the text has, rather than a table lookup for every
    # character (`str.translate`): several times faster on an item's text. No character is
    # folded into one that another pass replaces, so the passes cannot interfere.
    for char, folded in _FOLD_PAIRS:
        if char in text:
            text = text.replace(char, folded)
    return text.casefold()


_FOLD_PAIRS = tuple((chr(cp), folded or "") for cp, folded in _FOLD.items())


def strip_marks(text: str) -> str:
    """Remove diacritics and tatweel only: for slugs, which stay readable."""
    return _MARKS.sub("", unicodedata.normalize("NFKC", text))


def words(text: str) -> list[str]:
    """Normalized words of `text`."""
    return split_words(normalize(text))


def count_words(text: str) -> int:
    return len(_WORD_TO_COUNT.findall(text))


def split_words(text: str) -> list[str]:
    """The runs of word characters in `text`, as `re.findall(r"\\w+", text)` gives them.

    In normalized prose (no marks left) it is cheaper to make the usual punctuation a space
    and split at white space; that gives the same runs whenever what is left between the
    spaces is letters, digits and `_` only, which is checked. Otherwise the regular
    expression decides.
    """
    spaced = text
    for mark in _PUNCTUATION:
        if mark in spaced:
            spaced = spaced.replace(mark, " ")
    found = spaced.split()
    kept = "".join(found)
    if kept.isalnum() or kept.replace("_", "").isalnum():
        return found
    return _WORD.findall(text)


@lru_cache(maxsize=200_000)
def stems(word: str) -> tuple[str, ...]:
    """The normalized word and what is left of it after each possible prefix clitic.

    «والدفاع» gives («والدفاع», «الدفاع», «دفاع»...): a keyword matches a word when
    the keyword's own stem is among them.
    """
    prefixes = _CLITICS_BY_LETTER.get(word[:1])
    if prefixes is None:
        return (word,)
    found = [word]
    for prefix in prefixes:
        if word.startswith(prefix) and len(word) - len(prefix) >= _MIN_STEM:
            rest = word[len(prefix):]
            if prefix.endswith("لل"):
                # «لل» is «ل» + «ال» with the alef dropped: «للجيش» is «ل + الجيش».
                found.append("ال" + rest)
            found.append(rest)
    return tuple(dict.fromkeys(found))


# The clitics by their first letter, each group in CLITIC_PREFIXES' order: a word is tried
# against the few that can start it rather than all 23 (most of the work of `stems`).
_CLITICS_BY_LETTER = {letter: tuple(p for p in CLITIC_PREFIXES if p[0] == letter)
                      for letter in dict.fromkeys(p[0] for p in CLITIC_PREFIXES)}


def keyword_stem(keyword_word: str) -> str:
    """A keyword's word without its article, so «الدفاع» also matches «دفاع»."""
    word = normalize(keyword_word)
    if word.startswith("ال") and len(word) - 2 >= _MIN_STEM + 1:
        return word[2:]
    return word


def western_digits(text: str) -> str:
    """Arabic-Indic and Eastern Arabic-Indic digits in `text` written as Western ones."""
    return text.translate(_TO_WESTERN)


def to_digits(text: str, style: str) -> str:
    """Write the digits of `text` as the site chooses: "western" or "arabic-indic"."""
    if style == "arabic-indic":
        return text.translate(_TO_ARABIC_INDIC_TEXT)
    return text


def format_number(value: int, style: str) -> str:
    """An integer for display, without grouping (page numbers, counts, minutes)."""
    return to_digits(str(value), style)


# Babel's dates, remembered. A build that formats a few dates (after a body edit) finds them among
# those the last full build formatted (`formatted_dates`, kept in the build cache), and does not
# import Babel nor load its locale data, which costs 0.02-0.03 s.
_FORMATTED_DATES: dict[tuple[date, str, str], str] = {}


def _format_date_cached(value: date, locale: str, pattern: str) -> str:
    key = (value, locale, pattern)
    text = _FORMATTED_DATES.get(key)
    if text is None:
        from babel.dates import format_date
        text = _FORMATTED_DATES[key] = format_date(value, pattern, locale=locale)
    return text


def formatted_dates() -> dict[tuple[date, str, str], str]:
    """The dates formatted so far, as `remember_dates` takes them."""
    return dict(_FORMATTED_DATES)


def remember_dates(dates: dict[tuple[date, str, str], str]) -> None:
    """Take dates as Babel formatted them (`formatted_dates` of an earlier build)."""
    _FORMATTED_DATES.update(dates)


def on_site_calendar(value, tz: tzinfo):
    """A date as the site shows and files it: a time with its zone in the site's zone (an item
    sent at 23:30 UTC is of the next day in Damascus); a date, or a time without a zone, as it is."""
    return value.astimezone(tz) if isinstance(value, datetime) and value.tzinfo else value


def format_arabic_date(value: date | datetime | None, *, locale: str, digits: str,
                       pattern: str = "d MMMM y") -> str:
    """«15 كانون الثاني 2024» (or «غير مؤرخ») in the site's month names and digits."""
    if value is None:
        return UNDATED
    day = value.date() if isinstance(value, datetime) else value
    return to_digits(_format_date_cached(day, locale, pattern), digits)


def format_month(year: int, month: int, *, locale: str, digits: str) -> str:
    """«كانون الثاني 2024»: a month of the archive."""
    return to_digits(_format_date_cached(date(year, month, 1), locale, "LLLL y"), digits)


def join_list(items) -> str:
    """Join with the Arabic comma, as lists read in Arabic text."""
    return "، ".join(str(i) for i in items)


def folding_tables() -> dict:
    """`normalize`, `words` and `stems` as data, for code outside Python (the search page).

    Applied in this order they give the same result as the functions: NFKC; drop
    the characters in the `marks` ranges; map each character through `fold` (a
    missing entry keeps the character, an empty one drops it); case-fold each
    character with `casefold`, or by lower-casing where it has no entry. `words`
    are runs of letters, digits and «_» (what Python's \\w matches). `stems`: the
    word, then for each of `clitics` in order that the word starts with, leaving
    at least `min_stem` letters, `restore[clitic]` + the rest (when the clitic has
    an entry) and the rest itself. No character outside the Basic Multilingual
    Plane is a mark here or case-folds differently from lower-casing.
    """
    return dict(_folding_tables())


@lru_cache(maxsize=1)
def _folding_tables() -> tuple:
    plane = "".join(map(chr, range(0xD800))) + "".join(map(chr, range(0xE000, 0x10000)))
    marks: list[list[int]] = []
    for match in _MARKS.finditer(plane):
        cp = ord(match.group())
        if marks and marks[-1][1] == cp - 1:
            marks[-1][1] = cp
        else:
            marks.append([cp, cp])
    casefold = {ch: ch.casefold() for ch in plane if ch.casefold() != ch.lower()}
    return (
        ("marks", marks),
        ("fold", {chr(k): v or "" for k, v in _FOLD.items()}),
        ("casefold", casefold),
        ("clitics", list(CLITIC_PREFIXES)),
        ("restore", {p: "ال" for p in CLITIC_PREFIXES if p.endswith("لل")}),
        ("min_stem", _MIN_STEM),
    )


# -- Words that carry a text's subject -------------------------------------------------------

# Function words, pronouns, auxiliaries and the reporting verbs of news copy; each also with
# «و» or «ف» in front. Written as readers spell them and folded with `normalize` below.
_STOP_TEXT = """
في من على إلى الى عن مع منذ عند حتى بين ضمن دون عبر نحو لدى حول خلال بعد قبل أثناء تحت فوق
أمام وراء ضد إلا غير سوى مثل كل بعض أي أية جميع كافة عدة عدد نفس ذات إطار
هذا هذه هذان هاتان هؤلاء ذلك تلك أولئك هنا هناك هنالك الذي التي اللذان اللتان الذين اللواتي اللاتي
ما ماذا متى أين كيف لماذا هل لا لم لن ليس ليست لكن لكنه لكنها بل أو أم ثم إن أن إذ إذا لو لولا
كي لكي حيث بينما عندما كلما مما فيما كما لأن بأن كأن إنه إنها أنه أنها إنهم أنهم بها به لها له لهم
لهن منه منها منهم عنه عنها عليه عليها عليهم إليه إليها فيه فيها فيهم معه معها
أنا نحن أنت أنتم هو هي هم هن إياه
كان كانت كانوا يكون تكون يكونوا أصبح أصبحت أصبحوا صار ظل ظلت بات مازال ما زال لايزال لا يزال
قد لقد سوف سيتم تم يتم ستكون سيكون
قال قالت قالوا يقول تقول أضاف أضافت وأضاف أكد أكدت يؤكد أوضح أوضحت أشار أشارت يشير ذكر ذكرت
أعلن أعلنت يذكر وفق وفقا طبقا بحسب حسب نقلا
أيضا أيضاً فقط جدا جداً كذلك بعدما قبيل اليوم أمس غدا الآن حاليا
عام العام خلال يوم الأحد الاثنين الثلاثاء الأربعاء الخميس الجمعة السبت
أحد إحدى أول أكثر أقل إلى جانب بشأن بسبب نتيجة
"""
STOP_WORDS = frozenset(w for base in _WORD.findall(normalize(_STOP_TEXT)) for w in (base, "و" + base, "ف" + base))


def content_words(text: str) -> list[str]:
    """The normalized words of `text` that may tell its subject, in order.

    Stop words, numbers and one-letter words are left out.
    """
    return [w for w in words(text) if len(w) > 1 and w not in STOP_WORDS and not w.isdigit()]


# -- Hijri (Umm al-Qura) dates ---------------------------------------------------------------

HIJRI_MONTHS = ("محرم", "صفر", "ربيع الأول", "ربيع الآخر", "جمادى الأولى", "جمادى الآخرة",
                "رجب", "شعبان", "رمضان", "شوال", "ذو القعدة", "ذو الحجة")
HIJRI_SUFFIX = "هـ"
GREGORIAN_SUFFIX = "م"


def hijri_date(value: date | datetime | None) -> tuple[int, int, int] | None:
    """(year, month, day) in the Umm al-Qura calendar, or None for no date.

    The day is the calendar day the Gregorian date shows (`value.date()`). None as
    well outside what hijridate covers (1343-1500 AH, 1 August 1924 to 16 November 2077).
    """
    if value is None:
        return None
    day = value.date() if isinstance(value, datetime) else value
    return _hijri_cached(day)


@lru_cache(maxsize=4096)
def _hijri_cached(day: date) -> tuple[int, int, int] | None:
    from hijridate import Gregorian

    try:
        hijri = Gregorian(day.year, day.month, day.day).to_hijri()
    except (OverflowError, ValueError):
        return None
    return hijri.year, hijri.month, hijri.day


def format_hijri_date(value: date | datetime | None, *, digits: str) -> str:
    """«3 رجب 1445 هـ» in the site's digits; "" for no date or one outside the supported range."""
    found = hijri_date(value)
    if found is None:
        return ""
    year, month, day = found
    return to_digits(f"{day} {HIJRI_MONTHS[month - 1]} {year} {HIJRI_SUFFIX}", digits)


_ARABIC_LETTER = re.compile("[\u0620-\u064a\u066e-\u06d3\u06d5\u06fa-\u06ff\u0750-\u077f\u08a0-\u08ff\ufb50-\ufdff\ufe70-\ufefc]")


def text_direction(text: str) -> str:
    """"rtl" for text with any Arabic letter, else "auto" (the browser takes the first strong letter).

    An Arabic headline that opens with a Latin name («Files Go تطبيق...») stays right-to-left.
    """
    return "rtl" if _ARABIC_LETTER.search(text or "") else "auto"
