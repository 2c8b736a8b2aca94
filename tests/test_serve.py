"""`newsgen serve` without a browser: HTTP answers, safety, rebuilds and their events."""

from __future__ import annotations

import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import quote

import pytest

from newsgen.cli import Console, main
from newsgen.serve import EVENTS_PATH, SCRIPT_PATH, PreviewServer

SITE_TOML = """\
[site]
title = "أخبار الاختبار"

[content]
items = ["items"]

[build]
output = "public"
"""

ITEMS = {
    "budget.md": "---\ntitle: الحكومة تعلن ميزانية العام الجديد\ndate: 2024-03-01\n---\n\n"
                 "أعلنت الحكومة اليوم ميزانية العام الجديد بزيادة في الإنفاق على التعليم والصحة.\n",
    "final.md": "---\ntitle: المنتخب يفوز في المباراة النهائية\ndate: 2024-03-02\n---\n\n"
                "فاز المنتخب الوطني في المباراة النهائية للبطولة بهدفين مقابل هدف.\n",
    "festival.md": "---\ntitle: افتتاح مهرجان الكتاب في العاصمة\ndate: 2024-03-03\n---\n\n"
                   "افتتح مهرجان الكتاب أبوابه للزوار بمشاركة مئات الناشرين.\n",
}
SECRET = "TOP-SECRET-OUTSIDE-THE-OUTPUT"
EVENT_TIMEOUT = 8.0


def make_site(folder: Path) -> Path:
    root = folder / "site"
    (root / "items").mkdir(parents=True)
    (root / "site.toml").write_text(SITE_TOML, encoding="utf-8")
    for name, text in ITEMS.items():
        (root / "items" / name).write_text(text, encoding="utf-8")
    (folder / "secret.txt").write_text(SECRET, encoding="utf-8")
    (root / "secret.txt").write_text(SECRET, encoding="utf-8")
    return root


def start(site: Path) -> PreviewServer:
    preview = PreviewServer(site / "site.toml", host="127.0.0.1", port=0, console=Console(quiet=True))
    preview.start()
    return preview


@pytest.fixture
def site(tmp_path: Path) -> Path:
    return make_site(tmp_path)


@pytest.fixture
def server(site: Path):
    preview = start(site)
    yield preview
    preview.stop()


@pytest.fixture(scope="module")
def shared(tmp_path_factory) -> tuple[PreviewServer, Path]:
    """One server for the tests that only read."""
    site = make_site(tmp_path_factory.mktemp("shared"))
    preview = start(site)
    yield preview, site
    preview.stop()


def fetch(server: PreviewServer, path: str, method: str = "GET") -> tuple[int, dict, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        conn.putrequest(method, path, skip_accept_encoding=True)
        conn.endheaders()
        response = conn.getresponse()
        body = response.read()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, body
    finally:
        conn.close()


class EventStream:
    """A minimal Server-Sent Events reader."""

    def __init__(self, server: PreviewServer):
        self.conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=EVENT_TIMEOUT)
        self.conn.request("GET", EVENTS_PATH)
        self.sock = self.conn.sock  # the response keeps using it after the connection lets go
        self.response = self.conn.getresponse()
        assert self.response.status == 200
        assert self.response.getheader("Content-Type").startswith("text/event-stream")

    def next(self, timeout: float = EVENT_TIMEOUT) -> tuple[str, dict]:
        self.sock.settimeout(timeout)
        name, data = "message", []
        while True:
            line = self.response.fp.readline().decode("utf-8")
            if not line:
                raise EOFError("the event stream closed")
            line = line.rstrip("\n")
            if not line:
                if data:
                    return name, json.loads("\n".join(data))
                name = "message"
                continue
            if line.startswith(":"):
                continue
            field, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            if field == "event":
                name = value
            elif field == "data":
                data.append(value)

    def wait_for(self, name: str, timeout: float = EVENT_TIMEOUT) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"no {name!r} event within {timeout} s")
            event, data = self.next(left)
            if event == name:
                return data

    def close(self) -> None:
        self.response.close()
        self.conn.close()


