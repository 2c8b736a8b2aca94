"""Turning the loose values of exports into the typed values of the content contract.

Shared by the formats: dates in the many shapes exports write them, text as
Markdown, topics mapped onto the site's own, and (for JSON Lines and CSV) the
field names of one export matched to the keys newsgen knows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timezone, tzinfo
from email.utils import parsedate_to_datetime

from ..config import SiteConfig
from ..filing import resolve_topic_name
from ..loaders.fields import parse_date as site_time
from .writer import BadRecord, Record, one_line

DATE_HINT = "use ISO 8601 such as 2018-02-26 or 2018-02-26T09:30:00+03:00"
_DIGITS = {0x0660 + i: str(i) for i in range(10)} | {0x06F0 + i: str(i) for i in range(10)}
_DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_SLASHED = re.compile(r"^(\d{4})/(\d{1,2})/(\d{1,2})(?:[ T](.*))?$")


class BadValue(ValueError):
    """A value that cannot be used; the message says which and why."""


def parse_date(value, tz: tzinfo, date_format: str | None = None) -> datetime | date | None:
    """A date (kept as a calendar date) or a date-time in the site's zone; None when empty.

    Accepts ISO 8601 (with or without offset, `Z`), `YYYY/MM/DD`, RFC 822
    (`Mon, 26 Feb 2018 02:20:10 GMT`), Unix timestamps, and `date_format` when
    given. Times without an offset are in the site's zone. Raises `BadValue`.
    """
    if value is None:
        return None
    if isinstance(value, bool):
        raise BadValue(f"bad date {value!r}; {DATE_HINT}")
    if isinstance(value, datetime):
        return _in_zone(value, tz)
    if isinstance(value, date):
        return value
    if isinstance(value, (int, float)):
        try:
            return datetime.fromtimestamp(value, timezone.utc).astimezone(tz).replace(microsecond=0)
        except (OverflowError, OSError, ValueError):
            raise BadValue(f"bad date {value!r}: not a Unix time; {DATE_HINT}") from None
    if not isinstance(value, str):
        raise BadValue(f"bad date: a {type(value).__name__} is not a date; {DATE_HINT}")
    text = value.strip().translate(_DIGITS)
    if not text:
        return None
    if date_format:
        try:
            parsed = datetime.strptime(text, date_format)
        except ValueError:
            raise BadValue(f"bad date {value!r}: it does not match --date-format {date_format!r}") from None
        has_time = any(code in date_format for code in ("%H", "%I", "%M", "%S", "%X", "%c", "%z"))
        return _in_zone(parsed, tz) if has_time else parsed.date()
    slashed = _SLASHED.match(text)
    if slashed:
        text = f"{int(slashed[1]):04d}-{int(slashed[2]):02d}-{int(slashed[3]):02d}" + \
            (f"T{slashed[4]}" if slashed[4] else "")
    try:
        if _DATE_ONLY.match(text):
            return date.fromisoformat(text)
        return _in_zone(datetime.fromisoformat(text), tz)
    except ValueError:
        pass
    if re.fullmatch(r"\d{9,11}", text):
        return parse_date(int(text), tz)
    try:
        parsed = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        parsed = None
    if parsed is not None:
        return _in_zone(parsed, tz)
    raise BadValue(f"bad date {value!r}; {DATE_HINT}")


def _in_zone(value: datetime, tz: tzinfo) -> datetime:
    """Without an offset a time is the site's; with one it is shown in the site's zone."""
    if value.tzinfo is None:
        return value.replace(tzinfo=tz, microsecond=0)
    return value.astimezone(tz).replace(microsecond=0)


# -- text ---------------------------------------------------------------------

_INLINE_SPECIAL = re.compile(r"([\\`*_\[\]<~|])")
_ENTITY = re.compile(r"&(?=#?[A-Za-z0-9]+;)")
_LIST_NUMBER = re.compile(r"^(\d{1,9})([.)])")
_BLOCK_START = ("#", ">", "-", "+", "=")


def plain_to_markdown(text: str) -> str:
    """Plain text (paragraphs separated by blank lines) as Markdown that shows the same text.

    Characters Markdown would read as markup are escaped, so a line starting with
    `-` or `1.` stays a sentence and `*` stays a star.
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\ufeff", "")
    paragraphs = []
    for block in re.split(r"\n[ \t\u00a0]*\n", text):
        lines = []
        for line in block.split("\n"):
            line = line.strip()
            if not line:
                continue
            line = _ENTITY.sub("&amp;", _INLINE_SPECIAL.sub(r"\\\1", line))
            if line.startswith(_BLOCK_START):
                line = "\\" + line
            else:
                line = _LIST_NUMBER.sub(r"\1\\\2", line)
            lines.append(line)
        if lines:
            paragraphs.append("\n".join(lines))
    return "\n\n".join(paragraphs)


def text_to_markdown(text: str, text_format: str) -> str:
    if text_format == "markdown":
        return text.replace("\r\n", "\n").replace("\r", "\n").strip()
    if text_format == "html":
        from .htmlmd import html_to_markdown
        return html_to_markdown(text)
    return plain_to_markdown(text)


