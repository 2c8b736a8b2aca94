"""`newsgen check`: every planted fault of a fixture site is found, the sample archive passes."""

from __future__ import annotations

import http.server
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import REPO, write_site
from newsgen.check import check_site
from newsgen.cli import main
from newsgen.config import load_config
from newsgen.feeds import parse_build_time

FIXTURE = Path(__file__).parent / "fixtures" / "check-site"
# The fixture's items are dated March 2024, one of them July 2024 (the future-dated fault).
BUILD_TIME = "2024-06-01T00:00:00+03:00"


@pytest.fixture
def check_site_copy(tmp_path) -> Path:
    target = tmp_path / "check-site"
    shutil.copytree(FIXTURE, target)
    return target


def run(site: Path, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "newsgen.cli", "check", "--config", str(site / "site.toml"), *extra],
                          capture_output=True, text=True, cwd=site)


@pytest.fixture(scope="module")
def fixture_result(tmp_path_factory) -> subprocess.CompletedProcess:
    site = tmp_path_factory.mktemp("check") / "check-site"
    shutil.copytree(FIXTURE, site)
    before = sorted(p.relative_to(site) for p in site.rglob("*"))
    result = run(site, "--build-time", BUILD_TIME)
    assert sorted(p.relative_to(site) for p in site.rglob("*")) == before, "check must not write into the site"
    return result


def test_the_fixture_fails(fixture_result):
    assert fixture_result.returncode == 1, fixture_result.stdout + fixture_result.stderr
    assert "Traceback" not in fixture_result.stderr
    assert "check failed: 4 errors, 2 warnings" in fixture_result.stdout


@pytest.mark.parametrize("fault, expected", [
    ("broken internal link", "items/broken-link.md:10: the link «../no-such-report/» in the text leads nowhere: "
                             "nothing is built at articles/no-such-report/"),
    ("missing image file", "items/missing-image.md:7: the lead image «assets/photos/missing-ship.jpg» is not in "
                           "the output"),
    ("missing alt text", "items/missing-alt.md:11: the image «../../assets/photos/harbour.svg» in the text has no "
                         "alternative text"),
    ("duplicate title", "items/duplicate-b.md:3: warning: the title «الدوري ينطلق غدًا» is also the title of "
                        "items/duplicate-a.md"),
    ("item with no topic", "items/no-topic.md:3: warning: the item has no topic"),
    ("future-dated item", "items/future.md:5: the item is dated 2024-07-01T09:00:00+03:00, after the build time"),
])
def test_each_planted_fault_is_found(fixture_result, fault, expected):
    assert expected in fixture_result.stdout, f"{fault} not reported:\n{fixture_result.stdout}"


def test_nothing_else_is_reported(fixture_result):
    findings = [line for line in fixture_result.stdout.splitlines() if line.startswith("items/")]
    assert len(findings) == 6, findings
    for clean in ("harbour.md", "match.md", "duplicate-a.md", "about.md"):
        assert clean not in "\n".join(f.split(":")[0] for f in findings)


def test_the_summary_table(fixture_result):
    rows = {line.split("│")[1].strip(): [c.strip() for c in line.split("│")[2:5]]
            for line in fixture_result.stdout.splitlines() if line.count("│") >= 5}
    assert rows["internal links"] == ["1", "0", "FAILED"]
    assert rows["images and assets"] == ["1", "0", "FAILED"]
    assert rows["image alt text"] == ["1", "0", "FAILED"]
    assert rows["duplicate titles"] == ["0", "1", "ok, with warnings"]
    assert rows["items with no topic"] == ["0", "1", "ok, with warnings"]
    assert rows["future-dated items"] == ["1", "0", "FAILED"]
    assert rows["content contract"] == ["0", "0", "ok"]
    assert rows["external links"][2].startswith("skipped")


def test_the_sample_archive_passes():
    result = run(REPO)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "check passed: 0 errors" in result.stdout


def test_each_fault_alone_fails_the_check(check_site_copy):
    config = load_config(check_site_copy / "site.toml")
    at = parse_build_time(BUILD_TIME, config.tz)
    report = check_site(config, build_time=at)
    assert {f.check for f in report.errors} == {"links", "assets", "alt", "dates"}
    items = check_site_copy / "items"
    for name in ("broken-link.md", "missing-image.md", "missing-alt.md", "future.md"):
        (items / name).unlink()
    report = check_site(config, build_time=at)
    assert report.errors == [] and not report.failed()
    assert {f.check for f in report.warnings} >= {"titles", "topics"}
    assert report.failed(strict=True)


def test_warnings_fail_only_with_strict(check_site_copy):
    items = check_site_copy / "items"
    for name in ("broken-link.md", "missing-image.md", "missing-alt.md", "future.md"):
        (items / name).unlink()
    assert run(check_site_copy, "--build-time", BUILD_TIME).returncode == 0
    strict = run(check_site_copy, "--build-time", BUILD_TIME, "--strict")
    assert strict.returncode == 1 and "check failed: 0 errors, 2 warnings" in strict.stdout


def test_content_errors_are_all_reported_at_once(tmp_path):
    site = write_site(tmp_path, {"a.md": "", "b.md": "---\ntitle: x\n", "c.md": "---\ntitle: x\ndate: no\n---\n"})
    result = run(site)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    lines = [l for l in result.stdout.splitlines() if l.startswith("items/")]
    assert [l.split(":")[0] for l in lines] == ["items/a.md", "items/b.md", "items/c.md"]
    assert "check failed: 3 errors" in result.stdout
    rows = {line.split("│")[1].strip(): line for line in result.stdout.splitlines() if line.count("│") >= 5}
    assert "skipped" in rows["internal links"]


