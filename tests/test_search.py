"""Static search without a browser: what the build writes, what it indexed, the search page."""

from __future__ import annotations

import dataclasses
import gzip
import json
import re
import shutil
import unicodedata
from collections import Counter
from pathlib import Path
from urllib.parse import unquote

import pytest
from bs4 import BeautifulSoup

from conftest import copy_sample_site, write_site

import newsgen.search
from newsgen.arabic import folding_tables, normalize, stems, strip_marks, words
from newsgen.build import load_site
from newsgen.cache import BuildCache
from newsgen.cli import main
from newsgen.config import load_config
from newsgen.errors import Diagnostics
from newsgen.search import (MANIFEST, SHARD_ITEMS, SearchIndexError, browser_tables, hide, index_tokens,
                            query_keys, reveal, shard_count, shard_number, word_matches, write_search_index)

from search_queries import FOLDING_WORDS, FOUND, NOTHING


def build(site: Path) -> int:
    return main(["build", "--config", str(site / "site.toml"), "--quiet"])


def fragments(out: Path, *, hidden: bool = False) -> list[dict]:
    """Every record Pagefind stored in the shards the manifest names, decoded (gzip, a signature,
    then JSON); without the records the manifest hides, as the search page leaves them out,
    unless `hidden`.

    Each gets `id`, `shard` (its folder), `shown` (the metadata readers see, revealed) and
    `words` (the indexed words, without the full stop Pagefind puts after a heading).
    """
    manifest = json.loads((out / "pagefind" / MANIFEST).read_text("utf-8"))
    left_out = set() if hidden else set(manifest["hidden"])
    records = []
    for path in sorted(p for name in manifest["shards"] for p in (out / "pagefind" / name).glob("fragment/*.pf_fragment")):
        if path.name.removesuffix(".pf_fragment") in left_out:
            continue
        data = gzip.decompress(path.read_bytes())
        assert data.startswith(b"pagefind_dcd"), path
        record = json.loads(data[len(b"pagefind_dcd"):])
        record["id"] = path.name.removesuffix(".pf_fragment")
        record["shard"] = path.parent.parent.name
        record["shown"] = {key: reveal(value) for key, value in record["meta"].items() if key != "title"}
        record["words"] = [word.rstrip(".") for word in record["content"].split()]
        records.append(record)
    return records


def shard_folders(out: Path) -> list[Path]:
    """The shard folders the manifest names, in its order."""
    manifest = json.loads((out / "pagefind" / MANIFEST).read_text("utf-8"))
    return [out / "pagefind" / name.rstrip("/") for name in manifest["shards"]]


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    """The sample archive, built once for this module."""
    site = copy_sample_site(tmp_path_factory.mktemp("search-sample"))
    assert build(site) == 0
    return site / "public"


# -- what the build writes -------------------------------------------------------------

def test_the_index_and_the_search_page_are_written_by_default(built):
    shards = shard_folders(built)
    # The sample is small: one shard; the manifest names it and nothing else is in the folder.
    assert len(shards) == 1
    assert {p.name for p in (built / "pagefind").iterdir()} == {MANIFEST, shards[0].name}
    for bundle in shards:
        for name in ("pagefind.js", "pagefind-worker.js", "pagefind-entry.json", "wasm.unknown.pagefind",
                     "newsgen-shard.sha256"):
            assert (bundle / name).is_file() and (bundle / name).stat().st_size > 0, name
        entry = json.loads((bundle / "pagefind-entry.json").read_text("utf-8"))
        # One language, undetermined, with no stemming of Pagefind's own: the only folding is
        # newsgen's. Its private-use subtag names the shard in every record's id.
        language = f"und-x-s{int(bundle.name[:3])}"
        assert list(entry["languages"]) == [language] and entry["languages"][language]["wasm"] is None
        assert all(p.name.startswith(language + "_") for p in (bundle / "fragment").iterdir())
        # Pagefind's own interfaces are not used and not shipped.
        assert not list(bundle.glob("pagefind-ui.*")) and not list(bundle.glob("pagefind-component-ui.*"))
    assert (built / "search" / "index.html").is_file()


def test_every_published_item_is_indexed_and_drafts_are_not(built):
    records = fragments(built)
    pages = list((built / "articles").glob("*/index.html"))
    assert len(records) == len(pages) > 10
    # Each record names its item's page as `/articles/<slug>.html` (the page links to `articles/<slug>/`).
    urls = {r["url"] for r in records}
    assert urls == {"/" + p.parent.relative_to(built).as_posix() + ".html" for p in pages}
    assert not any("جزران تقرّ ميزانية" in r["shown"]["headline"] for r in records)