def article_dir(site: Path, title: str) -> str:
    for page in (site / "public" / "articles").glob("*/index.html"):
        if f">{title}</h1>" in page.read_text(encoding="utf-8"):
            return page.parent.name
    raise AssertionError(f"no article page titled {title!r}")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def run_cli(*args: str, timeout: float = 20) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "newsgen.cli", *args], capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, "PYTHONUNBUFFERED": "1"})


# -- answering requests -------------------------------------------------------------------

def test_content_types_carry_utf8_charset(shared):
    server, site = shared
    font = next((site / "public" / "assets" / "fonts").glob("*.woff2")).name
    expected = {
        "/": "text/html; charset=utf-8",
        "/assets/style.css": "text/css; charset=utf-8",
        "/feed.xml": "application/xml; charset=utf-8",
        "/sitemap.xml": "application/xml; charset=utf-8",
        "/robots.txt": "text/plain; charset=utf-8",
        SCRIPT_PATH: "text/javascript; charset=utf-8",
        f"/assets/fonts/{font}": "font/woff2",
    }
    for path, kind in expected.items():
        status, headers, body = fetch(server, path)
        assert status == 200, path
        assert headers["content-type"] == kind, path
        # Pages are never stored; other files are, but checked again at every use.
        page = kind.startswith("text/html") or path == SCRIPT_PATH
        assert headers["cache-control"] == ("no-store" if page else "no-cache"), path
        assert ("etag" in headers) is not page, path
        assert int(headers["content-length"]) == len(body), path


def test_an_unchanged_asset_is_answered_not_modified_and_a_changed_one_in_full(shared):
    server, site = shared
    status, headers, body = fetch(server, "/robots.txt")
    tag = headers["etag"]
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    connection.request("GET", "/robots.txt", headers={"If-None-Match": tag})
    response = connection.getresponse()
    assert response.status == 304 and response.read() == b"" and response.getheader("ETag") == tag
    connection.request("GET", "/robots.txt", headers={"If-None-Match": '"something-else"'})
    response = connection.getresponse()
    assert response.status == 200 and response.read() == body
    connection.close()


def test_missing_page_gets_the_site_404_with_status_404(shared):
    server, _ = shared
    status, headers, body = fetch(server, "/articles/no-such-item/")
    assert status == 404
    assert headers["content-type"] == "text/html; charset=utf-8"
    assert headers["cache-control"] == "no-store"
    text = body.decode("utf-8")
    assert "الصفحة غير موجودة" in text
    assert SCRIPT_PATH in text  # a 404 tab reloads too once the page exists


def test_percent_encoded_arabic_url_resolves(shared):
    server, site = shared
    slug = article_dir(site, "المنتخب يفوز في المباراة النهائية")
    assert re.search(r"[\u0600-\u06ff]", slug)
    status, headers, body = fetch(server, f"/articles/{quote(slug)}/")
    assert status == 200
    assert "المنتخب يفوز في المباراة النهائية" in body.decode("utf-8")
    status, headers, _ = fetch(server, f"/articles/{quote(slug)}")
    assert status == 301
    assert headers["location"] == f"/articles/{quote(slug)}/"
    status, _, _ = fetch(server, f"/articles/{quote(slug)}/?utm=1#top")
    assert status == 200


TRAVERSALS = [
    "/../secret.txt",
    "/../../secret.txt",
    "/%2e%2e/secret.txt",
    "/%2E%2E/%2e%2e/secret.txt",
    "/%2e%2e%2fsecret.txt",
    "/articles/..%2f..%2fsecret.txt",
    "/articles/%2e%2e%2f%2e%2e%2f%2e%2e%2fsecret.txt",
    "/.%2e/secret.txt",
    "/..%5csecret.txt",
    "/%252e%252e/secret.txt",
    "//etc/passwd",
    "/%2fetc%2fpasswd",
    "/etc/passwd",
    "/assets/../../secret.txt",
    "/%00/secret.txt",
    "/%ff%fe/",
    "http://127.0.0.1/../secret.txt",
    "secret.txt",
]


def test_no_request_reads_outside_the_output(shared):
    server, _ = shared
    for path in TRAVERSALS:
        status, _, body = fetch(server, path)
        assert status == 404, path
        assert SECRET.encode() not in body, path
        assert b"root:x:0:0" not in body, path