def test_template_links_and_images_are_checked(tmp_path):
    site = write_site(tmp_path, {"a.md": "---\ntitle: خبر\ndate: 2024-01-01\n---\nنص.\n"})
    (site / "templates").mkdir()
    (site / "templates" / "404.html").write_text(
        '{% extends "base.html" %}{% block content %}<h1>غير موجودة</h1>'
        '<a href="{{ url(\'gone/\') }}">رابط</a><img src="{{ url(\'assets/none.png\') }}">'
        '<a href="#nowhere">هنا</a>{% endblock %}', "utf-8")
    result = run(site)
    assert result.returncode == 1
    out = result.stdout
    assert "404.html:" in out and "«/news/gone/» in the templates leads nowhere" in out
    assert "the image «/news/assets/none.png» in the templates is not in the output" in out
    assert "the image «/news/assets/none.png» has no alt attribute (from the templates)" in out
    assert "points to #nowhere, which is not on 404.html" in out


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_HEAD(self):
        if self.path == "/no-head":
            self.send_response(405)
        else:
            self.send_response(404 if self.path.startswith("/missing") else 200)
        self.end_headers()

    def do_GET(self):
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


def test_external_links_only_with_the_flag(tmp_path):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        site = write_site(tmp_path, {"a.md": f"---\ntitle: خبر\ndate: 2024-01-01\n---\n[حي]({base}/ok) "
                                             f"[ميت]({base}/missing-page) [بلا HEAD]({base}/no-head)\n"})
        plain = run(site)
        assert plain.returncode == 0, plain.stdout
        checked = run(site, "--external")
    finally:
        server.shutdown()
    assert checked.returncode == 1
    assert f"the external link «{base}/missing-page» answers 404" in checked.stdout
    assert "/ok»" not in checked.stdout and "no-head»" not in checked.stdout
    assert "3 external links" in checked.stdout


def test_quiet_prints_errors_only(tmp_path, capsys):
    site = shutil.copytree(FIXTURE, tmp_path / "site")
    assert main(["check", "--config", str(site / "site.toml"), "--quiet", "--build-time", BUILD_TIME]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 4 and all(l.startswith("items/") and "warning:" not in l for l in lines)


def test_check_help_lists_its_options():
    text = subprocess.run([sys.executable, "-m", "newsgen.cli", "check", "--help"], capture_output=True,
                          text=True).stdout
    for option in ("--config", "--external", "--strict", "--build-time", "--drafts", "--quiet"):
        assert option in text


def test_check_reads_each_item_once_and_writes_no_search_index(tmp_path, monkeypatch):
    import newsgen.loaders
    import newsgen.search

    site = write_site(tmp_path / "site", {
        "a.md": "---\ntitle: خبر أول\ndate: 2024-03-01\ntopics: [اقتصاد]\n---\n\nنص الخبر الأول.\n",
        "b.md": "---\ntitle: خبر ثان\ndate: 2024-03-02\ntopics: [اقتصاد]\n---\n\nنص الخبر الثاني.\n",
    })
    config = load_config(site / "site.toml")
    assert config.search
    parsed = []
    parse = newsgen.loaders.parse_item
    monkeypatch.setattr(newsgen.loaders, "parse_item", lambda job, settings: parsed.append(job[0]) or parse(job, settings))
    monkeypatch.setattr(newsgen.search, "write_search_index", lambda *a, **k: pytest.fail("the index was written"))
    report = check_site(config, build_time=parse_build_time(BUILD_TIME, config.tz))
    assert report.pages > 0 and not report.errors, report.errors
    assert sorted(p.name for p in parsed) == ["a.md", "b.md"]
    assert not (site / ".newsgen-cache").exists()


_SEGMENTS = ["..", ".", "", "a", "ب", "index.html", "%D8%A7", "style.css", "%2e%2e", "x y"]


@settings(max_examples=400, deadline=None)
@given(page=st.lists(st.sampled_from(["articles", "ب", "a", "page", "2"]), max_size=4),
       file=st.sampled_from(["index.html", "404.html", "feed.xml"]),
       value=st.lists(st.sampled_from(_SEGMENTS), min_size=1, max_size=6).map("/".join),
       fragment=st.sampled_from(["", "#", "#main", "#%D8%A7"]),
       base=st.sampled_from(["/", "/news/"]))
def test_plain_relative_links_resolve_as_urljoin_resolves_them(tmp_path_factory, page, file, value, fragment, base):
    """The checker's shortcut for relative links gives what `urljoin` gives, or leaves it to it."""
    from types import SimpleNamespace

    from newsgen.check import _relative_path, _Resolver

    resolver = _Resolver(Path("out"), SimpleNamespace(base_path=base, base_url="https://example.org" + base))
    page_path = "/".join(page + [file])
    found = _relative_path(page_path, value + fragment)
    assert found is None or found == resolver.joined(page_path, value + fragment)


def test_the_links_pages_carry_take_the_shortcut():
    """The property above holds for a shortcut that takes nothing: the links newsgen's pages carry
    must be among those it takes, with what `urljoin` gives."""
    from types import SimpleNamespace

    from newsgen.check import _relative_path, _Resolver

    resolver = _Resolver(Path("out"), SimpleNamespace(base_path="/news/", base_url="https://example.org/news/"))
    page = "articles/%D8%AE%D8%A8%D8%B1/index.html"
    for value in ("../../topics/", "../../assets/style.css", "#main", "../../topics/%D8%A7/#x", "./", "../"):
        found = _relative_path(page, value)
        assert found is not None and found == resolver.joined(page, value), value
