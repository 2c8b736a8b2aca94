"""The build cache: parsed records and page fingerprints kept between builds.

Records are keyed by file path and checked by size and modification time, then
by a hash of the bytes; pages are keyed by a fingerprint of everything they show.
The whole cache belongs to one newsgen code base, one site.toml and one set of
templates: when any of those change, the parts that depend on them are dropped.
A cache that cannot be read is discarded, never trusted.
"""

from __future__ import annotations

import gc
import hashlib
import os
import pickle
import re
import secrets
import sys
import zlib
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Iterable

import jinja2

from . import __version__
from .config import SiteConfig
from .errors import Problem
from .model import Article
from .storage import BodyFile, replacing, write_bodies, write_pickle
from .terms import TermCounts

CACHE_FOLDER = ".newsgen-cache"
CACHE_FILE = "build.pickle"
FORMAT = 10
_PACKAGE = Path(__file__).parent


def digest(*parts: bytes | str) -> str:
    try:
        data = "\0".join(parts).encode("utf-8")  # type: ignore[arg-type]  # all text: one encode
    except TypeError:
        data = b"\0".join(part.encode("utf-8") if isinstance(part, str) else part for part in parts)
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def tree_digest(folders: list[Path], suffixes: tuple[str, ...] | None = None) -> str:
    """A digest of every file's relative path and bytes below the folders."""
    h = hashlib.blake2b(digest_size=16)
    for folder in folders:
        if not folder.is_dir():
            continue
        h.update(str(folder).encode())
        for dirpath, dirnames, filenames in os.walk(folder):
            dirnames.sort()
            for name in sorted(filenames):
                if suffixes and not name.endswith(suffixes):
                    continue
                path = Path(dirpath) / name
                h.update(str(path.relative_to(folder)).encode())
                h.update(path.read_bytes())
    return h.hexdigest()


@lru_cache(maxsize=1)
def code_digest() -> str:
    """newsgen's own version and code, and the versions of Python and of the libraries whose
    work shows in pages and records: a new release of any (or a local change) invalidates all.

    Computed once per process: the code a process runs does not change under it."""
    return digest(__version__, tree_digest([_PACKAGE], (".py",)), sys.version, dependency_versions())


# Distributions whose work a page or a record holds: parsing (YAML, Markdown, sanitizing), slugs,
# templates and escaping, dates (Gregorian and Hijri), related items. An upgrade of one of them can
# change pages that nothing else changed. (Pagefind's version is part of the search index's own key.)
OUTPUT_DEPENDENCIES = ("pyyaml", "markdown-it-py", "mdurl", "nh3", "python-slugify", "text-unidecode", "jinja2",
                       "markupsafe", "babel", "hijridate", "numpy")


def _distribution_key(name: str) -> str:
    return re.sub(r"[-_.]+", "_", name).lower()


def dependency_versions(path: list[str] | None = None) -> str:
    """`name==version` of each of `OUTPUT_DEPENDENCIES`, as installed where `path` (sys.path)
    finds them first.

    Read from the names of the folders that installers write beside a package
    (`Jinja2-3.1.6.dist-info`, `PyYAML-6.0.3-py3.11.egg-info`): a listing of site-packages costs
    well under a millisecond, where importing `importlib.metadata` costs some 15 ms of every build.
    `importlib.metadata` answers for a distribution no such folder names.
    """
    wanted = {_distribution_key(name): name for name in OUTPUT_DEPENDENCIES}
    found: dict[str, str] = {}
    for entry in sys.path if path is None else path:
        if not entry or len(found) == len(wanted):
            continue  # "": the working folder, which holds no installed distributions
        try:
            names = sorted(os.listdir(entry))  # the same answer whatever order the folder lists in
        except OSError:  # not a folder (a zip file) or gone
            continue
        for name in names:
            stem, dot, kind = name.rpartition(".")
            if dot and kind in ("dist-info", "egg-info"):
                distribution, _, version = stem.partition("-")
                key = _distribution_key(distribution)
                if key in wanted and key not in found:
                    found[key] = version
    for key in wanted.keys() - found.keys():
        from importlib import metadata
        try:
            found[key] = metadata.version(wanted[key])
        except metadata.PackageNotFoundError:
            found[key] = "absent"
    return " ".join(f"{key}=={found[key]}" for key in sorted(found))


def config_digest(config: SiteConfig) -> str:
    """The configuration's settings. Not the path it was read by: `newsgen build` in the site's
    folder and `newsgen build --config /abs/site.toml` build the same site, from one cache."""
    return digest(repr(replace(config, path=None)))


