"""`newsgen serve`: a local preview that rebuilds and reloads on every save.

The site is built into its output folder as `newsgen build` would, then served
over HTTP while watchdog watches the item folders, `content/`, the templates,
the static assets and `site.toml`. A burst of file events becomes one rebuild;
each open tab learns about it over Server-Sent Events from a small script that
only the preview adds to HTML responses (the files on disk never contain it).
A stylesheet-only change swaps the stylesheet in place. A failed rebuild keeps
the last good site online and shows its errors over every open tab.
"""

from __future__ import annotations

import argparse
import errno
import html
import ipaddress
import json
import mimetypes
import os
import queue
import socket
import sys
import threading
import time
import traceback
import uuid
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Iterable
from urllib.parse import quote, unquote, urlsplit

from .build import SiteBuilder
from .config import SiteConfig, load_config
from .errors import BuildFailed, NewsgenError

PREFIX = "/__newsgen/"
EVENTS_PATH = PREFIX + "events"
SCRIPT_PATH = PREFIX + "reload.js"
STATUS_PATH = PREFIX + "status"

DEBOUNCE = 0.04        # seconds of quiet after the last file event before rebuilding
MAX_DELAY = 0.6        # a rebuild starts at the latest this long after a burst began
RELATED_AFTER = 0.15   # seconds between an edit's rebuild and the one that ranks related items again
KEEPALIVE = 15.0       # seconds between SSE comments that keep idle streams open
RETRY_MS = 1000        # what an EventSource waits before reconnecting
IDLE_TIMEOUT = 120.0   # an idle keep-alive connection is closed after this long

_WATCHED_EVENTS = {"created", "modified", "deleted", "moved", "closed"}

_TYPES = {
    ".html": "text/html", ".htm": "text/html", ".css": "text/css", ".js": "text/javascript",
    ".mjs": "text/javascript", ".txt": "text/plain", ".md": "text/markdown", ".csv": "text/csv",
    ".xml": "application/xml", ".xsl": "application/xml", ".json": "application/json",
    ".map": "application/json", ".webmanifest": "application/manifest+json", ".svg": "image/svg+xml",
    ".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".gif": "image/gif",
    ".webp": "image/webp", ".avif": "image/avif", ".ico": "image/x-icon", ".woff2": "font/woff2",
    ".woff": "font/woff", ".ttf": "font/ttf", ".otf": "font/otf", ".pdf": "application/pdf",
    ".mp4": "video/mp4", ".webm": "video/webm", ".mp3": "audio/mpeg", ".ogg": "audio/ogg",
}


class ServeError(NewsgenError):
    """The preview cannot start: the address is taken, not allowed or not on this machine."""


def content_type(name: str) -> str:
    """The Content-Type for a file name; text types carry `charset=utf-8`."""
    suffix = os.path.splitext(name)[1].lower()
    kind = _TYPES.get(suffix) or mimetypes.guess_type(name)[0] or "application/octet-stream"
    if kind.startswith("text/") or kind.endswith(("+xml", "+json")) or kind in (
            "application/xml", "application/json", "application/javascript"):
        kind += "; charset=utf-8"
    return kind


# -- the page script ---------------------------------------------------------------

