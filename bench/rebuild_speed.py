"""How long `newsgen build` takes after a cold build: nothing changed, one item's body, topics or date.

Uses the sites `build_speed.py` prepares (`bench/out/sites/<N>/newsgen/`; run it first,
e.g. `python bench/build_speed.py --items 10000 --tools bare --runs 1`). For each item
count it makes a copy of that site's items, builds it cold once (timed too), then times,
R times each and in turns, a rebuild with nothing changed and rebuilds after editing an
item: a sentence added at the end of its body (past the first 2,500 characters, which
related items read), the same at the end of a body in the site's feed (which shows full texts), a
sentence added at the start of its body (which ranks the related
items again), its topic changed; after moving another item's date by a year (a year later it is the
newest item, in the feeds, where the item above must not be); after adding a new item,
dated a day after the newest (what a newsroom does most); after editing the site's footer
template (every page changes); and after changing `per_page` in the site's configuration
(every list page changes; items need not be read again). Each timed build changes exactly
one thing. It prints median wall time, CPU time and peak memory (newsgen's own process)
and the ratio of each rebuild to the cold build measured in the same run.

With `--serve`, the same edits go to one long-lived process that builds as `newsgen serve`
does (`build.SiteBuilder`, the cache kept in memory): for each edit it times the build before
the page reloads, and the time until everything is settled (the search index updated in the
background, and, when the edit changed the words related items are ranked by, the build that
ranks them again). Peak memory is the process's over the whole session.

    python bench/rebuild_speed.py [--items 1000 10000] [--runs 5] [--search] [--serve]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
from build_speed import RECENTLY_FREED_SECONDS, newsgen_runner, snapshot_newsgen  # noqa: E402  (a script beside this one)
DEFAULT_WORK = BENCH / "out"
EDITS = ("nothing", "body", "recent", "lead", "topics", "date", "new", "template", "config")
FEED_ITEMS = 20  # newsgen's default
LONG_ITEM = 3000  # characters: front matter and a body longer than related items read
TOPICS = ("culture", "economy", "sport", "technology", "world", "middle-east")


def run_build(site: Path, config: str, runner: tuple[list[str], dict[str, str] | None]) -> dict:
    """One `newsgen build` in its own process: wall and CPU seconds (its worker processes
    included), and the peak RSS of the largest of those processes."""
    command, env = runner
    started = time.perf_counter()
    process = subprocess.Popen(command + ["build", "--quiet", "--config", config], env=env,
                               cwd=site, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    stderr = process.stderr.read() if process.stderr else ""
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise SystemExit(f"newsgen build failed in {site}:\n{stderr[-2000:]}")
    return {"wall": wall, "cpu": usage.ru_utime + usage.ru_stime, "rss_mib": usage.ru_maxrss / 1024}


# What `newsgen serve` does on a save (see `serve.Preview.rebuild`), driven line by line: each
# line read is one save, answered with the timings of the builds it made.
SERVE_DRIVER = """
import json, resource, sys, time
from newsgen.build import SiteBuilder
from newsgen.config import load_config
builder = SiteBuilder(load_config(sys.argv[1]))
for line in sys.stdin:
    started = time.perf_counter()
    if line.strip() == "config":  # serve reads the configuration again, into a new builder
        config = load_config(sys.argv[1])
        builder.close()
        builder = SiteBuilder(config)
    report = builder.build(quick=line.strip() != "first")
    reload = time.perf_counter() - started
    builder.wait()
    if report.related_stale:
        builder.build()
        builder.wait()
    settled = time.perf_counter() - started
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    print(json.dumps({"reload": reload, "wall": settled,
                      "cpu": own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime,
                      "rss_mib": max(own.ru_maxrss, children.ru_maxrss) / 1024}), flush=True)
