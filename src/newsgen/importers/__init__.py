"""`newsgen import FORMAT SOURCE`: an existing archive into item files.

Each format module reads its source as a stream of records; the writer turns
every record into one Markdown item that follows the content contract. Bad
records are reported with their line and skipped; the run fails when any was
skipped, unless --skip-bad.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

from ..config import SiteConfig
from ..errors import NewsgenError
from .values import BadValue, TabularOptions, TopicMapper, parse_field_options, parse_topic_map
from .writer import BadRecord, ItemWriter, NotImported

FORMATS = ("jsonl", "csv", "wordpress")
MAX_REPORTED = 200  # bad records printed one by one; the count covers them all


def _site_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", default="site.toml", metavar="PATH",
                        help="the site configuration (default: site.toml)")
    parser.add_argument("--quiet", "-q", action="store_true", help="print nothing but errors")
    parser.add_argument("--verbose", "-v", action="store_true", help="print every file written")


def _common_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("source", metavar="SOURCE", help="the file to import")
    parser.add_argument("--into", metavar="DIR",
                        help="folder for the new items (default: the first of [content].items in site.toml)")
    parser.add_argument("--dry-run", "-n", action="store_true",
                        help="read and check everything, report what would be written, write nothing")
    parser.add_argument("--skip-bad", action="store_true",
                        help="skip bad records and collisions without failing the run (exit 0)")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace item files that exist with other content (default: report and keep them)")
    parser.add_argument("--map-topic", action="append", metavar="SOURCE=TOPIC", default=[],
                        help="file the source's topic SOURCE under TOPIC (a topic key or name of site.toml); "
                             "repeat for each; an empty TOPIC drops it, e.g. --map-topic internationalNews=world")
    _site_options(parser)


def add_tabular_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--field", action="append", metavar="NAME=KEY", default=[],
                        help="the export's KEY holds newsgen's NAME (title, text, date, topics, source, author, "
                             "url, summary, image, id...), e.g. --field title=headline --field text=content")
    parser.add_argument("--text-format", choices=("plain", "markdown", "html"), default="plain",
                        help="what the text field holds (default: plain text, paragraphs between blank lines)")
    parser.add_argument("--date-format", metavar="FORMAT",
                        help="strptime format of dates that are not ISO 8601, e.g. '%%d/%%m/%%Y'")


def add_parser(subparsers, add_site_options) -> None:
    from . import csv_import, jsonl, wordpress

    command = subparsers.add_parser(
        "import", help="import an archive (JSON Lines, CSV, WordPress export) as item files",
        description="Import an existing archive as Markdown item files. Importing the same source again "
                    "writes the same files and adds no duplicates; a file that exists with other content "
                    "is reported, never replaced silently.")
    formats = command.add_subparsers(dest="format", metavar="FORMAT", required=True)
    for name, module, aliases, short in (
            ("jsonl", jsonl, ["json"], "JSON Lines: one object per line"),
            ("csv", csv_import, ["tsv"], "CSV (any delimiter), first row names the columns"),
            ("wordpress", wordpress, ["wxr"], "a WordPress export (WXR XML)")):
        parser = formats.add_parser(name, aliases=aliases, help=short, description=module.DESCRIPTION,
                                    formatter_class=argparse.RawDescriptionHelpFormatter)
        _common_options(parser)
        module.add_arguments(parser)
        parser.set_defaults(handler=run_import, import_format=name)


@contextmanager
def progress_bar(total: int, enabled: bool) -> Iterator[Callable[[int], None]]:
    """A rich progress bar over the source's bytes, only for a terminal."""
    if not enabled or not sys.stdout.isatty():
        yield lambda done: None
        return
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

    bar = Progress(TextColumn("importing"), BarColumn(), DownloadColumn(), TimeRemainingColumn(),
                   transient=True)
    task = bar.add_task("import", total=total)
    last = [0]

    def advance(done: int) -> None:
        if done - last[0] >= 256 * 1024 or done >= total:
            last[0] = done
            bar.update(task, completed=done)

    with bar:
        yield advance


