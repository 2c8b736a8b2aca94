"""Pages from the site model through Jinja2 templates.

Templates come from the site's own folder first, then from the default theme in
the package. Every link is relative to the page it is on, so a site works from
any sub-path; only 404.html, served at any address, uses absolute paths.
"""

from __future__ import annotations

import sys
import traceback
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from math import ceil
from pathlib import Path
from typing import Any, Callable, Iterator

import jinja2
from markupsafe import Markup

from .arabic import format_arabic_date, format_month, format_number, join_list
from .arabic import format_hijri_date, on_site_calendar, text_direction
from .config import SiteConfig
from .errors import TemplateError
from .model import Article, ListPage, SiteModel, StandingPage

THEME = Path(__file__).parent / "theme"
MORE_ITEMS = 5


@dataclass(frozen=True)
class TopicLink:
    """A topic as pages link to it. Counts are only on the topics page, so that
    a change in one topic's size does not touch every page that links to it."""

    key: str
    name: str
    url: str


class TemplateDict(dict):
    """A dict that templates read by attribute (`page.title`) without a failed lookup first.

    Jinja tries an attribute before an item, so on a plain dict every `page.title` raises and
    catches an AttributeError; with the dict as its own `__dict__` the attribute is found at
    once. A key named like a dict method (`items`, `get`) would hide the method: none is used.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.__dict__ = self


@dataclass(frozen=True)
class ArticleView:
    """An article as templates see it: topics as links, body marked safe."""

    title: str
    url: str
    date: datetime | None
    updated: datetime | None
    topics: tuple[TopicLink, ...]
    summary: str
    article: Article = field(repr=False)  # whose body the view shows, read only when a page shows it
    breaking: bool
    source: str
    source_url: str
    author: str
    location: str
    image: str
    image_alt: str
    word_count: int
    reading_minutes: int
    slug: str

    @property
    def body_html(self) -> Markup:
        # Made when a page shows it: a Markup kept per view would copy every body for the build,
        # and a list page's cards would read bodies that an article read from the cache has not.
        return Markup(self.article.body_html)


@dataclass(frozen=True)
class RenderedFile:
    path: str  # relative to the output folder, forward slashes
    data: bytes


@dataclass(frozen=True)
class PageJob:
    """One page to render, with what it shows besides the site-wide context.

    `slugs` are the articles the page shows; `extra` is any other value it
    depends on. A build that knows these did not change can skip the page.
    """

    url: str
    kind: str
    slugs: tuple[str, ...]
    extra: tuple
    render: Callable[[], "RenderedFile"] = field(compare=False, repr=False)


def output_path(url: str) -> str:
    """`articles/x/` -> `articles/x/index.html`; a URL naming a file is kept."""
    if url == "" or url.endswith("/"):
        return url + "index.html"
    return url


def relative_prefix(url: str) -> str:
    depth = url.count("/")
    return "../" * depth


class Renderer:
    """One Jinja2 environment per build (per process), compiled templates reused."""

    def __init__(self, config: SiteConfig, code: jinja2.BytecodeCache | None = None):
        """`code` keeps compiled templates between processes (`cache.TemplateCode`)."""
        self.config = config
        # The site's folder is searched even before it exists: serve keeps one
        # environment, and a folder made later must still override the theme.
        search = [str(config.templates_dir)] if config.templates_dir else []
        search.append(str(THEME / "templates"))
        self.env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(search),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
            # A template is read once per environment: checking its file's time at every
            # include costs a stat per include per page. Serve makes a new environment when
            # a template changes (see `build.SiteBuilder`).
            auto_reload=False,
            bytecode_cache=code,
        )
        # list.html writes the theme's card out in its loop rather than including it per card;
        # a site's own partials/article_card.html is included instead.
        self.env.globals["theme_article_card"] = self.from_theme("partials/article_card.html")
        locale, digits = config.date_locale, config.digits
        local = partial(on_site_calendar, tz=config.tz)  # dates on the day the site files them

        # An item's date shows on its own page and on every list and page of related items that
        # shows it: formatted once per build, not at each showing.
        self.iso = remembered_per_object(lambda value: value.isoformat() if value else "")
        self.env.filters.update(
            date=remembered_per_value(lambda value: format_arabic_date(local(value), locale=locale, digits=digits)),
            month=lambda value: format_month(value[0], value[1], locale=locale, digits=digits),
            isodate=self.iso,
            num=lambda value: format_number(int(value), digits),
            join_ar=join_list,
            hijri=lambda value: format_hijri_date(local(value), digits=digits),
            textdir=text_direction,
            url=_url_filter,
        )

    def from_theme(self, name: str) -> bool:
        """Whether the template `name` is the theme's own, not a site's file of the same name."""
        try:
            _, filename, _ = self.env.loader.get_source(self.env, name)
        except jinja2.TemplateNotFound:
            return False
        return filename is not None and Path(filename).resolve() == (THEME / "templates" / name).resolve()

    def render(self, template: str, url: str, context: dict[str, Any]) -> bytes:
        prefix = self.config.base_path if url == "404.html" else relative_prefix(url)

        def link(path: str) -> str:
            return (prefix + path) or "./"

        try:
            html = self.env.get_template(template).render(context, url=link)
        except jinja2.TemplateSyntaxError as exc:
            raise TemplateError(f"template syntax error: {exc.message}",
                                _shown(exc.filename or "templates", self.config.root), exc.lineno) from None
        except jinja2.TemplateNotFound as exc:
            raise TemplateError(f"template {exc.name!r} not found; add it to the templates folder or fix the include",
                                template) from None
        except Exception as exc:  # an error inside a template while it renders
            path, line = _template_frame(sys.exc_info()[2])
            message = exc.message if isinstance(exc, jinja2.TemplateError) and exc.message else str(exc)
            raise TemplateError(f"template error while rendering {url or 'the home page'}: {message}",
                                _shown(path, self.config.root) or template, line) from None
        return html.encode("utf-8")


@jinja2.pass_context
def _url_filter(context, path: str) -> str:
    """`path|url`: what `url(path)` gives. The theme writes its links this way: Jinja calls a
    filter directly, where a call of `url()` goes through `Context.call`: with 30 to 50 links a
    page, the theme's pages took 0.53 ms each at best with `url()`, 0.39 ms with the filter."""
    return context["url"](path)