def records_key(config: SiteConfig) -> str:
    """What records read from item files belong to: newsgen's code and `config.reading()`,
    not the rest of the configuration (see `BuildCache.load_main`)."""
    return digest(code_digest(), repr(config.reading()))


@dataclass
class RecordEntry:
    size: int
    mtime_ns: int
    content: str  # digest of the file's bytes
    article: Article | None
    problems: list[Problem]
    terms: TermCounts | None = None  # the item's term counts for related items (newsgen.terms)
    term_ids: tuple[str, bytes] | None = None  # (vocabulary token, ids of `terms`): see `BuildCache.terms`


@dataclass
class BuildCache:
    """What one build leaves for the next; `key` ties records to code and configuration.

    On disk, the records are spread over `SHARDS` files by path, so that a build
    after one edit rewrites one small file, not the records of the whole archive;
    a file is written only when what it holds changed.
    """

    key: str = ""
    records: dict[str, RecordEntry] = field(default_factory=dict)
    pages: dict[str, str] = field(default_factory=dict)  # output path -> fingerprint
    files: dict[str, str] = field(default_factory=dict)  # output path -> digest of its bytes
    output: str = ""  # the output folder these describe
    marker: str = ""  # the token of the build that wrote it as they describe it (see `output.output_token`)
    # When the last build began looking at the item files (`time.time_ns()`): the records' sizes and
    # times vouch for a file only when it is older than that (see `loaders.settled`).
    scanned_ns: int = 0
    related: tuple[str, dict[str, tuple[str, ...]]] | None = None  # (digest of the inputs, related items)
    groups: dict[str, tuple[str, tuple[str, ...]]] = field(default_factory=dict)  # feeds...: fingerprint, files
    state: dict | None = None  # what the last build read and reported (see `build.shortcut_build`)
    # Related items' vocabulary: its token and terms by id, saved with the records, whose
    # `term_ids` refer to it; and in memory, the `related.Vocabulary` made from them.
    terms: tuple[str, list[str]] | None = None
    vocabulary: object | None = field(default=None, repr=False)
    # What a build after a few body edits needs (`edits.EditIndex`), saved in a file of its own
    # that only such a build reads; `state["edit_index"]` names the one that goes with the state.
    edit_index: object | None = field(default=None, repr=False)
    _saved_edit_index: object | None = field(default=None, repr=False)
    # The last ranking of related items (`related.Ranking`), which the next ranks again from
    # after an edit of topics or dates; in a file of its own, read only by a build that ranks.
    ranking: object | None = field(default=None, repr=False)
    _saved_ranking: object | None = field(default=None, repr=False)
    # What is on disk now: each shard's (path, entry) pairs; the main file's token, its journaled
    # parts and the rest (see `_journaled`, `_fixed`); and the changes its journal holds.
    _saved_shards: dict[int, list[tuple[str, RecordEntry]]] = field(default_factory=dict, repr=False)
    _saved_entries: dict[str, RecordEntry] = field(default_factory=dict, repr=False)  # the same, by path
    _token: str = field(default="", repr=False)
    _base: tuple[dict[str, dict], tuple] | None = field(default=None, repr=False)
    _saved_changes: dict[str, dict] = field(default_factory=dict, repr=False)
    _saved_terms: tuple[str, int] | None = field(default=None, repr=False)  # token and count on disk
    # The shards whose records are in `records` (and saved by `save_records`): all of them, but
    # none after `load_main` and some after `load_shards`.
    _loaded: set[int] = field(default_factory=lambda: set(range(SHARDS)), repr=False)
    _body_files: dict[int, BodyFile] = field(default_factory=dict, repr=False)  # where loaded records' bodies are

    @staticmethod
    def location(config: SiteConfig) -> Path:
        return config.root / CACHE_FOLDER / CACHE_FILE

    @staticmethod
    def search_listings(config: SiteConfig) -> Path:
        """The folder of what the search index's shards hold (see `search.write_search_index`)."""
        return config.root / CACHE_FOLDER / "search-shards"

    @classmethod
    def load(cls, config: SiteConfig, key: str) -> "BuildCache":
        cache = cls.load_main(config, key)
        if cache is None:
            return cls(key=key)
        cache.load_records(config)
        return cache

    def load_records(self, config: SiteConfig) -> None:
        """Add the records to a cache that `load_main` read."""
        # The records live as long as the build, or the serve session: frozen, they are left
        # out of the collector's full passes (at 10,000 items, four passes of some 50 ms each),
        # and out of the pass of the youngest objects that would follow the unpickling (0.03 s).
        # Unpickling made no garbage worth a pass of its own to find first.
        with _unpickling(freeze=True):
            self._load_records(config, set(range(SHARDS)) - self._loaded)

    def load_shards(self, config: SiteConfig, names: Iterable[str]) -> None:
        """Add the records of the shards that hold the named files (and of their neighbours in
        those shards) to a cache that `load_main` read: a build that reads a few records does
        not unpickle the archive's."""
        wanted = {_shard_of(name) for name in names} - self._loaded
        if wanted:
            with _unpickling():
                self._load_records(config, wanted)

    def _load_records(self, config: SiteConfig, shards: set[int]) -> None:
        cache, key, path = self, records_key(config), self.location(config)
        cache._loaded |= shards
        for shard in sorted(shards):
            try:
                with open(_shard_file(path, shard), "rb") as handle:
                    stored_key, token, entries = pickle.load(handle)
                if stored_key != key or not isinstance(entries, dict):
                    continue
                bodies = BodyFile.check(_bodies_file(path, shard), token)
                if bodies is None:
                    continue
            except Exception:  # a missing or broken shard: its items are parsed again
                continue
            bodies.attach({name: entry.article for name, entry in entries.items() if entry.article is not None})
            cache._body_files[shard] = bodies
            cache.records.update(entries)
            cache._saved_shards[shard] = list(entries.items())
            cache._saved_entries.update(entries)
        if len(cache._loaded) < SHARDS:  # the vocabulary is read with the last shards
            return
        try:
            with open(path.with_name(TERMS_FILE), "rb") as handle:
                stored_key, token, joined = pickle.load(handle)
            if stored_key == key:
                cache.terms = (token, joined.decode("utf-8").split("\n") if joined else [])
                cache._saved_terms = (token, len(cache.terms[1]))
        except Exception:  # missing or broken: ids are looked up again, under a new vocabulary
            pass

    @classmethod
    def load_main(cls, config: SiteConfig, key: str) -> "BuildCache | None":
        """Everything but the records (which can be saved with it, but never lost by it);
        None when there is no usable cache for `key`."""
        path = cls.location(config)
        try:
            with open(path, "rb") as handle, _unpickling():
                stored = pickle.load(handle)
            if not isinstance(stored, dict) or stored.get("format") != FORMAT:
                raise ValueError("unknown cache format")
            cache = cls(key=stored["key"], pages=stored["pages"], files=stored["files"], output=stored["output"],
                        marker=stored["marker"], scanned_ns=stored["scanned_ns"], related=stored["related"],
                        groups=stored["groups"],
                        state=stored["state"], _loaded=set(), _token=stored["token"])
            cache._base = cache._snapshot()
            journal = path.with_name(JOURNAL_FILE)
            if journal.exists():
                with open(journal, "rb") as handle, _unpickling():
                    stored_key, token, changes = pickle.load(handle)
                if stored_key == cache.key and token == cache._token:
                    cache._apply(changes)
        except Exception:  # missing, corrupt, truncated or from another version: start afresh
            return None
        if cache.key != key:
            if stored.get("records") != records_key(config):
                return None
            # Another configuration, whose reading of items is the same: the records (in their
            # files) still serve, and what the output holds is still what it holds; what the
            # pages showed and the state of the last build are of the other configuration, but
            # for a search index left unwritten (see `SiteBuilder.give_up_background`).
            due = {"search_due": True} if (cache.state or {}).get("search_due") else None
            cache = cls(key=key, files=cache.files, output=cache.output, marker=cache.marker,
                        scanned_ns=cache.scanned_ns, state=due, _loaded=set())
        return cache

    def load_edit_index(self, config: SiteConfig):
        """The `edits.EditIndex` that goes with the state; None when there is none that does
        (without one, the build is an ordinary one)."""
        if self.edit_index is None:
            self.edit_index = self._saved_edit_index = self._read_beside(config, EDIT_INDEX_FILE, self.key)
        token = (self.state or {}).get("edit_index")
        return self.edit_index if token is not None and getattr(self.edit_index, "token", None) == token else None

    def load_ranking(self, config: SiteConfig):
        """The `related.Ranking` of the last build that ranked related items; None when there is
        none (then every item is ranked)."""
        if self.ranking is None:
            self.ranking = self._saved_ranking = self._read_beside(config, RANKING_FILE, records_key(config))
        return self.ranking

    def _read_beside(self, config: SiteConfig, name: str, key: str):
        """What the file `name` beside the main one holds for `key`; None when it is missing,
        broken or of another key."""
        try:
            with open(self.location(config).with_name(name), "rb") as handle, _unpickling():
                stored_key, value = pickle.load(handle)
        except Exception:
            return None
        return value if stored_key == key else None

    # -- The main file and its journal ------------------------------------------------------------
    #
    # A build that changes a few pages (an edit of a body, the news sitemap of an unchanged site)
    # writes what it changed in the pages, files, groups and items it read to a small journal
    # beside the main file, rather than the main file again (some 4.5 MB at 10,000 items). The
    # journal names the main file it goes with by a token; the next build reads both. One that
    # changes anything else, or more than `JOURNAL_AT_MOST` entries, writes the main file anew
    # under a new token and deletes the journal. A journal that cannot be read discards the
    # cache, since the main file alone describes an older output.

    def _journaled(self) -> dict[str, dict]:
        return {"pages": self.pages, "files": self.files, "groups": self.groups,
                "items": (self.state or {}).get("items", {}),
                "marker": {"token": self.marker, "scanned_ns": self.scanned_ns}}

    def _fixed(self) -> tuple:
        """What a journal cannot hold: the rest of the main file."""
        return (self.key, self.output, self.related and self.related[0],
                {name: value for name, value in (self.state or {}).items() if name != "items"})

    def _snapshot(self) -> tuple[dict[str, dict], tuple]:
        return {name: dict(part) for name, part in self._journaled().items()}, self._fixed()

    def _apply(self, changes: dict[str, dict]) -> None:
        """Apply a journal's changes (None: the entry is gone) to what the main file held."""
        if self.state is not None:
            self.state = dict(self.state, items=dict(self.state.get("items", {})))
        parts = self._journaled()
        for name, changed in changes.items():
            part = parts[name]
            for entry, value in changed.items():
                if value is None:
                    part.pop(entry, None)
                else:
                    part[entry] = value
        self.marker = parts["marker"].get("token", "")
        self.scanned_ns = parts["marker"].get("scanned_ns", 0)
        self._saved_changes = changes

    def save(self, config: SiteConfig, records: dict[str, RecordEntry] | None = None) -> None:
        """Write what changed since the last save; `records`, a copy of the records taken
        earlier, lets another thread save while the next build changes them."""
        self.save_records(config, records)
        path = self.location(config)
        changes = self._changes()
        if changes is not None:
            if changes != self._saved_changes:
                write_pickle(path.with_name(JOURNAL_FILE), (self.key, self._token, changes))
                self._saved_changes = changes
        else:
            self._token = secrets.token_hex(8)
            write_pickle(path, {"format": FORMAT, "key": self.key, "records": records_key(config),
                                 "token": self._token, "pages": self.pages,
                                 "files": self.files, "output": self.output, "marker": self.marker,
                                 "scanned_ns": self.scanned_ns,
                                 "related": self.related,
                                 "groups": self.groups, "state": self.state})
            path.with_name(JOURNAL_FILE).unlink(missing_ok=True)  # names the previous token: unread now
            self._base, self._saved_changes = self._snapshot(), {}
        if self.edit_index is not None and self.edit_index is not self._saved_edit_index:
            write_pickle(path.with_name(EDIT_INDEX_FILE), (self.key, self.edit_index))
            self._saved_edit_index = self.edit_index
        if self.ranking is not None and self.ranking is not self._saved_ranking:
            write_pickle(path.with_name(RANKING_FILE), (records_key(config), self.ranking))
            self._saved_ranking = self.ranking
        ignore = path.parent / ".gitignore"
        if not ignore.exists():
            ignore.write_text("*\n", encoding="utf-8")

    def _changes(self) -> dict[str, dict] | None:
        """What changed since the main file was written, for its journal; None when the main
        file must be written again instead."""
        if self._base is None or self._base[1] != self._fixed():
            return None
        changes, count = {}, 0
        for name, part in self._journaled().items():
            base = self._base[0][name]
            changed = {entry: value for entry, value in part.items() if base.get(entry) != value}
            changed.update((entry, None) for entry in base.keys() - part.keys())
            changes[name], count = changed, count + len(changed)
        return changes if count <= JOURNAL_AT_MOST else None

    def save_records(self, config: SiteConfig, records: dict[str, RecordEntry] | None = None) -> None:
        """Write the shards of records (and the related items' vocabulary) that changed since
        they were saved: a build does it while its pages render, `save` the rest at its end."""
        path, key = self.location(config), records_key(config)
        path.parent.mkdir(parents=True, exist_ok=True)
        for shard, entries in self._changed_shards(records):
            previous = self._body_files.pop(shard, None)
            if previous is not None:
                previous.read()  # articles read from it may still want their bodies once it is replaced
            token = secrets.token_hex(8)
            write_bodies(_bodies_file(path, shard), token,
                         {name: entry.article for name, entry in entries if entry.article is not None})
            write_pickle(_shard_file(path, shard), (key, token, dict(entries)), without_bodies=True)
            for name, _ in self._saved_shards.get(shard, ()):
                del self._saved_entries[name]
            self._saved_shards[shard] = entries
            self._saved_entries.update(entries)
        if len(self._loaded) == SHARDS and self.terms is not None and self._saved_terms != (self.terms[0], len(self.terms[1])):
            token, terms = self.terms
            write_pickle(path.with_name(TERMS_FILE), (key, token, "\n".join(terms).encode("utf-8")))
            self._saved_terms = (token, len(terms))

    def _changed_shards(self, records: dict[str, RecordEntry] | None = None
                        ) -> list[tuple[int, list[tuple[str, RecordEntry]]]]:
        """The loaded shards whose records are not the ones saved, with their records now."""
        records = self.records if records is None else records
        saved = self._saved_entries
        changed = {shard for shard in self._loaded if shard not in self._saved_shards}
        changed.update(_shard_of(name) for name, entry in records.items() if saved.get(name) is not entry)
        changed.update(map(_shard_of, saved.keys() - records.keys()))
        shards: dict[int, list[tuple[str, RecordEntry]]] = {shard: [] for shard in sorted(changed & self._loaded)}
        if shards:
            for name, entry in records.items():
                entries = shards.get(_shard_of(name))
                if entries is not None:
                    entries.append((name, entry))
        return list(shards.items())

    def open_changed_bodies(self) -> None:
        """Open the body files that saving the records will replace, before processes are forked
        that may read from them while it does: a handle opened before stays on the file it opened."""
        for shard, _ in self._changed_shards():
            bodies = self._body_files.get(shard)
            if bodies is not None:
                bodies.open()