"""


class ServeSession:
    """A process building one site as `newsgen serve` does; `save()` is one save of a file."""

    def __init__(self, site: Path, config: str, runner: tuple[list[str], dict[str, str] | None]):
        _, env = runner
        self.process = subprocess.Popen([sys.executable, "-c", SERVE_DRIVER, config], env=env, cwd=site,
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.cpu = 0.0

    def save(self, what: str = "save") -> dict:
        """`what`: "first" (the build at start-up), "config" (site.toml was saved) or "save"."""
        self.process.stdin.write(what + "\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        if not line:
            raise SystemExit(f"the serve session stopped (exit status {self.process.wait()})")
        result = json.loads(line)
        result["cpu"], self.cpu = result["cpu"] - self.cpu, result["cpu"]  # this save's share
        return result

    def close(self) -> None:
        self.process.stdin.close()
        self.process.wait()


def edit(item: Path, kind: str, turn: int) -> None:
    text = item.read_text(encoding="utf-8")
    head, _, body = text.partition("\n---\n")
    if kind == "body":
        body = body.rstrip("\n") + f"\n\nفقرة أضيفت للقياس رقم {turn}.\n"
    elif kind == "lead":
        body = f"\nفقرة أولى أضيفت للقياس رقم {turn}.\n" + body
    elif kind == "topics":
        head = re.sub(r"(?m)^topics: .*$", f"topics: [{TOPICS[turn % len(TOPICS)]}]", head)
    elif kind == "date":
        def shift(match: re.Match) -> str:
            return f"date: {int(match.group(1)) + (1 if turn % 2 == 0 else -1)}{match.group(2)}"
        head = re.sub(r"(?m)^date: (\d{4})(.*)$", shift, head)
    item.write_text(f"{head}\n---\n{body}", encoding="utf-8")


def dated(items: list[Path]) -> list[tuple[date, Path]]:
    found = ((re.search(r"(?m)^date: \"?(\d{4}-\d{2}-\d{2})", path.read_text(encoding="utf-8")), path)
             for path in items)
    return [(date.fromisoformat(match.group(1)), path) for match, path in found if match]


def newest_date(items: list[Path]) -> date:
    return max(day for day, _ in dated(items))


def add_item(folder: Path, newest: date, turn: int) -> None:
    """A new item dated `turn + 1` days after `newest`, filed under a topic."""
    day = newest + timedelta(days=turn + 1)
    (folder / f"zz-new-{turn}.md").write_text(
        f'---\ntitle: "خبر جديد أضيف للقياس رقم {turn}"\ndate: {day.isoformat()}\ntopics: [economy]\n---\n\n'
        f"أعلن البنك المركزي اليوم خطة لدعم الصادرات وخفض التضخم، في خبر أضيف للقياس رقم {turn}.\n",
        encoding="utf-8")


def measure(count: int, runs: int, work: Path, search: bool, serve: bool = False) -> dict:
    source = work / "sites" / str(count) / "newsgen"
    if not (source / "items").is_dir():
        raise SystemExit(f"{source}/items is missing: run `python bench/build_speed.py --items {count}` first")
    site = work / "rebuild" / str(count)
    shutil.rmtree(site, ignore_errors=True)
    site.mkdir(parents=True)
    shutil.copytree(source / "items", site / "items")
    config = "site.toml" if search else "site-nosearch.toml"
    shutil.copy(source / config, site / config)
    items = sorted((site / "items").glob("*.md"))
    # The item nearest the middle whose body goes past the words related items count from the first
    # edit on (the middle item itself may fall short of them until a few paragraphs are added).
    middle = len(items) // 2
    nearest = sorted(range(len(items)), key=lambda index: abs(index - middle))
    long_items = [items[i] for i in nearest if len(items[i].read_text(encoding="utf-8")) > LONG_ITEM]
    item = long_items[0] if long_items else items[middle]
    # The date edit moves another item: moved a year later, an item is the newest and in the feeds,
    # which would make the next turn's edits of `item` those of an item in a feed.
    moved = next((path for path in long_items + items if path != item), item)
    # Of the newest items (in the site's feed, which shows full texts), the newest whose body goes
    # past the words related items count, like the item above.
    newest = sorted(dated(items), reverse=True)[:FEED_ITEMS]
    recent = next((path for _, path in newest if len(path.read_text(encoding="utf-8")) > LONG_ITEM), newest[0][1])
    # A compiled copy of newsgen, as an installed package is (and as build_speed.py measures):
    # an editable checkout under PYTHONDONTWRITEBYTECODE would compile every module in every run.
    runner = newsgen_runner(snapshot_newsgen(work, "newsgen-snapshot-rebuild"))
    time.sleep(RECENTLY_FREED_SECONDS)  # the copy above replaced a whole site: see build_speed.py
    session = ServeSession(site, config, runner) if serve else None
    cold = session.save("first") if session else run_build(site, config, runner)
    timings: dict[str, list[dict]] = {kind: [] for kind in EDITS}
    for turn in range(runs):
        for kind in EDITS:
            if kind == "new":  # after the newest, which the date edit may have moved
                add_item(site / "items", newest_date(sorted((site / "items").glob("*.md"))), turn)
            elif kind == "recent":
                edit(recent, "body", turn)
            elif kind == "template":
                footer = site / "templates" / "partials" / "footer.html"
                footer.parent.mkdir(parents=True, exist_ok=True)
                footer.write_text(f'<footer class="site-footer"><p>تحرير {turn}</p></footer>\n', encoding="utf-8")
            elif kind == "config":
                path = site / config
                text = path.read_text(encoding="utf-8")
                path.write_text(re.sub(r"(?m)^per_page = (\d+)$",
                                       lambda m: f"per_page = {int(m.group(1)) + (1 if turn % 2 == 0 else -1)}",
                                       text), encoding="utf-8")
            elif kind != "nothing":
                edit(moved if kind == "date" else item, kind, turn)
            timings[kind].append(session.save("config" if kind == "config" else "save") if session
                                 else run_build(site, config, runner))
    if session:
        session.close()
    return {"items": count, "cold": cold, "timings": timings, "serve": serve}


def median(values: list[dict], key: str) -> float:
    return statistics.median(v[key] for v in values)


def table(result: dict) -> str:
    cold, serve = result["cold"], result.get("serve")
    if serve:
        lines = [f"### {result['items']:,} items, as `newsgen serve` builds",
                 "",
                 "| save | until the reload s | until settled s | × first build | CPU s |",
                 "|---|---:|---:|---:|---:|",
                 f"| first build (no cache, empty output) | {cold['reload']:.2f} | {cold['wall']:.2f} | 1.000 | "
                 f"{cold['cpu']:.2f} |"]
    else:
        lines = [f"### {result['items']:,} items",
                 "",
                 "| build | wall s | × cold | CPU s | peak RSS MiB |",
                 "|---|---:|---:|---:|---:|",
                 f"| cold (no cache, empty output) | {cold['wall']:.2f} | 1.000 | {cold['cpu']:.2f} | "
                 f"{cold['rss_mib']:.0f} |"]
    names = {"nothing": "nothing changed", "body": "one item's body edited (at its end)",
             "recent": "a body in the feeds edited (at its end)",
             "lead": "one item's body edited (at its start)",
             "topics": "one item's topics changed", "date": "one item's date moved",
             "new": "a new item added (the newest)", "template": "the footer template edited",
             "config": "`per_page` changed in the configuration"}
    for kind in EDITS:
        runs = result["timings"][kind]
        wall = median(runs, "wall")
        if serve:
            lines.append(f"| {names[kind]} | {median(runs, 'reload'):.2f} | {wall:.2f} | {wall / cold['wall']:.3f} | "
                         f"{median(runs, 'cpu'):.2f} |")
        else:
            lines.append(f"| {names[kind]} | {wall:.2f} | {wall / cold['wall']:.3f} | {median(runs, 'cpu'):.2f} | "
                         f"{median(runs, 'rss_mib'):.0f} |")
    if serve:  # a process's peak only grows: the session's, once, with the save that first reached it
        saves = [("the first build", cold)] + [(f"«{names[kind]}», turn {turn + 1}", runs[turn])
                                               for turn in range(len(result["timings"]["nothing"]))
                                               for kind, runs in result["timings"].items()]
        peak = max(run["rss_mib"] for _, run in saves)
        reached = next(label for label, run in saves if run["rss_mib"] >= peak)
        lines += ["", f"Peak RSS of the session (the serving process or a worker it forked): {peak:.0f} MiB, "
                      f"first reached by {reached}"]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, nargs="+", default=[1000])
    parser.add_argument("--runs", type=int, default=5, help="timed rebuilds of each kind (default 5)")
    parser.add_argument("--work", type=Path, default=DEFAULT_WORK)
    parser.add_argument("--search", action="store_true", help="with the search index (default: search off)")
    parser.add_argument("--serve", action="store_true",
                        help="the edits saved while one process builds as `newsgen serve` does")
    args = parser.parse_args(argv)
    print(f"Rebuild benchmark, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; "
          f"{os.cpu_count()} CPUs; load average before: {', '.join(f'{x:.2f}' for x in os.getloadavg())}")
    for count in args.items:
        result = measure(count, args.runs, args.work, args.search, args.serve)
        print()
        print(table(result))
    print(f"\nLoad average after: {', '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