def test_a_result_shows_the_day_the_items_page_shows(tmp_path):
    # Sent at 23:30 UTC, the item is of 16 January on the site's calendar (Riyadh, UTC+3): its
    # page and its archive say so, and so must its search result.
    site = write_site(tmp_path / "site", {"late.md": "---\ntitle: خبر متأخر\ndate: 2024-01-15T23:30:00+00:00\n---\n\n"
                                                     "نص الخبر.\n"})
    assert build(site) == 0
    out = site / "public"
    page = BeautifulSoup((next((out / "articles").glob("*/index.html"))).read_text("utf-8"), "html.parser")
    shown = page.find("time").get_text(strip=True)
    assert shown.startswith("16 ") and (out / "archive" / "2024" / "01").is_dir()
    [record] = fragments(out)
    assert record["shown"]["date"] == shown


def test_verbose_says_what_writing_the_index_did(sample_site, capsys):
    assert main(["build", "--config", str(sample_site / "site.toml"), "--verbose"]) == 0
    printed = capsys.readouterr()
    lines = [line for line in (printed.out + printed.err).splitlines() if line.startswith("search index: ")]
    assert len(lines) == 1 and re.match(r"search index: \d+ records in 1 shard, 1 indexed by Pagefind \(\d+\.\d s "
                                        r"of CPU\), 0 items in the shard of recent edits, in \d+\.\d\d s$", lines[0]), lines


def test_no_index_and_no_search_page_when_search_is_off(sample_site):
    config = sample_site / "site.toml"
    config.write_text(config.read_text("utf-8") + "\n[search]\nenabled = false\n", encoding="utf-8")
    assert build(sample_site) == 0
    out = sample_site / "public"
    assert (out / "index.html").is_file()
    assert not (out / "pagefind").exists()
    assert not (out / "search").exists()
    assert not list(out.glob(".pagefind*"))


def test_turning_search_off_removes_an_earlier_index(sample_site):
    assert build(sample_site) == 0
    assert (sample_site / "public" / "pagefind" / MANIFEST).is_file()
    config = sample_site / "site.toml"
    config.write_text(config.read_text("utf-8") + "\n[search]\nenabled = false\n", encoding="utf-8")
    assert build(sample_site) == 0
    assert not (sample_site / "public" / "pagefind").exists()
    assert not (sample_site / "public" / "search").exists()


def test_a_rebuild_indexes_what_changed_and_leaves_nothing_beside_the_index(sample_site):
    assert build(sample_site) == 0
    item = sample_site / "seeds" / "content" / "2025" / "gazelle-lake-shrinking.md"
    item.write_text(item.read_text("utf-8") + "\nوتعيش في البحيرة طيور الفلامنغو.\n", encoding="utf-8")
    assert build(sample_site) == 0
    out = sample_site / "public"
    lake = record(fragments(out), "بحيرة الغزلان")
    assert "فلامنغو" in lake["words"]
    assert not [p.name for p in out.iterdir() if p.name.startswith(".pagefind")]
    assert not [p.name for p in (out / "pagefind").iterdir() if p.name.startswith(".")]
    assert not [p.name for p in sample_site.iterdir() if ".new-" in p.name or ".old-" in p.name]


def test_writing_the_index_leaves_no_word_memo_behind(sample_site):
    assert build(sample_site) == 0
    assert newsgen.search._forms.cache_info().currsize == 0  # emptied once the index is written
    stems.cache_clear()
    assert index_tokens("والدفاع عن المدينة") and stems.cache_info().currsize == 0  # words not remembered twice


def test_a_rebuild_that_changes_no_item_keeps_the_index(sample_site):
    assert build(sample_site) == 0
    bundle = sample_site / "public" / "pagefind"
    before = {p: p.stat().st_mtime_ns for p in bundle.rglob("*") if p.is_file()}
    assert all((shard / "newsgen-shard.sha256").is_file() for shard in shard_folders(sample_site / "public"))
    (sample_site / "static").mkdir(exist_ok=True)
    (sample_site / "static" / "extra.css").write_text("p { color: inherit; }\n", encoding="utf-8")
    assert build(sample_site) == 0
    assert (sample_site / "public" / "assets" / "extra.css").is_file()
    assert {p: p.stat().st_mtime_ns for p in bundle.rglob("*") if p.is_file()} == before


# -- shards ---------------------------------------------------------------------------

SMALL_SHARDS = 6  # the sample's 21 items then make 4 shards
LAKE = Path("seeds") / "content" / "2025" / "gazelle-lake-shrinking.md"


@pytest.fixture
def sharded(monkeypatch, sample_site) -> Path:
    """The sample archive, indexed in 4 shards."""
    monkeypatch.setattr(newsgen.search, "SHARD_ITEMS", SMALL_SHARDS)
    return sample_site


