"""The site model: topics, archives and pagination, derived from records alone."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import replace

from .arabic import normalize, on_site_calendar
from .config import SiteConfig
from .errors import Diagnostics
from .filing import KeywordRules, learned_filing, topic_key
from .model import ArchivePeriod, Article, ListPage, Pagination, SiteModel, StandingPage, Topic

# First path segments that newsgen writes itself; a standing page may not take them.
RESERVED_SEGMENTS = {"articles", "topics", "archive", "assets", "page", "search", "pagefind", "feeds",
                     "404.html", "index.html", "feed.xml", "rss.xml", "feed.json", "robots.txt"}


def is_reserved(slug: str) -> bool:
    return slug in RESERVED_SEGMENTS or slug.startswith(("sitemap", "__newsgen"))


def build_site_model(articles: list[Article], pages: list[StandingPage], config: SiteConfig,
                     diagnostics: Diagnostics) -> SiteModel:
    articles = assign_unique_slugs(articles, diagnostics)
    articles, undeclared = file_articles(articles, config, diagnostics)
    articles = sorted(articles, key=lambda a: a.sort_key)

    topics = _topics(articles, config, undeclared)
    years, months, undated = _archives(articles, config)
    pages = _check_pages(pages, diagnostics)

    list_pages: list[ListPage] = []
    for topic in topics:
        list_pages += paginate("topic", topic.url, topic.name, topic.article_slugs, config.per_page,
                               topic_key=topic.key)
    for period in years + months:
        kind = "archive-year" if period.month is None else "archive-month"
        key = (period.year,) if period.month is None else (period.year, period.month)
        list_pages += paginate(kind, period.url, "", period.article_slugs, config.per_page, period=key)
    if undated:
        list_pages += paginate("undated", "archive/undated/", "", undated, config.per_page)

    return SiteModel(
        articles=tuple(articles),
        topics=tuple(topics),
        years=tuple(years),
        months=tuple(months),
        undated=tuple(undated),
        pages=tuple(pages),
        list_pages=tuple(list_pages),
        by_slug={a.slug: a for a in articles},
    )


def assign_unique_slugs(articles: list[Article], diagnostics: Diagnostics) -> list[Article]:
    """Give every item its own slug: the oldest keeps it, later ones get -2, -3...

    The order depends on dates and paths only, so every build resolves a clash
    the same way.
    """
    taken: dict[str, Article] = {}
    wanted = {a.slug for a in articles}  # a generated «x-2» must not take another item's own slug
    result = []
    for article in sorted(articles, key=lambda a: (a.date is None, a.date.timestamp() if a.date else 0, a.path)):
        slug = article.slug
        if slug in taken:
            number = 2
            while f"{slug}-{number}" in taken or f"{slug}-{number}" in wanted:
                number += 1
            new_slug = f"{slug}-{number}"
            diagnostics.warning(f"slug «{slug}» is also used by {taken[slug].path}; this item is published as "
                                f"«{new_slug}» (set `slug:` in one of them to choose)",
                                article.path, article.slug_line or None)
            article = replace(article, slug=new_slug)
        taken[article.slug] = article
        result.append(article)
    return result


def file_articles(articles: list[Article], config: SiteConfig,
                  diagnostics: Diagnostics) -> tuple[list[Article], dict[str, str]]:
    """Resolve each item's topics to keys; file untagged items by keyword.

    Returns the new records and the undeclared topics in use (key -> name).
    """
    rules = KeywordRules.from_config(config)
    undeclared: dict[str, str] = {}
    warned: set[str] = set()
    keys_of: dict[str, str] = {}  # topic name as written -> key ("" when it has no letters)
    declared = {t.key for t in config.topics}
    filed = []
    for article in articles:
        keys: list[str] = []
        for name in article.topics:
            if name not in keys_of:
                keys_of[name] = topic_key(name, config)
            key = keys_of[name]
            if not key:
                diagnostics.warning(f"topic {name!r} has no letters or digits and is ignored", article.path)
                continue
            if key not in declared:
                undeclared.setdefault(key, name)
                if normalize(name) not in warned:
                    warned.add(normalize(name))
                    diagnostics.warning(f"topic «{name}» is not declared in site.toml; it gets a page at "
                                        f"topics/{key}/ (declare it under [[topic]] to name its key)",
                                        article.path)
            if key not in keys:
                keys.append(key)
        # Loaders resolve the keys already (see `topic_key`): the record is copied only when they differ.
        if tuple(keys) != article.topic_keys or article.topics_inferred != (not keys):
            article = replace(article, topic_keys=tuple(keys), topics_inferred=not keys)
        filed.append(article)
    learned = learned_filing(filed, config)
    for i, article in enumerate(filed):
        if article.topics_inferred:
            filed[i] = replace(article, topic_keys=inferred_topics(article, config, rules, learned))
    return filed, undeclared


def inferred_topics(article: Article, config: SiteConfig, rules: KeywordRules,
                    learned: Callable[[Article], tuple[str, ...]] | None = None) -> tuple[str, ...]:
    """The topics of an item without any: the learned filing's when it is confident, else the
    keyword rules', else the fallback topic."""
    keys = (learned(article) if learned else ()) or rules.file(article.title, article.text)
    return tuple(keys) or (config.fallback_topic,)


