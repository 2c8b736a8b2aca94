"""How long does a reader wait for search results, by the number of index shards?

    python bench/search_latency.py [--site bench/out/sites/10000/newsgen/site.toml]
                                   [--shard-items 800 200] [--rounds 3]

The search index is split into shards (`newsgen.search.SHARD_ITEMS` items at most each): an
edit re-indexes one shard, so smaller shards make `newsgen build` after an edit faster, while
the search page merges every shard's index for each query. This measures the reader's side.

For each `--shard-items` value the site's items are copied under `--work` (bench/out/, which
git ignores) and built with that shard size, in a process of its own. Each output is served
from 127.0.0.1 by Python's HTTP server, and Debian's Chromium (through Playwright, as the
browser tests run it) opens `search/?q=...` for each query in a new browser context, so that
nothing is cached, then searches for a second query through the page's form in the same tab.
Printed per shard size: the shards built, the median and slowest time to the first query's
results (from opening the page to the page's `data-state` saying done) and the requests it
made, and the same times for the second query. Shard sizes are measured in turns, round by
round, since the machine's other load moves wall times.

Needs `pip install -e '.[test]'` (Playwright) and /usr/bin/chromium (`apt-get install chromium`).
"""

from __future__ import annotations

import argparse
import functools
import http.server
import shutil
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import quote

REPO = Path(__file__).resolve().parents[1]
DEFAULT_SITE = REPO / "bench" / "out" / "sites" / "10000" / "newsgen" / "site.toml"
QUERIES = ["الحكومة", "كرة القدم", "النفط", "مهرجان", "الانتخابات", "وزير الخارجية", "اللاجئين", "البنك المركزي"]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
DONE = "() => ['done', 'error'].includes(document.getElementById('search').dataset.state)"
WAIT_MS = 120_000

BUILD = """
import sys
import newsgen.search
newsgen.search.SHARD_ITEMS = int(sys.argv[1])
from newsgen.cli import main
main(["build", "--quiet", "--config", sys.argv[2]])
"""


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # one line per request would bury the results
        pass


def built_site(site: Path, shard_items: int, work: Path) -> tuple[Path, int]:
    """A copy of the site built with `shard_items` items a shard at most: its output and shard count."""
    folder = work / "search-latency" / str(shard_items)
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    shutil.copy2(site, folder / "site.toml")
    shutil.copytree(site.parent / "items", folder / "items")
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", BUILD, str(shard_items), str(folder / "site.toml")], check=True)
    output = folder / "public"
    shards = sum(1 for path in (output / "pagefind").iterdir() if path.is_dir())
    print(f"built with at most {shard_items} items a shard: {shards} shards, "
          f"{time.perf_counter() - started:.1f} s", flush=True)
    return output, shards


def serve(folder: Path) -> tuple[http.server.ThreadingHTTPServer, str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                             functools.partial(QuietHandler, directory=str(folder)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/"


def measure(browser, base: str, query: str, second: str) -> tuple[float, int, float]:
    """Seconds to the first query's results in a new context, its requests, seconds to the second's."""
    context = browser.new_context()
    try:
        page = context.new_page()
        requests = []
        page.on("request", lambda request: requests.append(request.url))
        started = time.perf_counter()
        page.goto(base + "search/?q=" + quote(query))
        page.wait_for_function(DONE, timeout=WAIT_MS)
        first = time.perf_counter() - started
        if page.evaluate("() => document.getElementById('search').dataset.state") != "done":
            raise SystemExit(f"the search page failed on «{query}»: {page.inner_text('#search-status')}")
        count = len(requests)
        page.evaluate("() => { document.getElementById('search').dataset.state = 'waiting'; }")
        page.fill("#search-q", second)
        started = time.perf_counter()
        page.click(".search-button")
        page.wait_for_function(DONE, timeout=WAIT_MS)
        return first, count, time.perf_counter() - started
    finally:
        context.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--site", type=Path, default=DEFAULT_SITE,
                        help="a site.toml with search on and its items in items/ beside it "
                             "(default: the 10,000-item site of bench/build_speed.py)")
    parser.add_argument("--shard-items", type=int, nargs="+", default=[800, 200],
                        help="shard sizes to compare (default: 800, newsgen's, and 200)")
    parser.add_argument("--rounds", type=int, default=3, help="times each query is run per shard size")
    parser.add_argument("--work", type=Path, default=REPO / "bench" / "out")
    args = parser.parse_args(argv)
    if not args.site.is_file():
        raise SystemExit(f"{args.site} is missing: run `python bench/build_speed.py --items 10000` first, "
                         "or pass --site")
    from playwright.sync_api import sync_playwright

    sites = {items: built_site(args.site.resolve(), items, args.work) for items in args.shard_items}
    servers = {items: serve(output) for items, (output, _) in sites.items()}
    times: dict[int, dict[str, list]] = {items: {"first": [], "requests": [], "next": []} for items in sites}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            for round_number in range(args.rounds):
                order = list(sites) if round_number % 2 == 0 else list(reversed(sites))
                for items in order:
                    for n, query in enumerate(QUERIES):
                        first, count, after = measure(browser, servers[items][1], query,
                                                      QUERIES[(n + 3) % len(QUERIES)])
                        times[items]["first"].append(first)
                        times[items]["requests"].append(count)
                        times[items]["next"].append(after)
        finally:
            browser.close()
    for server, _ in servers.values():
        server.shutdown()
    print(f"\n{len(QUERIES)} queries × {args.rounds} rounds, served from 127.0.0.1, Chromium headless\n")
    print("| items a shard at most | shards | first query: median ms | slowest ms | requests | "
          "next query: median ms | slowest ms |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for items, (_, shards) in sites.items():
        row = times[items]
        print(f"| {items} | {shards} | {statistics.median(row['first']) * 1000:.0f} | {max(row['first']) * 1000:.0f} "
              f"| {statistics.median(row['requests']):.0f} | {statistics.median(row['next']) * 1000:.0f} "
              f"| {max(row['next']) * 1000:.0f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