def test_symlinks_leading_out_of_the_output_are_404(server, site, tmp_path):
    public = site / "public"
    (public / "leak.txt").symlink_to(tmp_path / "secret.txt")
    (public / "leakdir").symlink_to(tmp_path)
    (public / "articles" / "up").symlink_to(site)
    (public / "inside.css").symlink_to(public / "assets" / "style.css")
    for path in ("/leak.txt", "/leakdir/secret.txt", "/leakdir/", "/articles/up/secret.txt"):
        status, _, body = fetch(server, path)
        assert status == 404, path
        assert SECRET.encode() not in body
    status, _, _ = fetch(server, "/inside.css")
    assert status == 200  # a link that stays inside the output is fine


def test_head_answers_like_get_without_a_body(shared):
    server, site = shared
    slug = article_dir(site, "الحكومة تعلن ميزانية العام الجديد")
    for path in ("/", f"/articles/{quote(slug)}/", "/assets/style.css", "/missing/"):
        get_status, get_headers, get_body = fetch(server, path)
        head_status, head_headers, head_body = fetch(server, path, "HEAD")
        assert head_status == get_status, path
        assert head_body == b""
        assert head_headers["content-type"] == get_headers["content-type"]
        assert int(head_headers["content-length"]) == len(get_body)


def test_absolute_links_under_the_base_path_resolve(site):
    """404.html links to /<base path>/assets/...; the preview serves the site at / and there."""
    config = site / "site.toml"
    config.write_text(SITE_TOML.replace("[site]\n", '[site]\nbase_url = "https://example.org/news/"\n'),
                      encoding="utf-8")
    preview = start(site)
    try:
        _, _, body = fetch(preview, "/nothing-here/")
        assert b'href="/news/assets/style.css"' in body
        status, headers, _ = fetch(preview, "/news/assets/style.css")
        assert status == 200 and headers["content-type"] == "text/css; charset=utf-8"
        assert fetch(preview, "/news/")[0] == 200
        assert fetch(preview, "/news/../secret.txt")[0] == 404
    finally:
        preview.stop()


def test_script_is_added_when_served_never_written(server, site, tmp_path):
    slug = article_dir(site, "افتتاح مهرجان الكتاب في العاصمة")
    _, _, body = fetch(server, f"/articles/{quote(slug)}/")
    text = body.decode("utf-8")
    assert text.count(SCRIPT_PATH) == 1
    assert text.index(SCRIPT_PATH) < text.rindex("</body>")
    for page in (site / "public").rglob("*"):
        if page.is_file() and not page.is_symlink():
            assert b"__newsgen" not in page.read_bytes(), page
    built = tmp_path / "built"
    assert main(["build", "--config", str(site / "site.toml"), "--output", str(built), "--quiet"]) == 0
    pages = [p for p in built.rglob("*.html")]
    assert pages
    for page in pages:
        assert b"__newsgen" not in page.read_bytes(), page


def test_requests_for_other_host_names_are_refused(shared):
    """A page elsewhere whose name was rebound to 127.0.0.1 must not read the preview."""
    server, _ = shared
    for host, expected in (("evil.example", 403), ("evil.example:80", 403), (f"127.0.0.1:{server.port}", 200),
                           (f"localhost:{server.port}", 200), ("[::1]", 200), ("news.localhost", 200)):
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
        try:
            conn.putrequest("GET", "/", skip_host=True)
            conn.putheader("Host", host)
            conn.endheaders()
            response = conn.getresponse()
            body = response.read()
        finally:
            conn.close()
        assert response.status == expected, host
        if expected == 403:
            assert "أخبار الاختبار".encode() not in body


def test_unknown_preview_paths_are_404(shared):
    server, _ = shared
    assert fetch(server, "/__newsgen/")[0] == 404
    assert fetch(server, "/__newsgen/nothing.js")[0] == 404


def test_unknown_methods_are_refused(shared):
    server, _ = shared
    status, headers, _ = fetch(server, "/", "POST")
    assert status in (405, 501)
    assert headers["cache-control"] == "no-store"


# -- rebuilding -----------------------------------------------------------------------------

