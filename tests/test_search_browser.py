"""The search page in a real headless Chromium, on the sample archive served from a sub-path.

Every query of search_queries.py is run through the page; the results of each are
printed and kept in test-artifacts/search-queries.json.
"""

from __future__ import annotations

import contextlib
import functools
import gzip
import http.server
import itertools
import json
import threading
from pathlib import Path
from urllib.parse import quote, unquote, urlparse

import pytest
from bs4 import BeautifulSoup

import newsgen.search
from conftest import ARTIFACTS, REPO, copy_sample_site
from newsgen.arabic import normalize, stems, strip_marks, words
from newsgen.cli import main
from newsgen.search import MANIFEST, hide, query_keys, reveal, word_matches

from search_queries import FIRST_RESULTS, FOLDING_WORDS, FOUND, NOTHING, PORT

pytestmark = pytest.mark.browser

SUB_PATH = "archive"  # the sample's base_url is https://example.org/archive/
WAIT_MS = 20_000


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - the base class's name
        pass


LAKE_HEADLINE = "بحيرة الغزلان تفقد ثلث مساحتها في عشر سنوات"
HERON_HEADLINE = "إحصاء طيور البلشون في المحمية"
DELETED = Path("seeds") / "content" / "2024" / "central-bank-holds-rates.md"
DELETED_WORD = "الإيداع"


def edit_sample(source: Path) -> None:
    """An item edited (a word added), one added and one deleted."""
    lake = source / "seeds" / "content" / "2025" / "gazelle-lake-shrinking.md"
    lake.write_text(lake.read_text("utf-8") + "\nوتعيش في البحيرة طيور الفلامنغو.\n", encoding="utf-8")
    (source / "seeds" / "content" / "2025" / "heron-count.md").write_text(
        f"---\ntitle: {HERON_HEADLINE}\ndate: 2025-03-02\n---\n\nأحصى المراقبون طيور البلشون.\n", encoding="utf-8")
    (source / DELETED).unlink()


