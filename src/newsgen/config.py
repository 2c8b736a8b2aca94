"""`site.toml`: read, validated and turned into a frozen `SiteConfig`.

Every problem names the key it is about and the line it stands on, and all of
them are reported at once.
"""

from __future__ import annotations

import difflib
import re
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .errors import BuildFailed, Diagnostics, Problem

MONTH_STYLES = {"levantine": "ar_SY", "egyptian": "ar_EG", "maghrebi": "ar_TN"}
DIGIT_STYLES = ("western", "arabic-indic")
SLUG_STYLES = ("arabic", "latin", "id")
FEED_CONTENT = ("full", "summary")
TOPIC_KEY = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")


@dataclass(frozen=True)
class TopicConfig:
    key: str
    name: str
    keywords: tuple[str, ...] = ()


@dataclass(frozen=True)
class SiteConfig:
    root: Path
    title: str
    description: str = ""
    base_url: str = "/"
    publisher: str = ""
    timezone: str = "UTC"
    months: str = "egyptian"
    digits: str = "western"
    item_dirs: tuple[Path, ...] = ()
    pages_dir: Path | None = None
    templates_dir: Path | None = None
    static_dir: Path | None = None
    output_dir: Path = Path("public")
    per_page: int = 20
    home_items: int = 20
    slugs: str = "arabic"
    summary_words: int = 40
    words_per_minute: int = 180
    feed_items: int = 20
    search: bool = True
    fallback_topic: str = "general"
    max_topics: int = 3
    learn_topics: bool = True  # file untagged items by what the tagged ones teach
    learn_confidence: float = 0.6
    learn_min_items: int = 20  # tagged items a topic needs before it is learned
    hijri: bool = False  # show the Umm al-Qura date beside the Gregorian one
    topics: tuple[TopicConfig, ...] = field(default_factory=tuple)
    path: Path | None = None
    logo: str = ""  # site-relative asset path or absolute URL; "" for the theme's logo
    feed_content: str = "full"  # "full" or "summary"
    feed_rss: bool = True
    feed_json: bool = True
    # What `load_config` warned about (an unknown key...): every command shows them. Not a
    # setting, so not in the repr that keys the build cache.
    warnings: tuple[Problem, ...] = field(default=(), compare=False, repr=False)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def date_locale(self) -> str:
        return MONTH_STYLES[self.months]

    @property
    def base_path(self) -> str:
        """The path part of `base_url` (`/archive/`), for links that must be absolute."""
        match = re.match(r"^[a-z][a-z0-9+.-]*://[^/]*(/.*)?$", self.base_url, re.I)
        path = (match.group(1) if match else self.base_url) or "/"
        return path if path.endswith("/") else path + "/"

    def topic(self, key: str) -> TopicConfig | None:
        return next((t for t in self.topics if t.key == key), None)

    def reading(self) -> "ReadSettings":
        """What reading an item file depends on, of all the configuration."""
        return ReadSettings(self.root, self.timezone, self.slugs, self.summary_words, self.topics)


@dataclass(frozen=True)
class ReadSettings:
    """The part of `SiteConfig` that item files are read with (see `loaders.parse_item`).

    The build cache keeps the records read under the same settings when the rest of the
    configuration changes; the loaders are given only these, so that reading one more
    setting cannot go unnoticed by the cache.
    """

    root: Path
    timezone: str
    slugs: str
    summary_words: int
    topics: tuple[TopicConfig, ...]

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


