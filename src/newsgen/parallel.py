"""Rendering many pages across the cores.

Worker processes are forked once what their pages need exists (the site model,
the compiled templates, and for the items' pages the related items), so each
starts with all of it in memory (shared copy-on-write) instead of rebuilding it
or receiving it through a pipe. A full build forks twice: for the pages that show
no related items while this process ranks them, then for the items' pages. A
worker sends back only what the build needs of each page: its path and digest,
and its bytes when they must still be written.

Where fork is not available (or the work is small) everything runs in-process.
Before forking, the memory this process freed is given back to the system
(`return_freed_memory`), so that no child starts with it; serve also calls it
after each build.
"""

from __future__ import annotations

import os
import pickle
import traceback
from functools import lru_cache
from typing import Callable, Iterator, Sequence, TypeVar

from .errors import NewsgenError

T = TypeVar("T")
R = TypeVar("R")

PARALLEL_FROM = 400  # below this many pages, forking costs more than it saves
MAX_WORKERS = 8


def cores() -> int:
    """How many cores this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def worker_count(jobs: int) -> int:
    """How many processes (this one included) should share `jobs` pages."""
    if jobs < PARALLEL_FROM:
        return 1
    import multiprocessing  # here: a build of a few pages (a body edit's) does without importing it
    if "fork" not in multiprocessing.get_all_start_methods():
        return 1
    return max(1, min(cores(), MAX_WORKERS))


CHUNK = 16  # items a process takes at a time: small enough to even out, large enough to cost no waiting


def map_forked(work: Callable[[T], R], items: Sequence[T], workers: int,
               progress: Callable[[int], None] | None = None,
               meanwhile: Callable[[], None] | None = None) -> list[R]:
    """`[work(item) for item in items]`, the items shared out among `workers` processes.

    This process takes part itself, so `workers=2` forks one child. Each process takes the
    next `CHUNK` items whenever it is free, so one slowed down (by the disk, by other work
    on the machine) takes fewer; and `meanwhile`, when given, runs here first while the
    children start on the items, which take this process's part of them over. An exception
    in a child is raised here: a `NewsgenError` as itself (the user's template error, say),
    anything else with the child's traceback. `progress` is called with the number of items
    taken so far.
    """
    if workers <= 1 or len(items) < 2:
        if meanwhile is not None:
            meanwhile()
        return [_tick(work(item), progress, done) for done, item in enumerate(items, start=1)]
    import multiprocessing
    # A child starts with every page this process holds, the free ones in its heap included:
    # given back first, they are in no child's memory.
    return_freed_memory()
    context = multiprocessing.get_context("fork")
    taken = context.RawValue("q", 0)  # the index of the next item no process has taken
    lock = context.Lock()
    children = []
    for _ in range(1, workers):
        receive, send = context.Pipe(duplex=False)
        process = context.Process(target=_child, args=(work, items, taken, lock, send), daemon=True)
        process.start()
        send.close()
        children.append((process, receive))
    results: list[R | None] = [None] * len(items)
    try:
        if meanwhile is not None:
            meanwhile()
        for start in _chunks(taken, lock, len(items)):
            results[start:start + CHUNK] = [work(item) for item in items[start:start + CHUNK]]
            if progress is not None:
                progress(min(taken.value, len(items)))
        for process, receive in children:
            for start, values in _receive(receive, process):
                results[start:start + len(values)] = values
    finally:
        for process, receive in children:
            receive.close()
            if process.is_alive():
                process.kill()
            process.join()
    return results  # type: ignore[return-value]


def _chunks(taken, lock, count: int) -> Iterator[int]:
    """The first index of each chunk of items this process takes, until none are left."""
    while True:
        with lock:
            start = taken.value
            taken.value = start + CHUNK
        if start >= count:
            return
        yield start


def _tick(result: R, progress: Callable[[int], None] | None, done: int) -> R:
    if progress is not None and done % 25 == 0:
        progress(done)
    return result


def _child(work: Callable[[T], R], items: Sequence[T], taken, lock, send) -> None:
    status = 0
    try:
        payload = ("ok", [(start, [work(item) for item in items[start:start + CHUNK]])
                          for start in _chunks(taken, lock, len(items))])
    except NewsgenError as exc:
        payload = ("user", (type(exc), exc.message, exc.path, exc.line))
    except BaseException:  # a bug: the parent shows the child's traceback
        payload = ("bug", traceback.format_exc())
        status = 1
    try:
        send.send_bytes(pickle.dumps(payload, protocol=pickle.HIGHEST_PROTOCOL))
        send.close()
    finally:
        # No atexit handlers or buffer flushes of the parent's state in a forked child.
        os._exit(status)


def _receive(receive, process) -> list:
    try:
        kind, value = pickle.loads(receive.recv_bytes())
    except EOFError:
        process.join()
        raise RuntimeError(f"a rendering process ended without an answer (exit status {process.exitcode})") from None
    if kind == "user":
        error_type, message, path, line = value
        raise error_type(message, path, line)
    if kind == "bug":
        raise RuntimeError(f"a rendering process failed:\n{value}")
    return value


def return_freed_memory() -> None:
    """Give the memory that a build freed back to the system (glibc's `malloc_trim`), where
    there is such a call. Freed in many small pieces, it stays with the process otherwise: in
    a serve session at 10,000 items, the serving process grew from 225 to 299 MiB between builds
    over three rounds of edits (body, new item, template, site.toml), and stays within 201-233
    MiB with this. It takes some 10 ms."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


@lru_cache(maxsize=1)
def _malloc_trim() -> Callable[[int], int] | None:
    import ctypes  # only builds that fork or serve ask

    try:
        return ctypes.CDLL(None).malloc_trim
    except Exception:  # not glibc (macOS, Windows, musl without it): nothing to call
        return None
