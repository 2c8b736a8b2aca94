"""What a page says about itself to machines: schema.org JSON-LD, OpenGraph and Twitter cards.

`StructuredData.for_page(page, context)` gives three additions to a template's
`page`:

- `jsonld`: the text of a `<script type="application/ld+json">` block (already
  safe to put in HTML: `<`, `>` and `&` are written as `\\u003c`, `\\u003e`,
  `\\u0026`, so a headline holding `</script>` cannot end the script), or "";
- `meta`: `<meta>` tags as a list of `{"attr", "key", "content"}`
  (`attr` is `property` for OpenGraph, `name` for the rest);
- `feeds`: the page's feeds for `<link rel="alternate">` (`type`, `title`, `url`).

Every value comes from `site.toml` and the items themselves: nothing is invented
but the theme's logo, used when the site names none.
"""

from __future__ import annotations

import json
import re
from typing import Any, Callable

from markupsafe import Markup

from .arabic import format_number
from .config import SiteConfig
from .feeds import absolute, feed_links
from .model import SiteModel
from .render import ArticleView, TemplateDict

DEFAULT_LOGO = "assets/logo.svg"
OG_LOCALE = "ar_AR"
# OpenGraph and Twitter cards cannot show SVG; such an image is left out of them.
_RASTER = re.compile(r"\.(png|jpe?g|gif|webp|avif)(\?.*)?$", re.I)

HOME = "الرئيسية"
TOPICS = "الأقسام"
ARCHIVE = "الأرشيف"

_JSON_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}


