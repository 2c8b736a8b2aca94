"""Incremental builds must give, byte for byte, what a cold build gives."""

from __future__ import annotations

import gc
import os
import re
import shutil
import time
import weakref
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import REPO, write_site
from newsgen.build import SiteBuilder, build, cache_key, load_site
from newsgen.edits import EditIndex
from newsgen.errors import BuildFailed, Diagnostics
from newsgen.feeds import feed_lists
from newsgen.cache import BuildCache
from newsgen.config import load_config

CONFIG = """\
[site]
title = "موقع"
base_url = "https://example.org/"
timezone = "Asia/Amman"
digits = "{digits}"

[content]
items = ["items"]

[build]
output = "public"
per_page = 2

[search]
enabled = false

[[topic]]
key = "economy"
name = "اقتصاد"
keywords = ["اقتصاد", "البنك المركزي"]

[[topic]]
key = "sport"
name = "رياضة"
keywords = ["مباراة", "منتخب"]
"""

WORDS = ["البنك المركزي", "مباراة", "منتخب", "اقتصاد", "مدينة", "نهر", "سوق"]
TITLES = ["خبر أول", "خبر ثان", "خبر ثالث", "خبر مكرر"]

edits = st.lists(st.one_of(
    st.tuples(st.just("add"), st.integers(0, 30), st.sampled_from(TITLES), st.sampled_from(WORDS)),
    st.tuples(st.just("delete"), st.integers(0, 30)),
    st.tuples(st.just("rename"), st.integers(0, 30)),
    st.tuples(st.just("body"), st.integers(0, 30), st.sampled_from(WORDS)),
    st.tuples(st.just("body"), st.integers(0, 30), st.just("،")),  # the same words: related items kept
    st.tuples(st.just("topics"), st.integers(0, 30), st.sampled_from(["[اقتصاد]", "[sport]", "[بيئة]", None])),
    st.tuples(st.just("date"), st.integers(0, 30), st.sampled_from(["2024-01-05", "2023-07-30T10:00:00+03:00", None])),
    st.tuples(st.just("template"), st.sampled_from(["", "<p>تذييل</p>"])),
    # digits: pages change, items are read alike; a time zone: items are read again.
    st.tuples(st.just("config"), st.sampled_from(["western", "arabic-indic", "western/UTC"])),
), min_size=1, max_size=6)


def examples(default: int) -> int:
    """How many edit sequences a property test tries: `default`, or $NEWSGEN_PROPERTY_EXAMPLES
    for a long run (`NEWSGEN_PROPERTY_EXAMPLES=600 scripts/test tests/test_incremental.py -k equal`)."""
    return int(os.environ.get("NEWSGEN_PROPERTY_EXAMPLES") or default)


def item_text(title: str, body: str, topics: str | None = None, date: str | None = None) -> str:
    lines = ["---", f"title: {title}"]
    if topics:
        lines.append(f"topics: {topics}")
    if date:
        lines.append(f"date: {date}")
    return "\n".join(lines + ["---", f"{body} في المدينة.", ""])


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def without_index(files: dict[str, bytes]) -> dict[str, bytes]:
    return {path: data for path, data in files.items() if not path.startswith("pagefind/")}


def apply(site: Path, edit: tuple) -> None:
    items = sorted((site / "items").glob("*.md"))
    kind = edit[0]

    def pick(index: int) -> Path | None:
        return items[index % len(items)] if items else None

    if kind == "add":
        (site / "items" / f"n{edit[1]}-{len(items)}.md").write_text(item_text(edit[2], edit[3]), "utf-8")
    elif kind == "delete" and (path := pick(edit[1])):
        path.unlink()
    elif kind == "rename" and (path := pick(edit[1])):
        path.rename(path.with_name("r" + path.name))
    elif kind in ("body", "topics", "date") and (path := pick(edit[1])):
        text = path.read_text("utf-8")
        title = text.split("title: ", 1)[1].split("\n", 1)[0]
        body = text.rsplit("---\n", 1)[1].split(" في المدينة.")[0]
        topics = next((l[8:] for l in text.splitlines() if l.startswith("topics: ")), None)
        date = next((l[6:] for l in text.splitlines() if l.startswith("date: ")), None)
        if kind == "body":
            body = body + ("" if edit[2] == "،" else " ") + edit[2]
        elif kind == "topics":
            topics = edit[2]
        else:
            date = edit[2]
        path.write_text(item_text(title, body, topics, date), "utf-8")
        # A same-size rewrite within one clock tick must still be seen.
        stat = path.stat()
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    elif kind == "template":
        folder = site / "templates" / "partials"
        folder.mkdir(parents=True, exist_ok=True)
        if edit[1]:
            (folder / "footer.html").write_text(edit[1], "utf-8")
        elif (folder / "footer.html").exists():
            (folder / "footer.html").unlink()
    elif kind == "config":
        digits, _, zone = edit[1].partition("/")
        text = CONFIG.format(digits=digits)
        (site / "site.toml").write_text(text.replace("Asia/Amman", zone) if zone else text, "utf-8")


def starting_site(tmp_path: Path, search: bool = False) -> Path:
    """Three items, one undated and one with topics, for the property tests to edit."""
    config = CONFIG.format(digits="western")
    return write_site(tmp_path, {
        "a.md": item_text("خبر أول", "البنك المركزي يرفع الفائدة", date="2024-01-01"),
        "b.md": item_text("خبر ثان", "مباراة المنتخب", "[sport]", "2024-02-01"),
        "c.md": item_text("خبر مكرر", "سوق المدينة"),
    }, config=with_search(config) if search else config)


def with_search(config: str) -> str:
    return config.replace("[search]\nenabled = false", "[search]\nenabled = true")


