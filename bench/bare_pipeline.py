"""The "bare Python pipeline": a floor for what a Python site generator can cost.

One process reads every item (Markdown with YAML front matter), parses the front
matter with yaml.CSafeLoader, renders the body with markdown-it-py, wraps it in a
trivial HTML string and writes one file per item, plus one plain list page per
topic. No templates, feeds, archives, pagination, slugs or sanitizing.

    python bench/bare_pipeline.py ITEMS_DIR OUTPUT_DIR

build_speed.py runs it as its own process, like the real generators.
"""

from __future__ import annotations

import os
import sys
from collections import defaultdict
from html import escape
from pathlib import Path

import yaml
from markdown_it import MarkdownIt

PAGE = ('<!DOCTYPE html>\n<html lang="ar" dir="rtl"><head><meta charset="utf-8">'
        "<title>{title}</title></head>\n<body><h1>{title}</h1>\n{body}</body></html>\n")


def split(text: str) -> tuple[dict, str]:
    """Front matter between the first two `---` lines, and the body after them."""
    if not text.startswith("---\n"):
        return {}, text
    end = text.find("\n---\n", 4)
    if end < 0:
        return {}, text
    meta = yaml.load(text[4:end], Loader=yaml.CSafeLoader) or {}
    return meta, text[end + 5:]


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    source, output = Path(argv[0]), Path(argv[1])
    output.mkdir(parents=True, exist_ok=True)
    (output / "topics").mkdir(exist_ok=True)
    md = MarkdownIt("commonmark")
    by_topic: dict[str, list[tuple[str, str]]] = defaultdict(list)
    files = written = 0
    for name in sorted(os.listdir(source)):
        if not name.endswith(".md"):
            continue
        meta, body = split((source / name).read_text(encoding="utf-8"))
        title = escape(str(meta.get("title", "")))
        page = PAGE.format(title=title, body=md.render(body)).encode("utf-8")
        out_name = name[:-3] + ".html"
        (output / out_name).write_bytes(page)
        files += 1
        written += len(page)
        for topic in meta.get("topics") or ():
            by_topic[str(topic)].append((out_name, title))
    for topic, entries in sorted(by_topic.items()):
        items = "".join(f'<li><a href="../{href}">{title}</a></li>\n' for href, title in entries)
        page = PAGE.format(title=escape(topic), body=f"<ul>\n{items}</ul>\n").encode("utf-8")
        (output / "topics" / f"{topic}.html").write_bytes(page)
        files += 1
        written += len(page)
    print(f"bare pipeline: wrote {files} files, {written} bytes, {len(by_topic)} topics -> {output}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
