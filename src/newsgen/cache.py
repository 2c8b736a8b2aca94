"""The build cache: parsed records and page fingerprints kept between builds.

Records are keyed by file path and checked by size and modification time, then
by a hash of the bytes; pages are keyed by a fingerprint of everything they show.
The whole cache belongs to one newsgen code base, one site.toml and one set of
templates: when any of those change, the parts that depend on them are dropped.
A cache that cannot be read is discarded, never trusted.
"""

from __future__ import annotations

import hashlib
import os
import pickle
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from . import __version__
from .config import SiteConfig
from .errors import Problem
from .model import Article

CACHE_FOLDER = ".newsgen-cache"
CACHE_FILE = "build.pickle"
FORMAT = 1
_PACKAGE = Path(__file__).parent


def digest(*parts: bytes | str) -> str:
    h = hashlib.blake2b(digest_size=16)
    for part in parts:
        h.update(part.encode("utf-8") if isinstance(part, str) else part)
        h.update(b"\0")
    return h.hexdigest()


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
    """newsgen's own version and code: a new release (or a local change) invalidates all.

    Computed once per process: the code a process runs does not change under it."""
    return digest(__version__, tree_digest([_PACKAGE], (".py",)))


def config_digest(config: SiteConfig) -> str:
    return digest(repr(config))


@dataclass
class RecordEntry:
    size: int
    mtime_ns: int
    content: str  # digest of the file's bytes
    article: Article | None
    problems: list[Problem]


@dataclass
class BuildCache:
    """What one build leaves for the next; `key` ties records to code and configuration."""

    key: str = ""
    records: dict[str, RecordEntry] = field(default_factory=dict)
    pages: dict[str, str] = field(default_factory=dict)  # output path -> fingerprint
    files: dict[str, str] = field(default_factory=dict)  # output path -> digest of its bytes
    output: str = ""  # the output folder these describe

    @staticmethod
    def location(config: SiteConfig) -> Path:
        return config.root / CACHE_FOLDER / CACHE_FILE

    @classmethod
    def load(cls, config: SiteConfig, key: str) -> "BuildCache":
        path = cls.location(config)
        try:
            with open(path, "rb") as handle:
                stored = pickle.load(handle)
            if not isinstance(stored, dict) or stored.get("format") != FORMAT:
                raise ValueError("unknown cache format")
            cache = stored["cache"]
            if not isinstance(cache, cls):
                raise ValueError("not a build cache")
        except FileNotFoundError:
            return cls(key=key)
        except Exception:  # corrupt, truncated or from another version: start afresh
            return cls(key=key)
        if cache.key != key:
            return cls(key=key)
        return cache

    def save(self, config: SiteConfig) -> None:
        path = self.location(config)
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(f".tmp-{os.getpid()}")
        with open(temporary, "wb") as handle:
            pickle.dump({"format": FORMAT, "cache": self}, handle, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(temporary, path)
        ignore = path.parent / ".gitignore"
        if not ignore.exists():
            ignore.write_text("*\n", encoding="utf-8")
