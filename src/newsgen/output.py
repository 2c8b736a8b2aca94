"""Writing the output folder atomically: build beside it, then swap.

A failed build removes its half-written folder and leaves the previous output
as it was. Only a folder newsgen wrote itself (it holds a marker file) is ever
replaced, so a mistyped `--output` cannot wipe someone's files.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from .errors import NewsgenError

MARKER = ".newsgen-output"


class OutputError(NewsgenError):
    """The output folder cannot be written or replaced."""


def safe_join(root: Path, relative: str, *, follow_links: bool = True) -> Path:
    """`root / relative`, refusing anything that would land outside `root`.

    In a folder newsgen has just made there are no links to follow, and checking
    the path's parts is enough (`follow_links=False`, much cheaper per file).
    """
    if relative.startswith(("/", "\\")) or "\\" in relative or "\0" in relative or any(
            part in ("..", "") for part in relative.split("/")):
        raise OutputError(f"refusing to write {relative!r}: it would land outside the output folder")
    target = root / relative
    if follow_links and not target.resolve().is_relative_to(root.resolve()):
        raise OutputError(f"refusing to write {relative!r}: it would land outside the output folder")
    return target


class StagedOutput:
    """A sibling folder that becomes the output folder on `commit()`."""

    def __init__(self, target: Path):
        self.target = target.absolute()
        if self.target.exists() and not self.target.is_dir():
            raise OutputError("the output path exists and is not a folder; choose another --output",
                              self.target)
        if self.target.is_dir() and any(self.target.iterdir()) and not (self.target / MARKER).exists():
            raise OutputError("the output folder exists, is not empty and was not written by newsgen; "
                              "choose another --output or empty it first", self.target)
        self.target.parent.mkdir(parents=True, exist_ok=True)
        self._remove_leftovers()
        self.stage = self.target.parent / f".{self.target.name}.new-{os.getpid()}"
        if self.stage.exists():
            shutil.rmtree(self.stage)
        self.stage.mkdir()
        self._made: set[Path] = {self.stage}

    def _remove_leftovers(self) -> None:
        """Folders of builds that died mid-way (their process is gone) are removed."""
        for sibling in self.target.parent.glob(f".{self.target.name}.*-*"):
            kind, _, pid = sibling.name.rpartition("-")
            if not kind.endswith((".new", ".old")) or not pid.isdigit():
                continue
            try:
                os.kill(int(pid), 0)
            except ProcessLookupError:
                shutil.rmtree(sibling, ignore_errors=True)
            except PermissionError:
                pass

    def write(self, relative: str, data: bytes) -> None:
        path = safe_join(self.stage, relative, follow_links=False)
        parent = path.parent
        if parent not in self._made:
            parent.mkdir(parents=True, exist_ok=True)
            self._made.add(parent)
        with open(path, "wb") as handle:
            handle.write(data)

    def commit(self) -> None:
        (self.stage / MARKER).write_text("This folder is written by newsgen build and replaced on each build.\n",
                                         encoding="utf-8")
        old = None
        if self.target.exists():
            old = self.target.parent / f".{self.target.name}.old-{os.getpid()}"
            if old.exists():
                shutil.rmtree(old)
            os.rename(self.target, old)
        os.rename(self.stage, self.target)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)

    def discard(self) -> None:
        shutil.rmtree(self.stage, ignore_errors=True)

    def __enter__(self) -> "StagedOutput":
        return self

    def __exit__(self, error_type, error, tb) -> None:
        """Swap the stage in when the block finished, discard it when it raised."""
        if error_type is None:
            try:
                self.commit()
            except BaseException:
                self.discard()
                raise
        else:
            self.discard()


def apply_changes(target: Path, writes: dict[str, bytes], removals: list[str]) -> None:
    """Update an existing output folder file by file: each write is a rename, never a partial file."""
    for relative, data in writes.items():
        path = safe_join(target, relative)
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.parent / f".{path.name}.tmp-{os.getpid()}"
        with open(temporary, "wb") as handle:
            handle.write(data)
        os.replace(temporary, path)
    for relative in removals:
        path = safe_join(target, relative)
        try:
            path.unlink()
        except FileNotFoundError:
            continue
        parent = path.parent
        while parent != target and not any(parent.iterdir()):
            parent.rmdir()
            parent = parent.parent