def _shown(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _plural(count: int, word: str, plural: str | None = None) -> str:
    return f"{count} {word if count == 1 else (plural or word + 's')}"


def _reader(args, config: SiteConfig, source: Path, shown: str, mapper: TopicMapper):
    """The format's record stream, given a progress callback; option errors raise `BadValue` now."""
    if args.import_format == "wordpress":
        from . import wordpress
        return lambda progress: wordpress.read(source, shown, config, mapper, progress,
                                               include_pages=args.include_pages, tags=not args.no_tags)
    options = TabularOptions(parse_field_options(args.field), args.text_format, args.date_format)
    if args.import_format == "csv":
        from . import csv_import
        return lambda progress: csv_import.read(source, shown, options, mapper, config, progress,
                                                delimiter=args.delimiter)
    from . import jsonl
    return lambda progress: jsonl.read(source, shown, options, mapper, config, progress)


def run_import(args: argparse.Namespace, console) -> int:
    from ..scaffold import load_site_config

    config = load_site_config(args.config, console)
    if config is None:
        return 1
    source = Path(args.source)
    shown = args.source
    if not source.is_file():
        raise NewsgenError("no such file to import" if not source.exists() else "not a file", shown)
    if args.into:
        items_dir = Path(args.into).absolute()
    elif config.item_dirs:
        items_dir = config.item_dirs[0]
    else:
        raise NewsgenError("site.toml names no items folder ([content].items); pass --into DIR",
                           str(config.path or args.config))
    if not any(items_dir == d or items_dir.is_relative_to(d) for d in config.item_dirs):
        console.info(f"note: {_shown(items_dir)} is not below an items folder of {args.config}; "
                     "`newsgen build` will not see these items until [content].items names it")
    pages_dir = config.pages_dir or (config.root / "content")
    try:
        mapper = TopicMapper(config, parse_topic_map(args.map_topic))
        reader = _reader(args, config, source, shown, mapper)
    except BadValue as exc:
        raise NewsgenError(str(exc)) from None

    writer = ItemWriter(items_dir, pages_dir, config.tz, dry_run=args.dry_run, overwrite=args.overwrite)
    outcomes: Counter[str] = Counter()
    left_out: Counter[str] = Counter()
    bad = collisions = pages = 0
    reported = 0
    failure: NewsgenError | None = None

    def report(message: str) -> None:
        nonlocal reported
        reported += 1
        if reported <= MAX_REPORTED:
            console.error(message)

    with progress_bar(source.stat().st_size, not args.quiet) as advance:
        try:
            for entry in reader(advance):
                if isinstance(entry, BadRecord):
                    bad += 1
                    report(f"{shown}:{entry.position}: {entry.message}; skipped")
                    continue
                if isinstance(entry, NotImported):
                    left_out[entry.kind] += 1
                    continue
                outcome = writer.write(entry)
                if outcome.status == "collision":
                    collisions += 1
                    report(f"{_shown(outcome.path)}: exists with other content; not overwritten "
                           f"(record at {shown}:{entry.position}; pass --overwrite to replace it); skipped")
                    continue
                outcomes[outcome.status] += 1
                if entry.page:
                    pages += 1
                if args.verbose and outcome.status != "unchanged":
                    console.info(f"{'would write' if args.dry_run else outcome.status}: {_shown(outcome.path)}")
        except NewsgenError as exc:
            failure = exc
    if failure is not None:
        console.error(str(failure))
    if reported > MAX_REPORTED:
        console.error(f"... and {reported - MAX_REPORTED} more problems not shown")

    written = outcomes["new"] + outcomes["replaced"]
    verb = "would import" if args.dry_run else "imported"
    parts = [f"{outcomes['new']} new"]
    if outcomes["replaced"]:
        parts.append(f"{outcomes['replaced']} replaced")
    parts.append(f"{outcomes['unchanged']} unchanged")
    items = written + outcomes["unchanged"] - pages
    if pages:
        console.info(f"{verb} {_plural(items, 'item')} into {_shown(items_dir)} and {_plural(pages, 'page')} "
                     f"into {_shown(pages_dir)} from {shown} ({', '.join(parts)})")
    else:
        console.info(f"{verb} {_plural(items, 'item')} from {shown} into {_shown(items_dir)} ({', '.join(parts)})")
    if left_out:
        what = ", ".join(f"{count} {kind}" for kind, count in sorted(left_out.items()))
        hint = " (--include-pages imports pages)" if "page" in left_out else ""
        console.info(f"left out: {what}{hint}")
    skipped = bad + collisions
    if skipped:
        detail = []
        if bad:
            detail.append(_plural(bad, "bad record"))
        if collisions:
            detail.append(_plural(collisions, "collision"))
        message = f"skipped {_plural(skipped, 'record')} ({', '.join(detail)})"
        if args.skip_bad:
            console.info(message)
        else:
            console.error(f"error: {message}; fix them and import again, or pass --skip-bad")
    if failure is not None:
        return 1
    return 1 if skipped and not args.skip_bad else 0
