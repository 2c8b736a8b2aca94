"""Writing the output folder atomically: build beside it, then swap.

A failed build removes its half-written folder and leaves the previous output
as it was. Only a folder newsgen wrote itself (it holds a marker file) is ever
replaced, so a mistyped `--output` cannot wipe someone's files.

The marker also holds a digest of what the folder holds (each file's path and
digest: `content_token`). A build that changes the folder writes the new digest
to the marker before any file, and its build cache records it: a cache that
records another digest describes the folder as it was before some build (one
whose cache was not saved yet, say, in another process, or that stopped half
way), and is not trusted to tell which files are up to date. Two builds of the
same site write the same marker.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Iterable, Mapping
from contextlib import suppress
from functools import reduce
from operator import xor
from pathlib import Path

from .errors import NewsgenError

MARKER = ".newsgen-output"
_MARKER_TEXT = "This folder is written by newsgen build and replaced on each build.\n"
_TOKEN_LINE = "build "


def content_token(files: Mapping[str, str]) -> str:
    """The digest of a folder's files (path -> digest of the bytes) that its marker holds: the
    exclusive or of a digest of each entry, so that a build that changes a few files works out
    the new one from theirs alone (`updated_token`)."""
    return f"{reduce(xor, map(_entry, files.items()), 0):032x}"


def updated_token(token: str, before: Mapping[str, str], after: Mapping[str, str], paths: Iterable[str]) -> str:
    """The `content_token` of `after`, from `before`'s (`token`), when they differ only at `paths`."""
    value = int(token, 16)
    for path in paths:
        if path in before:
            value ^= _entry((path, before[path]))
        if path in after:
            value ^= _entry((path, after[path]))
    return f"{value:032x}"


def _entry(item: tuple[str, str]) -> int:
    return int.from_bytes(hashlib.blake2b(f"{item[0]}\0{item[1]}".encode("utf-8"), digest_size=16).digest(), "big")


def output_token(folder: Path) -> str | None:
    """The `content_token` the folder's marker holds; None when it has no marker, or one without
    a token (written by an older newsgen)."""
    try:
        text = (folder / MARKER).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    last = text.rstrip("\n").rpartition("\n")[2]
    return last[len(_TOKEN_LINE):] if last.startswith(_TOKEN_LINE) else None


def _write_marker(folder: Path, token: str) -> None:
    temporary = folder / f"{MARKER}.tmp-{os.getpid()}"
    temporary.write_text(f"{_MARKER_TEXT}{_TOKEN_LINE}{token}\n", encoding="utf-8")
    os.replace(temporary, folder / MARKER)


class OutputError(NewsgenError):
    """The output folder cannot be written or replaced."""


def safe_join(root: Path, relative: str) -> Path:
    """`root / relative`, refusing a path whose parts would take it outside `root`.

    Links are not followed: a folder newsgen has just made holds none. In a folder that may
    (an output written before), `InsideFolder` joins paths.
    """
    if relative.startswith(("/", "\\")) or "\\" in relative or "\0" in relative or any(
            part in ("..", "") for part in relative.split("/")):
        raise _outside(relative)
    return root / relative


def _outside(relative: str) -> OutputError:
    return OutputError(f"refusing to write {relative!r}: it would land outside the output folder")


class InsideFolder:
    """`safe_join` for a folder that may hold links, following them: a path any of whose folders
    or the file itself is a link leading outside is refused. Each folder on the way is looked at
    once (is it a link, and where to) however many paths go through it.

    A link whose target is outside the folder is refused even where a later link would lead
    back in, which resolving the whole path would allow.
    """

    def __init__(self, root: Path):
        self.root = root
        self.real = root.resolve()
        self.seen: set[Path] = set()

    def join(self, relative: str) -> Path:
        path = safe_join(self.root, relative)
        folder = self.root
        for part in relative.split("/")[:-1]:
            folder = folder / part
            if folder not in self.seen:
                self._check(folder, relative)
                self.seen.add(folder)
        self._check(path, relative)
        return path

    def _check(self, path: Path, relative: str) -> None:
        if path.is_symlink() and not path.resolve().is_relative_to(self.real):
            raise _outside(relative)


def remove_leftovers(target: Path) -> None:
    """Folders beside `target` of builds that died mid-way (their process is gone) are removed."""
    for sibling in target.parent.glob(f".{target.name}.*-*"):
        kind, _, pid = sibling.name.rpartition("-")
        if not kind.endswith((".new", ".old")) or not pid.isdigit():
            continue
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            shutil.rmtree(sibling, ignore_errors=True)
        except PermissionError:
            pass