def test_failed_rebuild_keeps_the_last_good_site_and_streams_the_error(server, site):
    slug = article_dir(site, "الحكومة تعلن ميزانية العام الجديد")
    page = f"/articles/{quote(slug)}/"
    stream = EventStream(server)
    try:
        hello = stream.wait_for("hello")
        assert hello["errors"] is None
        build = hello["build"]

        item = site / "items" / "budget.md"
        good = item.read_text(encoding="utf-8")
        item.write_text("---\ntitle: [unclosed\ndate: 2024-03-01\n---\n\nنص.\n", encoding="utf-8")
        failed = stream.wait_for("failed")
        assert any(re.match(r"items/budget\.md:\d+: ", message) for message in failed["errors"]), failed
        status, _, body = fetch(server, page)
        assert status == 200
        assert "الحكومة تعلن ميزانية العام الجديد" in body.decode("utf-8")

        # A tab opened now learns about the error as soon as it connects.
        late = EventStream(server)
        try:
            assert late.wait_for("hello")["errors"] == failed["errors"]
        finally:
            late.close()

        item.write_text(good.replace("تعلن ميزانية", "تقر ميزانية"), encoding="utf-8")
        update = stream.wait_for("update")
        assert update["errors"] is None
        assert update["build"] > build
        new_slug = article_dir(site, "الحكومة تقر ميزانية العام الجديد")
        assert update["moved"] == {f"articles/{slug}/index.html": f"/articles/{quote(new_slug)}/"}
        status, _, body = fetch(server, f"/articles/{quote(new_slug)}/")
        assert status == 200 and "الحكومة تقر ميزانية العام الجديد" in body.decode("utf-8")
        assert fetch(server, page)[0] == 404
    finally:
        stream.close()


class RecordingConsole(Console):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def error(self, text: str) -> None:
        self.lines.append(text)

    def warning(self, problem) -> None:
        self.lines.append(str(problem))

    def info(self, text: str) -> None:
        self.lines.append(text)


def test_terminal_shows_each_error_once_without_traceback(site):
    console = RecordingConsole()
    preview = PreviewServer(site / "site.toml", host="127.0.0.1", port=0, console=console)
    preview.start()
    stream = EventStream(preview)
    try:
        stream.wait_for("hello")
        item = site / "items" / "final.md"
        broken = "---\ntitle: [unclosed\n---\n\nنص.\n"
        item.write_text(broken, encoding="utf-8")
        stream.wait_for("failed")
        item.write_text(broken + "\nنص آخر.\n", encoding="utf-8")  # the same mistake, saved again
        stream.wait_for("failed")
        item.write_text(ITEMS["final.md"], encoding="utf-8")
        stream.wait_for("update")
    finally:
        stream.close()
        preview.stop()
    shown = [line for line in console.lines if line.startswith("items/final.md:")]
    assert len(shown) == 1, console.lines
    assert re.match(r"items/final\.md:\d+: malformed YAML", shown[0])
    assert not any("Traceback" in line for line in console.lines)
    assert "rebuilt" in console.lines[-1] and "fixed" in console.lines[-1]


def _stylesheet_only(update: dict) -> bool:
    """Whether an update lets a tab on an article or the home page keep its document."""
    if update["css_only"]:
        return True
    changed = update["changed"] or []
    return any(p.endswith(".css") for p in changed) and not any(
        p == "index.html" or p.startswith("articles/") or not p.endswith((".html", ".xml", ".json", ".css"))
        for p in changed)


def test_a_site_broken_from_the_start_is_still_served_and_recovers(site):
    item = site / "items" / "budget.md"
    good = item.read_text(encoding="utf-8")
    item.write_text("---\ntitle: [unclosed\n---\n\nنص.\n", encoding="utf-8")
    preview = start(site)
    stream = EventStream(preview)
    try:
        hello = stream.wait_for("hello")
        assert any(message.startswith("items/budget.md:") for message in hello["errors"])
        status, headers, body = fetch(preview, "/")
        assert status == 404 and SCRIPT_PATH.encode() in body  # the tab shows the overlay
        item.write_text(good, encoding="utf-8")
        assert stream.wait_for("update")["errors"] is None
        status, _, body = fetch(preview, "/")
        assert status == 200 and "الحكومة تعلن ميزانية العام الجديد" in body.decode("utf-8")
    finally:
        stream.close()
        preview.stop()


