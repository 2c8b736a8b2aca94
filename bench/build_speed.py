#!/usr/bin/env python3
"""Build-speed benchmark: newsgen against Pelican, Hugo and a bare Python pipeline.

    python bench/build_speed.py --items 1000 10000 [--runs 5]

For each item count N it generates the same N news items from the shared Arabic
corpus for every tool, builds each site cold (empty output, no cache) `--runs`
times, and prints a table of median wall time, CPU time, peak memory, pages and
bytes written, with ratios against newsgen measured in the same run.

Before each run a tool's previous output is moved aside, not deleted; what was moved aside
is deleted once every tool has run, followed by a pause of `--settle` seconds before the
next round. On a file system like this machine's (ext4 without a journal), files made in the
30 seconds after many were deleted cost far more system time: the inode allocator looks at
each recently freed inode and skips it. Deleting an output just before timing a build gave
the same cold build up to three times the system time, more so for the tools that write
more files (bench/README.md).

Everything it makes (sites, outputs, Pelican's virtual environment, results)
goes under bench/out/, which git ignores. See bench/README.md.
"""

from __future__ import annotations

import argparse
import compileall
import datetime as dt
import hashlib
import importlib.util
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
DEFAULT_WORK = BENCH / "out"
CORPUS_NAME = "arabic-news.jsonl"

PELICAN_SPECS = (["pelican==4.12.*", "markdown"], ["pelican>=4,<5", "markdown"])

# Corpus category -> newsgen topic key (declared in site.toml); Pelican and Hugo use the same keys.
TOPICS = {
    "culture": "culture",
    "economy": "economy",
    "internationalNews": "world",
    "middleEast": "middle-east",
    "sport": "sport",
    "technology": "technology",
}

SITE_TITLE = "أرشيف الأخبار"
PER_PAGE = 10  # items a list page holds, for every tool (set in newsgen's site.toml too)
TIMEZONE = "Asia/Damascus"

# Runs one command in a fresh process and reports its own children's usage, so the
# peak RSS is that run's alone (RUSAGE_CHILDREN of the benchmark itself would keep
# the largest value seen so far). The wrapper's own memory is not counted. ru_maxrss
# is the peak of the largest single process of the tree; a thread also adds up the
# resident memory of the whole tree every 0.1 s (from /proc), for tools that run
# helper processes side by side.
WRAPPER = r"""
import json, os, resource, subprocess, sys, threading, time
log, cwd, cmd = sys.argv[1], sys.argv[2], sys.argv[3:]
page = os.sysconf("SC_PAGE_SIZE")

def children(pid):
    found = []
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{tid}/children") as handle:
                found += [int(c) for c in handle.read().split()]
    except (OSError, ValueError):
        pass
    return found

def tree_rss(root):
    total, stack, seen = 0, [root], set()
    while stack:
        pid = stack.pop()
        if pid in seen:
            continue
        seen.add(pid)
        try:
            with open(f"/proc/{pid}/statm") as handle:
                total += int(handle.read().split()[1]) * page
        except (OSError, ValueError, IndexError):
            continue
        stack += children(pid)
    return total

with open(log, "wb") as out:
    start = time.perf_counter()
    child = subprocess.Popen(cmd, cwd=cwd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    peak = [0]
    def sample():
        while child.poll() is None:
            peak[0] = max(peak[0], tree_rss(child.pid))
            time.sleep(0.1)
    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    rc = child.wait()
    wall = time.perf_counter() - start
    sampler.join()
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"rc": rc, "wall": wall, "maxrss_kib": usage.ru_maxrss, "tree_kib": peak[0] // 1024,
                  "user": usage.ru_utime, "sys": usage.ru_stime}))
"""


# -- the corpus and the items ---------------------------------------------------

def corpus_path(given: str | None) -> Path:
    """--corpus, else $NEWSGEN_CORPUS, else ../shared/corpus beside the repository.

    Each may name the folder holding arabic-news.jsonl or the file itself.
    """
    raw = given or os.environ.get("NEWSGEN_CORPUS") or str(REPO.parent / "shared" / "corpus")
    path = Path(raw)
    return path / CORPUS_NAME if path.is_dir() or not path.suffix else path