def _topics(articles: list[Article], config: SiteConfig, undeclared: dict[str, str]) -> list[Topic]:
    members: dict[str, list[str]] = defaultdict(list)
    for article in articles:
        for key in article.topic_keys:
            members[key].append(article.slug)
    topics = [Topic(t.key, t.name, True, tuple(members[t.key])) for t in config.topics if members.get(t.key)]
    for key in sorted(undeclared, key=lambda k: normalize(undeclared[k])):
        topics.append(Topic(key, undeclared[key], False, tuple(members[key])))
    return topics


def _archives(articles: list[Article], config: SiteConfig):
    by_year: dict[int, list[str]] = defaultdict(list)
    by_month: dict[tuple[int, int], list[str]] = defaultdict(list)
    undated: list[str] = []
    tz = config.tz
    for article in articles:
        if article.date is None:
            undated.append(article.slug)
            continue
        local = on_site_calendar(article.date, tz)
        by_year[local.year].append(article.slug)
        by_month[(local.year, local.month)].append(article.slug)
    years = [ArchivePeriod(y, None, tuple(s)) for y, s in sorted(by_year.items(), reverse=True)]
    months = [ArchivePeriod(y, m, tuple(s)) for (y, m), s in sorted(by_month.items(), reverse=True)]
    return years, months, undated


def _check_pages(pages: list[StandingPage], diagnostics: Diagnostics) -> list[StandingPage]:
    kept, seen = [], set()
    for page in pages:
        if is_reserved(page.slug):
            diagnostics.error(f"the page slug «{page.slug}» is used by newsgen itself; choose another `slug:`",
                              page.path, 1)
        elif page.slug in seen:
            diagnostics.error(f"another page already uses the slug «{page.slug}»; set a different `slug:`",
                              page.path, 1)
        else:
            seen.add(page.slug)
            kept.append(page)
    return kept


def paginate(kind: str, base_url: str, heading: str, slugs: tuple[str, ...] | list[str], per_page: int,
             *, topic_key: str | None = None, period: tuple[int, ...] = ()) -> list[ListPage]:
    """The pages of a list of items (`slugs`, newest first), numbered from the oldest (see
    `Pagination`): page n holds the n-th `per_page` items counted from the oldest, and the
    newest page, at `base_url`, the rest."""
    count = len(slugs)
    total = max(1, count // per_page)
    pages = []
    for number in range(total, 0, -1):
        newer = count - number * per_page  # items on the pages newer than this one
        chosen = slugs[:count - (total - 1) * per_page] if number == total else slugs[newer:newer + per_page]
        pagination = Pagination.of(number, total, base_url)
        pages.append(ListPage(kind, pagination.url, heading, tuple(chosen), pagination, topic_key, period))
    return pages