def json_for_html(data: Any) -> Markup:
    """JSON text safe inside a `<script>` element: no `<`, `>` or `&` left unescaped."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    # One `replace` per character is many times faster than a regular expression with a
    # callback, and no replacement holds a character replaced after it.
    for char, escaped in _JSON_ESCAPES.items():
        if char in text:
            text = text.replace(char, escaped)
    return Markup(text)


def _iso(value) -> str:
    return value.isoformat()


def _tag(attr: str, key: str, content: str) -> TemplateDict:
    return TemplateDict(attr=attr, key=key, content=content)


def _get(obj: Any, name: str, default: Any = None) -> Any:
    """A field of a template object, whether a dict or an object with attributes."""
    if isinstance(obj, dict):
        return obj.get(name, default)
    return getattr(obj, name, default)


class _Fields:
    """Attribute access to a template object that may be a dict; absent fields read as None."""

    def __init__(self, obj: Any):
        self._obj = obj

    def __getattr__(self, name: str) -> Any:
        return _get(self._obj, name)


class StructuredData:
    """Builds the machine-readable description of every page of one site."""

    def __init__(self, model: SiteModel, config: SiteConfig, iso: Callable[[Any], str] = _iso):
        self.model = model
        self.config = config
        self.base = config.base_url
        self.logo = absolute(config.logo or DEFAULT_LOGO, config)
        self.publisher_name = config.publisher or config.title
        self.site_feeds = feed_links(config, "", config.title)
        self.iso = iso  # a build passes one that remembers each date's text: pages share dates
        # The same for every page of the site: made once, shared by all pages.
        self._publisher = self.publisher()
        self._site_feed_dicts = [self._feed(f) for f in self.site_feeds]
        self._site_tags = [_tag("property", "og:site_name", config.title), _tag("property", "og:locale", OG_LOCALE)]
        self._handlers = {
            "home": self._home,
            "article": self._article,
            "topic": self._list,
            "archive-year": self._list,
            "archive-month": self._list,
            "undated": self._list,
            "topics": self._index,
            "archive": self._index,
            "page": self._standing,
        }

    # -- shared pieces ------------------------------------------------------------

    @property
    def publisher_id(self) -> str:
        return self.base + "#publisher"

    @property
    def website_id(self) -> str:
        return self.base + "#website"

    def publisher(self) -> dict:
        return {"@type": "Organization", "@id": self.publisher_id, "name": self.publisher_name, "url": self.base,
                "logo": {"@type": "ImageObject", "url": self.logo}}

    def website(self) -> dict:
        site = {"@type": "WebSite", "@id": self.website_id, "url": self.base, "name": self.config.title,
                "inLanguage": "ar", "publisher": {"@id": self.publisher_id}}
        if self.config.description:
            site["description"] = self.config.description
        return site

    def breadcrumbs(self, canonical: str, trail: list[tuple[str, str]]) -> dict:
        """A BreadcrumbList from the home page down to this page; `trail` is (name, site-relative URL)."""
        items = [{"@type": "ListItem", "position": i, "name": name, "item": absolute(url, self.config)}
                 for i, (name, url) in enumerate([(HOME, "")] + trail, start=1)]
        return {"@type": "BreadcrumbList", "@id": canonical + "#breadcrumb", "itemListElement": items}

    def share_image(self, image: str = "") -> str:
        """The image for OpenGraph and Twitter: the item's own, else a raster logo, else none."""
        if image:
            return absolute(image, self.config)
        return self.logo if _RASTER.search(self.logo) else ""

    def _meta(self, page: dict, *, og_type: str = "website", title: str | None = None, image: str = "",
              image_alt: str = "") -> list[dict]:
        description = page.get("description") or self.config.description
        title = title or page.get("title") or self.config.title
        tags = [_tag("property", "og:type", og_type), *self._site_tags, _tag("property", "og:title", title)]
        if page.get("canonical"):
            tags.append(_tag("property", "og:url", page["canonical"]))
        if description:
            tags.append(_tag("property", "og:description", description))
        if image:
            tags.append(_tag("property", "og:image", image))
            if image_alt:
                tags.append(_tag("property", "og:image:alt", image_alt))
        tags += [_tag("name", "twitter:card", "summary_large_image" if image else "summary"),
                 _tag("name", "twitter:title", title)]
        if description:
            tags.append(_tag("name", "twitter:description", description))
        if image:
            tags.append(_tag("name", "twitter:image", image))
            if image_alt:
                tags.append(_tag("name", "twitter:image:alt", image_alt))
        return tags

    @staticmethod
    def _feed(link) -> TemplateDict:
        return TemplateDict(type=link.type, title=link.title, url=link.url)

    def _feeds(self, extra: list | None = None) -> list[dict]:
        return self._site_feed_dicts + [self._feed(f) for f in extra or ()]

    # -- pages ----------------------------------------------------------------------

    def for_page(self, page: dict, context: dict) -> dict:
        """`jsonld`, `meta` and `feeds` for one page, from its `page` dict and template context."""
        kind = page.get("kind", "")
        handler = self._handlers.get(kind)
        if kind == "404":
            return {"jsonld": "", "feeds": self._feeds(), "meta": [_tag("name", "robots", "noindex")]}
        if handler is None:  # a page kind this module does not know: the basics only
            return {"jsonld": "", "meta": self._meta(page), "feeds": self._feeds()}
        graph, meta, feeds = handler(page, context)
        return {"jsonld": json_for_html({"@context": "https://schema.org", "@graph": graph}), "meta": meta,
                "feeds": feeds}

    def _home(self, page: dict, context: dict):
        image = self.share_image()
        return [self.website(), self._publisher], self._meta(page, image=image), self._feeds()

    def _article(self, page: dict, context: dict):
        view = context["article"]
        # A view has every field; anything else (a dict) is read through `_Fields`.
        article = view if isinstance(view, ArticleView) else _Fields(view)
        iso = self.iso
        canonical = page["canonical"]
        item: dict = {
            "@type": "NewsArticle",
            "@id": canonical + "#article",
            "headline": article.title,
            "url": canonical,
            "mainEntityOfPage": {"@type": "WebPage", "@id": canonical},
            "inLanguage": "ar",
        }
        if article.summary:
            item["description"] = article.summary
        if article.date:
            item["datePublished"] = iso(article.date)
        if article.updated or article.date:
            item["dateModified"] = iso(article.updated or article.date)
        if article.author:
            item["author"] = [{"@type": "Person", "name": article.author}]
        else:
            item["author"] = [{"@type": "Organization", "name": self.publisher_name, "url": self.base}]
        item["publisher"] = self._publisher
        image = {"@type": "ImageObject", "url": absolute(article.image, self.config) if article.image else self.logo}
        if article.image and article.image_alt:
            image["caption"] = article.image_alt
        item["image"] = [image]
        sections = [_get(t, "name") for t in article.topics or ()]
        if sections:
            item["articleSection"] = sections[0] if len(sections) == 1 else sections
        if article.location:
            item["dateline"] = article.location
        if article.source_url:
            item["isBasedOn"] = article.source_url
        if article.word_count:
            item["wordCount"] = article.word_count
        item["isPartOf"] = {"@id": self.website_id}
        trail = [(_get(article.topics[0], "name"), _get(article.topics[0], "url"))] if article.topics else []
        item["breadcrumb"] = {"@id": canonical + "#breadcrumb"}
        graph = [item, self.breadcrumbs(canonical, trail + [(article.title, article.url)])]

        meta = self._meta(page, og_type="article", title=article.title, image=self.share_image(article.image),
                          image_alt=article.image_alt if article.image else "")
        if article.date:
            meta.append(_tag("property", "article:published_time", iso(article.date)))
        if article.updated or article.date:
            meta.append(_tag("property", "article:modified_time", iso(article.updated or article.date)))
        if sections:
            meta.append(_tag("property", "article:section", sections[0]))
        for name in sections:
            meta.append(_tag("property", "article:tag", name))
        return graph, meta, self._feeds()

    def _list(self, page: dict, context: dict):
        canonical = page["canonical"]
        kind = page["kind"]
        heading = context.get("heading") or page["title"]
        pagination = context.get("pagination")
        topic = context.get("topic")
        if kind == "topic":
            first = _get(topic, "url") if topic else page["url"]
            trail = [(TOPICS, "topics/"), (heading, first)]
        else:
            trail = [(ARCHIVE, "archive/")]
            match = re.match(r"^archive/(\d{4})/\d{2}/", page["url"])
            if kind == "archive-month" and match:
                year = int(match.group(1))
                trail.append((f"أرشيف {format_number(year, self.config.digits)}", f"archive/{year:04d}/"))
            first = pagination.base_url if pagination else page["url"]
            trail.append((heading, first))
        if pagination is not None and not pagination.newest:
            trail.append((f"الصفحة {format_number(pagination.current, self.config.digits)}", page["url"]))
        articles = context.get("articles") or []
        # Positions count from the list's oldest item, as its pages are numbered: a page's
        # positions stay the same as newer items are added.
        first_position = ((pagination.current - 1) * self.config.per_page if pagination else 0) + len(articles)
        collection = {
            "@type": "CollectionPage",
            "@id": canonical,
            "url": canonical,
            "name": page["title"],
            "inLanguage": "ar",
            "isPartOf": {"@id": self.website_id},
            "breadcrumb": {"@id": canonical + "#breadcrumb"},
        }
        if kind == "topic" and topic is not None:
            collection["about"] = {"@type": "Thing", "name": _get(topic, "name")}
        if articles:
            collection["mainEntity"] = {
                "@type": "ItemList",
                "itemListOrder": "https://schema.org/ItemListOrderDescending",
                "itemListElement": [{"@type": "ListItem", "position": first_position + 1 - i,
                                     "url": absolute(_get(a, "url"), self.config), "name": _get(a, "title")}
                                    for i, a in enumerate(articles, start=1)],
            }
        graph = [collection, self.breadcrumbs(canonical, trail)]
        extra = []
        if kind == "topic" and topic is not None:
            extra = feed_links(self.config, _get(topic, "url"), f"{_get(topic, 'name')} — {self.config.title}")
        return graph, self._meta(page, image=self.share_image()), self._feeds(extra)

    def _index(self, page: dict, context: dict):
        canonical = page["canonical"]
        name = TOPICS if page["kind"] == "topics" else ARCHIVE
        collection = {"@type": "CollectionPage", "@id": canonical, "url": canonical, "name": page["title"],
                      "inLanguage": "ar", "isPartOf": {"@id": self.website_id},
                      "breadcrumb": {"@id": canonical + "#breadcrumb"}}
        if page["kind"] == "topics" and context.get("topics"):
            collection["hasPart"] = [{"@type": "CollectionPage", "name": _get(t, "name"),
                                      "url": absolute(_get(t, "url"), self.config)} for t in context["topics"]]
        graph = [collection, self.breadcrumbs(canonical, [(name, page["url"])])]
        return graph, self._meta(page, image=self.share_image()), self._feeds()

    def _standing(self, page: dict, context: dict):
        canonical = page["canonical"]
        doc = context.get("doc") or {}
        title = doc.get("title") or page["title"]
        webpage = {"@type": "WebPage", "@id": canonical, "url": canonical, "name": title, "inLanguage": "ar",
                   "isPartOf": {"@id": self.website_id}, "breadcrumb": {"@id": canonical + "#breadcrumb"}}
        graph = [webpage, self.breadcrumbs(canonical, [(title, page["url"])])]
        return graph, self._meta(page, title=title, image=self.share_image()), self._feeds()