def load_corpus(path: Path) -> list[dict]:
    if not path.is_file():
        sys.exit(f"error: the corpus is not at {path}; pass --corpus PATH or set NEWSGEN_CORPUS "
                 f"to the folder holding {CORPUS_NAME}")
    with path.open(encoding="utf-8") as handle:
        records = [json.loads(line) for line in handle if line.strip()]
    if not records:
        sys.exit(f"error: {path} holds no records")
    return records


@dataclass(frozen=True)
class Item:
    id: str
    slug: str
    title: str
    date: dt.date
    source: str
    topic: str
    text: str


def make_items(corpus: list[dict], count: int) -> list[Item]:
    """`count` items from the corpus, cycling it as often as needed.

    A cycle that takes only part of the corpus takes records spread evenly over
    it (the corpus is sorted by date), so a small sample still has every category
    and month. Cycle k > 0 gets new ids, titles numbered (k + 1) and dates k years older.
    """
    items = []
    size = len(corpus)
    for index in range(count):
        cycle, position = divmod(index, size)
        taken = min(size, count - cycle * size)  # records this cycle takes
        record = corpus[position * size // taken]
        item_id, title = record["id"], record["title"]
        date = dt.date.fromisoformat(record["date"])
        if cycle:
            item_id = f"{item_id}-c{cycle}"
            title = f"{title} ({cycle + 1})"
            date -= dt.timedelta(days=365 * cycle)  # older, so no tool skips them as future posts
        category = record["category"]
        topic = TOPICS.get(category) or re.sub(r"[^a-z0-9]+", "-", category.lower()).strip("-") or "general"
        items.append(Item(item_id, item_id.lower(), title, date, record["source"], topic, record["text"]))
    return items


def yaml_string(text: str) -> str:
    """A double-quoted scalar; JSON strings are valid YAML."""
    return json.dumps(text, ensure_ascii=False)


# -- the sites ----------------------------------------------------------------------

def fresh_dir(path: Path) -> Path:
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)
    return path


def newsgen_config(text: str, overrides: dict[str, dict[str, str]]) -> str:
    """`text` (a site.toml) with `overrides` ({section: {key: TOML value}}) set.

    A key already in its section is replaced on its line; a missing key is added
    at the end of its section, a missing section at the end of the file.
    """
    done: set[tuple[str, str]] = set()
    lines: list[str] = []
    section = None

    def close(name: str | None) -> None:
        for key, value in overrides.get(name, {}).items() if name else ():
            if (name, key) not in done:
                lines.append(f"{key} = {value}")
                done.add((name, key))

    for line in text.splitlines():
        header = re.match(r"^\s*\[\[?\s*([A-Za-z0-9_.-]+)\s*\]\]?\s*(#.*)?$", line)
        if header:
            close(section)
            section = header.group(1)
        elif section in overrides:
            for key, value in overrides[section].items():
                if re.match(rf"^\s*{re.escape(key)}\s*=", line):
                    line = f"{key} = {value}"
                    done.add((section, key))
        lines.append(line)
    close(section)
    for name, keys in overrides.items():
        missing = [(key, value) for key, value in keys.items() if (name, key) not in done]
        if missing:
            lines += ["", f"[{name}]"] + [f"{key} = {value}" for key, value in missing]
    result = "\n".join(lines) + "\n"
    data = tomllib.loads(result)
    for name, keys in overrides.items():
        for key, value in keys.items():
            if data.get(name, {}).get(key) != tomllib.loads(f"v = {value}")["v"]:
                raise SystemExit(f"error: could not set [{name}] {key} in the benchmark's site.toml "
                                 "(is the key written over several lines?)")
    return result


# The benchmark site's settings; the rest is the repository's site.toml.
NEWSGEN_OVERRIDES = {"content": {"items": '["items"]'}, "build": {"output": '"public"', "per_page": str(PER_PAGE)}}
# The same site without the full-text search index, which neither Pelican nor Hugo builds.
NOSEARCH_OVERRIDES = {"content": {"items": '["items"]'},
                      "build": {"output": '"public-nosearch"', "per_page": str(PER_PAGE)},
                      "search": {"enabled": "false"}}


