"""Rendering many pages across the cores.

Worker processes are forked once the site model, the related items and the
compiled templates exist, so each starts with all of them in memory (shared
copy-on-write) instead of rebuilding them or receiving them through a pipe. A
worker sends back only what the build needs of each page: its path and digest,
and its bytes when they must still be written.

Where fork is not available (or the work is small) everything runs in-process.
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
import traceback
from typing import Callable, Sequence, TypeVar

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
    if jobs < PARALLEL_FROM or "fork" not in multiprocessing.get_all_start_methods():
        return 1
    return max(1, min(cores(), MAX_WORKERS))


def map_forked(work: Callable[[T], R], items: Sequence[T], workers: int,
               progress: Callable[[int], None] | None = None) -> list[R]:
    """`[work(item) for item in items]`, the items dealt out to `workers` processes.

    This process takes one share itself, so `workers=2` forks one child. Items
    are dealt round-robin so that every share gets pages of every kind. An
    exception in a child is raised here: a `NewsgenError` as itself (the user's
    template error, say), anything else with the child's traceback.
    `progress` is called with the number of items done so far (this process's
    share scaled to the whole, as children report only at the end).
    """
    if workers <= 1 or len(items) < 2:
        return [_tick(work(item), progress, done) for done, item in enumerate(items, start=1)]
    context = multiprocessing.get_context("fork")
    children = []
    for share in range(1, workers):
        receive, send = context.Pipe(duplex=False)
        process = context.Process(target=_child, args=(work, items[share::workers], send), daemon=True)
        process.start()
        send.close()
        children.append((share, process, receive))
    results: list[R | None] = [None] * len(items)
    try:
        for done, index in enumerate(range(0, len(items), workers), start=1):
            results[index] = work(items[index])
            if progress is not None and done % 25 == 0:
                progress(min(done * workers, len(items)))
        for share, process, receive in children:
            outcome = _receive(receive, process)
            results[share::workers] = outcome
    finally:
        for _, process, receive in children:
            receive.close()
            if process.is_alive():
                process.kill()
            process.join()
    return results  # type: ignore[return-value]


def _tick(result: R, progress: Callable[[int], None] | None, done: int) -> R:
    if progress is not None and done % 25 == 0:
        progress(done)
    return result


def _child(work: Callable[[T], R], items: Sequence[T], send) -> None:
    status = 0
    try:
        payload = ("ok", [work(item) for item in items])
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
