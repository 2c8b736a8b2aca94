"""CSV exports (spreadsheets, databases): a header row, then one row per item.

UTF-8 with or without a byte-order mark; the delimiter is whatever
`csv.Sniffer` finds (comma, semicolon, tab or bar) unless --delimiter says.
Rows are read one at a time; a row may span lines inside quotes.
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path
from typing import Callable, Iterator

from ..config import SiteConfig
from ..errors import NewsgenError
from .jsonl import check_encoding, decode_problem
from .values import DEFAULT_FIELDS, FieldResolver, TabularOptions, TopicMapper, record_from_mapping
from .writer import BadRecord, Record

DESCRIPTION = """\
Import a CSV file whose first row names the columns: at least a title and a text
(or body/content) column; date, topics/category, source, author, url, summary,
image, location, slug, breaking, draft and id are used when present. --field
NAME=COLUMN names a column the export calls differently."""

SNIFF_BYTES = 64 * 1024
DELIMITERS = ",;\t|"


def add_arguments(parser) -> None:
    from . import add_tabular_arguments
    add_tabular_arguments(parser)
    parser.add_argument("--delimiter", metavar="CHAR",
                        help="the column separator, e.g. ';' or '\\t' (default: detected)")


class _Lines:
    """The file's lines as text, remembering which could not be decoded."""

    def __init__(self, handle, progress: Callable[[int], None]):
        self.handle = handle
        self.progress = progress
        self.number = 0
        self.done = 0
        self.bad: dict[int, str] = {}

    def __iter__(self):
        for raw in self.handle:
            self.number += 1
            self.done += len(raw)
            self.progress(self.done)
            if self.number == 1 and raw.startswith(b"\xef\xbb\xbf"):
                raw = raw[3:]
            try:
                yield raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                self.bad[self.number] = decode_problem(raw, exc)
                yield raw.decode("utf-8", errors="replace")


def _dialect(sample: str, delimiter: str | None) -> type[csv.Dialect]:
    class Dialect(csv.excel):
        pass

    if delimiter:
        Dialect.delimiter = "\t" if delimiter in ("\\t", "tab") else delimiter
        return Dialect
    try:
        sniffed = csv.Sniffer().sniff(sample, delimiters=DELIMITERS)
    except csv.Error:
        return Dialect
    Dialect.delimiter = sniffed.delimiter
    Dialect.quotechar = sniffed.quotechar or '"'
    Dialect.skipinitialspace = sniffed.skipinitialspace
    # The sniffer says "no doubled quotes" whenever its sample has none; the
    # standard (RFC 4180) way of writing a quote inside a field is still to double it.
    Dialect.doublequote = True
    return Dialect


def read(path: Path, shown: str, options: TabularOptions, mapper: TopicMapper, config: SiteConfig,
         progress: Callable[[int], None], delimiter: str | None = None) -> Iterator[Record | BadRecord]:
    csv.field_size_limit(min(sys.maxsize, 2**31 - 1))
    resolver = FieldResolver(options.fields)
    tz = config.tz
    with open(path, "rb") as handle:
        head = handle.read(SNIFF_BYTES)
        check_encoding(head, shown)
        handle.seek(0)
        sample = head.decode("utf-8-sig", errors="replace")
        if len(head) == SNIFF_BYTES and "\n" in sample:
            sample = sample[: sample.rindex("\n")]
        lines = _Lines(handle, progress)
        reader = csv.reader(iter(lines), _dialect(sample, delimiter))
        try:
            header = next(reader)
        except StopIteration:
            raise NewsgenError("the file is empty; a CSV import needs a header row naming the columns",
                               shown, 1) from None
        except csv.Error as exc:
            raise NewsgenError(f"the header row cannot be read: {exc}", shown, 1) from None
        if 1 in lines.bad:
            raise NewsgenError(f"the header row is {lines.bad[1]}", shown, 1)
        header = [name.strip() for name in header]
        found = resolver.resolve(header)
        for needed in ("title", "text"):
            if needed not in found:
                wanted = resolver.chosen.get(needed) or "/".join(DEFAULT_FIELDS[needed][:3])
                raise NewsgenError(f"no {needed} column: looked for {wanted} among the columns "
                                   f"{', '.join(header) or '(none)'}; name it with --field {needed}=COLUMN",
                                   shown, 1)
        end = reader.line_num
        while True:
            start = end + 1
            try:
                row = next(reader)
            except StopIteration:
                break
            except csv.Error as exc:
                end = reader.line_num
                yield BadRecord(start, [f"the row cannot be read as CSV: {exc}"])
                continue
            end = reader.line_num
            bad = [lines.bad[n] for n in range(start, end + 1) if n in lines.bad]
            if bad:
                yield BadRecord(start, bad[:1])
                continue
            if not any(cell.strip() for cell in row):
                continue
            if len(row) > len(header):
                yield BadRecord(start, [f"the row has {len(row)} columns but the header has {len(header)}; "
                                        "check the quoting of fields that contain the delimiter"])
                continue
            row = row + [""] * (len(header) - len(row))
            yield record_from_mapping(dict(zip(header, row)), start, resolver, mapper, options, tz)