def loaded(site: Path):
    config = load_config(site / "site.toml")
    return load_site(config, Diagnostics()), config


def test_planning_makes_no_record_source_until_a_shard_is_indexed(sharded, monkeypatch):
    # Most builds keep most shards: their digests are all they need of their items.
    model, config = loaded(sharded)
    record_source = newsgen.search.record_source
    made = []
    monkeypatch.setattr(newsgen.search, "record_source", lambda article, *rest: made.append(article.path) or
                        record_source(article, *rest))
    shards = newsgen.search.plan_shards(model, config)
    assert len(shards) > 1 and made == []
    names = {topic.key: topic.name for topic in model.topics}
    for shard in shards:
        assert shard.source_digests == tuple(record_source(article, config, names).digest().hex()
                                             for article in shard.members)
        assert [source.path for source in shard.sources] == sorted(article.path for article in shard.members)
    assert sorted(made) == sorted(article.path for article in model.articles)


def test_a_records_url_is_read_from_the_start_of_its_fragment_or_from_all_of_it():
    url = "/articles/%D8%AE%D8%A8%D8%B1.html"
    first = gzip.compress(b'pagefind_dcd{"url":"' + url.encode() + b'","content":"' + b"x" * 50_000 + b'"}')
    assert newsgen.search._fragment_url(first) == url
    escaped = gzip.compress(b'pagefind_dcd{"url":"/a\\"b.html","content":""}')
    assert newsgen.search._fragment_url(escaped) == '/a"b.html'
    later = gzip.compress(b'pagefind_dcd{"content":"x","raw_url":"/\xd8\xae.html","url":"/%D8%AE.html"}')
    assert newsgen.search._fragment_url(later) == "/\u062e.html"


def file_state(folder: Path) -> dict[str, tuple[int, int]]:
    """Each file below `folder`: its inode and modification time."""
    return {p.relative_to(folder).as_posix(): (p.stat().st_ino, p.stat().st_mtime_ns)
            for p in folder.rglob("*") if p.is_file()}


def edit(site: Path, item: Path = LAKE) -> None:
    path = site / item
    path.write_text(path.read_text("utf-8") + "\nوتعيش في البحيرة طيور الفلامنغو.\n", encoding="utf-8")


def test_the_shard_count_is_a_power_of_two_that_changes_only_when_the_archive_doubles():
    assert [shard_count(n) for n in (0, 1, SHARD_ITEMS)] == [1, 1, 1]
    assert [shard_count(n) for n in (SHARD_ITEMS + 1, 2 * SHARD_ITEMS, 2 * SHARD_ITEMS + 1)] == [2, 2, 4]
    for items in (1_000, 10_000, 50_000):
        count = shard_count(items)
        assert count & (count - 1) == 0 and SHARD_ITEMS / 2 < items / count <= SHARD_ITEMS


def test_an_items_shard_follows_from_its_file_alone_and_shards_are_even():
    paths = [f"items/{year}/item-{number}.md" for year in range(2015, 2025) for number in range(800)]
    sizes = Counter(shard_number(path, 8) for path in paths)
    assert len(sizes) == 8 and max(sizes.values()) < 1.1 * len(paths) / 8
    # A digest of the path, the same on every machine and run (not Python's salted hash()).
    assert shard_number("items/a.md", 16) == 15 and shard_number(LAKE.as_posix(), 4) == 1


def test_a_site_is_indexed_in_shards_each_item_in_the_shard_of_its_file(sharded):
    assert build(sharded) == 0
    out = sharded / "public"
    folders = shard_folders(out)
    assert len(folders) == 4 and {p.name for p in (out / "pagefind").iterdir()} == {MANIFEST} | {f.name for f in folders}
    model, _ = loaded(sharded)
    by_url = {"/" + a.url.rstrip("/") + ".html": a for a in model.articles}
    records = fragments(out)
    assert sorted(unquote(r["url"]) for r in records) == sorted(by_url)
    for r in records:
        assert r["shard"].startswith(f"{shard_number(by_url[unquote(r['url'])].path, 4):03d}-"), r["url"]
    manifest = json.loads((out / "pagefind" / MANIFEST).read_text("utf-8"))
    assert manifest["items"] == len(model.articles)