@contextlib.contextmanager
def served_sample(root: Path, shard_items: int | None = None, edits: bool = False):
    """The sample archive built into <www>/archive/ and served on 127.0.0.1.

    With `shard_items`, newsgen.search.SHARD_ITEMS is that while it builds. With `edits`,
    built, then `edit_sample` and built again.
    """
    source = copy_sample_site(root / "site")
    www = root / "www"
    out = www / SUB_PATH
    with pytest.MonkeyPatch.context() as patch:
        if shard_items is not None:
            patch.setattr(newsgen.search, "SHARD_ITEMS", shard_items)
        assert main(["build", "--config", str(source / "site.toml"), "--quiet", "--output", str(out)]) == 0
        if edits:
            edit_sample(source)
            assert main(["build", "--config", str(source / "site.toml"), "--quiet", "--output", str(out)]) == 0
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(QuietHandler, directory=str(www)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield {"base": f"http://127.0.0.1:{server.server_address[1]}/{SUB_PATH}/", "out": out}
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The sample archive, in one shard (it is small)."""
    with served_sample(tmp_path_factory.mktemp("search-browser")) as served:
        yield served


@pytest.fixture(scope="module")
def sharded_site(tmp_path_factory):
    """The sample archive with at most 6 items a shard: its 21 items in 4 shards."""
    with served_sample(tmp_path_factory.mktemp("search-browser-shards"), shard_items=6) as served:
        yield served


def new_page(browser, site):
    """A page that may load only from the local server; what it tried elsewhere is kept."""
    context = browser.new_context(viewport={"width": 1280, "height": 1000}, locale="ar")
    outside: list[str] = []
    local = urlparse(site["base"]).netloc

    def route(request_route):
        url = request_route.request.url
        if urlparse(url).netloc == local:
            request_route.continue_()
        else:
            outside.append(url)
            request_route.abort()

    context.route("**/*", route)
    tab = context.new_page()
    tab.errors = []
    tab.outside = outside
    tab.on("pageerror", lambda error: tab.errors.append(str(error)))
    tab.on("console", lambda message: tab.errors.append(message.text)
           if message.type == "error" and "favicon" not in message.text and "404" not in message.text else None)
    return context, tab


@pytest.fixture
def page(browser, site):
    context, tab = new_page(browser, site)
    yield tab
    context.close()


@pytest.fixture
def sharded_page(browser, sharded_site):
    context, tab = new_page(browser, sharded_site)
    yield tab
    context.close()


def open_search(page, site, query: str = "") -> None:
    page.goto(site["base"] + "search/" + (f"?q={quote(query)}" if query else ""))
    page.wait_for_function("() => ['idle', 'done', 'error'].includes(document.getElementById('search').dataset.state)",
                           timeout=WAIT_MS)


def submit(page, query: str) -> None:
    """Search through the page's own form, as a reader does."""
    page.evaluate("() => { document.getElementById('search').dataset.state = 'waiting'; }")
    page.fill("#search-q", query)
    page.click(".search-button")
    page.wait_for_function("() => ['done', 'error'].includes(document.getElementById('search').dataset.state)",
                           timeout=WAIT_MS)


def shown_results(page) -> list[dict]:
    return page.eval_on_selector_all(".search-result", """items => items.map(item => ({
        headline: item.querySelector('.search-result-title').textContent.trim(),
        href: item.querySelector('.search-result-title a').href,
        meta: (item.querySelector('.search-result-meta') || {textContent: ''}).textContent.trim(),
        excerpt: item.querySelector('.search-result-excerpt').textContent.trim(),
        marked: [...item.querySelectorAll('mark')].map(m => m.textContent),
    }))""")


def site_path(href: str) -> str:
    """`/articles/<slug>/` for a link to an item under the sub-path."""
    path = unquote(urlparse(href).path)
    assert path.startswith(f"/{SUB_PATH}/"), href
    return path[len(SUB_PATH) + 1:]


# -- the reference: what the index holds, matched the way the page matches ------------

def indexed_items(out: Path) -> list[dict]:
    """Every record of the shards the manifest names, but those it hides: its item's URL,
    headline, shard and indexed words."""
    manifest = json.loads((out / "pagefind" / MANIFEST).read_text("utf-8"))
    items = []
    for path in (p for name in manifest["shards"] for p in (out / "pagefind" / name).glob("fragment/*.pf_fragment")):
        if path.name.removesuffix(".pf_fragment") in manifest["hidden"]:
            continue
        data = json.loads(gzip.decompress(path.read_bytes())[len(b"pagefind_dcd"):])
        items.append({"url": unquote(data["url"]).removesuffix(".html") + "/", "headline": reveal(data["meta"]["headline"]),
                      "shard": path.parent.parent.name,
                      "words": data["content"].split()})
    return items


def expected_urls(items: list[dict], query: str) -> set[str]:
    """Items holding, for each query word, an indexed word starting with its key; looser keys if none."""
    keys = query_keys(query)
    if not keys:
        return set()

    def holding(combo) -> set[str]:
        return {i["url"] for i in items if all(any(w.startswith(k) for w in i["words"]) for k in combo)}

    first = [k[0] for k in keys]
    found = holding(first)
    if found:
        return found
    return set().union(*(holding(combo) for combo in itertools.islice(
        (c for c in itertools.product(*keys) if list(c) != first), 16)))


# -- tests -----------------------------------------------------------------------------

def test_the_browser_folds_exactly_as_python(page, site):
    open_search(page, site)
    # Every word of every sample item as written, the test words, and the queries.
    items = indexed_items(site["out"])
    texts = [p.read_text("utf-8") for p in sorted((REPO / "seeds" / "content").rglob("*.*"))]
    samples = sorted({w for t in texts for w in t.split()} | set(FOLDING_WORDS)
                     | {q for q, *_ in FOUND} | {q for q, _ in NOTHING})
    in_browser = page.evaluate("""(samples) => samples.map(s => {
        const api = window.newsgenSearch;
        const ws = api.words(s);
        return [api.normalize(s), ws, ws.map(w => api.stems(w)), api.stripMarks(s), api.queryKeys(s)];
    })""", samples)
    in_python = [[normalize(s), words(s), [list(stems(w)) for w in words(s)], strip_marks(s),
                  [list(k) for k in query_keys(s)]] for s in samples]
    differences = [(s, b, p) for s, b, p in zip(samples, in_browser, in_python) if b != p]
    assert not differences, differences[:5]
    assert len(samples) > 1000

    # The texts kept for display come back as written from what the index holds.
    written = samples[:400] + ["\U0001f600 \ue000 \uf8ff ＿ \n"]
    assert page.evaluate("(hidden) => hidden.map(window.newsgenSearch.reveal)", [hide(s) for s in written]) == written

    # Which words of an excerpt get marked: the same test in both languages.
    pairs = [(w, k) for w in samples[:400] for k in ("دفاع", "مستشفي", "الاتصالات", "2024", "انقاذ")]
    marked = page.evaluate("(pairs) => pairs.map(([w, k]) => window.newsgenSearch.wordMatches(w, k))", pairs)
    assert marked == [word_matches(w, k) for w, k in pairs]
    assert items and not page.errors


def test_every_query_finds_what_it_should_and_nothing_else(page, site):
    items = indexed_items(site["out"])
    open_search(page, site, FOUND[0][0])  # the first query comes in the address, the others through the form
    report = []
    failures = []
    for number, (query, expected, why) in enumerate([(q, h, w) for q, h, w in FOUND]
                                                     + [(q, None, w) for q, w in NOTHING]):
        if number:
            submit(page, query)
        state = page.get_attribute("#search", "data-state")
        total = int(page.get_attribute("#search", "data-count") or 0)
        results = shown_results(page)
        headlines = [r["headline"] for r in results]
        reference = expected_urls(items, query)
        position = headlines.index(expected) + 1 if expected in headlines else None
        if expected is not None:
            ok = position is not None and position <= FIRST_RESULTS
        else:
            ok = total == 0 and not results and "لا نتائج" in page.inner_text("#search-status")
        # The page finds exactly the items the index holds the query's words in.
        while page.is_visible("#search-more"):
            page.click("#search-more")
            page.wait_for_function("(n) => document.querySelectorAll('.search-result').length > n",
                                   arg=len(results), timeout=WAIT_MS)
            results = shown_results(page)
        same_as_index = {site_path(r["href"]) for r in results} == reference and total == len(reference)
        if not ok or not same_as_index or state != "done":
            failures.append((query, expected, position, headlines[:FIRST_RESULTS], sorted(reference)))
        report.append({
            "query": query, "must": "find" if expected else "find nothing", "why": why,
            "expected": expected, "position": position, "count": total, "ok": ok and same_as_index,
            "keys": [list(k) for k in query_keys(query)],
            "status": page.inner_text("#search-status"),
            "results": [{"headline": r["headline"], "url": unquote(r["href"]), "meta": r["meta"],
                         "excerpt": r["excerpt"], "marked": r["marked"]} for r in results[:FIRST_RESULTS]],
        })

    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "search-queries.json").write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n",
                                                    encoding="utf-8")
    print()
    for row in report:
        where = f"#{row['position']}" if row["position"] else "—"
        first = row["results"][0]["headline"] if row["results"] else ""
        print(f"{'ok ' if row['ok'] else 'BAD'} {row['query']!s:<22} {row['must']:<13} results={row['count']:<3} "
              f"expected at {where:<4} first: {first}")
    assert not failures, failures
    assert not page.errors, page.errors