def write_newsgen_site(root: Path, items: list[Item]) -> None:
    fresh_dir(root)
    repo_config = (REPO / "site.toml").read_text(encoding="utf-8")
    (root / "site.toml").write_text(newsgen_config(repo_config, NEWSGEN_OVERRIDES), encoding="utf-8")
    (root / "site-nosearch.toml").write_text(newsgen_config(repo_config, NOSEARCH_OVERRIDES), encoding="utf-8")
    folder = fresh_dir(root / "items")
    for item in items:
        (folder / f"{item.id}.md").write_text(
            "---\n"
            f"title: {yaml_string(item.title)}\n"
            f"date: {item.date.isoformat()}\n"
            f"source: {yaml_string(item.source)}\n"
            f"topics: [{item.topic}]\n"
            "---\n\n"
            f"{item.text}\n",
            encoding="utf-8")


def write_pelican_site(root: Path, items: list[Item]) -> None:
    fresh_dir(root)
    (root / "pelicanconf.py").write_text(
        "# Pelican's defaults, except what keeps the comparison fair: Arabic, relative URLs,\n"
        "# the same page size as newsgen, no content cache.\n"
        f"SITENAME = {SITE_TITLE!r}\n"
        "SITEURL = ''\n"
        "RELATIVE_URLS = True\n"
        f"TIMEZONE = {TIMEZONE!r}\n"
        "DEFAULT_LANG = 'ar'\n"
        f"DEFAULT_PAGINATION = {PER_PAGE}\n"
        "PATH = 'content'\n"
        "CACHE_CONTENT = False\n"
        "LOAD_CONTENT_CACHE = False\n"
        "CACHE_PATH = 'cache'\n",
        encoding="utf-8")
    folder = fresh_dir(root / "content")
    for item in items:
        (folder / f"{item.id}.md").write_text(
            f"Title: {item.title}\n"
            f"Date: {item.date.isoformat()}\n"
            f"Category: {item.topic}\n"
            f"Slug: {item.slug}\n"
            "\n"
            f"{item.text}\n",
            encoding="utf-8")


HUGO_PAGE = """<!DOCTYPE html>
<html lang="ar" dir="rtl">
<head><meta charset="utf-8"><title>{{{{ .Title }}}} — {{{{ .Site.Title }}}}</title></head>
<body>
<header><a href="{{{{ "" | relURL }}}}">{{{{ .Site.Title }}}}</a></header>
<main>
{body}
</main>
</body>
</html>
"""

HUGO_SINGLE = HUGO_PAGE.format(body="""<article>
<h1>{{ .Title }}</h1>
<time datetime="{{ .Date.Format "2006-01-02" }}">{{ .Date.Format "2006-01-02" }}</time>
<p>{{ .Params.source }}</p>
<ul>{{ range .GetTerms "topics" }}<li><a href="{{ .RelPermalink }}">{{ .LinkTitle }}</a></li>{{ end }}</ul>
{{ .Content }}
</article>""")

HUGO_LIST_BODY = """<h1>{{{{ .Title }}}}</h1>
<ul>
{{{{ range (.Paginate {pages}).Pages }}}}<li><a href="{{{{ .RelPermalink }}}}">{{{{ .Title }}}}</a> <time>{{{{ .Date.Format "2006-01-02" }}}}</time><p>{{{{ .Summary }}}}</p></li>
{{{{ end }}}}</ul>
{{{{ template "_internal/pagination.html" . }}}}"""

HUGO_LIST = HUGO_PAGE.format(body=HUGO_LIST_BODY.format(pages=".Pages"))
HUGO_INDEX = HUGO_PAGE.format(body=HUGO_LIST_BODY.format(pages=".Site.RegularPages"))


