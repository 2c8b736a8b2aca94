"""Static search without a browser: what the build writes, what it indexed, the search page."""

from __future__ import annotations

import gzip
import json
import re
import unicodedata
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from newsgen.arabic import folding_tables, normalize, stems, strip_marks, words
from newsgen.cli import main
from newsgen.search import browser_tables, index_tokens, query_keys, word_matches

from search_queries import FOLDING_WORDS, FOUND, NOTHING


def build(site: Path) -> int:
    return main(["build", "--config", str(site / "site.toml"), "--quiet"])


def fragments(out: Path) -> list[dict]:
    """Every record Pagefind stored, decoded (gzip, a signature, then JSON)."""
    records = []
    for path in sorted((out / "pagefind" / "fragment").glob("*.pf_fragment")):
        data = gzip.decompress(path.read_bytes())
        assert data.startswith(b"pagefind_dcd"), path
        records.append(json.loads(data[len(b"pagefind_dcd"):]))
    return records


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    """The sample archive, built once for this module."""
    from conftest import REPO
    import shutil
    site = tmp_path_factory.mktemp("search-sample")
    shutil.copy(REPO / "site.toml", site / "site.toml")
    for name in ("seeds", "content", "templates"):
        if (REPO / name).exists():
            shutil.copytree(REPO / name, site / name)
    assert build(site) == 0
    return site / "public"


# -- what the build writes -------------------------------------------------------------

def test_the_index_and_the_search_page_are_written_by_default(built):
    bundle = built / "pagefind"
    for name in ("pagefind.js", "pagefind-worker.js", "pagefind-entry.json", "wasm.unknown.pagefind"):
        assert (bundle / name).is_file() and (bundle / name).stat().st_size > 0, name
    entry = json.loads((bundle / "pagefind-entry.json").read_text("utf-8"))
    # One index, with no stemming of Pagefind's own: the only folding is newsgen's.
    assert list(entry["languages"]) == ["und"] and entry["languages"]["und"]["wasm"] is None
    assert (built / "search" / "index.html").is_file()
    # Pagefind's own interfaces are not used and not shipped.
    assert not list(bundle.glob("pagefind-ui.*")) and not list(bundle.glob("pagefind-component-ui.*"))


def test_every_published_item_is_indexed_and_drafts_are_not(built):
    records = fragments(built)
    pages = list((built / "articles").glob("*/index.html"))
    assert len(records) == len(pages) > 10
    # Each record names its item's page as `/articles/<slug>.html` (the page links to `articles/<slug>/`).
    urls = {r["url"] for r in records}
    assert urls == {"/" + p.parent.relative_to(built).as_posix() + ".html" for p in pages}
    assert not any("جزران تقرّ ميزانية" in r["meta"]["headline"] for r in records)


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
    assert (sample_site / "public" / "pagefind" / "pagefind.js").is_file()
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
    assert "فلامنغو" in lake["content"].split()
    assert not [p.name for p in out.iterdir() if p.name.startswith(".pagefind")]
    assert not [p.name for p in sample_site.iterdir() if ".new-" in p.name or ".old-" in p.name]


def test_a_rebuild_that_changes_no_item_keeps_the_index(sample_site):
    assert build(sample_site) == 0
    bundle = sample_site / "public" / "pagefind"
    before = {p: p.stat().st_mtime_ns for p in bundle.rglob("*") if p.is_file()}
    assert (bundle / "newsgen-index.sha256").is_file()
    (sample_site / "static").mkdir(exist_ok=True)
    (sample_site / "static" / "extra.css").write_text("p { color: inherit; }\n", encoding="utf-8")
    assert build(sample_site) == 0
    assert (sample_site / "public" / "assets" / "extra.css").is_file()
    assert {p: p.stat().st_mtime_ns for p in bundle.rglob("*") if p.is_file()} == before


# -- what is indexed -----------------------------------------------------------------

def record(records: list[dict], headline_start: str) -> dict:
    return next(r for r in records if r["meta"]["headline"].startswith(headline_start))


def test_the_index_holds_folded_words_and_the_metadata_the_original(built):
    records = fragments(built)
    hospital = record(records, "مستشفى الريحان")
    indexed = hospital["content"].split()
    # Folded at index time: alef maqsura, ta marbuta, hamza forms, digits, tashkeel.
    assert "مستشفي" in indexed and "مستشفى" not in indexed
    assert "24" in indexed and "٢٤" not in indexed  # the item writes «٢٤ سريرًا»
    assert "جناحا" in indexed and "جناحًا" not in indexed
    assert not re.search("[\u064b-\u065f\u0670\u0640أإآىة]", hospital["content"])
    # Clitic-free forms beside each word: «الأطفال» -> «الاطفال», «اطفال».
    assert {"الاطفال", "اطفال"} <= set(indexed)
    # What readers see is kept as written.
    assert hospital["meta"]["headline"] == "مستشفى الريحان الجامعي يفتتح جناحًا لعلاج أمراض القلب لدى الأطفال"
    assert "٢٤ سريرًا" in hospital["meta"]["text"]
    assert hospital["meta"]["date"] == "١٦ شباط ٢٠٢٣"  # the site's month names and digits
    minister = record(records, "استقالة وزير الدفاع")
    assert {"الدفاع", "دفاع"} <= set(minister["content"].split())
    # The headline is the folded <h1>: Pagefind's `title`, which ranking weighs.
    assert minister["meta"]["title"].split()[:3] == ["استقاله", "وزير", "زير"]


def test_every_indexed_word_is_a_form_newsgen_makes():
    text = "قالَ الوزيرُ: «والدفاعُ» بالمرفأ للجيش ٢٠٢٤ الـــعربية"
    assert index_tokens(text) == [form for word in words(text) for form in stems(word)]
    assert "دفاع" in index_tokens(text) and "2024" in index_tokens(text)
    assert "جيش" in index_tokens(text) and "الجيش" in index_tokens(text)


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