# The schema: section -> key -> (type, default). Types are checked, then passed on.
_SCHEMA: dict[str, dict[str, tuple[type | tuple[type, ...], Any]]] = {
    "site": {
        "title": (str, None),
        "description": (str, ""),
        "base_url": (str, "/"),
        "publisher": (str, ""),
        "timezone": (str, "UTC"),
        "months": (str, "egyptian"),
        "digits": (str, "western"),
        "hijri": (bool, False),
        "logo": (str, ""),
    },
    "content": {
        "items": ((list, str), ["seeds/content"]),
        "pages": (str, "content"),
        "templates": (str, "templates"),
        "static": (str, "static"),
    },
    "build": {
        "output": (str, "public"),
        "per_page": (int, 20),
        "home_items": (int, 20),
        "slugs": (str, "arabic"),
        "summary_words": (int, 40),
        "words_per_minute": (int, 180),
        "feed_items": (int, 20),
    },
    "filing": {
        "fallback": (str, "general"),
        "max_topics": (int, 3),
        "learn": (bool, True),
        "confidence": ((float, int), 0.6),
        "min_tagged": (int, 20),
    },
    "search": {
        "enabled": (bool, True),
    },
    "feeds": {
        "content": (str, "full"),
        "rss": (bool, True),
        "json": (bool, True),
    },
}
_TOPIC_KEYS = {"key": str, "name": str, "keywords": list}


def _unknown_key(section: str, key: str, known) -> str:
    """The warning for `key` in `[section]`, which knows the keys `known`: the closest of them,
    or the section a key of that name belongs to."""
    if key in _SCHEMA:
        return f"unknown key `{section}.{key}`; did you mean the section [{key}]?"
    near = closest(key, list(known))
    return f"unknown key `{section}.{key}`" + (f"; did you mean `{near}`?" if near else "")


def closest(word: str, candidates: list[str] | tuple[str, ...]) -> str | None:
    found = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.5)
    return found[0] if found else None


def _line_finder(text: str):
    """Return a function giving the line of `key` inside `[section]` (best effort)."""
    lines = text.splitlines()

    def line_of(section: str | None, key: str | None = None, occurrence: int = 0) -> int | None:
        start = 0
        if section:
            header = re.compile(r"^\s*\[\[?\s*" + re.escape(section) + r"\s*\]\]?\s*(#.*)?$")
            hits = [i for i, line in enumerate(lines) if header.match(line)]
            if not hits:
                return None
            start = hits[min(occurrence, len(hits) - 1)]
            if key is None:
                return start + 1
        if key is None:
            return None
        pattern = re.compile(r"^\s*" + re.escape(key) + r"\s*=")
        for i in range(start, len(lines)):
            if i > start and section and re.match(r"^\s*\[", lines[i]):
                break
            if pattern.match(lines[i]):
                return i + 1
        return None

    return line_of


def load_config(path: str | Path, *, output: str | Path | None = None) -> SiteConfig:
    """Read and validate `site.toml`; raise `BuildFailed` listing every problem."""
    path = Path(path)
    shown = str(path)
    diagnostics = Diagnostics()
    try:
        raw_bytes = path.read_bytes()
    except FileNotFoundError:
        diagnostics.error(
            "no such configuration file; create site.toml (see `newsgen init`) or pass --config PATH",
            shown,
        )
        raise BuildFailed(diagnostics.problems) from None
    except OSError as exc:
        diagnostics.error(f"cannot read the configuration file: {exc.strerror}", shown)
        raise BuildFailed(diagnostics.problems) from None
    try:
        text = raw_bytes.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw_bytes[: exc.start].count(b"\n") + 1
        diagnostics.error("the file is not valid UTF-8; save it as UTF-8", shown, line)
        raise BuildFailed(diagnostics.problems) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        match = re.search(r"\(at line (\d+), column \d+\)", str(exc))
        message = re.sub(r"\s*\(at line \d+, column \d+\)", "", str(exc))
        diagnostics.error(f"invalid TOML: {message}; check the quoting and brackets on this line",
                          shown, int(match.group(1)) if match else None)
        raise BuildFailed(diagnostics.problems) from None

    config = parse_config(data, root=path.parent, diagnostics=diagnostics,
                          line_of=_line_finder(text), shown=shown)
    diagnostics.raise_if_errors()
    assert config is not None
    output_dir = Path(output).absolute() if output is not None else config.output_dir
    return replace(config, path=path, output_dir=output_dir, warnings=tuple(diagnostics.warnings))