def write_hugo_site(root: Path, items: list[Item], hugo_version: tuple[int, int]) -> None:
    fresh_dir(root)
    paging = (f"[pagination]\n  pagerSize = {PER_PAGE}\n" if hugo_version >= (0, 128)
              else f"paginate = {PER_PAGE}\n")
    (root / "hugo.toml").write_text(
        'baseURL = "https://example.org/archive/"\n'
        'languageCode = "ar"\n'
        'defaultContentLanguage = "ar"\n'
        f'title = "{SITE_TITLE}"\n'
        f'timeZone = "{TIMEZONE}"\n'
        "relativeURLs = true\n"
        "buildFuture = true\n"
        f'cacheDir = "{(root / ".hugo_cache").as_posix()}"\n'
        "summaryLength = 40\n"
        f"{paging}"
        "[taxonomies]\n"
        '  topic = "topics"\n'
        "[permalinks]\n"
        '  posts = "/posts/:slug/"\n',
        encoding="utf-8")
    layouts = root / "layouts" / "_default"
    layouts.mkdir(parents=True)
    (layouts / "single.html").write_text(HUGO_SINGLE, encoding="utf-8")
    (layouts / "list.html").write_text(HUGO_LIST, encoding="utf-8")
    (root / "layouts" / "index.html").write_text(HUGO_INDEX, encoding="utf-8")
    folder = fresh_dir(root / "content" / "posts")
    for item in items:
        (folder / f"{item.id}.md").write_text(
            "---\n"
            f"title: {yaml_string(item.title)}\n"
            f"date: {item.date.isoformat()}\n"
            f"slug: {yaml_string(item.slug)}\n"
            f"source: {yaml_string(item.source)}\n"
            f"topics: [{yaml_string(item.topic)}]\n"
            "---\n\n"
            f"{item.text}\n",
            encoding="utf-8")


# -- the tools ----------------------------------------------------------------------

@dataclass
class Tool:
    name: str
    version: str
    site: Path
    command: list[str]
    output: Path
    clean: list[str] = field(default_factory=list)  # paths and globs in the site, removed before each run
    summary: re.Pattern | None = None  # the lines of the tool's output worth keeping
    env: dict[str, str] | None = None  # the environment of the build, when not the script's own

    def reset(self, trash: Path | None = None) -> None:
        """Remove the output and what `clean` names; into `trash` (a folder on the same file
        system, emptied later by `empty_trash`) when given, so that no file is deleted just
        before a timed run."""
        for pattern in [str(self.output.relative_to(self.site))] + self.clean:
            for path in self.site.glob(pattern):
                if trash is not None:
                    trash.mkdir(parents=True, exist_ok=True)
                    os.rename(path, trash / f"{self.name}-{time.monotonic_ns()}-{path.name}")
                elif path.is_dir() and not path.is_symlink():
                    shutil.rmtree(path)
                else:
                    path.unlink()


# ext4 without a journal skips, when it makes a file, every inode freed in the last 30 s
# (35 while its block is unwritten): see the module's docstring.
RECENTLY_FREED_SECONDS = 35


def empty_trash(trash: Path, settle: float) -> None:
    """Delete what runs moved aside, then wait until the freed inodes no longer slow file making."""
    if trash.exists() and any(trash.iterdir()):
        shutil.rmtree(trash)
        time.sleep(settle)


def run_text(command: list[str], **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(command, capture_output=True, text=True, **kwargs)


def package_digest(folder: Path) -> str:
    """A digest of every file below `folder` (bytecode caches left out)."""
    h = hashlib.blake2b(digest_size=8)
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = sorted(d for d in dirnames if d != "__pycache__")
        for name in sorted(filenames):
            path = Path(dirpath) / name
            h.update(str(path.relative_to(folder)).encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()


def newsgen_package() -> Path:
    spec = importlib.util.find_spec("newsgen")
    if spec is None or not spec.submodule_search_locations:
        sys.exit("error: newsgen is not installed for this Python; run `pip install -e .` in the checkout")
    return Path(list(spec.submodule_search_locations)[0])


def snapshot_newsgen(work: Path, name: str = "newsgen-snapshot") -> Path:
    """Copy newsgen's package to the work folder, so edits made meanwhile do not change what is measured."""
    target = work / name
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(newsgen_package(), target / "newsgen", ignore=shutil.ignore_patterns("__pycache__"))
    compileall.compile_dir(str(target), quiet=1)  # as an installed package would be
    return target


def newsgen_runner(snapshot: Path | None) -> tuple[list[str], dict[str, str] | None]:
    """The command that runs newsgen, and its environment."""
    if snapshot is not None:
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(
            [str(snapshot)] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]))
        return [sys.executable, "-m", "newsgen.cli"], env
    script = Path(sys.executable).parent / "newsgen"
    return ([str(script)] if script.is_file() else [sys.executable, "-m", "newsgen.cli"]), None


