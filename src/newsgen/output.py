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


def safe_join(root: Path, relative: str) -> Path:
    """`root / relative`, refusing anything that would land outside `root`."""
    if relative.startswith(("/", "\\")) or "\\" in relative or any(
            part in ("..", "") for part in relative.split("/")):
        raise OutputError(f"refusing to write {relative!r}: it would land outside the output folder")
    target = root / relative
    if not target.resolve().is_relative_to(root.resolve()):
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
        self.stage = self.target.parent / f".{self.target.name}.new-{os.getpid()}"
        if self.stage.exists():
            shutil.rmtree(self.stage)
        self.stage.mkdir()
        self._made: set[Path] = {self.stage}
        self.count = 0
        self.bytes = 0

    def write(self, relative: str, data: bytes) -> None:
        path = safe_join(self.stage, relative)
        parent = path.parent
        if parent not in self._made:
            parent.mkdir(parents=True, exist_ok=True)
            self._made.add(parent)
        with open(path, "wb") as handle:
            handle.write(data)
        self.count += 1
        self.bytes += len(data)

    def copy_tree(self, source: Path, relative: str) -> None:
        """Copy a folder of assets; later copies override earlier ones file by file."""
        if not source.is_dir():
            return
        destination = safe_join(self.stage, relative)
        for dirpath, dirnames, filenames in os.walk(source):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
            rel = Path(dirpath).relative_to(source)
            for name in sorted(filenames):
                if name.startswith("."):
                    continue
                out = destination / rel / name
                out.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(Path(dirpath) / name, out)
                self.count += 1
                self.bytes += out.stat().st_size

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