def test_a_build_tells_how_many_shards_are_indexed_as_each_is_done(sharded):
    from newsgen.build import build as build_site

    config = load_config(sharded / "site.toml")
    told = []
    build_site(config, progress=lambda done, total, what: told.append((what, done, total)))
    pages = [step for step in told if step[0] == "pages"]
    shards = [step[1:] for step in told if step[0] == "search index"]
    assert pages and pages[-1][1] == pages[-1][2]
    assert shards == [(0, 4), (1, 4), (2, 4), (3, 4), (4, 4)]
    assert told.index(("search index", 0, 4)) > told.index(pages[0])  # the pages first
    told.clear()
    (sharded / LAKE).write_text((sharded / LAKE).read_text("utf-8").replace("البحيرة", "بحيرة الغزلان", 1), "utf-8")
    build_site(config, progress=lambda done, total, what: told.append((what, done, total)))
    assert [step for step in told if step[0] == "search index"] == [("search index", 0, 1), ("search index", 1, 1)]


def manifest_of(out: Path) -> dict:
    return json.loads((out / "pagefind" / MANIFEST).read_text("utf-8"))


def test_an_edit_goes_into_the_shard_of_recent_edits_and_the_old_record_is_hidden(sharded):
    assert build(sharded) == 0
    out = sharded / "public"
    before = {folder.name: file_state(folder) for folder in shard_folders(out)}
    old_lake = record(fragments(out), "بحيرة الغزلان")
    edit(sharded)
    assert build(sharded) == 0
    *kept, recent = shard_folders(out)
    # The four shards were not written again: the same files, inodes and times.
    assert {folder.name: file_state(folder) for folder in kept} == before
    assert recent.name.startswith("recent-") and len(list((recent / "fragment").iterdir())) == 1
    assert manifest_of(out)["hidden"] == [old_lake["id"]] and old_lake["shard"] in before
    lake = record(fragments(out), "بحيرة الغزلان")
    assert lake["shard"] == recent.name and "فلامنغو" in lake["words"]
    assert sorted(r["id"] for r in fragments(out, hidden=True) if r["url"] == lake["url"]) == sorted([old_lake["id"], lake["id"]])
    model, _ = loaded(sharded)
    assert sorted(unquote(r["url"]) for r in fragments(out)) == sorted(f"/{a.url.rstrip('/')}.html" for a in model.articles)


def visible_index(out: Path) -> dict[str, tuple]:
    """Per item's URL, the words and texts the search page can find and show (one record each)."""
    records = fragments(out)
    urls = [unquote(r["url"]) for r in records]
    assert len(urls) == len(set(urls)), sorted(u for u in urls if urls.count(u) > 1)
    return {unquote(r["url"]): (r["words"], r["shown"]) for r in records}


def cold_index(site: Path, folder: Path) -> dict[str, tuple]:
    """`visible_index` of the site's items as they are now, indexed by a build of a copy, cold."""
    copy = folder / "site"
    shutil.rmtree(folder, ignore_errors=True)
    shutil.copytree(site, copy, ignore=shutil.ignore_patterns("public", ".newsgen-cache"))
    assert build(copy) == 0
    assert not manifest_of(copy / "public")["hidden"]
    return visible_index(copy / "public")


def test_after_edits_additions_deletions_and_renames_the_index_finds_what_a_new_one_does(
        sharded, tmp_path, monkeypatch):
    monkeypatch.setattr(newsgen.search, "RECENT_ITEMS", 4)
    items = sorted((sharded / "seeds" / "content").rglob("*.md"))
    items = [p for p in items if not p.name.startswith("_")]
    assert build(sharded) == 0
    out = sharded / "public"
    first = {folder.name for folder in shard_folders(out)}

    def add() -> None:
        (sharded / "seeds" / "content" / "2025" / "heron-count.md").write_text(
            "---\ntitle: إحصاء طيور البلشون في المحمية\ndate: 2025-03-02\n---\n\nأحصى المراقبون طيور البلشون.\n",
            encoding="utf-8")

    def retitle(path: Path) -> None:
        text = path.read_text("utf-8")
        path.write_text(re.sub(r"(?m)^title: (.*)$", r"title: \1 (محدث)", text, count=1), encoding="utf-8")

    steps = [
        ("one edit", lambda: edit(sharded)),
        ("an addition", add),
        ("a deletion", lambda: items[0].unlink()),
        ("a new headline", lambda: retitle(items[1])),
        ("a rename", lambda: items[2].rename(items[2].with_name("renamed-" + items[2].name))),
        ("past the recent edits' size", lambda: [edit(sharded, p.relative_to(sharded)) for p in items[3:9]]),
        ("the same item again", lambda: edit(sharded)),
    ]
    seen_recent = set()
    for name, step in steps:
        step()
        assert build(sharded) == 0, name
        manifest = manifest_of(out)
        recent = [shard for shard in manifest["shards"] if shard.startswith("recent-")]
        if recent:
            count = len(list((out / "pagefind" / recent[0] / "fragment").iterdir()))
            assert count <= newsgen.search.RECENT_ITEMS, name
            seen_recent.add(name)
        assert visible_index(out) == cold_index(sharded, tmp_path / "cold"), name
    # The recent edits served the small steps, and the large one had shards indexed again.
    assert {"one edit", "an addition", "a new headline"} <= seen_recent
    assert len({folder.name for folder in shard_folders(out)} - first) >= 2