def test_stylesheet_only_change_is_announced_as_such(server, site):
    stream = EventStream(server)
    try:
        stream.wait_for("hello")
        static = site / "static"
        static.mkdir()
        theme_css = (site / "public" / "assets" / "style.css").read_text(encoding="utf-8")
        (static / "style.css").write_text(theme_css + "\nbody { color: rgb(1, 2, 3); }\n", encoding="utf-8")
        update = stream.wait_for("update")
        assert _stylesheet_only(update), update
        deadline = time.monotonic() + EVENT_TIMEOUT
        while b"rgb(1, 2, 3)" not in fetch(server, "/assets/style.css")[2]:
            assert time.monotonic() < deadline
            update = stream.wait_for("update")
            assert _stylesheet_only(update), update

        (site / "items" / "final.md").write_text(ITEMS["final.md"] + "\nفقرة جديدة.\n", encoding="utf-8")
        update = stream.wait_for("update")
        assert not _stylesheet_only(update), update
        slug = article_dir(site, "المنتخب يفوز في المباراة النهائية")
        assert update["changed"] is None or f"articles/{slug}/index.html" in update["changed"]
    finally:
        stream.close()


def test_broken_site_toml_is_reported_and_recovers(server, site):
    stream = EventStream(server)
    try:
        stream.wait_for("hello")
        config = site / "site.toml"
        config.write_text(SITE_TOML.replace('title = "أخبار الاختبار"', 'title = "أخبار'), encoding="utf-8")
        failed = stream.wait_for("failed")
        assert any(re.search(r"site\.toml:2: ", message) for message in failed["errors"]), failed
        assert fetch(server, "/")[0] == 200
        config.write_text(SITE_TOML.replace("أخبار الاختبار", "أخبار بعد التعديل"), encoding="utf-8")
        assert stream.wait_for("update")["errors"] is None
        assert "أخبار بعد التعديل" in fetch(server, "/")[2].decode("utf-8")
    finally:
        stream.close()


def test_a_burst_of_saves_gives_few_rebuilds(server, site):
    stream = EventStream(server)
    try:
        start = stream.wait_for("hello")["build"]
        item = site / "items" / "festival.md"
        for n in range(20):
            temp = item.with_name(f".festival.md.{n}.tmp")
            temp.write_text(ITEMS["festival.md"] + f"\nتحديث {n}.\n", encoding="utf-8")
            os.replace(temp, item)
        update = stream.wait_for("update")
        while "تحديث 19" not in (site / "public").joinpath(
                "articles", article_dir(site, "افتتاح مهرجان الكتاب في العاصمة"), "index.html").read_text("utf-8"):
            update = stream.wait_for("update")
        assert update["build"] - start <= 3
    finally:
        stream.close()


def test_falls_back_to_polling_when_watches_run_out(site, monkeypatch):
    import errno

    import watchdog.observers
    from watchdog.observers.polling import PollingObserver

    class Exhausted(PollingObserver):
        def schedule(self, *args, **kwargs):
            raise OSError(errno.ENOSPC, "inotify watch limit reached")

    monkeypatch.setattr(watchdog.observers, "Observer", Exhausted)
    console = RecordingConsole()
    preview = PreviewServer(site / "site.toml", host="127.0.0.1", port=0, console=console)
    preview.start()
    stream = EventStream(preview)
    try:
        stream.wait_for("hello")
        item = site / "items" / "final.md"
        item.write_text(ITEMS["final.md"].replace("يفوز", "يتوج"), encoding="utf-8")
        assert stream.wait_for("update")["errors"] is None
        assert "المنتخب يتوج" in (site / "public" / "articles").joinpath(
            article_dir(site, "المنتخب يتوج في المباراة النهائية"), "index.html").read_text("utf-8")
    finally:
        stream.close()
        preview.stop()
    assert any("polling" in line for line in console.lines)


# -- the command ----------------------------------------------------------------------------