def new_folder_beside(target: Path) -> Path:
    """An empty folder beside `target` for this process's build to write in (`remove_leftovers`
    removes it if the process dies before it does)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    remove_leftovers(target)
    folder = target.parent / f".{target.name}.new-{os.getpid()}"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir()
    return folder


class StagedOutput:
    """A sibling folder that becomes the output folder on `commit()`."""

    def __init__(self, target: Path):
        self.target = target.absolute()
        self.token = ""  # the marker's `content_token`: the caller sets it once the files are written
        if self.target.exists() and not self.target.is_dir():
            raise OutputError("the output path exists and is not a folder; choose another --output",
                              self.target)
        if self.target.is_dir() and any(self.target.iterdir()) and not (self.target / MARKER).exists():
            raise OutputError("the output folder exists, is not empty and was not written by newsgen; "
                              "choose another --output or empty it first", self.target)
        self.stage = new_folder_beside(self.target)
        self._made: set[Path] = {self.stage}
        self._carried: list[str] = []

    def write(self, relative: str, data: bytes) -> None:
        path = safe_join(self.stage, relative)
        parent = path.parent
        if parent not in self._made:
            parent.mkdir(parents=True, exist_ok=True)
            self._made.add(parent)
        with open(path, "wb") as handle:
            handle.write(data)

    def carry(self, name: str) -> None:
        """Have the output's folder `name` (when it has one and the stage has not) moved into the
        stage as it is swapped in: what the build finishes in the output after (serve's search
        index) starts from it. Moved back should the swap fail."""
        self._carried.append(name)

    def commit(self) -> None:
        """Swap the stage in; should that fail, the previous output is put back as it was."""
        _write_marker(self.stage, self.token)
        old = self.target.parent / f".{self.target.name}.old-{os.getpid()}"
        moved: list[str] = []
        try:
            for name in self._carried:
                if (self.target / name).is_dir() and not os.path.lexists(self.stage / name):
                    os.rename(self.target / name, self.stage / name)
                    moved.append(name)
            if self.target.exists():
                if old.exists():
                    shutil.rmtree(old)
                os.rename(self.target, old)
            os.rename(self.stage, self.target)
        except BaseException:
            if old.exists() and not self.target.exists():
                os.rename(old, self.target)
            for name in moved:
                with suppress(OSError):  # the error to tell is the one above
                    os.rename(self.stage / name, self.target / name)
            raise
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


class SpooledPages:
    """Pages of an incremental build that differ from the output's, written beside the output
    folder as they render (by any process forked after this was made) and moved into it by
    `apply_changes` once every page has rendered: the build holds none of their bytes, and
    the output is not touched until then.
    """

    def __init__(self, target: Path):
        self.folder = new_folder_beside(target)

    def write(self, relative: str, data: bytes) -> Path:
        """Keep the page's bytes on disk until it is moved into the output; where they are."""
        path = self.folder / hashlib.blake2b(relative.encode("utf-8"), digest_size=16).hexdigest()
        with open(path, "wb") as handle:
            handle.write(data)
        return path

    def remove(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


def update_output(target: Path, writes: dict[str, bytes | Path], removals: list[str], marker: str,
                  before: Mapping[str, str], after: Mapping[str, str]) -> str:
    """`apply_changes`, from the folder's files as they were (`before`, path -> digest) to `after`,
    whose only differences are `writes` and `removals`; `marker` is the folder's `content_token`
    before, and the one after is returned."""
    token = updated_token(marker, before, after, [*writes, *removals])
    return token if apply_changes(target, writes, removals, token) else marker


def apply_changes(target: Path, writes: dict[str, bytes | Path], removals: list[str], token: str) -> bool:
    """Update an existing output folder file by file: each write is a rename, never a partial file.

    A write gives the file's bytes, or a file on the same disk that holds them (`SpooledPages`),
    which is moved in. The marker takes `token`, the folder's `content_token` after the
    change, first (see the module's text). Returns whether anything changed.
    """
    if not writes and not removals:
        return False
    _write_marker(target, token)
    made: set[Path] = set()
    inside = InsideFolder(target)
    for relative, data in writes.items():
        path = inside.join(relative)
        if path.parent not in made:
            path.parent.mkdir(parents=True, exist_ok=True)
            made.add(path.parent)
        if isinstance(data, Path):
            os.replace(data, path)
            continue
        temporary = path.parent / f".{path.name}.tmp-{os.getpid()}"
        with open(temporary, "wb") as handle:
            handle.write(data)
        os.replace(temporary, path)
    for relative in removals:
        path = inside.join(relative)
        try:
            path.unlink()
        except FileNotFoundError:
            continue
        parent = path.parent
        while parent != target and not any(parent.iterdir()):
            parent.rmdir()
            parent = parent.parent
    return True