def parse_config(data: dict, *, root: Path, diagnostics: Diagnostics | None = None,
                 line_of=None, shown: str = "site.toml") -> SiteConfig | None:
    """Validate parsed TOML `data`; problems go to `diagnostics`."""
    diagnostics = diagnostics if diagnostics is not None else Diagnostics()
    line_of = line_of or (lambda *a, **k: None)
    values: dict[str, dict[str, Any]] = {}
    known_sections = list(_SCHEMA) + ["topic"]

    for section in data:
        if section not in known_sections:
            hint = closest(section, known_sections)
            diagnostics.warning(
                f"unknown section [{section}]" + (f"; did you mean [{hint}]?" if hint else ""),
                shown, line_of(section))

    for section, keys in _SCHEMA.items():
        table = data.get(section, {})
        if not isinstance(table, dict):
            diagnostics.error(f"`{section}` must be a table like [{section}]", shown, line_of(None, section))
            table = {}
        values[section] = {}
        for key, value in table.items():
            if key not in keys:
                diagnostics.warning(_unknown_key(section, key, keys), shown, line_of(section, key))
        for key, (kind, default) in keys.items():
            if key not in table:
                if default is None:
                    diagnostics.error(f"`{section}.{key}` is required; add {key} = \"...\" under [{section}]",
                                      shown, line_of(section))
                values[section][key] = default
                continue
            value = table[key]
            kinds = kind if isinstance(kind, tuple) else (kind,)
            if isinstance(value, bool) and bool not in kinds or not isinstance(value, kinds):
                wanted = " or ".join(_kind_name(k) for k in kinds)
                diagnostics.error(f"`{section}.{key}` must be {wanted}, not {_kind_name(type(value))}",
                                  shown, line_of(section, key))
                values[section][key] = default
                continue
            values[section][key] = value

    site, content, build, filing, search = (values[s] for s in ("site", "content", "build", "filing", "search"))

    def check_choice(section: str, key: str, choices) -> None:
        value = values[section][key]
        if value not in choices:
            diagnostics.error(f"`{section}.{key}` must be one of {', '.join(repr(c) for c in choices)}, not {value!r}",
                              shown, line_of(section, key))
            values[section][key] = _SCHEMA[section][key][1]

    check_choice("site", "months", list(MONTH_STYLES))
    check_choice("site", "digits", DIGIT_STYLES)
    check_choice("build", "slugs", SLUG_STYLES)
    check_choice("feeds", "content", FEED_CONTENT)
    for key in ("per_page", "home_items", "summary_words", "words_per_minute", "feed_items"):
        if values["build"][key] is not None and values["build"][key] < 1:
            diagnostics.error(f"`build.{key}` must be a positive whole number", shown, line_of("build", key))
            values["build"][key] = _SCHEMA["build"][key][1]
    if filing["max_topics"] < 1:
        diagnostics.error("`filing.max_topics` must be at least 1", shown, line_of("filing", "max_topics"))
        filing["max_topics"] = 3
    if not 0 < filing["confidence"] <= 1:
        diagnostics.error("`filing.confidence` must be a number above 0 and at most 1, e.g. confidence = 0.6",
                          shown, line_of("filing", "confidence"))
        filing["confidence"] = 0.6
    if filing["min_tagged"] < 1:
        diagnostics.error("`filing.min_tagged` must be a positive whole number", shown, line_of("filing", "min_tagged"))
        filing["min_tagged"] = 20

    try:
        ZoneInfo(site["timezone"])
    except (ZoneInfoNotFoundError, ValueError):
        diagnostics.error(f"`site.timezone` {site['timezone']!r} is not a known time zone; use a name such as \"Asia/Damascus\" or \"UTC\"",
                          shown, line_of("site", "timezone"))
        site["timezone"] = "UTC"

    base_url = site["base_url"] or "/"
    if not base_url.endswith("/"):
        base_url += "/"

    items = content["items"]
    if isinstance(items, str):
        items = [items]
    if not all(isinstance(i, str) for i in items):
        diagnostics.error("`content.items` must be a list of folder names", shown, line_of("content", "items"))
        items = ["seeds/content"]

    topics = _parse_topics(data.get("topic", []), diagnostics, line_of, shown)
    if topics is not None and filing["fallback"] not in {t.key for t in topics}:
        topics = topics + (TopicConfig(filing["fallback"], "منوعات", ()),)

    def folder(name: str | None) -> Path | None:
        return (root / name).absolute() if name else None

    return SiteConfig(
        root=root.absolute(),
        title=site["title"] or "",
        description=site["description"],
        base_url=base_url,
        publisher=site["publisher"] or (site["title"] or ""),
        timezone=site["timezone"],
        months=site["months"],
        digits=site["digits"],
        item_dirs=tuple(folder(i) for i in items),
        pages_dir=folder(content["pages"]),
        templates_dir=folder(content["templates"]),
        static_dir=folder(content["static"]),
        output_dir=folder(build["output"]),
        per_page=build["per_page"],
        home_items=build["home_items"],
        slugs=build["slugs"],
        summary_words=build["summary_words"],
        words_per_minute=build["words_per_minute"],
        feed_items=build["feed_items"],
        search=search["enabled"],
        fallback_topic=filing["fallback"],
        max_topics=filing["max_topics"],
        learn_topics=filing["learn"],
        learn_confidence=float(filing["confidence"]),
        learn_min_items=filing["min_tagged"],
        hijri=site["hijri"],
        topics=topics or (),
        logo=site["logo"].strip(),
        feed_content=values["feeds"]["content"],
        feed_rss=values["feeds"]["rss"],
        feed_json=values["feeds"]["json"],
    )


