"""Builds after a few items' bodies were edited: only the files that show those bodies are made again.

An edit that fixes a typo or adds a paragraph changes the item's own page and any feed it is in
(feeds carry the full text), and nothing else: list pages, the home page and related items show headlines, dates, topics and
summaries, never a body. A build that sees only such edits skips reading the archive's records
and deriving the site model: it reads the edited items' records, those of the items their pages
link to as related, and those of the feeds they are in, and makes just those files.

`EditIndex` is what it needs from the last full build: where each item was placed (its slug
and topics once clashes and filing were resolved), which items each feed shows, and the
site's topics. Every condition the shortcut relies on is checked, and when one does not hold
the build is an ordinary one:

- no template in the site's own folder reads a body, a word count or the record behind an item
  by name, nor a field by a name it works out as it renders (see `templates_may_show_bodies`;
  the theme's templates show a body only on its item's page and in feeds);
- search is off (the search index reads every item's text), or the caller updates the index
  afterwards (`serve` does, in the background, as after any edit; `newsgen build` before it
  ends, the edits going into the index's shard of recent edits);
- the last build ranked the related items afresh (not `serve`'s quick edit), and filing did not
  learn from the items' texts;
- each edited item was published by that build from the file as it was then, parses without
  a new problem, and keeps everything but its body: headline, slug, dates, topics, summary,
  fields, and the words related items count (the headline and the first 2,500 characters of
  the body; `serve`'s quick builds may change them, see `edited_build`).

The pages the shortcut makes again keep no fingerprint (see `build.Fingerprints`), so the next
full build makes them again too. Pages it does not make keep their fingerprint: it names the
item's earlier version, whose edit changed nothing they show, so they stay right whichever
version comes next.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import NamedTuple

import jinja2
from jinja2 import nodes

from .cache import BuildCache, RecordEntry, TemplateCode, digest
from .config import SiteConfig
from .errors import Diagnostics
from .feeds import feed_files
from .filing import KeywordRules
from .loaders import load_pages, parse_item
from .model import Article, SiteModel, Topic
from .output import update_output
from .render import Renderer, SiteRenderer, output_path
from .site import inferred_topics

EDITS_AT_MOST = 16  # more edited items than this make an ordinary build
_BODY = {"body_html", "text", "word_count"}  # what only an item's own page and its feeds show
_PLACEMENT = tuple(f.name for f in fields(Article) if f.name not in _BODY)


class EditedFiles(NamedTuple):
    """What `edited_build` did."""

    written: list[str]  # output paths
    pages: int  # item pages made again
    stale: bool  # whether the related items on them are of before the edits
    articles: tuple[Article, ...] = ()  # the edited items, as placed (see `placed_articles`)


@dataclass(frozen=True)
class EditIndex:
    """What the shortcut needs from the last full build (see the module's text)."""

    token: str  # the build cache's state names the index it goes with
    # Items are named as the build cache's records are (by the file's path as found).
    placed: dict[str, tuple[str, tuple[str, ...], bool]]  # item -> slug, topic keys, filed by keyword
    feeds: dict[str, tuple[str, str, tuple[str, ...]]]  # feed group key -> folder, title, items
    topics: tuple[Topic, ...]  # the site's topics, without their items
    eligible: bool  # templates, related items and filing allow the shortcut (search is checked apart)

    @classmethod
    def of(cls, model: SiteModel, config: SiteConfig, feeds: list[tuple[str, str, list[Article]]],
           related_current: bool, records: dict[str, RecordEntry]) -> "EditIndex":
        name = {entry.article.path: name for name, entry in records.items() if entry.article is not None}
        learned = config.learn_topics and any(a.topics_inferred for a in model.articles)
        eligible = related_current and not learned and not templates_may_show_bodies(config)
        return cls(secrets.token_hex(8),
                   {name[a.path]: (a.slug, a.topic_keys, a.topics_inferred) for a in model.articles},
                   {f"feeds:{folder}": (folder, title, tuple(name[a.path] for a in entries))
                    for folder, title, entries in feeds},
                   tuple(Topic(t.key, t.name, t.declared) for t in model.topics), eligible)


# What of an item only its own page and its feeds show (see `render.ArticleView`), and the record
# that holds it all: a site's template that reads one of these, or reads a field by a name it
# works out as it renders, may show a body on any page, and turns the shortcut off.
_BODY_NAMES = frozenset({"body_html", "text", "word_count", "reading_minutes", "article"})
# Filters and tests that read a field named by their argument (`attr("text")`, `map(attribute=...)`).
_FIELD_READERS = frozenset({"attr", "map", "selectattr", "rejectattr", "sort", "groupby", "sum", "unique",
                            "min", "max"})


def templates_may_show_bodies(config: SiteConfig) -> bool:
    """Whether a template in the site's own folder may show an item's body beyond the item's
    page and feeds. The theme's templates do not; a site's are read for the names above."""
    folder = config.templates_dir
    if folder is None or not folder.is_dir():
        return False
    environment = jinja2.Environment()
    for path in sorted(folder.rglob("*")):
        if not path.is_file():
            continue
        try:
            tree = environment.parse(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, jinja2.TemplateSyntaxError):
            return True  # the build reports it; no shortcut meanwhile
        if any(map(_may_read_a_body, tree.find_all((nodes.Getattr, nodes.Getitem, nodes.Filter, nodes.Test)))):
            return True
    return False


def _may_read_a_body(node: nodes.Node) -> bool:
    if isinstance(node, nodes.Getattr):
        return node.attr in _BODY_NAMES
    if isinstance(node, nodes.Getitem):  # x["text"], or x[name]: a name worked out when rendering
        if isinstance(node.arg, nodes.Slice):
            return False
        return not isinstance(node.arg, nodes.Const) or node.arg.value in _BODY_NAMES
    arguments = list(node.args) + [keyword.value for keyword in node.kwargs]
    if node.name in _FIELD_READERS and not all(isinstance(a, nodes.Const) for a in arguments):
        return True
    return any(isinstance(a, nodes.Const) and a.value in _BODY_NAMES for a in arguments)


def edited_build(config: SiteConfig, cache: BuildCache, target: Path, changed: dict[str, tuple[int, int]],
                 templates: Renderer | None = None, search_later: bool = False, stale_ok: bool = False
                 ) -> EditedFiles | None:
    """Write the files that change with the body edits of `changed` (item path -> size and time
    now), update the cache to match and say what was done; None, with the output and the cache
    as they were, when the shortcut does not apply.

    `cache` is the last build's (`load_main`), whose state says no page, asset, template, code or
    configuration changed since, and that the items found now are those it read. With search on,
    the search index is the caller's to bring up to date (`search_later`), or the shortcut is off.
    With `stale_ok` (serve's quick builds, see `build.related_lists`), an edit may change the
    words related items count: the pages keep the related items of before, and the cache's state
    says so, which makes the next build an ordinary one that ranks them again.
    """
    index = cache.load_edit_index(config)
    if index is None or not index.eligible or not changed or len(changed) > EDITS_AT_MOST or \
            (config.search and not search_later):
        return None
    state_items = cache.state["items"]
    if any(path not in index.placed for path in changed):
        return None  # a draft, or an item the last build did not publish
    cache.load_shards(config, changed)
    entries: dict[str, RecordEntry] = {}
    stale = False  # whether an edit changed the words related items count
    edited: dict[str, Article] = {}  # item path -> its record as placed, for those whose bytes changed
    for path, (size, mtime_ns) in changed.items():
        old = cache.records.get(path)
        if old is None or old.article is None or (old.size, old.mtime_ns) != state_items[path]:
            return None  # the record is not the one the output was made from
        try:
            data = Path(path).read_bytes()
        except OSError:
            return None
        if len(data) != size:
            return None  # written again since it was found
        content = digest(data)
        if content == old.content:
            entries[path] = replace(old, size=size, mtime_ns=mtime_ns)
            continue
        article, problems, terms = parse_item((Path(path), data), config.reading())
        if article is None or problems != old.problems or terms is None or old.terms is None or \
                not _same_placement(article, old.article):
            return None
        if terms.digest != old.terms.digest:
            if not stale_ok:
                return None
            stale = True
        slug, keys, inferred = index.placed[path]
        if inferred and inferred_topics(article, config, KeywordRules.from_config(config)) != keys:
            return None  # filed by keyword, and the words of its body changed the filing
        entries[path] = RecordEntry(size, mtime_ns, content, article, problems, terms)
        edited[path] = _placed(article, index.placed[path])
    if cache.related is None:
        return None
    related = cache.related[1]
    path_of = {slug: path for path, (slug, _, _) in index.placed.items()}
    feeds = [feed for feed in index.feeds.items() if not edited.keys().isdisjoint(feed[1][2])]
    needed = {path_of[s] for path in edited for s in related.get(index.placed[path][0], ())}
    needed.update(path for _, (_, _, paths) in feeds for path in paths)
    cache.load_shards(config, needed)
    articles = dict(edited)
    for path in needed - edited.keys():
        entry = cache.records.get(path)
        if entry is None or entry.article is None:
            return None
        articles[path] = _placed(entry.article, index.placed[path])
    model = SiteModel(articles=tuple(articles.values()), topics=index.topics, years=(), months=(), undated=(),
                      pages=tuple(load_pages(config, Diagnostics())), list_pages=(),
                      by_slug={a.slug: a for a in articles.values()})
    renderer = SiteRenderer(model, config, templates or Renderer(config, TemplateCode(config)), related=related)
    made = [renderer.render_article(article.slug) for article in edited.values()]
    for key, (folder, title, paths) in feeds:
        made += feed_files(folder, title, [articles[path] for path in paths], model, config)
    writes, files = {}, dict(cache.files)
    for rendered in made:
        if rendered.path not in files:
            return None
        data_digest = digest(rendered.data)
        if files[rendered.path] != data_digest:
            writes[rendered.path], files[rendered.path] = rendered.data, data_digest
    cache.marker = update_output(target, writes, [], cache.marker, cache.files, files)
    # Nothing had changed until the files were written: now the cache takes the edits.
    cache.records.update(entries)
    cache.state = {**cache.state, "items": {**state_items, **{path: (e.size, e.mtime_ns) for path, e in entries.items()}},
                   **({"related_stale": True} if stale else {})}
    for article in edited.values():
        cache.pages[output_path(article.url)] = ""  # made again by the next full build (see above)
    for key, _ in feeds:
        cache.groups[key] = ("", cache.groups[key][1])
    cache.files = files
    return EditedFiles(sorted(writes), len(edited), stale, tuple(edited.values()))


def placed_articles(config: SiteConfig, records: dict[str, RecordEntry], index: EditIndex,
                    paths: list[str]) -> dict[str, Article] | None:
    """The records of the items whose `Article.path` is in `paths`, as the last full build placed
    them (its slug after clashes, its topics after filing: `index`), from `records` (by file, see
    `item_file`); None when one is not there."""
    found = {}
    for path in paths:
        name = item_file(config, path)
        entry = records.get(name)
        if entry is None or entry.article is None or entry.article.path != path or name not in index.placed:
            return None
        found[path] = _placed(entry.article, index.placed[name])
    return found


def item_file(config: SiteConfig, path: str) -> str:
    """The key of the records (the file) of the item whose `Article.path` is `path` (relative to
    the site, or absolute outside it)."""
    return str(config.root / path)


def _same_placement(new: Article, old: Article) -> bool:
    return all(getattr(new, name) == getattr(old, name) for name in _PLACEMENT)


def _placed(article: Article, placed: tuple[str, tuple[str, ...], bool]) -> Article:
    """The record as the last full build placed it: its slug after clashes, its topics after filing."""
    slug, keys, inferred = placed
    if (article.slug, article.topic_keys, article.topics_inferred) == placed:
        return article
    return replace(article, slug=slug, topic_keys=keys, topics_inferred=inferred)