def newsgen_version(command: list[str], env: dict[str, str] | None) -> str:
    result = run_text(command + ["--version"], env=env)
    if result.returncode != 0:
        sys.exit("error: `newsgen --version` failed; install newsgen first (pip install -e .)\n"
                 + result.stderr)
    return result.stdout.strip().removeprefix("newsgen ").strip()


def ensure_pelican(work: Path, install: bool) -> tuple[Path, str] | None:
    """Pelican in its own virtual environment under the work folder."""
    env_dir = work / "pelican-venv"
    python, pelican = env_dir / "bin" / "python", env_dir / "bin" / "pelican"
    if not pelican.is_file():
        if not install:
            print(f"skipping Pelican: it is not installed in {env_dir} and --no-install was given")
            return None
        print(f"installing Pelican into {env_dir} ...", flush=True)
        if env_dir.exists():
            shutil.rmtree(env_dir)
        made = run_text([sys.executable, "-m", "venv", str(env_dir)])
        if made.returncode != 0:
            print(f"skipping Pelican: could not create a virtual environment:\n{made.stderr.strip()}")
            return None
        for spec in PELICAN_SPECS:
            done = run_text([str(python), "-m", "pip", "install", "--quiet", *spec])
            if done.returncode == 0:
                break
            print(f"  pip install {' '.join(spec)} failed; {done.stderr.strip().splitlines()[-1:]}")
        if not pelican.is_file():
            print("skipping Pelican: it could not be installed")
            return None
    versions = run_text([str(python), "-c",
                         "import importlib.metadata as m; print(m.version('pelican'), m.version('markdown'))"])
    pelican_version, markdown_version = (versions.stdout.split() + ["?", "?"])[:2]
    return pelican, f"{pelican_version} (Markdown {markdown_version})"


def ensure_hugo(install: bool) -> tuple[str, str, tuple[int, int]] | None:
    """Hugo from PATH, else Debian's `hugo` package when we may install it."""
    hugo = shutil.which("hugo")
    if hugo is None and install:
        if shutil.which("apt-get") and hasattr(os, "geteuid") and os.geteuid() == 0:
            print("installing Hugo (apt-get install -y hugo) ...", flush=True)
            env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
            if run_text(["apt-get", "install", "-y", "hugo"], env=env).returncode != 0:
                run_text(["apt-get", "update"], env=env)
                run_text(["apt-get", "install", "-y", "hugo"], env=env)
            hugo = shutil.which("hugo")
        else:
            print("cannot install Hugo here: run `apt-get install -y hugo` as root, or put hugo on PATH")
    if hugo is None:
        print("skipping Hugo: it is not installed and could not be installed")
        return None
    shown = run_text([hugo, "version"]).stdout.strip()
    match = re.search(r"v(\d+)\.(\d+)\.(\d+)", shown)
    if not match:
        print(f"skipping Hugo: cannot read its version from {shown!r}")
        return None
    return hugo, match.group(0)[1:], (int(match.group(1)), int(match.group(2)))


# -- measuring ----------------------------------------------------------------------

@dataclass
class Run:
    wall: float
    cpu: float
    maxrss_kib: int
    tree_kib: int
    html: int
    files: int
    bytes: int