def _parse_topics(raw, diagnostics: Diagnostics, line_of, shown: str) -> tuple[TopicConfig, ...]:
    if not isinstance(raw, list):
        diagnostics.error("`topic` must be an array of tables: write each topic as [[topic]]", shown,
                          line_of(None, "topic"))
        return ()
    topics: list[TopicConfig] = []
    seen: dict[str, int | None] = {}  # key -> its line
    for index, entry in enumerate(raw):
        line = line_of("topic", None, index)

        def line_of_key(name: str) -> int | None:
            return line_of("topic", name, index) or line

        if not isinstance(entry, dict):
            diagnostics.error("each [[topic]] must be a table with key, name and keywords", shown, line)
            continue
        for key in entry:
            if key not in _TOPIC_KEYS:
                diagnostics.warning(_unknown_key("topic", key, _TOPIC_KEYS), shown, line_of_key(key))
        key, name, keywords = entry.get("key"), entry.get("name"), entry.get("keywords", [])
        if not isinstance(key, str) or not TOPIC_KEY.match(key):
            diagnostics.error(f"`topic.key` {key!r} must be lower-case ASCII letters, digits and hyphens (it is used in URLs), e.g. key = \"economy\"",
                              shown, line_of_key("key"))
            continue
        if not isinstance(name, str) or not name.strip():
            diagnostics.error(f"topic `{key}` needs a `name`: the Arabic name readers see, e.g. name = \"اقتصاد\"",
                              shown, line_of_key("name"))
            continue
        if not isinstance(keywords, list) or not all(isinstance(k, str) for k in keywords):
            diagnostics.error(f"`keywords` of topic `{key}` must be a list of strings, e.g. keywords = [\"مباراة\"]",
                              shown, line_of_key("keywords"))
            keywords = []
        if key in seen:
            first = f" (first at line {seen[key]})" if seen[key] else ""
            diagnostics.error(f"topic key `{key}` is declared twice{first}; rename one of them or merge the two "
                              "[[topic]] tables", shown, line_of_key("key"))
            continue
        seen[key] = line_of_key("key")
        topics.append(TopicConfig(key, name.strip(), tuple(k.strip() for k in keywords if k.strip())))
    return tuple(topics)


def _kind_name(kind: type) -> str:
    return {str: "a string", int: "a whole number", list: "a list", bool: "true or false",
            float: "a number", dict: "a table"}.get(kind, kind.__name__)