# -- topics -------------------------------------------------------------------

def parse_topic_map(pairs: list[str] | None) -> dict[str, str]:
    """`--map-topic SOURCE=TOPIC` options; an empty TOPIC drops the source's topic."""
    mapping = {}
    for pair in pairs or ():
        source, sep, target = pair.partition("=")
        if not sep or not source.strip():
            raise BadValue(f"--map-topic {pair!r} must be SOURCE=TOPIC, e.g. --map-topic internationalNews=world")
        mapping[source.strip()] = target.strip()
    return mapping


class TopicMapper:
    """Source topic names to what the item file says: the site's Arabic name when declared."""

    def __init__(self, config: SiteConfig, mapping: dict[str, str]):
        self.topics = config.topics
        self.mapping = mapping
        self.folded = {key.casefold(): value for key, value in mapping.items()}
        self._cache: dict[tuple[str, ...], str | None] = {}

    def map(self, name: str, *alternatives: str) -> str | None:
        """The topic to write for `name` (alternatives: other spellings, such as a slug)."""
        key = (name, *alternatives)
        if key not in self._cache:
            self._cache[key] = self._map(name, alternatives)
        return self._cache[key]

    def _map(self, name: str, alternatives: tuple[str, ...]) -> str | None:
        name = one_line(name)
        if not name:
            return None
        for candidate in (name, *alternatives):
            if candidate in self.mapping:
                return self._declared(self.mapping[candidate]) if self.mapping[candidate] else None
            if candidate.casefold() in self.folded:
                target = self.folded[candidate.casefold()]
                return self._declared(target) if target else None
        for candidate in (name, *alternatives):
            topic = resolve_topic_name(candidate, self.topics) or self._by_key_spelling(candidate)
            if topic is not None:
                return topic.name
        return name

    def _by_key_spelling(self, text: str):
        """`Economy`, `middleEast` or `middle_east` for the key `middle-east`."""
        key = re.sub(r"[\s_]+", "-", re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "-", text.strip())).casefold()
        return next((t for t in self.topics if t.key == key), None)

    def _declared(self, target: str) -> str:
        topic = resolve_topic_name(target, self.topics)
        return topic.name if topic is not None else target

    def map_all(self, names) -> list[str]:
        result: list[str] = []
        for name in names:
            mapped = self.map(name)
            if mapped and mapped not in result:
                result.append(mapped)
        return result


def split_topics(value) -> list[str]:
    """A list, or one string with topics separated by commas (Latin or Arabic), `;` or `|`."""
    if value is None:
        return []
    if isinstance(value, str):
        return [part.strip() for part in re.split(r"[,،;|]", value) if part.strip()]
    if isinstance(value, (list, tuple)):
        topics = []
        for entry in value:
            if isinstance(entry, bool) or not isinstance(entry, (str, int, float)):
                raise BadValue("`topics` must be a list of names")
            if str(entry).strip():
                topics.append(str(entry).strip())
        return topics
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return [str(value)]
    raise BadValue(f"`topics` must be a name or a list of names, not a {type(value).__name__}")


_TRUE = {"true", "yes", "y", "1", "on", "نعم"}
_FALSE = {"false", "no", "n", "0", "off", "لا", ""}


def parse_bool(value, name: str) -> bool:
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().casefold() in _TRUE | _FALSE:
        return value.strip().casefold() in _TRUE
    raise BadValue(f"`{name}` must be true or false, not {value!r}")


def as_text(value, name: str) -> str:
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise BadValue(f"`{name}` must be text, not {_kind(value)}")
    return str(value)


def _kind(value) -> str:
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    return type(value).__name__


# -- field names of tabular exports (JSON Lines, CSV) ---------------------------------

# newsgen's name -> the names exports commonly use, first found wins.
DEFAULT_FIELDS: dict[str, tuple[str, ...]] = {
    "title": ("title", "headline", "العنوان"),
    "text": ("text", "body", "content", "النص"),
    "date": ("date", "published", "published_at", "pubdate", "datetime", "التاريخ"),
    "updated": ("updated", "modified", "updated_at"),
    "topics": ("topics", "topic", "category", "categories", "section", "القسم"),
    "source": ("source", "outlet", "المصدر"),
    "author": ("author", "byline", "writer", "الكاتب"),
    "url": ("url", "source_url", "link", "permalink"),
    "summary": ("summary", "excerpt", "abstract", "description", "الملخص"),
    "image": ("image", "image_url", "photo"),
    "image_alt": ("image_alt", "caption"),
    "location": ("location", "dateline", "city"),
    "slug": ("slug",),
    "breaking": ("breaking",),
    "draft": ("draft",),
    "id": ("id", "guid", "uuid"),
}
# Other names accepted on the left of --field.
FIELD_ALIASES = {"body": "text", "content": "text", "source_url": "url", "category": "topics",
                 "categories": "topics", "topic": "topics", "excerpt": "summary"}