def count_output(folder: Path) -> tuple[int, int, int]:
    """(.html files, all files, bytes of all files) below `folder`."""
    html = files = size = 0
    for dirpath, _, filenames in os.walk(folder):
        for name in filenames:
            files += 1
            html += name.endswith(".html")
            size += os.path.getsize(os.path.join(dirpath, name))
    return html, files, size


def measure(tool: Tool, log: Path, trash: Path | None = None) -> Run:
    tool.reset(trash)
    result = run_text([sys.executable, "-c", WRAPPER, str(log), str(tool.site), *tool.command], env=tool.env)
    if result.returncode != 0 or not result.stdout.strip():
        raise RuntimeError(f"the measuring wrapper failed:\n{result.stderr}")
    usage = json.loads(result.stdout.strip().splitlines()[-1])
    if usage["rc"] != 0:
        tail = "\n".join(log.read_text(encoding="utf-8", errors="replace").splitlines()[-20:])
        raise RuntimeError(f"{tool.name} exited with {usage['rc']}; the end of {log}:\n{tail}")
    html, files, size = count_output(tool.output)
    return Run(usage["wall"], usage["user"] + usage["sys"], usage["maxrss_kib"], usage["tree_kib"],
               html, files, size)


def summary_line(tool: Tool, log: Path) -> str:
    """The lines of the tool's output that `tool.summary` picks, joined."""
    if tool.summary is None or not log.is_file():
        return ""
    lines = [" ".join(line.split()) for line in log.read_text(encoding="utf-8", errors="replace").splitlines()]
    return "; ".join(line for line in lines if tool.summary.search(line))


# -- the report ----------------------------------------------------------------------

def machine_info() -> dict:
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "nproc": os.cpu_count(),
        "cpu": model,
        "os": platform.platform(),
        "python": platform.python_version(),
    }


def ratio(value: float, base: float | None) -> str:
    return f"{value / base:.2f}×" if base else "n/a"


TOOL_NAMES = ("newsgen", "newsgen-nosearch", "pelican", "hugo", "bare")


