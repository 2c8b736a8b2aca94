"""JSON Lines exports: one JSON object per line, read line by line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Callable, Iterator

from ..config import SiteConfig
from ..errors import NewsgenError
from .values import FieldResolver, TabularOptions, TopicMapper, record_from_mapping
from .writer import BadRecord, Record

DESCRIPTION = """\
Import a JSON Lines file: one object per line with at least a title and a text
(or body/content). date, topics/category, source, author, url (-> source_url),
summary, image, location, slug, breaking, draft and id are used when present;
--field NAME=KEY names a key the export calls differently. The text is plain
text with blank lines between paragraphs unless --text-format says otherwise."""


def add_arguments(parser) -> None:
    from . import add_tabular_arguments
    add_tabular_arguments(parser)


def check_encoding(head: bytes, shown: str) -> None:
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise NewsgenError("the file is UTF-16; save it as UTF-8 and import it again", shown, 1)


def decode_problem(raw: bytes, exc: UnicodeDecodeError) -> str:
    return (f"not valid UTF-8 (byte 0x{raw[exc.start]:02x} at column {exc.start + 1}); "
            "save the file as UTF-8")


def read(path: Path, shown: str, options: TabularOptions, mapper: TopicMapper, config: SiteConfig,
         progress: Callable[[int], None]) -> Iterator[Record | BadRecord]:
    resolver = FieldResolver(options.fields)
    tz = config.tz
    done = 0
    with open(path, "rb") as handle:
        check_encoding(handle.read(4), shown)
        handle.seek(0)
        for number, raw in enumerate(handle, start=1):
            done += len(raw)
            progress(done)
            if number == 1 and raw.startswith(b"\xef\xbb\xbf"):
                raw = raw[3:]
            if not raw.strip():
                continue
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                yield BadRecord(number, [decode_problem(raw, exc)])
                continue
            try:
                value = json.loads(line)
            except json.JSONDecodeError as exc:
                yield BadRecord(number, [f"invalid JSON: {exc.msg} at column {exc.colno}"])
                continue
            if not isinstance(value, dict):
                kind = "a list" if isinstance(value, list) else "a single value"
                yield BadRecord(number, [f"expected one object {{...}} per line, found {kind}"])
                continue
            yield record_from_mapping(value, number, resolver, mapper, options, tz)