@contextmanager
def _unpickling(freeze: bool = False):
    """Unpickling makes many objects and no garbage: the collector, which would go over
    them again and again as they are made, waits until it is done. With `freeze`, every object
    is then left out of its passes (`gc.freeze`), before it may run again."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if freeze:
            gc.freeze()
        if enabled:
            gc.enable()


SHARDS = 128
TERMS_FILE = "terms.pickle"
EDIT_INDEX_FILE = "edits.pickle"
RANKING_FILE = "ranking.pickle"
JOURNAL_FILE = "journal.pickle"
JOURNAL_AT_MOST = 1000  # changed entries a journal holds before the main file is written again


@lru_cache(maxsize=1 << 17)
def _shard_of(name: str) -> int:
    return zlib.crc32(name.encode("utf-8")) % SHARDS


def _shard_file(main: Path, shard: int) -> Path:
    return main.with_name(f"records-{shard:02d}.pickle")


def _bodies_file(main: Path, shard: int) -> Path:
    return main.with_name(f"bodies-{shard:02d}.pickle")


TEMPLATES_FOLDER = "templates"  # compiled templates, beside the records


class TemplateCode(jinja2.BytecodeCache):
    """Compiled templates kept between builds, so that a build after an edit does not
    compile every template again (about 0.1 s for the theme's).

    Jinja checks each file against its template's source; the files are also named after
    newsgen's code, whose version sets how templates compile. Files of other versions are
    removed when a new one is written. Unreadable files are compiled again, and a folder
    that cannot be written only costs the compiling.
    """

    def __init__(self, config: SiteConfig):
        self.folder = config.root / CACHE_FOLDER / TEMPLATES_FOLDER
        self.prefix = code_digest()[:16] + "-"

    def _file(self, bucket: jinja2.bccache.Bucket) -> Path:
        return self.folder / f"{self.prefix}{bucket.key}.code"

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        try:
            with open(self._file(bucket), "rb") as handle:
                bucket.load_bytecode(handle)
        except FileNotFoundError:
            pass
        except Exception:  # broken or foreign: compiled again
            bucket.reset()

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            for old in self.folder.iterdir():
                if not old.name.startswith(self.prefix):
                    old.unlink(missing_ok=True)
            with replacing(self._file(bucket)) as handle:
                bucket.write_bytecode(handle)
        except OSError:
            pass