def table(count: int, runs: int, results: dict[str, list[Run]], tools: dict[str, Tool]) -> str:
    base = results.get("newsgen")
    base_wall = statistics.median(r.wall for r in base) if base else None
    base_rss = statistics.median(r.maxrss_kib for r in base) if base else None
    lines = [
        f"### {count:,} items — " + (f"{runs} cold runs per tool, medians" if runs > 1 else "1 cold run per tool"),
        "",
        "| tool | version | wall s | min–max s | wall × newsgen | CPU s | peak RSS MiB | RSS × newsgen "
        "| tree RSS MiB | .html pages | files | bytes written |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, measured in results.items():
        wall = statistics.median(r.wall for r in measured)
        cpu = statistics.median(r.cpu for r in measured)
        rss = statistics.median(r.maxrss_kib for r in measured)
        tree = statistics.median(r.tree_kib for r in measured)
        last = measured[-1]
        varies = len({(r.html, r.files, r.bytes) for r in measured}) > 1
        lines.append(
            f"| {name} | {tools[name].version} | {wall:.2f} | {min(r.wall for r in measured):.2f}–"
            f"{max(r.wall for r in measured):.2f} | {ratio(wall, base_wall)} | {cpu:.2f} | {rss / 1024:.0f} | "
            f"{ratio(rss, base_rss)} | {tree / 1024:.0f} | {last.html:,} | {last.files:,} | {last.bytes:,}{' (varies)' if varies else ''} |")
    return "\n".join(lines)


# -- main ----------------------------------------------------------------------------

def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--items", type=int, nargs="+", default=[1000], metavar="N",
                        help="item counts to benchmark (default: 1000)")
    parser.add_argument("--runs", type=int, default=5, help="measured cold builds per tool and count (default: 5)")
    parser.add_argument("--settle", type=float, default=RECENTLY_FREED_SECONDS, metavar="SECONDS",
                        help="pause after deleting the outputs of a round, before the next one (default: "
                             f"{RECENTLY_FREED_SECONDS}: on ext4 without a journal, files made within 30 s of "
                             "many deletions cost much more system time)")
    parser.add_argument("--warmup", type=int, default=1,
                        help="unmeasured builds per tool first, to warm the OS file cache (default: 1)")
    parser.add_argument("--tools", default=",".join(TOOL_NAMES),
                        help=f"comma-separated subset of {','.join(TOOL_NAMES)} (default: all)")
    parser.add_argument("--corpus", help=f"the corpus folder or {CORPUS_NAME} "
                                         "(default: $NEWSGEN_CORPUS, else ../shared/corpus)")
    parser.add_argument("--work", type=Path, default=DEFAULT_WORK,
                        help="where sites, outputs and Pelican's environment go (default: bench/out)")
    parser.add_argument("--no-install", action="store_true",
                        help="do not install Pelican or Hugo; skip whichever is missing")
    parser.add_argument("--no-snapshot", action="store_true",
                        help="run the installed newsgen itself, not a copy taken when the script starts")
    args = parser.parse_args(argv)
    args.tools = [t.strip() for t in args.tools.split(",") if t.strip()]
    unknown = set(args.tools) - set(TOOL_NAMES)
    if unknown:
        parser.error(f"unknown tools: {', '.join(sorted(unknown))}")
    if args.runs < 1 or args.warmup < 0 or any(n < 1 for n in args.items):
        parser.error("--runs and --items must be at least 1, --warmup at least 0")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    work = args.work.resolve()
    work.mkdir(parents=True, exist_ok=True)
    corpus_file = corpus_path(args.corpus)
    corpus = load_corpus(corpus_file)
    info = machine_info()
    print(f"corpus: {corpus_file} ({len(corpus):,} records)")
    print(f"machine: {info['nproc']} CPUs, {info['cpu']}; {info['os']}; Python {info['python']}")

    pelican = ensure_pelican(work, not args.no_install) if "pelican" in args.tools else None
    hugo = ensure_hugo(not args.no_install) if "hugo" in args.tools else None
    wants_newsgen = any(name.startswith("newsgen") for name in args.tools)
    snapshot = snapshot_newsgen(work) if wants_newsgen and not args.no_snapshot else None
    code_before = (package_digest(snapshot / "newsgen") if snapshot is not None
                   else package_digest(newsgen_package()) if wants_newsgen else "")
    run_newsgen, newsgen_env = newsgen_runner(snapshot)
    versions = {"newsgen": newsgen_version(run_newsgen, newsgen_env) if wants_newsgen else "",
                "bare": "PyYAML + markdown-it-py"}
    if snapshot is not None:
        print(f"newsgen {versions['newsgen']}: measuring a copy of {newsgen_package()} "
              f"(code {code_before}) in {snapshot}")

    reports: list[str] = []
    raw: dict = {"machine": info, "corpus": str(corpus_file), "runs": args.runs, "warmup": args.warmup,
                 "results": {}}
    for count in args.items:
        print(f"\n== {count:,} items: writing the sites ...", flush=True)
        items = make_items(corpus, count)
        sites = work / "sites" / str(count)
        tools: dict[str, Tool] = {}
        if wants_newsgen or "bare" in args.tools:  # the bare pipeline reads newsgen's items
            root = sites / "newsgen"
            write_newsgen_site(root, items)
        for name, config, output in (("newsgen", "site.toml", "public"),
                                     ("newsgen-nosearch", "site-nosearch.toml", "public-nosearch")):
            if name in args.tools:
                tools[name] = Tool(name, versions["newsgen"], root,
                                   run_newsgen + ["build", "--config", config], root / output,
                                   [".newsgen-cache", f".{output}.new-*", f".{output}.old-*"],
                                   re.compile(r"^built \d+ items"), newsgen_env)
        if pelican is not None:
            root = sites / "pelican"
            write_pelican_site(root, items)
            tools["pelican"] = Tool("pelican", pelican[1], root,
                                    [str(pelican[0]), "content", "-o", "output", "-s", "pelicanconf.py"],
                                    root / "output", ["cache", "__pycache__"],
                                    re.compile(r"Done: Processed"))
        if hugo is not None:
            root = sites / "hugo"
            write_hugo_site(root, items, hugo[2])
            tools["hugo"] = Tool("hugo", hugo[1], root, [hugo[0], "--destination", "public"], root / "public",
                                 ["resources", ".hugo_cache", ".hugo_build.lock"],
                                 re.compile(r"^(Pages|Paginator pages|Aliases) \||^Total in"))
        if "bare" in args.tools:
            root = fresh_dir(sites / "bare")
            tools["bare"] = Tool("bare", versions["bare"], root,
                                 [sys.executable, str(BENCH / "bare_pipeline.py"), str(sites / "newsgen" / "items"),
                                  "out"],
                                 root / "out", [], re.compile(r"^bare pipeline:"))
        del items

        load_before = os.getloadavg()
        results: dict[str, list[Run]] = {name: [] for name in tools}
        failed: set[str] = set()
        logs = fresh_dir(work / "logs" / str(count))
        trash = work / "trash"
        empty_trash(trash, args.settle)
        total = args.warmup + args.runs
        for number in range(total):
            if number:
                empty_trash(trash, args.settle)
            measured = number >= args.warmup
            label = f"run {number - args.warmup + 1}/{args.runs}" if measured else f"warm-up {number + 1}"
            for name, tool in tools.items():
                if name in failed:
                    continue
                log = logs / f"{name}-{number}.log"
                started = time.perf_counter()
                try:
                    run = measure(tool, log, trash)
                except RuntimeError as exc:
                    print(f"  {name}: FAILED ({exc}); dropping it from this count")
                    failed.add(name)
                    continue
                print(f"  {label:<12} {name:<16} {run.wall:7.2f} s  {run.cpu:7.2f} s CPU  "
                      f"{run.maxrss_kib / 1024:6.0f} MiB  "
                      f"{run.html:>7,} .html  ({time.perf_counter() - started:.1f} s with counting)", flush=True)
                if measured:
                    results[name].append(run)
        load_after = os.getloadavg()
        empty_trash(trash, 0)
        results = {name: runs for name, runs in results.items() if runs and name not in failed}
        report = table(count, args.runs, results, tools)
        report += (f"\n\nLoad average (1, 5, 15 min) before: {', '.join(f'{x:.2f}' for x in load_before)}; "
                   f"after: {', '.join(f'{x:.2f}' for x in load_after)}.")
        notes = [f"- {name}: `{summary_line(tools[name], logs / f'{name}-{total - 1}.log')}`"
                 for name in results if summary_line(tools[name], logs / f"{name}-{total - 1}.log")]
        if notes:
            report += "\n\nWhat each tool printed about its last run:\n\n" + "\n".join(notes)
        reports.append(report)
        raw["results"][str(count)] = {name: {"version": tools[name].version,
                                             "runs": [vars(r) for r in runs]}
                                      for name, runs in results.items()}
        raw["results"][str(count)]["loadavg"] = {"before": load_before, "after": load_after}
        print("\n" + report, flush=True)

    header = (f"Build-speed benchmark, {info['date']}; {info['nproc']} CPUs ({info['cpu']}); "
              f"{info['os']}; Python {info['python']}; corpus {corpus_file.name}")
    if wants_newsgen:
        code_after = package_digest(newsgen_package())
        raw["newsgen_code"] = {"before": code_before, "after": code_after, "snapshot": snapshot is not None}
        header += f"; newsgen code {code_before}"
        if code_after != code_before:
            header += (f" (the checkout changed to {code_after} while the benchmark ran; "
                       + ("the numbers are for the copy taken at the start)" if snapshot is not None
                          else "runs may mix both versions)"))
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    (work / f"results-{stamp}.md").write_text(header + "\n\n" + "\n\n".join(reports) + "\n", encoding="utf-8")
    (work / f"results-{stamp}.json").write_text(json.dumps(raw, indent=2, ensure_ascii=False), encoding="utf-8")
    print(f"\n{header}\nresults: {work / f'results-{stamp}.md'} (and .json); sites and outputs: {work / 'sites'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