def test_deletions_count_as_recent_edits_and_past_them_shards_are_indexed_again(sharded, tmp_path, monkeypatch):
    monkeypatch.setattr(newsgen.search, "RECENT_ITEMS", 2)
    assert build(sharded) == 0
    out = sharded / "public"
    first = {folder.name for folder in shard_folders(out)}
    items = [p for p in sorted((sharded / "seeds" / "content").rglob("*.md")) if not p.name.startswith("_")]
    for path in items[:3]:
        path.unlink()
    assert build(sharded) == 0
    # Three records to hide, one more than the recent edits may leave: shards are indexed again
    # until at most one is left hidden.
    assert len(manifest_of(out)["hidden"]) <= 1
    assert {folder.name for folder in shard_folders(out)} - first
    assert visible_index(out) == cold_index(sharded, tmp_path / "cold")


def test_without_its_listing_or_after_newsgens_code_changed_a_shard_is_indexed_again(sharded, monkeypatch):
    assert build(sharded) == 0
    out = sharded / "public"
    listings = BuildCache.search_listings(load_config(sharded / "site.toml"))
    assert sorted(p.stem for p in listings.iterdir()) == sorted(f.name for f in shard_folders(out))
    (listings / f"{record(fragments(out), 'بحيرة الغزلان')['shard']}.json").write_text("{", encoding="utf-8")
    before = {folder.name for folder in shard_folders(out)}
    edit(sharded)
    assert build(sharded) == 0
    after = {folder.name for folder in shard_folders(out)}
    assert len(after - before) == 1 and not any(name.startswith("recent-") for name in after)
    assert manifest_of(out)["hidden"] == []
    assert sorted(p.stem for p in listings.iterdir()) == sorted(after)  # the others' listings stay, none more

    monkeypatch.setattr(newsgen.search, "_index_code", lambda: "another version of newsgen")
    edit(sharded)
    assert build(sharded) == 0
    names = {folder.name for folder in shard_folders(out)}
    assert not names & after and not any(name.startswith("recent-") for name in names)


def test_a_full_build_links_the_shards_and_the_recent_edits_of_the_output_it_replaces(sharded):
    assert build(sharded) == 0
    edit(sharded)
    assert build(sharded) == 0
    out = sharded / "public"
    before = {folder.name: file_state(folder) for folder in shard_folders(out)}
    hidden = manifest_of(out)["hidden"]
    assert len(before) == 5 and len(hidden) == 1
    config = sharded / "site.toml"
    config.write_text(config.read_text("utf-8").replace("per_page = ", "per_page = 1"), encoding="utf-8")
    assert build(sharded) == 0  # another configuration: the site is written anew beside the output
    after = {folder.name: {path: ino for path, (ino, _) in file_state(folder).items()} for folder in shard_folders(out)}
    assert after == {name: {path: ino for path, (ino, _) in state.items()} for name, state in before.items()}
    assert manifest_of(out)["hidden"] == hidden


def test_shards_no_longer_named_are_deleted(sharded, monkeypatch):
    assert build(sharded) == 0
    assert len(shard_folders(sharded / "public")) == 4
    monkeypatch.setattr(newsgen.search, "SHARD_ITEMS", 1000)
    edit(sharded)  # a build that changes nothing does not touch the index
    assert build(sharded) == 0
    (shard,) = shard_folders(sharded / "public")
    assert {p.name for p in (sharded / "public" / "pagefind").iterdir()} == {MANIFEST, shard.name}
    assert len(fragments(sharded / "public")) == len(loaded(sharded)[0].articles)


def test_shards_of_the_output_being_replaced_are_linked_not_indexed_again(sharded, tmp_path):
    model, config = loaded(sharded)
    first = write_search_index(tmp_path / "old", model, config)
    assert first.shards == first.rebuilt == 4 and first.records == len(model.articles)
    assert first.pagefind_seconds > 0 and 0 < first.pagefind_peak_bytes < 256 * 2**20
    second = write_search_index(tmp_path / "new", model, config, previous=tmp_path / "old")
    assert second.shards == 4 and second.rebuilt == 0 and second.files == first.files
    old, new = file_state(tmp_path / "old" / "pagefind"), file_state(tmp_path / "new" / "pagefind")
    shared = {path: ino for path, (ino, _) in old.items() if path != MANIFEST}
    assert shared == {path: ino for path, (ino, _) in new.items() if path != MANIFEST}