def remembered_per_value(compute: Callable[[Any], str]) -> Callable[[Any], str]:
    """`compute` remembered by value: for results that equal values always share."""
    memo: dict[Any, str] = {}

    def cached(value):
        try:
            return memo[value]
        except KeyError:
            result = memo[value] = compute(value)
            return result
        except TypeError:  # unhashable
            return compute(value)

    return cached


def remembered_per_object(compute: Callable[[Any], str]) -> Callable[[Any], str]:
    """`compute` remembered per object, for results that equal values need not share: two
    date-times of the same instant in different zones have different ISO forms. The memo
    holds each object, so its id is not reused while remembered."""
    memo: dict[int, tuple[Any, str]] = {}

    def cached(value):
        hit = memo.get(id(value))
        if hit is not None and hit[0] is value:
            return hit[1]
        result = compute(value)
        memo[id(value)] = (value, result)
        return result

    return cached


def _shown(path: str | None, root: Path) -> str | None:
    """A template's path as the user knows it: relative to the site when it is the site's."""
    if path is None:
        return None
    try:
        return Path(path).relative_to(root).as_posix()
    except ValueError:
        return path


def _template_frame(tb) -> tuple[str | None, int | None]:
    """The innermost template file and line of a traceback."""
    found: tuple[str | None, int | None] = (None, None)
    for frame, line in traceback.walk_tb(tb):
        filename = frame.f_code.co_filename
        if filename.endswith(".html") or filename.endswith(".xml"):
            found = (filename, line)
    return found