def parse_field_options(pairs: list[str] | None) -> dict[str, str]:
    """`--field NAME=KEY` options: which key of the export holds newsgen's NAME."""
    chosen: dict[str, str] = {}
    for pair in pairs or ():
        name, sep, key = pair.partition("=")
        name = FIELD_ALIASES.get(name.strip(), name.strip())
        if not sep or name not in DEFAULT_FIELDS:
            known = ", ".join(DEFAULT_FIELDS)
            raise BadValue(f"--field {pair!r} must be NAME=KEY with NAME one of {known}; "
                           "e.g. --field title=headline")
        chosen[name] = key.strip()
    return chosen


@dataclass
class TabularOptions:
    fields: dict[str, str] = field(default_factory=dict)  # from --field
    text_format: str = "plain"
    date_format: str | None = None


class FieldResolver:
    """Finds, for each of newsgen's fields, the key that holds it in one export's records."""

    def __init__(self, chosen: dict[str, str]):
        self.chosen = chosen
        self.hinted: set[str] = set()  # fields whose --field hint was given once
        self._by_keys: dict[tuple, dict[str, str]] = {}

    def resolve(self, keys) -> dict[str, str]:
        """newsgen field -> the record key holding it, for records with these keys."""
        signature = tuple(keys)
        found = self._by_keys.get(signature)
        if found is None:
            folded = {str(k).strip().lstrip("\ufeff").casefold(): k for k in signature}
            found = {}
            for name, candidates in DEFAULT_FIELDS.items():
                if name in self.chosen:
                    wanted = self.chosen[name]
                    if wanted in signature:
                        found[name] = wanted
                    elif wanted.casefold() in folded:
                        found[name] = folded[wanted.casefold()]
                    continue
                for candidate in candidates:
                    if candidate in folded:
                        found[name] = folded[candidate]
                        break
            if len(self._by_keys) < 64:
                self._by_keys[signature] = found
        return found


def record_from_mapping(values: dict, position: int, resolver: FieldResolver, mapper: TopicMapper,
                        options: TabularOptions, tz: tzinfo) -> Record | BadRecord:
    """One JSON object or CSV row to a record, or every reason it cannot be one."""
    keys = resolver.resolve(values.keys())
    problems: list[str] = []

    def get(name: str):
        key = keys.get(name)
        return values.get(key) if key is not None else None

    def text(name: str, shown: str | None = None) -> str:
        value = get(name)
        if name == "text" and isinstance(value, list) and all(isinstance(v, str) for v in value):
            value = "\n\n".join(value)  # a list of paragraphs
        try:
            return as_text(value, shown or name).strip()
        except BadValue as exc:
            problems.append(str(exc))
            return ""

    before = len(problems)
    title = one_line(text("title"))
    if not title and len(problems) == before:
        problems.append(_missing("title", keys, resolver))
    before = len(problems)
    body = text("text")
    if not body and len(problems) == before:
        problems.append(_missing("text", keys, resolver))
    dates = {}
    for name in ("date", "updated"):
        try:
            dates[name] = parse_date(get(name), tz, options.date_format)
        except BadValue as exc:
            problems.append(str(exc) if name == "date" else str(exc).replace("bad date", "bad `updated` date"))
            dates[name] = None
    if dates["date"] is not None and dates["updated"] is not None and \
            site_time(dates["updated"], tz) < site_time(dates["date"], tz):
        # Modified before it was published (a post written, then scheduled): not updated since.
        dates["updated"] = None
    try:
        topics = mapper.map_all(split_topics(get("topics")))
    except BadValue as exc:
        problems.append(str(exc))
        topics = []
    flags = {}
    for name in ("breaking", "draft"):
        try:
            flags[name] = parse_bool(get(name), name)
        except BadValue as exc:
            problems.append(str(exc))
            flags[name] = False
    record = Record(
        position=position,
        title=title,
        date=dates["date"],
        updated=dates["updated"],
        topics=topics,
        slug=one_line(text("slug")),
        summary=one_line(text("summary")),
        author=one_line(text("author")),
        source=one_line(text("source")),
        source_url=text("url", "url"),
        location=one_line(text("location")),
        image=text("image"),
        image_alt=one_line(text("image_alt")),
        breaking=flags["breaking"],
        draft=flags["draft"],
        source_id=one_line(text("id")),
    )
    if problems:
        return BadRecord(position, problems)
    try:
        record.body = text_to_markdown(body, options.text_format)
    except Exception as exc:  # a converter failing on odd input costs one record, not the run
        return BadRecord(position, [f"cannot convert the text: {exc}"])
    return record


def _missing(name: str, keys: dict[str, str], resolver: FieldResolver) -> str:
    if name in keys:
        return f"missing {name} (`{keys[name]}` is empty)"
    if name in resolver.chosen:
        return f"missing {name} (no `{resolver.chosen[name]}` key)"
    if name in resolver.hinted:
        return f"missing {name}"
    resolver.hinted.add(name)
    candidates = ", ".join(f"`{c}`" for c in DEFAULT_FIELDS[name][:3])
    return f"missing {name} (no {candidates} key; if the export calls it otherwise, use --field {name}=KEY)"