def test_excerpts_are_the_text_as_written_with_the_matches_marked(page, site):
    open_search(page, site, "الانفلونزا مستشفي")
    results = shown_results(page)
    assert results, page.inner_text("#search-status")
    flu = results[0]
    assert flu["headline"] == FOUND[0][1]
    # The item writes «الإنفلونزا» (hamza) and «المستشفى» (alef maqsura): that is what shows, marked.
    assert "الإنفلونزا" in flu["marked"] and "الإنفلونزا" in flu["excerpt"]
    assert "الانفلونزا" not in flu["excerpt"]
    # Every word of the excerpt stands, in that order, in the item's own page.
    page_file = site["out"] / site_path(flu["href"]).lstrip("/") / "index.html"
    article = BeautifulSoup(page_file.read_text("utf-8"), "html.parser").find("article")
    shown = " ".join(article.get_text(" ").split())
    for piece in flu["excerpt"].strip("… ").split(" … "):
        assert " ".join(piece.split()) in shown, piece

    open_search(page, site, "مُسْتَشْفَى")
    hospital = shown_results(page)[0]
    assert hospital["marked"][0] == "مستشفى"  # the headline's word, as written
    assert "مستشفى" in hospital["excerpt"] and "٢٤" in hospital["excerpt"]


def test_the_page_is_right_to_left_in_arabic_and_counts_in_the_sites_digits(page, site):
    open_search(page, site, "مرفأ")
    assert page.get_attribute("html", "dir") == "rtl" and page.get_attribute("html", "lang") == "ar"
    assert page.eval_on_selector("#search-list", "el => getComputedStyle(el).direction") == "rtl"
    status = page.inner_text("#search-status")
    assert status.startswith("٥ نتائج"), status  # the sample writes digits as Arabic-Indic ones
    assert page.inner_text("h1") == "بحث" and page.inner_text("#search-results-title") == "نتائج البحث"
    # Without a query: an invitation, no results.
    open_search(page, site)
    assert page.get_attribute("#search", "data-state") == "idle"
    assert page.inner_text("#search-status").startswith("اكتب")
    ARTIFACTS.mkdir(exist_ok=True)
    open_search(page, site, "والدفاع")
    page.screenshot(path=str(ARTIFACTS / "search-1280.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=str(ARTIFACTS / "search-390.png"), full_page=True)
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= 390, width


def test_results_link_to_the_items_under_the_sub_path_and_more_results_load(page, site):
    open_search(page, site, "في")
    total = int(page.get_attribute("#search", "data-count"))
    assert total > 10
    assert len(shown_results(page)) == 10 and page.is_visible("#search-more")
    page.click("#search-more")
    page.wait_for_function("() => document.querySelectorAll('.search-result').length > 10", timeout=WAIT_MS)
    assert len(shown_results(page)) == min(total, 20)
    first = shown_results(page)[0]
    assert urlparse(first["href"]).path.startswith(f"/{SUB_PATH}/articles/")
    page.click(".search-result-title a >> nth=0")
    page.wait_for_load_state()
    assert page.inner_text("h1") == first["headline"]


def test_the_header_form_searches_from_any_page(page, site):
    page.goto(site["base"] + "topics/")
    page.fill("#site-search-q", "بالمرفأ")
    page.press("#site-search-q", "Enter")
    page.wait_for_function("() => document.getElementById('search')?.dataset.state === 'done'", timeout=WAIT_MS)
    assert urlparse(page.url).path == f"/{SUB_PATH}/search/"
    assert page.input_value("#search-q") == "بالمرفأ"
    assert any(r["headline"] == PORT for r in shown_results(page))
    # Back and forward move through earlier searches.
    submit(page, "ديربي")
    assert shown_results(page)[0]["headline"].startswith("نسور الريحان")
    page.go_back()
    page.wait_for_function("() => document.getElementById('search-q').value === 'بالمرفأ'", timeout=WAIT_MS)


def test_search_works_with_no_network(page, site):
    open_search(page, site, "الـــدفاع")
    assert shown_results(page)
    assert page.outside == [], page.outside
    assert not page.errors, page.errors


def test_a_site_in_several_shards_is_searched_across_them(sharded_page, sharded_site):
    """Every query finds, over all shards, exactly the items the index holds its words in."""
    page, site = sharded_page, sharded_site
    manifest = json.loads((site["out"] / "pagefind" / MANIFEST).read_text("utf-8"))
    assert len(manifest["shards"]) == 4
    spanning = every_query_finds_what_the_index_holds(page, site)
    # Many queries find items of more than one shard, in one list.
    assert spanning >= 10, spanning


@pytest.fixture(scope="module")
def edited_site(tmp_path_factory):
    """The sample archive in 4 shards, then one item edited, one added and one deleted and built
    again: the shard of recent edits holds two items, and the manifest hides two records."""
    with served_sample(tmp_path_factory.mktemp("search-browser-edited"), shard_items=6, edits=True) as served:
        yield served


def test_edited_items_are_found_as_they_are_now_and_once(browser, edited_site):
    context, page = new_page(browser, edited_site)
    try:
        site = edited_site
        manifest = json.loads((site["out"] / "pagefind" / MANIFEST).read_text("utf-8"))
        assert len(manifest["shards"]) == 5 and manifest["shards"][-1].startswith("recent-")
        assert len(manifest["hidden"]) == 2
        every_query_finds_what_the_index_holds(page, site)
        open_search(page, site, "فلامنغو")  # the edited item's new word
        assert [r["headline"] for r in shown_results(page)] == [LAKE_HEADLINE]
        open_search(page, site, "بحيرة الغزلان")  # words of both its versions: one result
        assert [r["headline"] for r in shown_results(page)].count(LAKE_HEADLINE) == 1
        open_search(page, site, "البلشون")
        assert [r["headline"] for r in shown_results(page)] == [HERON_HEADLINE]
        open_search(page, site, DELETED_WORD)  # only in the deleted item
        assert shown_results(page) == [] and page.get_attribute("#search", "data-count") == "0"
        assert not page.errors, page.errors
    finally:
        context.close()


def every_query_finds_what_the_index_holds(page, site) -> int:
    """Run every query of search_queries.py; each must find exactly the items whose visible
    records hold its words, each once. How many found items of several shards."""
    items = indexed_items(site["out"])
    shard_of = {item["url"]: item["shard"] for item in items}
    assert len(shard_of) == len(items)
    open_search(page, site)
    failures = []
    spanning = 0
    for query, expected, _ in [(q, h, w) for q, h, w in FOUND] + [(q, None, w) for q, w in NOTHING]:
        submit(page, query)
        while page.is_visible("#search-more"):
            count = len(shown_results(page))
            page.click("#search-more")
            page.wait_for_function("(n) => document.querySelectorAll('.search-result').length > n",
                                   arg=count, timeout=WAIT_MS)
        results = shown_results(page)
        found = {site_path(r["href"]) for r in results}
        total = int(page.get_attribute("#search", "data-count") or 0)
        headlines = [r["headline"] for r in results]
        if (found != expected_urls(items, query) or total != len(found)
                or (expected is not None and expected not in headlines)):
            failures.append((query, expected, headlines[:5], sorted(expected_urls(items, query))))
        spanning += len({shard_of[url] for url in found}) > 1
    assert not failures, failures
    assert not page.errors, page.errors
    assert page.outside == [], page.outside
    return spanning