class _Views(dict):
    """Article views by slug, each made on first use: an incremental build shows few."""

    def __init__(self, make: Callable[[str], ArticleView]):
        super().__init__()
        self._make = make

    def __missing__(self, slug: str) -> ArticleView:
        view = self[slug] = self._make(slug)
        return view


class SiteRenderer:
    """Renders every page of a site model; one instance per build."""

    def __init__(self, model: SiteModel, config: SiteConfig, renderer: Renderer | None = None,
                 related: dict[str, tuple[str, ...]] | None = None):
        self.model = model
        self.config = config
        self.renderer = renderer or Renderer(config)
        self.related = related  # slug -> related slugs; computed on first use when not given
        self.topic_links = {t.key: TopicLink(t.key, t.name, t.url) for t in model.topics}
        self.views = _Views(lambda slug: self._view(model.by_slug[slug]))  # made when a page first shows one
        self.site = TemplateDict({
            "title": config.title,
            "description": config.description,
            "base_url": config.base_url,
            "lang": "ar",
            "publisher": config.publisher,
            "topics": list(self.topic_links.values()),
            "pages": [TemplateDict(title=p.title, url=p.url) for p in model.pages],
            "feed_url": "feed.xml",
            "search": config.search,
            "hijri": config.hijri,
        })
        from .structured import StructuredData  # here, not at the top: structured -> feeds -> render
        self.structured = StructuredData(model, config, iso=self.renderer.iso)

    def _view(self, article: Article) -> ArticleView:
        return ArticleView(
            title=article.title, url=article.url, date=article.date, updated=article.updated,
            topics=tuple(self.topic_links[k] for k in article.topic_keys if k in self.topic_links),
            summary=article.summary, article=article, breaking=article.breaking,
            source=article.source, source_url=article.source_url, author=article.author,
            location=article.location, image=article.image, image_alt=article.image_alt,
            word_count=article.word_count,
            reading_minutes=max(1, ceil(article.word_count / self.config.words_per_minute)),
            slug=article.slug,
        )

    def _page(self, kind: str, url: str, title: str, description: str = "", feed_url: str | None = None) -> dict:
        full_title = self.config.title if not title else f"{title} — {self.config.title}"
        return {"kind": kind, "title": full_title, "url": url, "canonical": self.config.base_url + url,
                "description": description or self.config.description, "feed_url": feed_url}

    def _render(self, template: str, url: str, page: dict, **context) -> RenderedFile:
        page = TemplateDict(page, **self.structured.for_page(page, context))  # jsonld, meta, feeds
        data = self.renderer.render(template, url, {"site": self.site, "page": page, **context})
        return RenderedFile(output_path(url), data)

    # -- pages -----------------------------------------------------------------

    def jobs(self, *, articles: bool = True, others: bool = True) -> Iterator[PageJob]:
        """Every page of the site, in a fixed order, not yet rendered; only the articles' pages,
        or only the others (which show no related items, so need no ranking), when asked."""
        model = self.model
        if others:
            yield PageJob("", "home", self._home_slugs(), (), self.render_home)
        if articles:
            for article in model.articles:
                slug = article.slug
                yield PageJob(article.url, "article", (slug,) + self.related_slugs(slug), (),
                              lambda slug=slug: self.render_article(slug))
        if not others:
            return
        for list_page in model.list_pages:
            yield PageJob(list_page.url, list_page.kind, list_page.article_slugs,
                          (list_page.pagination,),
                          lambda list_page=list_page: self.render_list(list_page))
        yield PageJob("topics/", "topics", (), tuple((t.key, t.count) for t in model.topics), self.render_topics)
        archive = tuple((p.year, p.month, p.count) for p in model.years + model.months) + (len(model.undated),)
        yield PageJob("archive/", "archive", (), archive, self.render_archive)
        for standing in model.pages:
            yield PageJob(standing.url, "page", (), (standing,), lambda standing=standing: self.render_standing(standing))
        yield PageJob("404.html", "404", (), (), self.render_not_found)

    def _home_slugs(self) -> tuple[str, ...]:
        latest = [a.slug for a in self.model.articles[: self.config.home_items]]
        breaking = [a.slug for a in self.model.articles if a.breaking and a.date][:5]
        sections = [s for t in self.model.topics for s in t.article_slugs[:4]]
        return tuple(latest + breaking + sections)

    def render_home(self) -> RenderedFile:
        latest = [self.views[a.slug] for a in self.model.articles[: self.config.home_items]]
        breaking = [self.views[a.slug] for a in self.model.articles if a.breaking and a.date][:5]
        sections = [{"topic": self.topic_links[t.key], "articles": [self.views[s] for s in t.article_slugs[:4]]}
                    for t in self.model.topics]
        return self._render("home.html", "", self._page("home", "", ""), latest=latest, breaking=breaking,
                            sections=sections)

    def render_article(self, slug: str) -> RenderedFile:
        view = self.views[slug]
        return self._render("article.html", view.url, self._page("article", view.url, view.title, view.summary),
                            article=view, more=(related := self.more_like(slug)), related=related)

    def more_like(self, slug: str) -> list[ArticleView]:
        """Up to five related items (newsgen.related): by shared topics and text, then by time."""
        return [self.views[s] for s in self.related_slugs(slug)]

    def related_slugs(self, slug: str) -> tuple[str, ...]:
        if self.related is None:
            from .related import related_items
            self.related = related_items(self.model, MORE_ITEMS)
        return self.related.get(slug, ())

    def list_heading(self, list_page: ListPage) -> str:
        locale, digits = self.config.date_locale, self.config.digits
        if list_page.kind == "topic":
            return list_page.heading
        if list_page.kind == "archive-year":
            return f"أرشيف {format_number(list_page.period[0], digits)}"
        if list_page.kind == "archive-month":
            return f"أرشيف {format_month(*list_page.period, locale=locale, digits=digits)}"
        return "أخبار غير مؤرخة"

    def render_list(self, list_page: ListPage) -> RenderedFile:
        heading = self.list_heading(list_page)
        pagination = list_page.pagination
        title = heading if pagination.newest else \
            f"{heading} — الصفحة {format_number(pagination.current, self.config.digits)}"
        feed = f"topics/{list_page.topic_key}/feed.xml" if list_page.kind == "topic" else None
        topic = self.topic_links.get(list_page.topic_key) if list_page.topic_key else None
        return self._render("list.html", list_page.url, self._page(list_page.kind, list_page.url, title, feed_url=feed),
                            heading=heading, articles=[self.views[s] for s in list_page.article_slugs],
                            pagination=pagination, topic=topic)

    def render_topics(self) -> RenderedFile:
        return self._render("topics.html", "topics/", self._page("topics", "topics/", "الأقسام"),
                            topics=[{"key": t.key, "name": t.name, "url": t.url, "count": t.count}
                                    for t in self.model.topics])

    def render_archive(self) -> RenderedFile:
        years = []
        for year in self.model.years:
            months = [{"year": m.year, "month": m.month, "count": m.count, "url": m.url}
                      for m in self.model.months if m.year == year.year]
            years.append({"year": year.year, "count": year.count, "url": year.url, "months": months})
        undated = {"count": len(self.model.undated), "url": "archive/undated/"} if self.model.undated else None
        return self._render("archive.html", "archive/", self._page("archive", "archive/", "الأرشيف"),
                            years=years, undated=undated)

    def render_standing(self, standing: StandingPage) -> RenderedFile:
        return self._render("page.html", standing.url, self._page("page", standing.url, standing.title),
                            doc={"title": standing.title, "body_html": Markup(standing.body_html)})

    def render_not_found(self) -> RenderedFile:
        return self._render("404.html", "404.html", self._page("404", "404.html", "الصفحة غير موجودة"))