def test_pagefind_bins_program_is_found_where_it_is_kept_or_by_asking_the_package(tmp_path, monkeypatch):
    from importlib.machinery import ModuleSpec
    from pagefind_bin import get_executable
    monkeypatch.delenv("PAGEFIND_BINARY_PATH", raising=False)
    assert newsgen.search._binary() == Path(get_executable())
    # Kept elsewhere by another version of the package: the package itself is asked.
    moved = ModuleSpec("pagefind_bin", None, is_package=True)
    moved.submodule_search_locations = [str(tmp_path)]
    monkeypatch.setattr(newsgen.search.importlib.util, "find_spec", lambda name: moved)
    assert newsgen.search._binary() == Path(get_executable())


def test_a_failing_pagefind_leaves_the_index_as_it_was(sharded, tmp_path, monkeypatch):
    model, config = loaded(sharded)
    folder = tmp_path / "out"
    write_search_index(folder, model, config)
    before = file_state(folder / "pagefind")
    failing = tmp_path / "pagefind"
    failing.write_text("#!/bin/sh\necho the disk is full >&2\nexit 3\n", encoding="utf-8")
    failing.chmod(0o755)
    monkeypatch.setenv("PAGEFIND_BINARY_PATH", str(failing))
    newsgen.search._index_code.cache_clear()  # the program is part of each shard's digest
    try:
        with pytest.raises(SearchIndexError, match="the disk is full"):
            write_search_index(folder, model, config)
    finally:
        monkeypatch.undo()
        newsgen.search._index_code.cache_clear()
    assert file_state(folder / "pagefind") == before


