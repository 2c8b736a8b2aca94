"""What does the search index cost? Built cold, after a one-item edit, with nothing changed, and
after an edit without the shards' listings.

    python bench/search_index.py [--site bench/out/sites/10000/newsgen/site.toml ...]
                                 [--copies 1 5] [--shard-items N] [--json results.json]

For each site (a site.toml with search on, e.g. the 1,000- and 10,000-item sites that
bench/build_speed.py writes under bench/out/sites/), the model is loaded once with
`newsgen.build.load_site`, then `newsgen.search.write_search_index` runs three times into a
scratch output folder under `--work` (bench/out/, which git ignores; Pagefind's input pages are
written beside the output, so the folder's disk counts):

- cold: an empty folder, every shard indexed (and its listing written, as a build with a cache
  does, into a scratch folder);
- edit: one item's text changed (in memory), the same folder: the item goes into the shard of
  recent edits, and its own shard is kept;
- unchanged: the same model again: nothing is indexed;
- edit, no listing: another item's text changed too, without the listings (as `newsgen check`
  builds, or after the cache was deleted): the shards of both items are indexed again.

`--copies K` repeats every item K times (the k-th copy gets `-c<k>` after its path and slug), to
measure past the sizes on disk, e.g. 50,000 items from the 10,000-item site. `--shard-items N`
overrides newsgen.search.SHARD_ITEMS; a very large N gives one shard, the unsharded index.

Printed per run: items, shards, shards indexed, wall seconds, CPU seconds of this process and of
its children (the Pagefind runs), the largest peak RSS of one Pagefind run, the peak RSS of this
process (which holds the loaded site), and the bundles' size. The Pagefind peak is its VmHWM, read
while it runs (`SearchIndexReport.pagefind_peak_bytes`): getrusage(RUSAGE_CHILDREN).ru_maxrss,
printed at the end, is at least this process's own peak, since Linux counts the memory of the
parent a child starts from. The machine's other load changes wall times: compare CPU seconds, and
runs made in the same invocation.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from newsgen import search  # noqa: E402
from newsgen.build import load_site  # noqa: E402
from newsgen.config import load_config  # noqa: E402
from newsgen.errors import Diagnostics  # noqa: E402
from newsgen.model import SiteModel  # noqa: E402

DEFAULT_SITES = [REPO / "bench" / "out" / "sites" / n / "newsgen" / "site.toml" for n in ("1000", "10000")]
EDIT = "\nوأضاف المتحدث أن التحقيق ما زال جاريًا."


def mib(n_bytes: float) -> float:
    return round(n_bytes / 2**20, 1)


def copied(model: SiteModel, copies: int) -> SiteModel:
    """`model` with every item `copies` times, each copy under its own path and slug."""
    if copies <= 1:
        return model
    articles = list(model.articles)
    for k in range(1, copies):
        articles += [dataclasses.replace(a, path=f"{a.path}-c{k}", slug=f"{a.slug}-c{k}") for a in model.articles]
    return dataclasses.replace(model, articles=tuple(articles), by_slug={a.slug: a for a in articles})


def edited(model: SiteModel, *at: int) -> SiteModel:
    """`model` with the text of some items changed (by default the middle one)."""
    articles = list(model.articles)
    for index in at or (len(articles) // 2,):
        articles[index] = dataclasses.replace(articles[index], text=articles[index].text + EDIT)
    return dataclasses.replace(model, articles=tuple(articles))


def measured(label: str, folder: Path, model: SiteModel, config, listings: Path | None) -> dict:
    """One call of write_search_index, with its wall and CPU time and memory."""
    before = os.times()
    wall = time.perf_counter()
    report = search.write_search_index(folder, model, config, listings=listings)
    wall = time.perf_counter() - wall
    after = os.times()
    return {
        "run": label,
        "items": report.records,
        "shards": report.shards,
        "indexed": report.rebuilt,
        "recent": report.recent,
        "wall_s": round(wall, 2),
        "cpu_self_s": round(after.user - before.user + after.system - before.system, 2),
        "cpu_children_s": round(after.children_user - before.children_user
                                + after.children_system - before.children_system, 2),
        "pagefind_peak_mib": mib(report.pagefind_peak_bytes),
        "self_peak_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "bundle_mib": mib(report.bytes),
        "files": report.files,
    }


def bench_site(site: Path, copies: list[int], work: Path) -> list[dict]:
    started = time.perf_counter()
    config = load_config(site)
    model = load_site(config, Diagnostics())
    print(f"{site}: {len(model.articles)} items loaded in {time.perf_counter() - started:.1f} s", flush=True)
    rows = []
    for k in copies:
        sized = copied(model, k)
        with tempfile.TemporaryDirectory(prefix="search-index-", dir=work) as scratch:
            folder, listings = Path(scratch) / "out", Path(scratch) / "listings"
            middle, third = len(sized.articles) // 2, len(sized.articles) // 3
            for label, version, kept in (("cold", sized, listings), ("edit", edited(sized), listings),
                                         ("unchanged", edited(sized), listings),
                                         ("edit, no listing", edited(sized, middle, third), None)):
                row = measured(label, folder, version, config, kept)
                rows.append(row)
                print("  " + "  ".join(f"{key}={value}" for key, value in row.items()), flush=True)
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--site", type=Path, action="append", help="a site.toml (repeatable)")
    parser.add_argument("--copies", type=int, nargs="+", default=[1], help="item multipliers, e.g. 1 5")
    parser.add_argument("--shard-items", type=int, help="override newsgen.search.SHARD_ITEMS")
    parser.add_argument("--work", type=Path, default=REPO / "bench" / "out", help="where the scratch output goes")
    parser.add_argument("--json", type=Path, help="also write the rows here")
    args = parser.parse_args(argv)
    if args.shard_items:
        search.SHARD_ITEMS = args.shard_items
    print(f"SHARD_ITEMS={search.SHARD_ITEMS}", flush=True)
    rows = []
    for site in args.site or [s for s in DEFAULT_SITES if s.is_file()]:
        args.work.mkdir(parents=True, exist_ok=True)
        rows += [{"site": str(site), **row} for row in bench_site(site, args.copies, args.work)]
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    print(f"ru_maxrss of all children (at least this process's own): {children.ru_maxrss / 1024:.0f} MiB; "
          f"of this process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