def test_port_in_use_gives_a_clear_message(site):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = run_cli("serve", "--config", str(site / "site.toml"), "--port", str(port))
    assert result.returncode == 1
    assert "already in use" in result.stderr
    assert "--port" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_every_address_warns_that_the_preview_is_visible(site):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        # The port is taken, so nothing ever listens on the network here.
        result = run_cli("serve", "--config", str(site / "site.toml"), "--host", "0.0.0.0", "--port", str(port))
    assert "visible to other machines" in result.stderr
    assert result.returncode == 1 and "Traceback" not in result.stderr


def test_ctrl_c_stops_at_once_without_a_traceback(site):
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "newsgen.cli", "serve", "--config", str(site / "site.toml"),
                                "--port", str(port)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        deadline = time.monotonic() + 20
        while True:
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                time.sleep(0.05)
        line = process.stdout.readline()
        while "serving" not in line:
            line = process.stdout.readline()
        assert f"http://127.0.0.1:{port}/" in line
        process.send_signal(signal.SIGINT)
        started = time.monotonic()
        out, err = process.communicate(timeout=5)
        assert time.monotonic() - started < 3
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode in (0, 130)
    assert "Traceback" not in out + err


def test_bad_configuration_at_start_is_a_user_error(tmp_path):
    result = run_cli("serve", "--config", str(tmp_path / "missing.toml"), "--port", "0")
    assert result.returncode == 1
    assert "missing.toml" in result.stderr and "Traceback" not in result.stderr


# -- load -------------------------------------------------------------------------------------

def test_load_2000_requests_from_20_threads(shared):
    server, site = shared
    slug = quote(article_dir(site, "المنتخب يفوز في المباراة النهائية"))
    paths = ["/", f"/articles/{slug}/", "/assets/style.css", "/feed.xml", "/missing/", SCRIPT_PATH]
    expected = {path: fetch(server, path) for path in paths}
    errors: list[str] = []
    done = [0]
    lock = threading.Lock()

    def client(index: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
        try:
            for n in range(100):
                path = paths[(index + n) % len(paths)]
                try:
                    conn.request("GET", path)
                    response = conn.getresponse()
                    body = response.read()
                except (OSError, http.client.HTTPException) as exc:
                    errors.append(f"{path}: {exc!r}")
                    conn.close()
                    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
                    continue
                if response.status != expected[path][0] or body != expected[path][2]:
                    errors.append(f"{path}: {response.status}")
                if response.will_close:
                    conn.close()
                    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
                with lock:
                    done[0] += 1
        finally:
            conn.close()

    started = time.monotonic()
    threads = [threading.Thread(target=client, args=(i,)) for i in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    elapsed = time.monotonic() - started
    assert not any(thread.is_alive() for thread in threads)
    assert errors == []
    assert done[0] == 2000
    assert elapsed < 30


def test_a_new_site_toml_is_built_once_the_last_build_saved_its_cache(site, monkeypatch):
    """The builder made for a new site.toml reads the records the last one saved (reading items
    does not depend on the title): serve lets that save, in a background thread, finish first."""
    from newsgen import build as build_module
    from newsgen.cache import BuildCache

    events = []
    save = BuildCache.save

    def slow_save(self, *args, **kwargs):
        time.sleep(0.5)  # still saving when the new site.toml is seen
        save(self, *args, **kwargs)
        events.append("saved")

    monkeypatch.setattr(BuildCache, "save", slow_save)
    made = build_module.SiteBuilder.__init__
    monkeypatch.setattr(build_module.SiteBuilder, "__init__",
                        lambda self, *args, **kwargs: events.append("builder") or made(self, *args, **kwargs))
    preview = start(site)
    stream = EventStream(preview)
    try:
        stream.wait_for("hello")
        (site / "site.toml").write_text(SITE_TOML.replace("أخبار الاختبار", "أخبار بعد التعديل"), encoding="utf-8")
        assert stream.wait_for("update")["errors"] is None
    finally:
        stream.close()
        preview.stop()
    assert events[:3] == ["builder", "saved", "builder"], events
    assert "أخبار بعد التعديل" in (site / "public" / "index.html").read_text("utf-8")