@pytest.mark.parametrize("quick", [False, True])
@settings(max_examples=examples(10), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(edits)
def test_incremental_output_equals_cold_output(tmp_path_factory, quick, sequence):
    """serve's builder after each edit; with `quick`, as serve builds on a save: keeping the
    related items of before when the words they are ranked by changed, then once more when that
    build says they are out of date."""
    site = starting_site(tmp_path_factory.mktemp("inc"))
    builder = SiteBuilder(load_config(site / "site.toml"))
    builder.build()
    for edit in sequence:
        apply(site, edit)
        config = load_config(site / "site.toml")
        if config != builder.config:  # as serve does
            builder.close()
            builder = SiteBuilder(config)
        if builder.build(quick=quick).related_stale:
            builder.build()
        builder.wait()
        cold = site / "cold"
        shutil.rmtree(cold, ignore_errors=True)
        build(config, output=cold, use_cache=False)
        assert snapshot(site / "public") == snapshot(cold), edit


def test_nothing_changed_renders_nothing(tmp_path):
    site = write_site(tmp_path, {"a.md": item_text("خبر", "نص"), "b.md": item_text("خبر آخر", "نص")})
    config = load_config(site / "site.toml")
    first = build(config)
    assert first.rendered > 0
    again = build(config)
    assert again.rendered == 0 and again.changed == []
    (site / "items" / "a.md").write_text(item_text("خبر", "نص جديد"), "utf-8")
    edited = build(config)
    assert "articles/خبر/index.html" in edited.changed
    assert 0 < edited.rendered < first.rendered


def test_an_upgrade_of_a_library_whose_work_pages_show_makes_every_page_again(tmp_path, monkeypatch):
    import sys

    from newsgen.cache import code_digest, dependency_versions

    site = write_site(tmp_path / "site", {"a.md": item_text("خبر", "نص"), "b.md": item_text("خبر آخر", "نص")})
    config = load_config(site / "site.toml")
    first = build(config)
    assert build(config).rendered == 0
    # Jinja2 upgraded: the folder its installer writes names the new version, found first.
    upgraded = tmp_path / "site-packages"
    (upgraded / "Jinja2-99.0.dist-info").mkdir(parents=True)
    (upgraded / "PyYAML-99.0-py3.11.egg-info").mkdir()
    monkeypatch.setattr(sys, "path", [str(upgraded)] + sys.path)
    assert {"jinja2==99.0", "pyyaml==99.0-py3.11"} <= set(dependency_versions().split())
    code_digest.cache_clear()
    try:
        again = build(config)
    finally:
        monkeypatch.undo()
        code_digest.cache_clear()
    assert again.rendered == first.rendered
    assert any("(2 parsed, 0 from the cache)" in line for line in again.details)


def test_the_cache_serves_whichever_path_site_toml_is_read_by(tmp_path, monkeypatch):
    rendered = {}
    for name in ("absolute", "relative"):
        site = write_site(tmp_path / name, {"a.md": item_text("خبر", "نص"), "b.md": item_text("خبر آخر", "نص")})
        first = build(load_config(site / "site.toml"))
        (site / "items" / "a.md").write_text(item_text("خبر", "نص جديد"), "utf-8")
        monkeypatch.chdir(site)  # `newsgen build` in the site's folder, after `--config /abs/site.toml`
        edited = build(load_config(site / "site.toml" if name == "absolute" else Path("site.toml")))
        rendered[name] = edited.rendered
    assert 0 < rendered["relative"] == rendered["absolute"] < first.rendered


def test_serve_scans_the_items_folders_once_per_build(tmp_path, monkeypatch):
    import newsgen.build as build_module
    import newsgen.loaders as loaders

    site = write_site(tmp_path, {"a.md": item_text("خبر", "نص", "[اقتصاد]"), "b.md": item_text("خبر آخر", "نص")})
    builder = SiteBuilder(load_config(site / "site.toml"))
    builder.build()
    scans = []
    for module in (build_module, loaders):
        scan = module.scan_item_files
        monkeypatch.setattr(module, "scan_item_files", lambda folders, *args, scan=scan:
                            scans.append(list(folders)) or scan(folders, *args))
    (site / "items" / "a.md").write_text(item_text("خبر", "نص", "[رياضة]"), "utf-8")  # not a body edit
    report = builder.build()
    builder.wait()
    assert "topics/sport/index.html" in report.changed
    assert scans.count(list(builder.config.item_dirs)) == 1  # (the standing pages' folder is scanned too)


@pytest.mark.parametrize("edit", ["body", "headline"])
@pytest.mark.parametrize("builder", ["build", "serve"])
def test_a_rewrite_that_keeps_the_size_and_the_time_is_still_seen(tmp_path, edit, builder):
    # A file system keeps a file's time in steps (2 s on FAT, a clock tick on ext4 with older
    # kernels): a rewrite within one step of the last keeps it. Here the time is put back by hand.
    site = write_site(tmp_path, {"a.md": item_text("خبر أول", "نص قديم"), "b.md": item_text("خبر ثان", "نص")})
    config = load_config(site / "site.toml")
    run = SiteBuilder(config).build if builder == "serve" else lambda: build(config)
    run()
    path = site / "items" / "a.md"
    before = path.stat()
    text = item_text("خبر أول", "نص جديد") if edit == "body" else item_text("خبر آخر", "نص قديم")
    assert len(text.encode()) == before.st_size
    path.write_text(text, "utf-8")
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    report = run()
    page = "articles/خبر-أول/index.html" if edit == "body" else "articles/خبر-آخر/index.html"
    assert page in report.changed
    assert ("جديد" if edit == "body" else "خبر آخر") in (site / "public" / page).read_text("utf-8")


def test_the_time_of_the_last_scan_is_kept_in_the_cache_and_its_journal(tmp_path):
    site = write_site(tmp_path, {"a.md": item_text("خبر", "نص", "[اقتصاد]"), "b.md": item_text("خبر آخر", "نص", "[اقتصاد]")},
                      config=CONFIG.format(digits="western"))
    config = load_config(site / "site.toml")
    times = []
    for end in ("", "!", "!!"):  # a body edit past the summary, of punctuation: the shortcut, which saves a journal
        (site / "items" / "a.md").write_text(item_text("خبر", "نص", "[اقتصاد]") + f"\nفقرة ثانية{end}\n", "utf-8")
        started = time.time_ns()
        build(config)
        times.append(BuildCache.load_main(config, cache_key(config, False)).scanned_ns)
        assert started <= times[-1] <= time.time_ns()
    assert (site / ".newsgen-cache" / "journal.pickle").exists() and times == sorted(set(times))


def test_a_new_item_rewrites_the_newest_list_pages_not_the_older_ones(tmp_path):
    items = {f"{day:02d}.md": item_text(f"خبر اليوم {day}", "البنك المركزي والتضخم", "[اقتصاد]", f"2024-03-{day:02d}")
             for day in range(1, 25)}
    site = write_site(tmp_path, items, config=CONFIG.format(digits="western"))
    config = load_config(site / "site.toml")
    build(config)
    numbered = sorted(p.relative_to(site / "public").as_posix() for p in (site / "public").rglob("page/*/index.html"))
    assert len(numbered) >= 20  # the economy list and March's, at two items a page

    def add(day: int) -> list[str]:
        (site / "items" / f"new-{day}.md").write_text(
            item_text(f"خبر جديد {day}", "البنك المركزي", "[اقتصاد]", f"2024-03-{day:02d}"), "utf-8")
        return [path for path in build(config).changed if "/page/" in path]

    assert add(25) == []  # the newest pages of economy, March and 2024 take it
    grew = add(26)  # now each list has a page more: the one that was newest, and two below it
    assert 0 < len(grew) <= 3 * 3 and all(path in numbered or "/page/12/" in path for path in grew), grew
    cold = site / "cold"
    build(config, output=cold, use_cache=False)
    assert snapshot(site / "public") == snapshot(cold)


def test_saving_the_cache_leaves_the_records_texts_as_they_were(tmp_path):
    """Pickling a str that is not ASCII keeps a UTF-8 copy in it (CPython); the cache must not."""
    import pickle
    import sys

    site = write_site(tmp_path, {"a.md": item_text("خبر", "نص عربي طويل " * 50)})
    config = load_config(site / "site.toml")
    cache = BuildCache(key=cache_key(config, drafts=False))
    build(config, cache=cache)
    article = next(iter(cache.records.values())).article
    for text in (article.body_html, article.text, article.title):
        assert sys.getsizeof(text) == sys.getsizeof(text.encode("utf-8").decode("utf-8"))
    loaded = BuildCache.load(config, cache.key)
    assert {k: e.article for k, e in loaded.records.items()} == {k: e.article for k, e in cache.records.items()}
    assert {k: dict(e.terms.items()) for k, e in loaded.records.items()} == \
        {k: dict(e.terms.items()) for k, e in cache.records.items()}
    before = sys.getsizeof(article.body_html)
    pickle.dumps(article)
    assert sys.getsizeof(article.body_html) > before  # what plain pickling does, and the cache avoids


def test_records_read_back_know_the_digest_of_their_text_without_reading_it(tmp_path, monkeypatch):
    from newsgen import storage
    from newsgen.search import record_source

    site = write_site(tmp_path, {f"{i}.md": item_text(f"خبر {i}", f"نص الخبر رقم {i} " * 20) for i in range(30)})
    config = load_config(site / "site.toml")
    cache = BuildCache(key=cache_key(config, drafts=False))
    build(config, cache=cache)
    wanted = {name: storage.text_digest(entry.article) for name, entry in cache.records.items()}
    assert len(set(wanted.values())) == len(wanted)
    # An edit saved with the cache saves the digest of the new text.
    name = next(iter(cache.records))
    edited = replace(cache.records[name].article, text="نص آخر تماما")
    cache.records[name] = replace(cache.records[name], article=edited)
    cache.save(config)
    wanted[name] = storage.text_digest(edited)

    loaded = BuildCache.load(config, cache.key)
    monkeypatch.setattr(storage, "_read_body", lambda *a: pytest.fail("a body was read"))
    assert {n: storage.text_digest(e.article) for n, e in loaded.records.items()} == wanted
    # And so a record source's digest is the same from the cache as from the text itself.
    topics = {"economy": "اقتصاد"}
    assert record_source(loaded.records[name].article, config, topics).digest() == \
        record_source(edited, config, topics).digest()


def test_records_read_back_read_their_bodies_only_when_needed(tmp_path):
    from newsgen.errors import NewsgenError
    from newsgen.storage import SavedArticle, body_bytes

    site = write_site(tmp_path, {f"{i}.md": item_text(f"خبر {i}", f"نص الخبر رقم {i} " * 20) for i in range(40)})
    config = load_config(site / "site.toml")
    cache = BuildCache(key=cache_key(config, drafts=False))
    build(config, cache=cache)
    originals = {name: entry.article for name, entry in cache.records.items()}

    loaded = BuildCache.load(config, cache.key)
    assert loaded.records.keys() == originals.keys()
    unread = [a for a in (e.article for e in loaded.records.values()) if not isinstance(a.__dict__["text"], str)]
    assert len(unread) == len(originals) and all(isinstance(a, SavedArticle) for a in unread)
    first = unread[0]
    assert first.text == {a.path: a for a in originals.values()}[first.path].text
    assert all(bodies._bodies is None for bodies in loaded._body_files.values())  # one body read, not its file's
    assert {name: entry.article for name, entry in loaded.records.items()} == originals  # reads them all

    # Saving a shard again keeps the bodies of its records that were never read.
    again = BuildCache.load(config, cache.key)
    name = next(iter(again.records))
    again.records[name] = replace(again.records[name], article=replace(originals[name], title="عنوان آخر"))
    again.save(config)
    # Its other records, never read, still read their bodies (kept from the file it replaced).
    assert {n: e.article.text for n, e in again.records.items() if n != name} == \
        {n: a.text for n, a in originals.items() if n != name}
    third = BuildCache.load(config, cache.key)
    assert third.records[name].article.title == "عنوان آخر"
    assert {n: body_bytes(e.article) for n, e in third.records.items()} == \
        {n: body_bytes(a) for n, a in originals.items()}

    # A body file that goes missing drops its records (they are parsed again); one replaced
    # under a build that has not read it yet stops that build with a message, not a traceback.
    from newsgen.cache import _shard_of
    folder = BuildCache.location(config).parent
    shards = sorted({_shard_of(name) for name in originals})
    bodies = [folder / f"bodies-{shard:02d}.pickle" for shard in shards]
    bodies[0].unlink()
    assert 0 < len(BuildCache.load(config, cache.key).records) < len(originals)
    fourth = BuildCache.load(config, cache.key)
    bodies[1].write_bytes(bodies[2].read_bytes())
    with pytest.raises(NewsgenError, match="build cache changed"):
        for entry in fourth.records.values():
            entry.article.text
    report = build(config)  # and a build after that is whole again
    assert report.items == len(originals)


def test_related_items_term_ids_are_kept_and_only_new_terms_looked_up(tmp_path):
    from newsgen.build import load_site
    from newsgen.errors import Diagnostics
    from newsgen.related import related_items

    bodies = ["البنك المركزي يرفع الفائدة", "البنك المركزي يخفض الفائدة", "المنتخب يفوز بالمباراة",
              "المنتخب يخسر المباراة", "مهرجان السينما يفتتح"]
    site = write_site(tmp_path, {f"{i}.md": item_text(f"خبر {i}", body) for i, body in enumerate(bodies)})
    config = load_config(site / "site.toml")
    build(config)
    first = BuildCache.load(config, cache_key(config, drafts=False))
    token, terms = first.terms
    ids = {name: entry.term_ids for name, entry in first.records.items()}
    assert all(value is not None and value[0] == token for value in ids.values())

    (site / "items" / "4.md").write_text(item_text("خبر 4", "مهرجان السينما يكرم المخرجين"), "utf-8")
    build(config)
    second = BuildCache.load(config, first.key)
    assert second.terms[0] == token and second.terms[1][:len(terms)] == terms  # ids of old terms unchanged
    assert "مخرجين" in second.terms[1][len(terms):]  # the new word got the next id
    edited = str(site / "items" / "4.md")
    assert all(second.records[name].term_ids == value for name, value in ids.items() if name != edited)
    model = load_site(config, Diagnostics(), records=second.records)
    assert second.related[1] == related_items(model)  # as a ranking from scratch gives

    # Terms no item has any more pile up; past a point, the vocabulary starts afresh.
    second.terms = (token, second.terms[1] + [f"زائد{i}" for i in range(3000)])
    second.save(config)
    for body in ("مهرجان السينما يختتم", "مهرجان السينما يوزع الجوائز"):
        (site / "items" / "4.md").write_text(item_text("خبر 4", body), "utf-8")
        build(config)
    third = BuildCache.load(config, first.key)
    assert third.terms[0] != token and not any(term.startswith("زائد") for term in third.terms[1])
    assert all(entry.term_ids[0] == third.terms[0] for entry in third.records.values())
    model = load_site(config, Diagnostics(), records=third.records)
    assert third.related[1] == related_items(model)


def test_an_edit_that_leaves_the_words_counted_keeps_the_related_items_unranked(tmp_path, monkeypatch):
    import newsgen.related
    from newsgen.terms import TEXT_CHARS

    long_body = "البنك المركزي يرفع الفائدة " * (TEXT_CHARS // 20)
    site = write_site(tmp_path, {"a.md": item_text("خبر أول", long_body), "b.md": item_text("خبر ثان", long_body),
                                 "c.md": item_text("خبر ثالث", "مباراة المنتخب")})
    config = load_config(site / "site.toml")
    build(config)
    ranked = []
    original = newsgen.related.related_ranking
    monkeypatch.setattr(newsgen.related, "related_ranking", lambda *a, **k: ranked.append(1) or original(*a, **k))
    page = site / "public/articles/خبر-أول/index.html"
    short_body = "البنك المركزي يرفع الفائدة اليوم"
    (site / "items" / "a.md").write_text(item_text("خبر أول", short_body), "utf-8")
    build(config)
    for body, shown, ranks in (
            (short_body.replace("الفائدة", "الفائدة!"), "الفائدة!", False),  # punctuation
            (long_body, "يرفع الفائدة البنك", True),  # words counted
            (long_body + " مهرجان السينما", "مهرجان السينما", False),  # words past the first TEXT_CHARS characters
            ("مهرجان الموسيقى " + long_body, "مهرجان الموسيقى", True)):  # words counted
        ranked.clear()
        (site / "items" / "a.md").write_text(item_text("خبر أول", body), "utf-8")
        build(config)
        assert bool(ranked) == ranks, shown
        assert shown in page.read_text("utf-8")
    (site / "items" / "a.md").write_text(item_text("خبر جديد", "مهرجان السينما " + long_body), "utf-8")
    ranked.clear()
    build(config)
    assert ranked  # a new headline


def test_a_corrupt_cache_is_discarded(tmp_path):
    site = write_site(tmp_path, {"a.md": item_text("خبر", "نص")})
    config = load_config(site / "site.toml")
    build(config)
    BuildCache.location(config).write_bytes(b"not a pickle")
    report = build(config)
    assert report.rendered > 0 and (site / "public/articles/خبر/index.html").exists()


def test_a_templates_folder_made_after_the_first_build_overrides_the_theme(tmp_path):
    site = write_site(tmp_path, {"a.md": item_text("خبر", "نص")}, config=CONFIG.format(digits="western"))
    builder = SiteBuilder(load_config(site / "site.toml"))
    builder.build()
    apply(site, ("template", "<p>تذييل خاص</p>"))
    builder.build()
    assert "تذييل خاص" in (site / "public/index.html").read_text("utf-8")


@pytest.mark.parametrize("search", [True, False])  # without search, the builds from the cache take shortcuts
def test_a_quick_build_keeps_related_items_for_a_moment_and_the_next_build_catches_up(tmp_path, search):
    stories = {"سد": "السد والمياه والنهر والري", "قمح": "القمح والحصاد والمطاحن والخبز",
               "ملعب": "الملعب والمباراة والهدف والفريق"}
    files = {f"{key}-{n}.md": item_text(f"{key} {n}", f"{words} {key} رقم {n}", date=f"2024-05-0{n + 1}")
             for key, words in stories.items() for n in range(3)}
    site = write_site(tmp_path, files)
    if not search:
        with (site / "site.toml").open("a", encoding="utf-8") as toml:
            toml.write("\n[search]\nenabled = false\n")
    config = load_config(site / "site.toml")
    builder = SiteBuilder(config, background_search=False)
    builder.build()
    # «سد-0» is rewritten about wheat: its related items change, and so do the wheat items'.
    (site / "items" / "سد-0.md").write_text(item_text("سد 0", "القمح والحصاد والمطاحن والخبز قمح"), "utf-8")
    quick = builder.build(quick=True)
    assert quick.related_stale
    caught_up = builder.build()
    assert not caught_up.related_stale and caught_up.changed  # pages whose related items changed
    assert builder.build(quick=True).related_stale is False  # nothing left to catch up
    shutil.copytree(site, tmp_path / "cold", ignore=shutil.ignore_patterns("public", ".newsgen-cache"))
    cold = load_config(tmp_path / "cold" / "site.toml")
    build(cold, use_cache=False)
    # The search index holds the edit in its shard of recent edits, which a cold build has not:
    # the same records are found, from other files.
    assert without_index(snapshot(site / "public")) == without_index(snapshot(tmp_path / "cold" / "public"))
    if search:
        from test_search import visible_index
        assert visible_index(site / "public") == visible_index(tmp_path / "cold" / "public")
    # An added item has no related items of before: until the next build ranks every item, its
    # page shows its topic's items nearest to it in time, as when too few items are like it.
    (site / "items" / "جديد.md").write_text(item_text("جديد", "السد والمياه", date="2024-05-09"), "utf-8")
    quick = builder.build(quick=True)
    assert quick.related_stale and "articles/جديد/index.html" in quick.changed
    page = (site / "public/articles/جديد/index.html").read_text("utf-8")
    related = re.search(r'<section class="more related".*?</section>', page, re.S).group(0)
    assert related.count("<li") == 5 and all(f"{key} 2" in related for key in stories)  # the newest three first
    caught_up = builder.build()
    assert not caught_up.related_stale
    (tmp_path / "cold" / "items" / "جديد.md").write_text(item_text("جديد", "السد والمياه", date="2024-05-09"), "utf-8")
    build(cold, use_cache=False)
    assert without_index(snapshot(site / "public")) == without_index(snapshot(tmp_path / "cold" / "public"))


def test_a_quick_build_after_an_edit_of_topics_or_dates_ranks_related_items_at_once(tmp_path):
    """Such an edit keeps every item's words: ranking again is cheap, so a quick build does it
    rather than keep the lists of before and leave serve a second build (and reload) to make."""
    stories = {"سد": "السد والمياه والنهر والري", "قمح": "القمح والحصاد والمطاحن والخبز"}
    files = {f"{key}-{n}.md": item_text(f"{key} {n}", f"{words} {key} رقم {n}", topics="[economy]",
                                        date=f"2024-05-0{n + 1}")
             for key, words in stories.items() for n in range(3)}
    site = write_site(tmp_path, files)
    builder = SiteBuilder(load_config(site / "site.toml"), background_search=False)
    builder.build()
    for edit in ("topics: [sport]", "date: 2024-06-09"):
        path = site / "items" / "سد-0.md"
        head = "topics: [economy]" if edit.startswith("topics") else "date: 2024-05-01"
        text = path.read_text("utf-8")
        assert head in text
        path.write_text(text.replace(head, edit), "utf-8")
        quick = builder.build(quick=True)
        assert quick.related_stale is False and quick.details[0].startswith("read ")
    shutil.copytree(site, tmp_path / "cold", ignore=shutil.ignore_patterns("public", ".newsgen-cache"))
    build(load_config(tmp_path / "cold" / "site.toml"), use_cache=False)
    assert without_index(snapshot(site / "public")) == without_index(snapshot(tmp_path / "cold" / "public"))


def test_what_serve_builds_is_saved_for_the_next_build(tmp_path):
    site = write_site(tmp_path, {"a.md": item_text("خبر", "نص"), "b.md": item_text("خبر آخر", "نص")})
    config = load_config(site / "site.toml")
    builder = SiteBuilder(config)  # saves the cache in its background thread
    builder.build()
    (site / "items" / "a.md").write_text(item_text("خبر", "نص جديد"), "utf-8")
    builder.build()
    builder.wait()
    report = build(config)  # a new build, as a new process would, from the cache on disk
    assert report.rendered == 0 and report.changed == []
    assert report.details == ["no item, page, asset or template changed since the last build: "
                              "only the Google News sitemap was made again"]
    os.utime(site / "items" / "b.md")  # a new time, the same bytes: the records are read
    report = build(config)
    assert report.rendered == 0 and report.changed == []
    assert report.details[0].startswith("read 2 item files (0 parsed")


def test_compiled_templates_are_kept_between_builds_and_checked_against_their_source(tmp_path, monkeypatch):
    import jinja2

    from newsgen.cache import TemplateCode
    from newsgen.render import Renderer

    site = write_site(tmp_path, {"a.md": item_text("خبر", "نص")}, config=CONFIG.format(digits="western"))
    config = load_config(site / "site.toml")
    build(config)
    folder = site / ".newsgen-cache" / "templates"
    assert any(folder.iterdir())
    compiled = []
    original = jinja2.Environment.compile
    monkeypatch.setattr(jinja2.Environment, "compile",
                        lambda self, source, name=None, *a, **k: compiled.append(name) or original(self, source, name, *a, **k))

    def load(name: str) -> str:
        return Renderer(config, TemplateCode(config)).env.get_template(name).render(text="x")

    partial = "partials/footer.html"
    (site / "templates" / "partials").mkdir(parents=True)
    (site / "templates" / partial).write_text("<p>تذييل</p>", "utf-8")
    (folder / "0123456789abcdef-old.code").write_bytes(b"from another version of newsgen")
    assert load(partial) == "<p>تذييل</p>" and compiled == [partial]
    assert not (folder / "0123456789abcdef-old.code").exists()
    compiled.clear()
    assert load(partial) == "<p>تذييل</p>" and compiled == []  # read back, not compiled
    (site / "templates" / partial).write_text("<p>تذييل آخر</p>", "utf-8")
    assert load(partial) == "<p>تذييل آخر</p>" and compiled == [partial]  # its source changed
    for code in folder.iterdir():
        code.write_bytes(code.read_bytes()[:20])  # broken files
    compiled.clear()
    assert load(partial) == "<p>تذييل آخر</p>" and compiled == [partial]
    shutil.rmtree(folder)
    folder.write_text("not a folder", "utf-8")  # nowhere to keep them: templates still compile and render
    (site / "templates" / partial).write_text("<p>ثالث</p>", "utf-8")
    assert load(partial) == "<p>ثالث</p>"


def test_a_cache_file_is_replaced_whole_or_not_at_all(tmp_path):
    from newsgen.storage import replacing

    path = tmp_path / "records-00.pickle"
    path.write_bytes(b"before")
    with pytest.raises(RuntimeError):
        with replacing(path) as handle:
            handle.write(b"half of")
            raise RuntimeError("the disk is full")
    assert path.read_bytes() == b"before" and [p.name for p in tmp_path.iterdir()] == [path.name]
    with replacing(path) as handle:
        handle.write(b"after")
    assert path.read_bytes() == b"after" and [p.name for p in tmp_path.iterdir()] == [path.name]


@settings(max_examples=examples(6), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(edits)
def test_builds_with_search_on_equal_cold_builds_index_included(tmp_path_factory, sequence):
    """Builds from the cache on disk with the search index: the pages byte for byte, and the index
    as the search page sees it (shards indexed again, kept, or overlaid by the recent edits)."""
    from test_search import visible_index

    site = starting_site(tmp_path_factory.mktemp("searched"), search=True)
    build(load_config(site / "site.toml"))
    manifest = "pagefind/newsgen-shards.json"
    for edit in sequence:
        apply(site, edit)
        toml = site / "site.toml"
        toml.write_text(with_search(toml.read_text("utf-8")), "utf-8")  # an edit of the configuration turns it off
        config = load_config(toml)
        build(config)
        cold = site / "cold"
        shutil.rmtree(cold, ignore_errors=True)
        build(config, output=cold, use_cache=False)
        assert without_index(snapshot(site / "public")) == without_index(snapshot(cold)), edit
        assert (site / "public" / manifest).exists() == (cold / manifest).exists(), edit
        if (cold / manifest).exists():  # an archive without items has no index: its search page says so
            assert visible_index(site / "public") == visible_index(cold), edit


@settings(max_examples=examples(10), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(edits)
def test_builds_from_the_cache_on_disk_equal_cold_builds(tmp_path_factory, sequence):
    """As `test_incremental_output_equals_cold_output`, each build a new process's: from the cache
    on disk, so that edits of bodies alone take the shortcut (`edits.edited_build`) and the others
    the ordinary way."""
    site = starting_site(tmp_path_factory.mktemp("disk"))
    build(load_config(site / "site.toml"))
    for edit in sequence:
        apply(site, edit)
        config = load_config(site / "site.toml")
        build(config)
        cold = site / "cold"
        shutil.rmtree(cold, ignore_errors=True)
        build(config, output=cold, use_cache=False)
        assert snapshot(site / "public") == snapshot(cold), edit


LONG_BODY = "\n\n".join(f"فقرة رقم {n} عن البنك المركزي والتضخم وأسعار السوق في المدينة القديمة." for n in range(60))


def edited_site(tmp_path: Path, extra_config: str = "") -> tuple[Path, object]:
    """Twelve dated items, five in economy, bodies long enough to edit past the words counted."""
    items = {f"{day:02d}.md": item_text(f"خبر اليوم {day}", LONG_BODY, "[اقتصاد]" if day % 2 else "[sport]",
                                        f"2024-03-{day:02d}") for day in range(1, 13)}
    site = write_site(tmp_path, items, config=CONFIG.format(digits="western") + extra_config)
    config = load_config(site / "site.toml")
    build(config)
    return site, config


def edit_body(path: Path, text: str, at_start: bool = False) -> None:
    head, body = path.read_text("utf-8").rsplit("---\n", 1)
    path.write_text(head + "---\n" + (text + "\n\n" + body if at_start else body + "\n" + text + "\n"), "utf-8")


def uncached_search_site(tmp_path: Path) -> Path:
    """`edited_site` with search on in its site.toml, no output and no cache: serve's first build
    is a full one, whose search index follows in the background."""
    site, _ = edited_site(tmp_path)
    toml = site / "site.toml"
    toml.write_text(with_search(toml.read_text("utf-8")), "utf-8")
    shutil.rmtree(site / "public")
    shutil.rmtree(site / ".newsgen-cache")
    return site


def slow_pagefind(tmp_path: Path, monkeypatch, record_pids: bool = False) -> Path:
    """A Pagefind that takes its time (a minute), as on a large archive; with `record_pids`, each
    run writes its process id into the file returned."""
    slow = tmp_path / "slow-pagefind"
    slow.write_text("#!/bin/sh\n" + ('echo $$ >> "$0.pids"\n' if record_pids else "") + "exec sleep 60\n", "utf-8")
    slow.chmod(0o755)
    monkeypatch.setenv("PAGEFIND_BINARY_PATH", str(slow))
    return tmp_path / "slow-pagefind.pids"


@pytest.mark.parametrize("feed_items, in_feeds", [(20, True), (3, False)])
def test_an_edit_past_the_words_counted_remakes_only_the_items_page_and_its_feeds(tmp_path, feed_items, in_feeds):
    site, config = edited_site(tmp_path)
    config = replace(config, feed_items=feed_items)
    build(config)
    edit_body(site / "items" / "01.md", "فقرة أضيفت في آخر الخبر.")  # the oldest item
    report = build(config)
    assert report.rendered == 1 and "in their bodies only" in report.details[0], report.details
    page = (site / "public" / "articles" / "خبر-اليوم-1" / "index.html").read_text("utf-8")
    assert "فقرة أضيفت في آخر الخبر." in page
    assert "articles/خبر-اليوم-1/index.html" in report.changed
    assert ("feed.xml" in report.changed) == in_feeds and ("topics/economy/feed.xml" in report.changed) == in_feeds
    assert not any(path.endswith(".html") and "خبر-اليوم-1" not in path for path in report.changed), report.changed
    cold = site / "cold"
    build(config, output=cold, use_cache=False)
    assert snapshot(site / "public") == snapshot(cold)
    assert build(config).changed == []  # and the cache knows it
    # The next ordinary build makes the edited page again (it keeps no fingerprint) and stays right.
    (site / "items" / "02.md").write_text(item_text("خبر اليوم 2", LONG_BODY, "[اقتصاد]", "2024-03-02"), "utf-8")
    assert "in their bodies only" not in " ".join(build(config).details)
    build(config, output=cold, use_cache=False)
    assert snapshot(site / "public") == snapshot(cold)


def test_a_body_edit_takes_its_dates_from_the_cache_not_from_babel(tmp_path, monkeypatch):
    # The dates the last full build formatted are kept with its cache: the build after a body edit,
    # in a new process (here: the memo emptied), shows the edited page's dates and those of its
    # related items without loading Babel's locale data.
    import babel.dates
    import newsgen.arabic

    site, config = edited_site(tmp_path)
    monkeypatch.setattr(newsgen.arabic, "_FORMATTED_DATES", {})

    def unused(*args, **kwargs):
        raise AssertionError("Babel was asked for a date")

    with monkeypatch.context() as patched:
        patched.setattr(babel.dates, "format_date", unused)
        edit_body(site / "items" / "05.md", "فقرة أضيفت في آخر الخبر.")
        report = build(config)
    assert "in their bodies only" in report.details[0] and report.rendered == 1, report.details
    cold = tmp_path / "cold"
    build(config, output=cold, use_cache=False)
    assert snapshot(site / "public") == snapshot(cold)


def test_a_builder_serve_lets_go_of_is_freed_though_the_next_cache_load_freezes_all(tmp_path):
    # serve makes a new builder when site.toml changes, and loading the new builder's cache freezes
    # every object then alive out of the collector's passes. What the old builder held in cycles
    # (its Jinja environment, its renderer) was frozen with it: 30-70 MiB more at each edit of
    # site.toml at 10,000 items. 420 items: enough pages to render them in worker processes.
    items = {f"{i:03d}.md": item_text(f"خبر رقم {i}", f"نص الخبر رقم {i} عن البنك المركزي.",
                                      date=f"2024-01-{1 + i % 28:02d}") for i in range(420)}
    site = write_site(tmp_path, items, config=CONFIG.format(digits="western"))
    builder = SiteBuilder(load_config(site / "site.toml"))
    builder.build()
    renderer = weakref.ref(builder._templates[1])
    builder.close()
    del builder
    try:
        gc.freeze()  # as loading the next builder's cache does
        gc.collect()
        assert renderer() is None
    finally:
        gc.unfreeze()


def rewrite(path: Path, old: str, new: str) -> None:
    path.write_text(path.read_text("utf-8").replace(old, new, 1), "utf-8")


@pytest.mark.parametrize("change, why", [
    (lambda site: edit_body(site / "items" / "05.md", "كلمات جديدة في أول الخبر", at_start=True),
     "the summary (the first paragraph) and the words related items count changed"),
    (lambda site: rewrite(site / "items" / "05.md", "فقرة رقم 20 عن", "فقرة رقم 20 جديدة عن"),
     "the words related items count changed (within the first 2,500 characters), not the summary"),
    (lambda site: rewrite(site / "items" / "05.md", "خبر اليوم 5", "عنوان جديد"), "the headline changed"),
    (lambda site: rewrite(site / "items" / "05.md", "topics:", "author: كاتب جديد\ntopics:"),
     "a field changed (the author), not the words"),
])
def test_edits_the_shortcut_cannot_take_make_an_ordinary_build(tmp_path, change, why):
    site, config = edited_site(tmp_path)
    change(site)
    report = build(config)
    assert "in their bodies only" not in " ".join(report.details), why
    cold = site / "cold"
    build(config, output=cold, use_cache=False)
    assert snapshot(site / "public") == snapshot(cold), why


def test_with_templates_of_its_own_a_site_takes_no_shortcut(tmp_path):
    """A site's template may show a body anywhere: here each list shows its items' last words."""
    site = tmp_path / "site"
    (site / "templates").mkdir(parents=True)
    (site / "templates" / "list.html").write_text(
        "{% for a in articles %}<p>{{ a.body_html[-60:] }}</p>{% endfor %}", "utf-8")
    site, config = edited_site(site)
    edit_body(site / "items" / "11.md", "تصحيح في آخر الخبر.")  # on economy's newest page
    report = build(config)
    assert "in their bodies only" not in " ".join(report.details)
    assert "تصحيح في آخر الخبر." in (site / "public" / "topics" / "economy" / "index.html").read_text("utf-8")


def test_the_shortcut_is_not_taken_after_a_failed_build(tmp_path):
    site, config = edited_site(tmp_path)
    broken = site / "items" / "07.md"
    good = broken.read_text("utf-8")
    edit_body(site / "items" / "05.md", "تصحيح أول.")
    broken.write_text("---\ntitle: [\n---\nنص\n", "utf-8")
    with pytest.raises(BuildFailed):
        build(config)
    broken.write_text(good, "utf-8")  # the bytes the output was made from, under a new time
    # 05.md's record is of its edited version, which the output does not show yet.
    report = build(config)
    assert "in their bodies only" not in " ".join(report.details)
    assert "تصحيح أول." in (site / "public" / "articles" / "خبر-اليوم-5" / "index.html").read_text("utf-8")


def test_the_shortcut_is_off_with_learned_filing_or_stale_related_items(tmp_path):
    site, config = edited_site(tmp_path)
    model = load_site(config, Diagnostics())
    cache = BuildCache.load(config, cache_key(config, False))
    feeds = feed_lists(model, config)
    assert EditIndex.of(model, config, feeds, True, cache.records).eligible
    assert not EditIndex.of(model, config, feeds, False, cache.records).eligible
    inferred = replace(model, articles=(replace(model.articles[0], topics_inferred=True),) + model.articles[1:])
    assert not EditIndex.of(inferred, replace(config, learn_topics=True), feeds, True, cache.records).eligible
    assert EditIndex.of(inferred, replace(config, learn_topics=False), feeds, True, cache.records).eligible


def test_a_few_changes_go_to_the_journal_beside_the_main_cache_file(tmp_path):
    site, config = edited_site(tmp_path)
    folder = site / ".newsgen-cache"
    main = (folder / "build.pickle").read_bytes()
    edit_body(site / "items" / "03.md", "تصحيح في آخر الخبر.")
    assert "in their bodies only" in build(config).details[0]
    assert (folder / "build.pickle").read_bytes() == main and (folder / "journal.pickle").is_file()
    again = build(config)  # the main file and its journal read back: nothing left to do
    assert again.changed == [] and again.rendered == 0
    cold = site / "cold"
    build(config, output=cold, use_cache=False)
    assert snapshot(site / "public") == snapshot(cold)
    # A journal that cannot be read: the main file alone is older than the output, so all goes.
    (folder / "journal.pickle").write_bytes(b"broken")
    report = build(config)
    assert report.rendered > 1 and snapshot(site / "public") == snapshot(cold)
    # An ordinary build writes the main file anew and deletes the journal.
    (site / "items" / "03.md").write_text(item_text("خبر اليوم 3", "نص أقصر", "[اقتصاد]", "2024-03-03"), "utf-8")
    build(config)
    assert (folder / "build.pickle").read_bytes() != main and not (folder / "journal.pickle").exists()
    assert build(config).changed == []


@pytest.mark.parametrize("search", [False, True])
def test_serve_takes_the_shortcut_too_and_brings_the_search_index_up_to_date_after(tmp_path, monkeypatch, search):
    import newsgen.build
    from test_search import fragments, visible_index

    site, config = edited_site(tmp_path)
    config = replace(config, search=search)
    builder = SiteBuilder(config)
    builder.build()
    models = []
    derive = newsgen.build.model_of_records
    monkeypatch.setattr(newsgen.build, "model_of_records", lambda *a, **k: models.append(1) or derive(*a, **k))
    edit_body(site / "items" / "05.md", "فقرة تصحيحية فيها تصويب أضيفت في آخر الخبر.")
    report = builder.build(quick=True)
    assert "in their bodies only" in report.details[0] and report.related_stale is False
    assert "فقرة تصحيحية" in (site / "public" / "articles" / "خبر-اليوم-5" / "index.html").read_text("utf-8")
    builder.wait()
    assert models == []  # the index took the edit from the shards' listings, without the site model
    if search:
        record = next(r for r in fragments(site / "public") if r["url"].startswith("/articles/خبر-اليوم-5."))
        assert "تصويب" in record["words"] and record["shard"].startswith("recent-")
    cold = site / "cold"
    build(config, output=cold, use_cache=False)
    if search:
        assert visible_index(site / "public") == visible_index(cold)
    skip = ("pagefind/",)  # Pagefind's files differ between runs; their records are checked above
    assert {k: v for k, v in snapshot(site / "public").items() if not k.startswith(skip)} == \
        {k: v for k, v in snapshot(cold).items() if not k.startswith(skip)}


@pytest.mark.parametrize("had_index", [False, True])
def test_serve_shows_a_full_builds_pages_before_writing_its_search_index(tmp_path, monkeypatch, had_index):
    """At start-up without a cache, serve swaps the pages in and writes the index after, from
    the shards of the index the output had (which serves meanwhile)."""
    import threading

    import newsgen.search
    from test_search import visible_index

    site, config = edited_site(tmp_path)
    config = replace(config, search=True)
    shutil.rmtree(site / "public")
    if had_index:
        build(config)
    shutil.rmtree(site / ".newsgen-cache")
    cold = site / "cold"
    build(config, output=cold, use_cache=False)
    gate, indexed = threading.Event(), []
    write, index_shards = newsgen.search.write_search_index, newsgen.search._index_shards
    monkeypatch.setattr(newsgen.search, "write_search_index",
                        lambda *a, **k: gate.wait(30) and write(*a, **k))
    monkeypatch.setattr(newsgen.search, "_index_shards",
                        lambda bundle, shards, listings, **kwargs: indexed.extend(shards) or
                        index_shards(bundle, shards, listings, **kwargs))
    builder = SiteBuilder(config)
    try:
        report = builder.build()
        assert report.changed and (site / "public" / "articles" / "خبر-اليوم-5" / "index.html").is_file()
        manifest = site / "public" / "pagefind" / "newsgen-shards.json"
        assert manifest.is_file() is had_index
        gate.set()
        builder.wait()
    finally:
        gate.set()
        builder.close()
    assert visible_index(site / "public") == visible_index(cold)
    assert len(indexed) == (0 if had_index else 1)  # the shard of before kept, not indexed again
    assert [p.name for p in site.iterdir() if p.name.startswith(".public")] == []


def test_serve_says_the_search_index_follows_and_when_it_is_written(tmp_path):
    from newsgen.serve import Preview

    site = uncached_search_site(tmp_path)
    said = []
    console = type("Recorder", (), {"info": lambda self, text: said.append(text), "error": said.append,
                                    "warning": lambda self, problem: None, "debug": lambda self, text: None})()
    preview = Preview(site / "site.toml", console=console)
    try:
        preview.first_build()
        preview.builder.wait()
        assert said[0].startswith("built 12 items") and said[0].endswith(
            "; the search index is being written in the background"), said
        assert re.fullmatch(r"\d\d:\d\d:\d\d search index written in \d+\.\d\d s more", said[1]), said
        (site / "items" / "05.md").write_text((site / "items" / "05.md").read_text("utf-8") + "\nسطر.\n", "utf-8")
        preview.rebuild([])
        preview.builder.wait()
        assert len(said) == 3 and "search index" not in said[2], said  # an edit's index: no word
    finally:
        preview.builder.close()


def test_a_stopping_serve_gives_up_its_search_index_and_the_next_build_writes_it(tmp_path, monkeypatch):
    from test_search import visible_index

    site, config = edited_site(tmp_path)
    config = replace(config, search=True)
    shutil.rmtree(site / "public")
    shutil.rmtree(site / ".newsgen-cache")
    cold = site / "cold"
    build(config, output=cold, use_cache=False)
    pids = slow_pagefind(tmp_path, monkeypatch, record_pids=True)
    builder = SiteBuilder(config)
    report = builder.build()
    assert report.index_later
    deadline = time.monotonic() + 10
    while not pids.exists():
        assert time.monotonic() < deadline
        time.sleep(0.01)
    started = time.monotonic()
    builder.give_up_background()
    builder.close()
    assert time.monotonic() - started < 5
    for pid in pids.read_text().split():
        with pytest.raises(ProcessLookupError):
            os.kill(int(pid), 0)  # stopped, not left running
    monkeypatch.delenv("PAGEFIND_BINARY_PATH")
    again = build(config)
    assert any(line.startswith("search index:") for line in again.details), again.details
    assert visible_index(site / "public") == visible_index(cold)
    assert build(config).changed == []


def test_serve_stops_at_once_though_a_first_builds_search_index_is_being_written(tmp_path, monkeypatch):
    from newsgen.cli import Console
    from newsgen.serve import PreviewServer

    site = uncached_search_site(tmp_path)
    slow_pagefind(tmp_path, monkeypatch)
    server = PreviewServer(site / "site.toml", host="127.0.0.1", port=0, console=Console(quiet=True))
    server.start()
    assert (site / "public" / "index.html").is_file()
    started = time.monotonic()
    server.stop()
    server.preview.builder.wait()  # what the process waits for as it exits
    assert time.monotonic() - started < 5
    assert server.preview.errors is None  # given up as asked: no error to show


def test_a_search_index_left_due_stays_due_under_another_configuration(tmp_path):
    site, config = edited_site(tmp_path)
    cache = BuildCache.load(config, cache_key(config, False))
    cache.state["search_due"] = True
    cache.save(config)
    other = replace(config, per_page=3)
    loaded = BuildCache.load_main(other, cache_key(other, False))
    assert loaded.key != cache.key and loaded.state == {"search_due": True}
    cache.state.pop("search_due")
    cache.save(config)
    assert BuildCache.load_main(other, cache_key(other, False)).state is None


@pytest.mark.parametrize("change", ["per_page = 3", "# a comment"])
def test_an_edit_of_site_toml_gives_up_the_index_being_written_and_the_new_build_writes_it(
        tmp_path, monkeypatch, change):
    from newsgen.cli import Console
    from newsgen.serve import Change, Preview
    from test_search import visible_index

    site = uncached_search_site(tmp_path)
    toml = site / "site.toml"
    slow_pagefind(tmp_path, monkeypatch)
    preview = Preview(toml, console=Console(quiet=True))
    try:
        preview.first_build()
        monkeypatch.delenv("PAGEFIND_BINARY_PATH")  # the next runs are Pagefind's own
        edited = toml.read_text("utf-8").replace("per_page = 2", change)
        toml.write_text(edited if change != "# a comment" else edited + "\n# a comment\n", "utf-8")
        started = time.monotonic()
        preview.rebuild([Change(toml.resolve())])
        assert time.monotonic() - started < 10  # not the 60 s of the slow run
        assert preview.errors is None
        preview.builder.wait()
    finally:
        preview.builder.close()
    cold = site / "cold"
    build(load_config(toml), output=cold, use_cache=False)
    assert visible_index(site / "public") == visible_index(cold)


@pytest.mark.parametrize("fails_after_the_build", [False, True])
def test_serve_tells_of_a_search_index_that_failed_in_the_background(tmp_path, monkeypatch, fails_after_the_build):
    import threading

    import newsgen.search
    from newsgen.cli import Console
    from newsgen.search import SearchIndexError
    from newsgen.serve import Preview

    site = uncached_search_site(tmp_path)

    built = threading.Event()

    def broken(*args, **kwargs):
        if fails_after_the_build:
            built.wait(30)
        raise SearchIndexError("pagefind stopped: out of memory")

    monkeypatch.setattr(newsgen.search, "write_search_index", broken)
    preview = Preview(site / "site.toml", console=Console(quiet=True))
    try:
        preview.first_build()
        assert (site / "public" / "articles" / "خبر-اليوم-5" / "index.html").is_file()
        built.set()
        preview.builder.wait()
        assert preview.errors == ["error: pagefind stopped: out of memory"]
    finally:
        built.set()
        preview.builder.close()


def test_a_build_with_search_on_takes_the_shortcut_and_brings_the_index_up_to_date(tmp_path, monkeypatch):
    """`newsgen build` puts the edited items into the search index before it ends; when that
    fails, the build fails and the next one makes the output whole."""
    import newsgen.search
    from newsgen.search import SearchIndexError
    from test_search import fragments, visible_index

    site, config = edited_site(tmp_path)
    config = replace(config, search=True)
    build(config)
    edit_body(site / "items" / "05.md", "فقرة فيها تصويب.")
    report = build(config)
    assert "in their bodies only" in report.details[0] and report.rendered == 1, report.details
    record = next(r for r in fragments(site / "public") if r["url"].startswith("/articles/خبر-اليوم-5."))
    assert "تصويب" in record["words"] and record["shard"].startswith("recent-")
    cold = tmp_path / "cold"
    build(config, output=cold, use_cache=False)
    assert without_index(snapshot(site / "public")) == without_index(snapshot(cold))
    assert visible_index(site / "public") == visible_index(cold)

    failing = tmp_path / "pagefind"
    failing.write_text("#!/bin/sh\necho the disk is full >&2\nexit 3\n", encoding="utf-8")
    failing.chmod(0o755)
    monkeypatch.setattr(newsgen.search, "_binary", lambda: failing)
    edit_body(site / "items" / "05.md", "فقرة ثانية فيها تنقيح.")
    with pytest.raises(SearchIndexError, match="the disk is full"):
        build(config)
    monkeypatch.undo()
    build(config)
    build(config, output=cold, use_cache=False)
    assert without_index(snapshot(site / "public")) == without_index(snapshot(cold))
    assert visible_index(site / "public") == visible_index(cold)
    record = next(r for r in fragments(site / "public") if r["url"].startswith("/articles/خبر-اليوم-5."))
    assert "تنقيح" in record["words"]


def searched_site_counting_models(tmp_path: Path, monkeypatch) -> tuple[Path, object, list]:
    """`edited_site` with search on, built, and a list that gets an entry each time a build
    derives the site model from the records (`build.model_of_records`)."""
    import newsgen.build

    site, config = edited_site(tmp_path)
    config = replace(config, search=True)
    build(config)
    models: list = []
    derive = newsgen.build.model_of_records
    monkeypatch.setattr(newsgen.build, "model_of_records", lambda *a, **k: models.append(1) or derive(*a, **k))
    return site, config, models


def test_body_edits_with_search_on_go_into_the_recent_edits_without_the_site_model(tmp_path, monkeypatch):
    """Body edits update the search index by themselves: the site model is not derived, the
    recent edits gather the edited items and let go of one edited back, and the records the page
    sees are a cold build's. Without the shards' listings, the site model serves."""
    import json
    from newsgen.search import MANIFEST
    from test_search import fragments, visible_index

    site, config, models = searched_site_counting_models(tmp_path, monkeypatch)
    first = {item: (site / "items" / f"{item}.md").read_text("utf-8") for item in ("05", "07")}
    cold = tmp_path / "cold"

    def recent_and_hidden() -> tuple[list[str], int]:
        manifest = json.loads((site / "public" / "pagefind" / MANIFEST).read_text("utf-8"))
        recent = [r["url"] for r in fragments(site / "public") if r["shard"].startswith("recent-")]
        return sorted(recent), len(manifest["hidden"])

    steps = [("05", "فقرة فيها تصويب."), ("07", "فقرة فيها تنقيح."), ("05", None), ("07", None), ("07", "تنقيح آخر.")]
    recent_after = [1, 2, 1, 0, 1]
    for step, (item, text) in enumerate(steps):
        path = site / "items" / f"{item}.md"
        if text is None:
            path.write_text(first[item], "utf-8")  # edited back
        else:
            edit_body(path, text)
        report = build(config)
        assert "in their bodies only" in report.details[0] and "search index" in report.details[0], report.details
        build(config, output=cold, use_cache=False)
        assert visible_index(site / "public") == visible_index(cold), step
        recent, hidden = recent_and_hidden()
        assert len(recent) == hidden == recent_after[step], step
        folders = [p.name for p in (site / "public" / "pagefind").iterdir() if p.name.startswith("recent-")]
        assert len(folders) == min(1, recent_after[step]), step  # an emptied recent shard is gone
    assert models == []
    assert recent_and_hidden() == (["/articles/خبر-اليوم-7.html"], 1)

    shutil.rmtree(site / ".newsgen-cache" / "search-shards")
    edit_body(site / "items" / "07.md", "فقرة ثانية.")
    build(config)
    assert models == [1]
    build(config, output=cold, use_cache=False)
    assert visible_index(site / "public") == visible_index(cold)


def test_body_edits_with_search_on_fill_the_recent_edits_to_their_limit_then_fold_them_back(tmp_path, monkeypatch):
    """The index update of body edits counts what waits as a full build does: up to the limit
    without the site model, past it from the site model, which indexes the shards again."""
    import newsgen.search
    from test_search import fragments, visible_index

    monkeypatch.setattr(newsgen.search, "RECENT_ITEMS", 3)
    site, config, models = searched_site_counting_models(tmp_path, monkeypatch)
    cold = tmp_path / "cold"
    for step, item in enumerate(("05", "07", "09", "11")):
        edit_body(site / "items" / f"{item}.md", f"فقرة مضافة رقم {step}.")
        build(config)
        build(config, output=cold, use_cache=False)
        assert visible_index(site / "public") == visible_index(cold), step
        recent = [r for r in fragments(site / "public") if r["shard"].startswith("recent-")]
        assert (len(recent), len(models)) == ((step + 1, 0) if step < 3 else (0, 1)), step


def test_serve_quick_shortcut_may_change_the_words_counted_and_the_next_build_ranks_again(tmp_path):
    site, config = edited_site(tmp_path)
    short = site / "items" / "short.md"  # its words are all counted, to its end
    short.write_text(item_text("خبر قصير", "مباراة المنتخب في المدينة", "[sport]", "2024-03-20"), "utf-8")
    builder = SiteBuilder(config)
    builder.build()
    edit_body(short, "وفاز المنتخب بالبطولة بعد مباراة صعبة.")
    quick = builder.build(quick=True)
    assert "in their bodies only" in quick.details[0] and quick.related_stale
    caught_up = builder.build()
    assert caught_up.details[0].startswith("read ") and not caught_up.related_stale  # the ordinary way
    builder.wait()
    cold = site / "cold"
    build(config, output=cold, use_cache=False)
    assert snapshot(site / "public") == snapshot(cold)
    assert build(config).changed == []  # what serve left on disk is right for the next process too


@pytest.mark.parametrize("template, may", [
    ("{{ site.title }}{% for p in site.pages %}{{ p.title }}{% endfor %}", False),  # the sample's footer, say
    ("{% if page.kind == 'article' %}{{ articles[0].title }}{{ articles[:3]|length }}{% endif %}", False),
    ("{{ a.body_html }}", True),
    ("{{ a.article.title }}", True),  # the record behind a card holds its body
    ("{{ a['text'] }}", True),
    ("{{ a[field] }}", True),
    ("{{ a|attr('word_count') }}", True),
    ("{{ items|map(attribute=name)|join }}", True),
    ("{{ items|map(attribute='title')|join }}", False),
    ("{% for", True),  # broken: the build reports it
])
def test_site_templates_are_read_for_what_may_show_a_body(tmp_path, template, may):
    from newsgen.edits import templates_may_show_bodies

    site = write_site(tmp_path, {"a.md": item_text("خبر", "نص")}, config=CONFIG.format(digits="western"))
    config = load_config(site / "site.toml")
    assert not templates_may_show_bodies(config)
    (site / "templates" / "partials").mkdir(parents=True)
    (site / "templates" / "partials" / "footer.html").write_text(template, "utf-8")
    assert templates_may_show_bodies(config) == may


def test_a_cache_saved_before_the_output_last_changed_is_not_trusted(tmp_path):
    """As when serve's new builder reads the cache before the old one's save has landed."""
    site, config = edited_site(tmp_path)
    item = site / "items" / "04.md"
    first = item.read_text("utf-8")
    shutil.copytree(site / ".newsgen-cache", tmp_path / "saved")
    item.write_text(first.replace("خبر اليوم 4", "عنوان آخر لخبر اليوم"), "utf-8")
    build(config)
    shutil.rmtree(site / ".newsgen-cache")
    shutil.copytree(tmp_path / "saved", site / ".newsgen-cache")  # the cache of the build before
    item.write_text(first, "utf-8")  # the bytes that cache knows, under a new time
    report = build(config)
    assert report.details[0].startswith("read ") and "full build" in report.details[1]
    cold = site / "cold"
    build(config, output=cold, use_cache=False)
    assert snapshot(site / "public") == snapshot(cold)


def test_a_body_read_while_another_thread_saves_its_shard_comes_from_memory(tmp_path, monkeypatch):
    """serve saves the cache in a thread, which reads a shard's bodies into memory and closes its
    file before replacing it: a body read that overlapped it must not fail."""
    from newsgen import storage
    from newsgen.model import Article

    article = Article(path="a.md", title="خبر", slug="خبر", body_html="<p>نص</p>", text="خبر نص")
    storage.write_bodies(tmp_path / "bodies.pickle", "token", {"a": article})
    bodies = storage.BodyFile(tmp_path / "bodies.pickle", "token")
    read_body = storage._read_body

    def meanwhile_saved(handle, *where):
        bodies.read()  # the other thread: every body in memory, the file closed
        return read_body(handle, *where)

    monkeypatch.setattr(storage, "_read_body", meanwhile_saved)
    assert bodies.get("a") == ("<p>نص</p>".encode(), "خبر نص".encode())

    # The same for the digest of a text, asked of a file not opened yet, which the save reads
    # and then replaces while it is being opened.
    fresh = storage.BodyFile(tmp_path / "bodies.pickle", "token")
    opening = fresh._open
    saved = []

    def opened_after_a_save():
        if not saved:
            saved.append(True)
            fresh.read()  # the other thread (its own opening goes through)
            raise ValueError("another file")  # then replaced: this opening finds the new one
        return opening()

    monkeypatch.setattr(fresh, "_open", opened_after_a_save)
    assert fresh.text_digest("a") == storage.text_digest(article)


def test_an_item_filed_by_keyword_takes_the_shortcut_unless_its_words_file_it_elsewhere(tmp_path):
    """Without learned filing, an untagged item is filed by the keywords of its whole text: words
    added past those related items count can still move it to another topic."""
    site = write_site(tmp_path, {"untagged.md": item_text("خبر بلا قسم", LONG_BODY, date="2024-03-15"),
                                 "tagged.md": item_text("خبر رياضي", "مباراة المنتخب", "[sport]", "2024-03-14")},
                      config=CONFIG.format(digits="western") + "\n[filing]\nlearn = false\n")
    config = load_config(site / "site.toml")
    build(config)
    untagged = site / "items" / "untagged.md"
    edit_body(untagged, "فقرة أضيفت في آخر الخبر.")
    assert "in their bodies only" in build(config).details[0]  # still filed under economy
    edit_body(untagged, " ".join(["مباراة منتخب"] * 80))  # now more about sport than economy
    assert "in their bodies only" not in " ".join(build(config).details)
    cold = site / "cold"
    build(config, output=cold, use_cache=False)
    assert snapshot(site / "public") == snapshot(cold)


def _body_in_a_forked_process_after_saving(config, key: str, name: str, edited: str, *, opened: bool) -> str:
    """What a process forked before the records are saved reads of `name`'s body afterwards (as
    a build's page workers do while the main process saves, `edited` having gone): its
    text, or the error. `opened`: the build opened the changed shards' body files first."""
    cache = BuildCache.load(config, key)
    del cache.records[edited]  # deleted: its shard is saved again
    if opened:
        cache.open_changed_bodies()
    saved, go = os.pipe()
    answer_read, answer = os.pipe()
    pid = os.fork()
    if pid == 0:  # the worker: waits for the save, then reads
        os.read(saved, 1)
        try:
            text = cache.records[name].article.text
        except Exception as exc:  # noqa: BLE001  (sent to the parent whatever it is)
            text = f"error: {exc}"
        os.write(answer, text.encode("utf-8"))
        os._exit(0)
    cache.save_records(config)
    os.write(go, b"x")
    os.waitpid(pid, 0)
    os.close(answer)
    return os.read(answer_read, 1 << 16).decode("utf-8")


def test_processes_forked_before_a_shard_is_saved_read_its_bodies_from_the_file_they_forked_on(tmp_path):
    from newsgen.cache import SHARDS, _shard_of

    # One more item than shards: two share one.
    site = write_site(tmp_path, {f"{i}.md": item_text(f"خبر {i}", f"نص الخبر رقم {i}") for i in range(SHARDS + 1)})
    config = load_config(site / "site.toml")
    build(config)
    key = cache_key(config, drafts=False)
    names = sorted(BuildCache.load(config, key).records)
    edited, name = next((a, b) for a in names for b in names if a != b and _shard_of(a) == _shard_of(b))
    expected = BuildCache.load(config, key).records[name].article.text
    assert "نص الخبر رقم" in expected
    assert "changed or broke" in _body_in_a_forked_process_after_saving(config, key, name, edited, opened=False)
    shutil.rmtree(site / ".newsgen-cache")  # the deleted record back
    build(config)
    assert _body_in_a_forked_process_after_saving(config, key, name, edited, opened=True) == expected


def test_pages_that_changed_wait_on_disk_beside_the_output_until_all_have_rendered(tmp_path, monkeypatch):
    """An incremental build keeps the bytes of changed pages in files beside the output, not
    in memory, and moves them in only once every page has rendered."""
    from newsgen import output
    from newsgen.errors import NewsgenError

    site = write_site(tmp_path, {f"{i}.md": item_text(f"خبر {i}", f"نص الخبر رقم {i}", date=f"2024-01-{i + 1:02d}")
                                 for i in range(12)})
    config = load_config(site / "site.toml")
    build(config)
    before = snapshot(site / "public")
    spooled = []
    write = output.SpooledPages.write
    monkeypatch.setattr(output.SpooledPages, "write", lambda self, path, data: spooled.append(path) or
                        write(self, path, data))
    partials = site / "templates" / "partials"
    partials.mkdir(parents=True)
    (partials / "footer.html").write_text(  # fails on the first article, once the home page is done
        "<footer>{% if page.kind == 'article' %}{{ page.nothing.at_all() }}{% endif %}</footer>", "utf-8")
    with pytest.raises(NewsgenError, match="template error"):
        build(config)
    assert snapshot(site / "public") == before  # a template error: nothing moved in
    assert spooled and not any(p.name.startswith(".public") for p in tmp_path.iterdir())
    (partials / "footer.html").write_text("<footer>تذييل جديد</footer>", "utf-8")
    spooled.clear()
    report = build(config)
    assert "articles/خبر-3/index.html" in spooled and set(report.changed) >= set(spooled)
    assert "تذييل جديد" in (site / "public" / "articles" / "خبر-3" / "index.html").read_text("utf-8")
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".public")) == []
    cold = site / "cold"
    build(config, output=cold, use_cache=False)
    assert snapshot(site / "public") == snapshot(cold)


def test_a_configuration_change_reads_items_again_only_when_reading_them_depends_on_it(tmp_path):
    items = {f"{i}.md": item_text(f"خبر {i}", f"نص الخبر رقم {i}", "[اقتصاد]", f"2024-01-{i + 1:02d}T23:30:00+00:00")
             for i in range(9)}
    site = write_site(tmp_path, items, config=CONFIG.format(digits="western"))
    config = load_config(site / "site.toml")
    build(config)
    articles = {p: p.read_bytes() for p in (site / "public" / "articles").rglob("index.html")}
    (site / "site.toml").write_text(CONFIG.format(digits="western").replace("per_page = 2", "per_page = 3"), "utf-8")
    config = load_config(site / "site.toml")
    report = build(config)
    assert "(0 parsed, 9 from the cache)" in report.details[0]
    assert report.changed and not any(path.startswith("articles/") for path in report.changed)  # lists only
    assert {p: p.read_bytes() for p in (site / "public" / "articles").rglob("index.html")} == articles
    cold = site / "cold"
    build(config, output=cold, use_cache=False)
    assert snapshot(site / "public") == snapshot(cold)

    (site / "site.toml").write_text(CONFIG.format(digits="western").replace("Asia/Amman", "UTC"), "utf-8")
    config = load_config(site / "site.toml")
    report = build(config)
    assert "(9 parsed, 0 from the cache)" in report.details[0]  # dates are read in the site's time zone
    shutil.rmtree(cold)
    build(config, output=cold, use_cache=False)
    assert snapshot(site / "public") == snapshot(cold)


def test_items_are_read_with_the_reading_settings_alone():
    """Loaders get `SiteConfig.reading()`, not the configuration: what they read of it is what
    the build cache keeps records by."""
    from newsgen.loaders import parse_item

    config = load_config(REPO / "site.toml")
    items = sorted(p for p in (REPO / "seeds" / "content").rglob("*") if p.suffix in (".md", ".txt"))
    assert len(items) >= 10
    for path in items[:40]:
        job = (path, path.read_bytes())
        assert parse_item(job, config.reading()) == parse_item(job, config)


def test_serve_gives_freed_memory_back_after_each_build_and_when_closed(tmp_path, monkeypatch):
    from newsgen import parallel

    trims = []
    monkeypatch.setattr(parallel, "_malloc_trim", lambda: trims.append)
    site = write_site(tmp_path, {"a.md": item_text("خبر", "نص", "[اقتصاد]")})
    builder = SiteBuilder(load_config(site / "site.toml"))
    builder.build()
    builder.wait()
    assert trims == [0]
    (site / "items" / "a.md").write_text(item_text("خبر", "نص", "[رياضة]"), "utf-8")
    builder.build()
    builder.wait()
    assert trims == [0, 0]
    builder.close()
    assert trims == [0, 0, 0]


def test_giving_freed_memory_back_is_a_no_op_where_the_c_library_has_no_such_call(monkeypatch):
    import ctypes

    from newsgen import parallel

    class NoTrim:
        def __init__(self, name):
            pass

        def __getattr__(self, name):
            raise AttributeError(name)

    parallel._malloc_trim.cache_clear()
    monkeypatch.setattr(ctypes, "CDLL", NoTrim)
    try:
        assert parallel._malloc_trim() is None
        parallel.return_freed_memory()
    finally:
        parallel._malloc_trim.cache_clear()