RELOAD_JS = r"""/* newsgen serve: live reload and build errors. Added by the preview only. */
(() => {
  "use strict";
  if (window.__newsgenPreview) return;
  const me = document.currentScript;
  const attr = (name) => (me && me.getAttribute(name)) || "";
  const state = window.__newsgenPreview = {
    page: attr("data-page"), build: Number(attr("data-build") || 0), server: attr("data-server"),
    source: null, retry: 500, timer: null,
  };
  const SCROLL_KEY = "__newsgen_scroll";

  const here = () => {
    let path = location.pathname;
    try { path = decodeURIComponent(path); } catch (e) { /* keep it encoded */ }
    path = path.replace(/^\/+/, "");
    return path === "" || path.endsWith("/") ? path + "index.html" : path;
  };

  const affects = (changed) => {
    const mine = [state.page, here()];
    // Another page, a feed or a stylesheet changing does not make this page stale; an
    // image, a script or a font might be used by it.
    return changed.some((path) => mine.includes(path) || !/\.(html?|xml|txt|json|css)$/i.test(path));
  };

  const reload = (moved) => {
    try {
      sessionStorage.setItem(SCROLL_KEY, JSON.stringify({ path: location.pathname, x: scrollX, y: scrollY }));
    } catch (e) { /* storage may be off */ }
    const target = moved && (moved[state.page] || moved[here()]);
    if (target) location.replace(target); else location.reload();
  };

  const swapStylesheets = () => {
    for (const link of document.querySelectorAll('link[rel~="stylesheet"]:not([data-newsgen-old])')) {
      const url = new URL(link.href, location.href);
      if (url.origin !== location.origin) continue;
      url.searchParams.set("__newsgen", String(Date.now()));
      const fresh = link.cloneNode();
      fresh.href = url.href;
      link.setAttribute("data-newsgen-old", "");
      fresh.addEventListener("load", () => link.remove(), { once: true });
      fresh.addEventListener("error", () => link.remove(), { once: true });
      link.after(fresh);
    }
  };

  const OVERLAY_STYLE = `
    :host { all: initial; }
    .backdrop { position: fixed; inset: 0; z-index: 2147483647; background: rgba(20, 20, 20, .55);
      display: flex; align-items: flex-start; justify-content: center; overflow: auto; }
    .box { box-sizing: border-box; margin: 6vh 1rem; max-width: 60rem; width: 100%;
      background: #fff; color: #1b1b1b; border-block-start: .4rem solid #b3261e; border-radius: .4rem;
      padding: 1.25rem 1.5rem; font: 16px/1.7 "Noto Naskh Arabic", "Noto Sans Arabic", Tahoma, system-ui, sans-serif;
      box-shadow: 0 .5rem 2rem rgba(0, 0, 0, .35); text-align: start; }
    h2 { margin: 0 0 .5rem; font-size: 1.4rem; color: #b3261e; font-weight: 700; }
    p { margin: 0 0 1rem; }
    pre { margin: 0; padding: .75rem 1rem; background: #fbeeee; color: #1b1b1b; border-radius: .3rem;
      font: 14px/1.6 ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace;
      white-space: pre-wrap; overflow-wrap: anywhere; text-align: left; unicode-bidi: plaintext; }
    button { margin-block-start: 1rem; font: inherit; padding: .25rem 1rem; cursor: pointer;
      border: 1px solid #999; border-radius: .3rem; background: #f4f4f4; color: inherit; }`;

  const showErrors = (errors) => {
    let host = document.getElementById("newsgen-error-overlay");
    if (!errors || !errors.length) {
      if (host) host.remove();
      return;
    }
    if (!host) {
      host = document.createElement("div");
      host.id = "newsgen-error-overlay";
      host.attachShadow({ mode: "open" });
      (document.body || document.documentElement).appendChild(host);
    }
    host.style.display = "";  // shown again after «إخفاء» when a new error comes
    const root = host.shadowRoot;
    root.innerHTML = `<style>${OVERLAY_STYLE}</style>
      <div class="backdrop"><div class="box" dir="rtl" lang="ar" role="alertdialog" aria-modal="true"
        aria-labelledby="newsgen-title">
        <h2 id="newsgen-title">تعذّر بناء الموقع</h2>
        <p>تعرض المعاينة آخر نسخة سليمة من الموقع. صحّح الخطأ واحفظ الملف لتختفي هذه الرسالة.</p>
        <pre class="messages" dir="ltr" lang="en"></pre>
        <button type="button">إخفاء</button>
      </div></div>`;
    root.querySelector("pre").textContent = errors.join("\n");
    root.querySelector("button").addEventListener("click", () => { host.style.display = "none"; });
  };

  const onUpdate = (data) => {
    showErrors(null);
    if (data.css_only) {
      swapStylesheets();
      state.build = data.build;
      return;
    }
    if (data.changed === null || affects(data.changed)) {
      reload(data.moved);
      return;
    }
    if (data.changed.some((path) => /\.css$/i.test(path))) swapStylesheets();
    state.build = data.build;
  };

  const disconnect = () => {
    if (state.source) state.source.close();
    state.source = null;
    clearTimeout(state.timer);
  };

  const connect = () => {
    if (state.source) return;
    const source = state.source = new EventSource("/__newsgen/events");
    const on = (name, handle) => source.addEventListener(name, (event) => {
      let data;
      try { data = JSON.parse(event.data); } catch (e) { return; }
      handle(data);
    });
    on("hello", (data) => {
      state.retry = 500;
      if (data.server !== state.server || data.build !== state.build) {
        reload();  // the server restarted or the site was rebuilt since this page was served
        return;
      }
      showErrors(data.errors);
    });
    on("update", onUpdate);
    on("failed", (data) => showErrors(data.errors));
    source.onerror = () => {
      if (source.readyState !== EventSource.CLOSED) return;  // the browser retries by itself
      if (state.source === source) state.source = null;
      clearTimeout(state.timer);
      state.timer = setTimeout(connect, state.retry);
      state.retry = Math.min(state.retry * 2, 5000);
    };
  };

  try {
    const saved = JSON.parse(sessionStorage.getItem(SCROLL_KEY) || "null");
    sessionStorage.removeItem(SCROLL_KEY);
    if (saved && saved.path === location.pathname) {
      const restore = () => scrollTo(saved.x, saved.y);
      if (document.readyState === "complete") restore(); else addEventListener("load", restore, { once: true });
    }
  } catch (e) { /* storage may be off */ }

  // A hidden tab lets go of its stream (browsers allow few connections per host) and
  // catches up when it is shown again.
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "hidden") disconnect(); else connect();
  });
  addEventListener("pagehide", disconnect);
  addEventListener("pageshow", (event) => { if (event.persisted) connect(); });
  if (document.visibilityState !== "hidden") connect();
})();
"""