def bundle_bytes(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_pagefind_reads_its_pages_from_memory_and_the_index_is_the_same_without_it(sharded, tmp_path, monkeypatch):
    model, config = loaded(sharded)
    memory = tmp_path / "shm"
    memory.mkdir()
    (memory / f"{newsgen.search.SCRATCH_PREFIX}999999999-left").mkdir()  # of a build that died
    seen = []
    run_pagefind = newsgen.search._pagefind

    def pagefind(source, output, chunk_units=0, cancel=None):
        seen.append(source)
        return run_pagefind(source, output, chunk_units, cancel)

    monkeypatch.setattr(newsgen.search, "_pagefind", pagefind)
    monkeypatch.setattr(newsgen.search, "MEMORY_FOLDER", memory)
    write_search_index(tmp_path / "in-memory", model, config)
    assert len(seen) == 4 and all(source.parent == memory for source in seen)
    assert list(memory.iterdir()) == []  # each shard's pages, and the dead build's, are removed

    monkeypatch.setattr(newsgen.search, "MEMORY_FOLDER", tmp_path / "none")
    write_search_index(tmp_path / "on-disk", model, config)
    assert all(source.parent.parent == tmp_path / "on-disk" for source in seen[4:])

    def full(shard, source):  # memory has no room: the pages go to disk
        if source.parent == memory:
            (source / "half.html").write_text("<p>", encoding="utf-8")
            raise OSError(28, "No space left on device")
        return write_pages(shard, source)

    write_pages = newsgen.search._write_record_pages
    monkeypatch.setattr(newsgen.search, "MEMORY_FOLDER", memory)
    monkeypatch.setattr(newsgen.search, "_write_record_pages", full)
    write_search_index(tmp_path / "no-room", model, config)
    assert list(memory.iterdir()) == []
    assert all(source.parent.parent == tmp_path / "no-room" for source in seen[8:]) and len(seen) == 12
    assert bundle_bytes(tmp_path / "in-memory") == bundle_bytes(tmp_path / "on-disk") \
        == bundle_bytes(tmp_path / "no-room")


def test_an_index_of_one_bundle_is_replaced_by_shards_and_no_items_leave_no_index(sample_site, tmp_path):
    model, config = loaded(sample_site)
    earlier = tmp_path / "out" / "pagefind"
    (earlier / "fragment").mkdir(parents=True)
    (earlier / "pagefind.js").write_text("// an index in the layout of earlier versions\n", encoding="utf-8")
    write_search_index(tmp_path / "out", model, config)
    (shard,) = shard_folders(tmp_path / "out")
    assert {p.name for p in earlier.iterdir()} == {MANIFEST, shard.name}
    report = write_search_index(tmp_path / "out", dataclasses.replace(model, articles=()), config)
    assert report.shards == 0 and not earlier.exists()


# -- what is indexed -----------------------------------------------------------------

def record(records: list[dict], headline_start: str) -> dict:
    return next(r for r in records if r["shown"]["headline"].startswith(headline_start))


def test_the_index_holds_folded_words_and_the_metadata_the_original(built):
    records = fragments(built)
    hospital = record(records, "مستشفى الريحان")
    indexed = hospital["words"]
    # Folded at index time: alef maqsura, ta marbuta, hamza forms, digits, tashkeel.
    assert "مستشفي" in indexed and "مستشفى" not in indexed
    assert "24" in indexed and "٢٤" not in indexed  # the item writes «٢٤ سريرًا»
    assert "جناحا" in indexed and "جناحًا" not in indexed
    assert not re.search("[\u064b-\u065f\u0670\u0640أإآىة]", hospital["content"])
    # Clitic-free forms beside each word: «الأطفال» -> «الاطفال», «اطفال».
    assert {"الاطفال", "اطفال"} <= set(indexed)
    # What readers see is kept as written.
    assert hospital["shown"]["headline"] == "مستشفى الريحان الجامعي يفتتح جناحًا لعلاج أمراض القلب لدى الأطفال"
    assert "٢٤ سريرًا" in hospital["shown"]["text"]
    assert hospital["shown"]["date"] == "١٦ شباط ٢٠٢٣"  # the site's month names and digits
    minister = record(records, "استقالة وزير الدفاع")
    assert {"الدفاع", "دفاع"} <= set(minister["words"])
    # The headline is the folded <h1>: Pagefind's `title`, which ranking weighs.
    assert minister["meta"]["title"].split()[:3] == ["استقاله", "وزير", "زير"]


def test_the_texts_shown_are_not_in_the_word_index(built):
    """Pagefind indexes metadata words: the texts kept for display are hidden from it."""
    chunks = b"".join(gzip.decompress(p.read_bytes()) for p in (built / "pagefind").glob("*/index/*.pf_index"))
    # Folded forms are indexed; the headline's own spelling («مستشفى», alef maqsura) is not.
    assert "مستشفي".encode() in chunks
    assert "مستشفى".encode() not in chunks and "الأطفال".encode() not in chunks


def test_every_indexed_word_is_a_form_newsgen_makes():
    text = "قالَ الوزيرُ: «والدفاعُ» بالمرفأ للجيش ٢٠٢٤ الـــعربية"
    assert index_tokens(text) == [form for word in words(text) for form in stems(word)]
    assert "دفاع" in index_tokens(text) and "2024" in index_tokens(text)
    assert "جيش" in index_tokens(text) and "الجيش" in index_tokens(text)


@pytest.mark.parametrize("text", ["", "استقالة وزير الدفاع\n\nفي ٢٠٢٤ covid-19 Ünïcode",
                                  "\ue000\uf8ff\U0001f600\U0010ffff\u17ff\u1800 \x00"])
def test_hidden_texts_come_back_as_written_and_hold_no_letter(text):
    hidden = hide(text)
    assert reveal(hidden) == text
    assert all(0xE000 <= ord(ch) <= 0xF8FF for ch in hidden)
    assert not re.search(r"\w", hidden)


# -- what is looked up ---------------------------------------------------------------

@pytest.mark.parametrize("query, keys", [
    ("والدفاع", [("دفاع", "الدفاع")]),
    ("الـــدفاع", [("دفاع",)]),
    ("بالمرفأ", [("مرفا", "المرفا")]),
    ("ومستشفى", [("ومستشفي", "مستشفي")]),
    ("وزير", [("وزير", "زير")]),
    ("ولد", [("ولد",)]),
    ("آليات", [("اليات", "يات")]),  # the alef of «آليات» is no article
    ("الآليات", [("اليات",)]),
    ("مُحَمَّد ٢٠٢٤", [("محمد",), ("2024",)]),
    ("«»، .", []),
])
def test_query_keys(query, keys):
    assert query_keys(query) == keys


def test_word_matches_is_prefix_matching_on_clitic_free_forms():
    assert word_matches("والدفاع", "دفاع")
    assert word_matches("الدفاعية", "دفاع")
    assert word_matches("مستشفى", "مستشفي")
    assert not word_matches("مستشفى", "مستشفا")
    assert not word_matches("دفاع", "الدفاع")


def test_the_query_lists_are_long_enough():
    assert len(FOUND) >= 30 and len(NOTHING) >= 10
    assert len({q for q, *_ in FOUND}) == len(FOUND)


# -- the folding tables the page uses -------------------------------------------------

def apply_tables(text: str, tables: dict) -> str:
    """The tables applied the way search.js applies them, written again in Python."""
    marks = {cp for first, last in tables["marks"] for cp in range(first, last + 1)}
    out = []
    for ch in unicodedata.normalize("NFKC", text):
        if ord(ch) in marks:
            continue
        for c in tables["fold"].get(ch, ch):
            out.append(tables["casefold"].get(c, c.lower()))
    return "".join(out)


def test_the_tables_reproduce_normalize_on_every_character():
    tables = folding_tables()
    plane = "".join(map(chr, range(0xD800))) + "".join(map(chr, range(0xE000, 0x10000)))
    # Character by character over the whole Basic Multilingual Plane, and on words.
    for chunk in range(0, len(plane), 4096):
        part = plane[chunk:chunk + 4096]
        assert apply_tables(part, tables) == normalize(part)
    for word in FOLDING_WORDS + [q for q, *_ in FOUND] + [q for q, _ in NOTHING]:
        assert apply_tables(word, tables) == normalize(word), word


def test_no_character_above_the_bmp_needs_a_table_entry():
    import newsgen.arabic as arabic
    above = "".join(map(chr, range(0x10000, 0x110000)))
    assert not arabic._MARKS.search(above)
    assert all(ch.casefold() == ch.lower() for ch in above)


def test_the_tables_reproduce_stems():
    tables = folding_tables()

    def table_stems(word: str) -> tuple[str, ...]:
        found = [word]
        for clitic in tables["clitics"]:
            if word.startswith(clitic) and len(word) - len(clitic) >= tables["min_stem"]:
                rest = word[len(clitic):]
                if clitic in tables["restore"]:
                    found.append(tables["restore"][clitic] + rest)
                found.append(rest)
        return tuple(dict.fromkeys(found))

    for word in FOLDING_WORDS + ["وللجيش", "فللجيش", "للجيش", "وبالعلم", "كالبحر", "فكالبحر", "لل", "للل"]:
        for w in words(word) or [normalize(word)]:
            assert table_stems(w) == stems(w), w


# -- the page --------------------------------------------------------------------------

def test_the_search_page_is_arabic_right_to_left_and_loads_nothing_from_the_network(built):
    page = BeautifulSoup((built / "search" / "index.html").read_text("utf-8"), "html.parser")
    html = page.find("html")
    assert html.get("lang") == "ar" and html.get("dir") == "rtl"
    assert page.find("h1").get_text(strip=True) == "بحث"
    assert page.find(id="search-results-title").get_text(strip=True) == "نتائج البحث"
    form = page.find("form", class_="search-form")
    assert form.get("method") == "get" and form.find("input", attrs={"name": "q"})
    loaded = [tag.get("src") for tag in page.find_all(["script", "img", "iframe", "audio", "video", "source"])
              if tag.get("src")]
    loaded += [tag.get("href") for tag in page.find_all("link")
               if tag.get("href") and set(tag.get("rel", [])) & {"stylesheet", "preload", "modulepreload", "icon"}]
    assert any(src.endswith("assets/search.js") for src in loaded)
    for url in loaded:
        assert not re.match(r"^([a-z][a-z0-9+.-]*:|//)", url, re.I), url
    box = page.find(id="search")
    for name in ("data-root", "data-bundle"):
        assert not re.match(r"^([a-z]+:|//|/)", box[name]), box[name]
    # The browser code asks for nothing but files of the site.
    script = (built / "assets" / "search.js").read_text("utf-8")
    assert not re.search(r"https?://|//cdn|fetch\(\s*['\"]http", script)
    assert "@import" not in (built / "assets" / "search.css").read_text("utf-8")


def test_the_page_carries_the_folding_tables_made_from_python(built):
    page = BeautifulSoup((built / "search" / "index.html").read_text("utf-8"), "html.parser")
    tables = json.loads(page.find("script", id="search-folding").string)
    assert tables == json.loads(json.dumps(browser_tables(), ensure_ascii=False))
    assert tables["fold"]["ى"] == "ي" and tables["fold"]["ة"] == "ه" and tables["fold"]["٤"] == "4"


def test_every_other_page_has_a_search_form_in_its_header(built):
    home = BeautifulSoup((built / "index.html").read_text("utf-8"), "html.parser")
    form = home.find("form", class_="site-search")
    assert form.get("action") == "search/" and form.get("method") == "get"
    field = form.find("input", attrs={"name": "q"})
    assert home.find("label", attrs={"for": field["id"]}).get_text(strip=True) == "بحث"
    article = next((built / "articles").glob("*/index.html"))
    form = BeautifulSoup(article.read_text("utf-8"), "html.parser").find("form", class_="site-search")
    assert form.get("action") == "../../search/"


def test_strip_marks_keeps_letters_unfolded():
    assert strip_marks("الآليات") == "الآليات" and strip_marks("مُحَمَّد") == "محمد"