_FALLBACK_404 = """<!doctype html>
<html lang="ar" dir="rtl">
<head><meta charset="utf-8"><title>الصفحة غير موجودة</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body style="font-family: system-ui, sans-serif; margin: 3rem;">
<h1>الصفحة غير موجودة</h1>
<p>لا توجد صفحة بهذا العنوان في المعاينة.</p>
</body>
</html>
""".encode("utf-8")


def inject_script(body: bytes, page: str, build: int, server: str) -> bytes:
    """`body` with the preview's script before its last `</body>` (or at its end)."""
    tag = (f'<script src="{SCRIPT_PATH}" data-page="{html.escape(page)}" data-build="{build}" '
           f'data-server="{server}"></script>\n').encode("utf-8")
    at = body.lower().rfind(b"</body>")
    if at < 0:
        return body + tag
    return body[:at] + tag + body[at:]


# -- events to the open tabs -------------------------------------------------------

class EventHub:
    """Fans Server-Sent Events out to every connected stream."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queues: set[queue.SimpleQueue] = set()
        self._closed = False

    def subscribe(self) -> queue.SimpleQueue:
        q: queue.SimpleQueue = queue.SimpleQueue()
        with self._lock:
            if self._closed:
                q.put(None)
            self._queues.add(q)
        return q

    def unsubscribe(self, q: queue.SimpleQueue) -> None:
        with self._lock:
            self._queues.discard(q)

    def publish(self, event: str, data: Any) -> None:
        message = format_event(event, data)
        with self._lock:
            for q in self._queues:
                q.put(message)

    @property
    def clients(self) -> int:
        with self._lock:
            return len(self._queues)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            for q in self._queues:
                q.put(None)


def format_event(event: str, data: Any) -> bytes:
    payload = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return f"event: {event}\ndata: {payload}\n\n".encode("utf-8")


# -- what changed -------------------------------------------------------------------

@dataclass(frozen=True)
class Change:
    """One relevant file event: the path it is about and whether that is a folder."""

    path: Path
    is_directory: bool = False
    kind: str = "modified"


def _within(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def _ignored_name(relative: Path) -> bool:
    """Hidden files and folders, editor backups and probes: never content."""
    return any(part.startswith(".") or part.endswith("~") for part in relative.parts) or \
        relative.name == "4913"


def scan_pages(folder: Path) -> set[str]:
    """Every `index.html` below `folder`, as output-relative paths."""
    found: set[str] = set()
    for dirpath, dirnames, filenames in os.walk(folder):
        if "index.html" in filenames:
            rel = os.path.relpath(dirpath, folder)
            found.add("index.html" if rel == "." else Path(rel, "index.html").as_posix())
    return found


def find_moves(before: set[str], after: set[str]) -> dict[str, str]:
    """Pages that vanished and reappeared under another name in the same section.

    A new headline gives an item a new slug; a tab that shows the old address follows
    it when exactly one page left a section (`articles/`) and exactly one arrived.
    """
    gone: dict[str, list[str]] = {}
    new: dict[str, list[str]] = {}
    for path in before - after:
        gone.setdefault(_section(path), []).append(path)
    for path in after - before:
        new.setdefault(_section(path), []).append(path)
    moves = {}
    for section, old in gone.items():
        arrived = new.get(section, [])
        if len(old) == 1 and len(arrived) == 1:
            moves[old[0]] = "/" + quote(arrived[0][: -len("index.html")], safe="/")
    return moves


def _section(page: str) -> str:
    parts = page.split("/")
    return "/".join(parts[:-2])


# -- the preview ----------------------------------------------------------------------

class Preview:
    """The site being previewed: its configuration, builds, errors and open tabs."""

    def __init__(self, config_path: str | Path, *, drafts: bool = False, console=None):
        self.config_arg = str(config_path)
        self.config_file = _norm(config_path)
        self.drafts = drafts
        self.console = console or _SilentConsole()
        self.config: SiteConfig = load_config(self.config_arg)
        self.builder = self._new_builder(self.config)
        self.hub = EventHub()
        self.server_id = uuid.uuid4().hex[:12]
        self.generation = 0             # successful builds so far
        self.errors: list[str] | None = None
        self.building = False
        self._background_errors: list[str] | None = None  # see `_deferred_failed`
        self._config_stale = False
        self._warnings: set[str] = set()
        self._pages: set[str] = set()
        self._output_identity: tuple | None = None
        self._lock = threading.Lock()
        self.watcher: SourceWatcher | None = None

    # -- building --------------------------------------------------------------------

    def _new_builder(self, config: SiteConfig) -> SiteBuilder:
        """A builder for `config` that tells this preview of its background work."""
        return SiteBuilder(config, drafts=self.drafts, on_deferred_error=self._deferred_failed,
                           on_index_written=self._index_written)

    def first_build(self) -> None:
        """The build at start-up; a failure is shown, not raised: the preview still starts."""
        self.rebuild([], first=True)

    def rebuild(self, changes: list[Change], *, first: bool = False) -> None:
        self.building = True
        try:
            if self._rebuild(changes, first):
                # The edited page is out with the related items of before the edit; rank them
                # again now that the tab is reloading, and reload the pages whose lists changed.
                time.sleep(RELATED_AFTER)
                self._rebuild([], False, quick=False)
        except Exception as exc:  # a bug must not take the preview down
            self.console.debug(traceback.format_exc())
            self._failed([f"error: the build stopped unexpectedly: {type(exc).__name__}: {exc}"])
        finally:
            with self._lock:
                self.building = False
                pending, self._background_errors = self._background_errors, None
            if pending:
                self._failed(pending)

    def _rebuild(self, changes: list[Change], first: bool, quick: bool = True) -> bool:
        """Build and tell the tabs; True when the related items were kept from before (see
        `build.related_lists`) and a build ranking them again is due."""
        if changes:
            names = sorted({_shown(c.path, self.config.root) for c in changes})
            self.console.debug(f"{time.strftime('%H:%M:%S')} changed: {', '.join(names[:5])}"
                               + (f" and {len(names) - 5} more" if len(names) > 5 else ""))
        reconfigure = self._config_stale or any(c.path == self.config_file for c in changes)
        if reconfigure:
            try:
                config = load_config(self.config_arg)
            except NewsgenError as exc:
                self._config_stale = True
                self._failed(_messages(exc))
                return False
            self._config_stale = False
            self.config = config
            # The next builder reads the cache the last one may still be saving (records are
            # kept across configurations): that save finishes first, and the last one lets go.
            # A search index it is still writing is given up, not waited for (a first build's
            # takes a while): the cache says it is due, and the next build writes it.
            self.builder.give_up_background()
            self.builder.close()
            self.builder = self._new_builder(config)
        if self.watcher is not None:
            changes = changes + self.watcher.refresh()
        css_only = not reconfigure and self._css_only(changes)
        started = time.perf_counter()
        try:
            report = self.builder.build(quick=quick and not first)
        except NewsgenError as exc:
            self._failed(_messages(exc))
            return False
        seconds = time.perf_counter() - started
        self._succeeded(report, seconds, css_only, first, "rebuilt" if quick else "related items ranked again")
        return report.related_stale

    def _css_only(self, changes: list[Change]) -> bool:
        if self.config.static_dir is None or not changes:
            return False
        static = _norm(self.config.static_dir)
        seen_css = False
        for change in changes:
            if not _within(change.path, static):
                return False
            if change.is_directory:
                if change.kind != "created":
                    return False
                continue
            if change.path.suffix.lower() != ".css":
                return False
            seen_css = True
        return seen_css

    def _succeeded(self, report, seconds: float, css_only: bool, first: bool, done: str = "rebuilt") -> None:
        changed = getattr(report, "changed", None)
        if changed is not None:
            changed = sorted(str(p).replace(os.sep, "/").lstrip("/") for p in changed)
            css_only = bool(changed) and all(p.lower().endswith(".css") for p in changed)
        moves = self._track_pages(changed)
        was_broken = self.errors is not None
        with self._lock:
            self.generation += 1
            self.errors = None
            generation = self.generation
        new_warnings = [w for w in getattr(report, "warnings", []) if str(w) not in self._warnings]
        self._warnings = {str(w) for w in getattr(report, "warnings", [])}
        for warning in new_warnings:
            self.console.warning(warning)
        if first:
            later = "; the search index is being written in the background" if report.index_later else ""
            self._say(f"built {report.items} items, {report.pages} pages in {seconds:.2f} s{later}")
        else:
            detail = "" if changed is None else f", {len(changed)} file{'s' if len(changed) != 1 else ''} changed"
            fixed = "; the errors are fixed" if was_broken else ""
            self._say(f"{time.strftime('%H:%M:%S')} {done} in {seconds:.2f} s{detail}{fixed}")
        self.hub.publish("update", {"build": generation, "changed": changed, "css_only": css_only,
                                    "moved": moves, "errors": None})

    def _track_pages(self, changed: list[str] | None) -> dict[str, str]:
        """Bring the set of pages up to date; pages that moved, for `find_moves`.

        A build that swapped in a new output folder (or says nothing of what it wrote)
        means a walk through the folder; an in-place build only touched `changed`.
        """
        output = self.config.output_dir
        try:
            stat = output.stat()
            identity = (str(output), stat.st_dev, stat.st_ino)
        except OSError:
            identity = None
        if changed is None or identity is None or identity != self._output_identity:
            pages = scan_pages(output)
        else:
            pages = set(self._pages)
            for path in changed:
                if path == "index.html" or path.endswith("/index.html"):
                    if (output / path).is_file():
                        pages.add(path)
                    else:
                        pages.discard(path)
        moves = find_moves(self._pages, pages)
        self._pages, self._output_identity = pages, identity
        return moves

    def _failed(self, messages: list[str]) -> None:
        with self._lock:
            repeated = messages == self.errors
            self.errors = messages
        if not repeated:
            for message in messages:
                self.console.error(message)
            self.console.error("error: the build failed; the preview keeps serving the last good site "
                               "until the next good save")
            _flush()
        self.hub.publish("failed", {"build": self.generation, "errors": messages})

    def _deferred_failed(self, exc: NewsgenError) -> None:
        """What a build left to the background (the search index) failed: shown as a failed build,
        though the pages are out; after the build under way, if any, has told of its own end."""
        messages = _messages(exc)
        with self._lock:
            if self.building:
                self._background_errors = messages
                return
        self._failed(messages)

    def _index_written(self, seconds: float) -> None:
        self._say(f"{time.strftime('%H:%M:%S')} search index written in {seconds:.2f} s more")

    def _say(self, text: str) -> None:
        self.console.info(text)
        _flush()

    def status(self) -> dict:
        with self._lock:
            return {"server": self.server_id, "build": self.generation, "errors": self.errors,
                    "building": self.building, "clients": self.hub.clients}

    # -- what the watcher reports ------------------------------------------------------

    def source_folders(self) -> list[Path]:
        config = self.config
        folders = [*config.item_dirs, config.pages_dir, config.templates_dir, config.static_dir]
        return [_norm(f) for f in folders if f is not None]

    def relevant(self, path: Path) -> bool:
        """Whether a file event at `path` can change the site."""
        if path == self.config_file:
            return True
        output = _norm(self.config.output_dir)
        if _within(path, output) or (path.parent == output.parent and path.name.startswith(f".{output.name}.")):
            return False
        for folder in self.source_folders():
            if _within(path, folder):
                return path == folder or not _ignored_name(path.relative_to(folder))
        return False

    # -- answering requests -------------------------------------------------------------

    def resolve(self, raw_path: str) -> tuple[str, str | None]:
        """("file", real path), ("redirect", location) or ("missing", None) for a URL path.

        Only files inside the output folder are ever found: `..` and `.` segments, encoded
        slashes and backslashes, empty segments, hidden names and links that lead out of the
        folder all count as missing.
        """
        segments = url_segments(raw_path)
        if segments is None:
            return "missing", None
        names, trailing = segments
        found = self.lookup(names, trailing)
        if found[0] == "missing":
            base = [s for s in self.config.base_path.split("/") if s]
            if base and names[: len(base)] == base:
                found = self.lookup(names[len(base):], trailing)
        return found

    def lookup(self, names: list[str], trailing: bool) -> tuple[str, str | None]:
        """`resolve` for decoded, already checked path segments."""
        root = self.config.output_dir
        for _ in range(100):  # the output folder is missing only while a build swaps it in
            if root.is_dir():
                break
            if not (self.building and self.generation):
                return "missing", None
            time.sleep(0.01)
        real_root = os.path.realpath(root)
        target = os.path.realpath(os.path.join(real_root, *names))
        if not _inside(target, real_root):
            return "missing", None
        if os.path.isdir(target):
            target = os.path.realpath(os.path.join(target, "index.html"))
            if not _inside(target, real_root) or not os.path.isfile(target):
                return "missing", None
            if names and not trailing:
                return "redirect", "/" + "/".join(quote(n) for n in names) + "/"
        if not os.path.isfile(target):
            return "missing", None
        return "file", target

    def page_name(self, real_path: str) -> str:
        root = os.path.realpath(self.config.output_dir)
        return Path(os.path.relpath(real_path, root)).as_posix()


def _norm(path: str | Path) -> Path:
    """An absolute path without `.` or `..`, symbolic links left alone, as watchdog reports them."""
    return Path(os.path.abspath(path))


def _shown(path: Path, root: Path) -> str:
    try:
        return path.relative_to(_norm(root)).as_posix()
    except ValueError:
        return str(path)


def _inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def url_segments(raw_path: str) -> tuple[list[str], bool] | None:
    """Decoded path segments of a URL path and whether it ends with `/`; None if unsafe."""
    if not raw_path.startswith("/"):
        return None
    parts = raw_path.split("/")[1:]
    trailing = parts[-1] == ""
    if trailing:
        parts = parts[:-1]
    names = []
    for part in parts:
        if not part:
            return None
        try:
            name = unquote(part, errors="strict")
        except UnicodeDecodeError:
            return None
        if name in (".", "..") or name.startswith(".") or any(c in name for c in "/\\\0"):
            return None
        names.append(name)
    return names, trailing


def _messages(exc: NewsgenError) -> list[str]:
    if isinstance(exc, BuildFailed):
        errors = [str(p) for p in exc.problems if p.severity == "error"]
        return errors or [str(exc)]
    return [str(exc) if exc.path else f"error: {exc}"]


def _flush() -> None:
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass


class _SilentConsole:
    def error(self, text: str) -> None: ...
    def warning(self, problem) -> None: ...
    def info(self, text: str) -> None: ...
    def debug(self, text: str) -> None: ...


# -- watching the sources ------------------------------------------------------------

class SourceWatcher:
    """Watches the site's source folders and `site.toml`; events go to a `Rebuilder`.

    Each existing source folder is watched recursively. The folder of `site.toml` and
    the nearest existing parent of a missing source folder are watched on their own, so
    that creating `static/` later is noticed; the watches are laid again whenever a
    source folder appears, disappears or is replaced.
    """

    def __init__(self, preview: Preview, rebuilder: "Rebuilder"):
        from watchdog.events import FileSystemEventHandler

        self.preview = preview
        self.rebuilder = rebuilder
        self._layout: tuple | None = None
        self._lock = threading.Lock()
        watcher = self

        class Handler(FileSystemEventHandler):
            def on_any_event(self, event) -> None:
                watcher.on_event(event)

        from watchdog.observers import Observer

        self.handler = Handler()
        self.observer = Observer(timeout=0.05)

    def start(self) -> None:
        # Started first, so that a watch that cannot be laid fails inside `refresh`.
        self.observer.start()
        self.refresh()

    def stop(self) -> None:
        try:
            self.observer.stop()
            self.observer.join(timeout=1.0)
        except Exception:  # stopping must never raise on the way out
            pass

    def _current_layout(self) -> tuple:
        layout = []
        for folder in self.preview.source_folders():
            try:
                stat = folder.stat()
                layout.append((folder, stat.st_dev, stat.st_ino))
            except OSError:
                layout.append((folder, None, None))
        return (self.preview.config_file, tuple(layout))

    def refresh(self) -> list[Change]:
        """Lay the watches again if the source folders changed; report files found in new ones."""
        with self._lock:
            layout = self._current_layout()
            if layout == self._layout:
                return []
            previous = {entry[0]: entry[1:] for entry in self._layout[1]} if self._layout else {}
            self._layout = layout
            found: list[Change] = []
            try:
                self._schedule(layout)
            except OSError as exc:
                self.preview.console.error(f"warning: cannot watch the sources ({exc.strerror or exc}); "
                                           "switching to polling")
                self._switch_to_polling(layout)
            for folder, dev, ino in layout[1]:
                if ino is not None and previous and previous.get(folder, (None, None)) != (dev, ino):
                    found.extend(Change(p) for p in _files_below(folder))
            return found

    def _schedule(self, layout: tuple) -> None:
        self.observer.unschedule_all()
        recursive = []
        for folder, _, ino in layout[1]:
            if ino is not None and not any(_within(folder, r) for r in recursive):
                recursive = [r for r in recursive if not _within(r, folder)] + [folder]
        for folder in recursive:
            self.observer.schedule(self.handler, str(folder), recursive=True)
        single = {self.preview.config_file.parent}
        for folder, _, ino in layout[1]:
            if ino is None:
                parent = folder.parent
                while not parent.is_dir() and parent != parent.parent:
                    parent = parent.parent
                single.add(parent)
        for folder in single:
            if folder.is_dir() and not any(_within(folder, r) for r in recursive):
                self.observer.schedule(self.handler, str(folder), recursive=False)

    def _switch_to_polling(self, layout: tuple) -> None:
        from watchdog.observers.polling import PollingObserver

        self.stop()
        self.observer = PollingObserver(timeout=0.5)
        self.observer.start()
        self._schedule(layout)

    def on_event(self, event) -> None:
        if event.event_type not in _WATCHED_EVENTS:
            return
        if event.is_directory and event.event_type in ("modified", "closed"):
            return
        paths = [event.src_path]
        if event.event_type == "moved":
            paths.append(event.dest_path)
        changes = []
        for raw in paths:
            path = _norm(os.fsdecode(raw))
            if self.preview.relevant(path):
                changes.append(Change(path, event.is_directory, event.event_type))
        if changes:
            self.rebuilder.add(changes)


def _files_below(folder: Path) -> Iterable[Path]:
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = [d for d in dirnames if not d.startswith(".")]
        for name in filenames:
            yield Path(dirpath, name)


class Rebuilder:
    """One thread that turns bursts of file events into one rebuild at a time."""

    def __init__(self, preview: Preview):
        self.preview = preview
        self._cond = threading.Condition()
        self._changes: list[Change] = []
        self._first = self._last = 0.0
        self._stopping = False
        self.thread = threading.Thread(target=self._run, name="newsgen-rebuild", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def add(self, changes: list[Change]) -> None:
        with self._cond:
            now = time.monotonic()
            if not self._changes:
                self._first = now
            self._changes.extend(changes)
            self._last = now
            self._cond.notify()

    def stop(self) -> None:
        with self._cond:
            self._stopping = True
            self._cond.notify()

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._changes and not self._stopping:
                    self._cond.wait()
                while not self._stopping:
                    due = min(self._last + DEBOUNCE, self._first + MAX_DELAY)
                    wait = due - time.monotonic()
                    if wait <= 0:
                        break
                    self._cond.wait(wait)
                if self._stopping:
                    return
                changes, self._changes = self._changes, []
                self.preview.building = True
            self.preview.rebuild(changes)


# -- HTTP -------------------------------------------------------------------------------

class PreviewHandler(BaseHTTPRequestHandler):
    server_version = "newsgen-serve"
    protocol_version = "HTTP/1.1"
    timeout = IDLE_TIMEOUT

    @property
    def preview(self) -> Preview:
        return self.server.preview  # type: ignore[attr-defined]

    def do_GET(self) -> None:
        self._answer(head=False)

    def do_HEAD(self) -> None:
        self._answer(head=True)

    # Pages are never cached (each carries the build it belongs to); other files may be
    # kept but are checked at every use, so a reload does not fetch the fonts again.
    cache_control = "no-store"

    def end_headers(self) -> None:
        self.send_header("Cache-Control", self.cache_control)
        self.cache_control = "no-store"
        self.send_header("X-Content-Type-Options", "nosniff")
        super().end_headers()

    def send_error(self, code, message=None, explain=None) -> None:
        self.close_connection = True
        super().send_error(code, message, explain)

    def log_message(self, format: str, *args) -> None:
        self.preview.console.debug(f"{self.address_string()} {format % args}")

    def _answer(self, head: bool) -> None:
        if not self.server.host_allowed(self.headers.get("Host")):  # type: ignore[attr-defined]
            # A page elsewhere that rebinds its own name to this machine must not read the
            # preview (drafts, unpublished items).
            self._send(403, "text/plain; charset=utf-8",
                       "newsgen serve answers only to localhost addresses\n".encode("utf-8"), head)
            return
        path = self._request_path()
        if path == EVENTS_PATH:
            self._events(head)
        elif path == SCRIPT_PATH:
            self._send(200, "text/javascript; charset=utf-8", RELOAD_JS.encode("utf-8"), head)
        elif path == STATUS_PATH:
            body = json.dumps(self.preview.status(), ensure_ascii=False).encode("utf-8")
            self._send(200, "application/json; charset=utf-8", body, head)
        elif path.startswith(PREFIX):
            self._not_found(head)
        else:
            self._file(path, head)

    def _request_path(self) -> str:
        """The path of the request target, still percent-encoded; "" for anything odd."""
        target = self.path
        if target.startswith("/"):
            return target.split("?", 1)[0].split("#", 1)[0]
        try:
            parts = urlsplit(target)  # the absolute form, `GET http://host/path`
        except ValueError:
            return ""
        return parts.path if parts.scheme in ("http", "https") else ""

    def _file(self, path: str, head: bool) -> None:
        preview = self.preview
        for _ in range(3):  # a build may swap the folder between finding a file and opening it
            build = preview.generation
            kind, found = preview.resolve(path)
            if kind == "redirect":
                query = self.path.partition("?")[2].split("#", 1)[0]
                self.send_response(HTTPStatus.MOVED_PERMANENTLY)
                self.send_header("Location", found + (f"?{query}" if query else ""))
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            if kind == "missing":
                self._not_found(head)
                return
            try:
                handle = open(found, "rb")
            except OSError:
                continue
            with handle:
                kind_of = content_type(found)
                if kind_of.startswith("text/html"):
                    body = inject_script(handle.read(), preview.page_name(found), build, preview.server_id)
                    self._send(200, kind_of, body, head)
                    return
                stat = os.fstat(handle.fileno())
                size = stat.st_size
                tag = f'"{stat.st_ino:x}-{stat.st_mtime_ns:x}-{size:x}"'
                fresh = tag in [t.strip() for t in self.headers.get("If-None-Match", "").split(",")]
                self.send_response(HTTPStatus.NOT_MODIFIED if fresh else HTTPStatus.OK)
                self.cache_control = "no-cache"
                self.send_header("ETag", tag)
                if not fresh:
                    self.send_header("Content-Type", kind_of)
                    self.send_header("Content-Length", str(size))
                self.end_headers()
                if not head and not fresh and size:
                    self.connection.sendfile(handle)
                return
        self._not_found(head)

    def _not_found(self, head: bool) -> None:
        preview = self.preview
        build = preview.generation
        kind, found = preview.lookup(["404.html"], False)
        body = _FALLBACK_404
        page = "404.html"
        if kind == "file":
            try:
                body = Path(found).read_bytes()
            except OSError:
                pass
        self._send(404, "text/html; charset=utf-8", inject_script(body, page, build, preview.server_id), head)

    def _send(self, status: int, kind: str, body: bytes, head: bool) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if not head:
            self.wfile.write(body)

    def _events(self, head: bool) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        self.send_header("Connection", "close")
        self.send_header("X-Accel-Buffering", "no")
        self.end_headers()
        self.close_connection = True
        if head:
            return
        hub = self.preview.hub
        stream = hub.subscribe()
        try:
            hello = {k: v for k, v in self.preview.status().items() if k in ("server", "build", "errors")}
            self.wfile.write(f"retry: {RETRY_MS}\n\n".encode() + format_event("hello", hello))
            while True:
                try:
                    message = stream.get(timeout=KEEPALIVE)
                except queue.Empty:
                    message = b": keep-alive\n\n"
                if message is None:
                    break
                self.wfile.write(message)
        except OSError:
            pass  # the tab went away
        finally:
            hub.unsubscribe(stream)


class PreviewHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], preview: Preview, family: int):
        self.address_family = family
        self.preview = preview
        super().__init__(address, PreviewHandler)

    def host_allowed(self, header: str | None) -> bool:
        """On a loopback address, only requests for a loopback name are answered."""
        if header is None or not is_loopback(self.server_address[0]):
            return True
        name = header.strip().lower()
        if name.startswith("["):
            name = name[1:].partition("]")[0]
        elif name.count(":") == 1:
            name = name.partition(":")[0]
        return name.endswith(".localhost") or is_loopback(name.rstrip("."))

    def server_bind(self) -> None:
        # No reverse DNS look-up of the host, unlike HTTPServer.server_bind.
        import socketserver

        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]

    def handle_error(self, request, client_address) -> None:
        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, TimeoutError, socket.timeout)):
            return
        self.preview.console.debug("".join(traceback.format_exception(exc)))


# -- putting it together -----------------------------------------------------------------

class PreviewServer:
    """`newsgen serve` as an object: `start()`, then `serve_forever()` or `stop()`."""

    def __init__(self, config_path: str | Path = "site.toml", *, host: str = "127.0.0.1", port: int = 8000,
                 drafts: bool = False, console=None):
        self.console = console or _SilentConsole()
        self.preview = Preview(config_path, drafts=drafts, console=self.console)
        self.host = host
        self.requested_port = port
        self.httpd: PreviewHTTPServer | None = None
        self.rebuilder = Rebuilder(self.preview)
        self.watcher: SourceWatcher | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        assert self.httpd is not None
        return self.httpd.server_address[1]

    @property
    def url(self) -> str:
        host = self.host
        if host in ("", "0.0.0.0"):
            host = "127.0.0.1"
        elif host == "::":
            host = "::1"
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self.port}/"

    def start(self) -> None:
        """Listen, build once and start watching; raises `NewsgenError` when it cannot listen."""
        try:
            self.httpd = bind(self.host, self.requested_port, self.preview)
            self.watcher = SourceWatcher(self.preview, self.rebuilder)
            self.preview.watcher = self.watcher
            self.watcher.start()
            self.preview.first_build()
            self.rebuilder.start()
            self._thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.1},
                                            name="newsgen-http", daemon=True)
            self._thread.start()
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        self.rebuilder.stop()
        if self.watcher is not None:
            self.watcher.stop()
        self.preview.hub.close()
        if self.httpd is not None:
            if self._thread is not None and self._thread.is_alive():
                self.httpd.shutdown()
            self.httpd.server_close()
        # A search index still being written (a first build's takes a while) is given up rather
        # than waited for; the cache is saved saying so, and the next build writes the index.
        self.preview.builder.give_up_background()

    def wait(self) -> None:
        """Block until Ctrl-C."""
        while self._thread is not None and self._thread.is_alive():
            self._thread.join(timeout=0.5)


def bind(host: str, port: int, preview: Preview) -> PreviewHTTPServer:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        return PreviewHTTPServer((host, port), preview, family)
    except socket.gaierror:
        raise ServeError(f"cannot listen on {host!r}: no such address on this machine; "
                         "use --host 127.0.0.1") from None
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise ServeError(f"port {port} on {host} is already in use (another `newsgen serve`?); "
                             f"stop that program or choose another port with --port, e.g. --port {port % 65535 + 1}"
                             ) from None
        if exc.errno == errno.EACCES:
            raise ServeError(f"not allowed to listen on port {port} (ports below 1024 need special rights); "
                             "choose another with --port, e.g. --port 8000") from None
        if exc.errno == errno.EADDRNOTAVAIL:
            raise ServeError(f"cannot listen on {host}: that address is not on this machine; "
                             "use --host 127.0.0.1") from None
        raise ServeError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"{value} is not a port number (0 to 65535; 0 picks a free one)")
    return value


def add_parser(subparsers, add_site_options) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "serve", help="preview the site locally; rebuilds and reloads the browser on every save",
        description="Build the site, serve it on a local address and rebuild it whenever an item, "
                    "page, template, asset or site.toml changes. Open tabs reload by themselves; "
                    "build errors are shown in the page while the last good site stays online.")
    add_site_options(parser)
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to listen on (default: 127.0.0.1, this machine only)")
    parser.add_argument("--port", "-p", type=_port, default=8000, help="port to listen on (default: 8000)")
    parser.add_argument("--open", action="store_true", help="open the preview in the web browser")
    parser.set_defaults(handler=run_serve)
    return parser


def run_serve(args: argparse.Namespace, console) -> int:
    server = PreviewServer(args.config, host=args.host, port=args.port, drafts=args.drafts, console=console)
    if not is_loopback(args.host):
        console.error(f"warning: listening on {args.host or 'every address'}: the preview is visible to "
                      "other machines on the network; use --host 127.0.0.1 to keep it private")
    try:
        server.start()
        console.info(f"serving {server.preview.config.title} at {server.url} "
                     f"(watching for changes; press Ctrl-C to stop)")
        _flush()
        if args.open:
            import webbrowser

            threading.Thread(target=webbrowser.open, args=(server.url,), daemon=True).start()
        server.wait()
    except KeyboardInterrupt:
        server.stop()
        console.info("\nstopped")
        return 0
    server.stop()
    return 0
