"""`newsgen init` (a new site that builds at once) and `newsgen new` (one new item)."""

from __future__ import annotations

import argparse
import json
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .config import SiteConfig, load_config
from .errors import BuildFailed, NewsgenError
from .filing import resolve_topic_name
from .slugs import make_slug, slug_from_path

DEFAULT_TITLE = "أرشيف الأخبار"
DEFAULT_TIMEZONE = "Asia/Damascus"

SITE_TOML = """\
# newsgen site configuration. Every key is optional except [site].title;
# `newsgen build --help` and the documentation describe each one.

[site]
title = @TITLE@
description = @DESCRIPTION@
base_url = @BASE_URL@
publisher = @PUBLISHER@
timezone = @TIMEZONE@
# Month names: "levantine" (كانون الثاني), "egyptian" (يناير) or "maghrebi" (جانفي).
months = "levantine"
# Digits: "western" (0-9) or "arabic-indic" (٠-٩).
digits = "arabic-indic"

[content]
# News items: every .md and .txt file below these folders.
items = ["seeds/content"]
# Standing pages (about, editorial policy), in Markdown.
pages = "content"
# Copy a template of the default theme here, under the same name, to change it.
templates = "templates"

[build]
output = "public"
# Items on a list page. Pages are numbered from the oldest; a list's own page shows the newest,
# from per_page up to twice that less one.
per_page = 10
home_items = 12
# Slugs: "arabic" (readable Arabic), "latin" (transliterated) or "id" (from the file name).
slugs = "arabic"

[filing]
# Items without `topics` are filed by keyword; an item that matches none goes here.
fallback = "general"
max_topics = 3

@TOPICS@
"""

TOPICS = """\
[[topic]]
key = "politics"
name = "سياسة"
keywords = ["سياسة", "سياسي", "سياسية", "حكومة", "وزير", "وزارة الخارجية", "رئيس الوزراء",
            "برلمان", "انتخابات", "دبلوماسي", "دبلوماسية", "سفير", "مفاوضات", "حزب", "قمة",
            "العلاقات", "زيارة رسمية", "وفد رسمي", "اتفاقية", "رئاسة"]

[[topic]]
key = "defense"
name = "دفاع"
keywords = ["دفاع", "الدفاعية", "دفاعي", "عسكري", "عسكرية", "الجيش", "القوات المسلحة",
            "الأركان", "الأسلحة", "سلاح", "تسليح", "مناورات", "الأمن الوطني", "الاستخبارات"]

[[topic]]
key = "economy"
name = "اقتصاد"
keywords = ["اقتصاد", "اقتصادي", "اقتصادية", "البنك المركزي", "التضخم", "الأسعار", "البورصة",
            "الأسهم", "النفط", "الاستثمار", "استثمارات", "الميزانية", "الصادرات", "الواردات",
            "الناتج المحلي", "العملة", "الدولار", "الشركات", "التجارة", "الضرائب", "مصرف"]

[[topic]]
key = "sport"
name = "رياضة"
keywords = ["رياضة", "رياضي", "مباراة", "الدوري", "منتخب", "بطولة", "كرة القدم", "لاعب",
            "لاعبين", "المدرب", "الأولمبية", "الفريق", "كأس", "ملعب", "الاتحاد الرياضي", "سباق"]

[[topic]]
key = "culture"
name = "ثقافة"
keywords = ["ثقافة", "ثقافي", "ثقافية", "مهرجان", "معرض الكتاب", "رواية", "فيلم", "السينما",
            "مسرح", "مسرحية", "فنان", "الشعر", "شاعر", "موسيقى", "التراث", "متحف", "كتاب"]

[[topic]]
key = "technology"
name = "تكنولوجيا"
keywords = ["تكنولوجيا", "تقنية", "التقنية", "الإنترنت", "هاتف", "الهواتف", "تطبيق", "تطبيقات",
            "الذكاء الاصطناعي", "البرمجيات", "الحاسوب", "رقمية", "الرقمي", "قمر صناعي",
            "الاتصالات", "البيانات", "شبكة"]

[[topic]]
key = "health"
name = "صحة"
keywords = ["صحة", "الصحة", "صحي", "صحية", "مستشفى", "طبيب", "الأطباء", "لقاح", "مرض", "وباء",
            "علاج", "المرضى", "دواء", "الأدوية", "عيادة"]

[[topic]]
key = "middle-east"
name = "الشرق الأوسط"
keywords = ["الشرق الأوسط", "سوريا", "العراق", "لبنان", "الأردن", "فلسطين", "مصر", "السعودية",
            "الخليج", "اليمن", "ليبيا", "الإمارات", "قطر", "الكويت"]

[[topic]]
key = "world"
name = "العالم"
keywords = ["الأمم المتحدة", "الاتحاد الأوروبي", "أوروبا", "الولايات المتحدة", "واشنطن",
            "الصين", "بكين", "أفريقيا", "آسيا", "أمريكا اللاتينية", "دولي", "دولية"]

[[topic]]
key = "general"
name = "منوعات"
keywords = []
"""

SAMPLE_ITEM = """\
---
title: افتتاح الدورة الأولى من معرض نجيمة للكتاب بمشاركة مئة دار نشر
date: @DATE@
topics: [ثقافة]
author: فريق التحرير
source: عينة
location: نجيمة
---

افتتحت مدينة نجيمة صباح اليوم الدورة الأولى من معرضها للكتاب، بمشاركة مئة دار نشر من داخل البلاد وخارجها، وبرنامج ثقافي يمتد عشرة أيام.

## ندوات وأمسيات

يضم البرنامج ندوات عن النشر الرقمي وأمسيات شعرية ولقاءات مع روائيين شبان، إضافة إلى جناح خاص بكتب الأطفال.

> هذه مادة متخيلة للتجربة، مصدرها «عينة». عدّلها أو احذفها، ثم أضف أخبارك في المجلد `seeds/content/`.
"""

ABOUT_PAGE = """\
---
title: عن الموقع
slug: about
---

«@TITLE_TEXT@» أرشيف أخبار يُبنى بأداة newsgen من ملفات نصية، ولا يحتاج إلى قاعدة بيانات ولا إلى خادم خاص.

## كيف تُضاف الأخبار؟

كل ملف بصيغة Markdown (`.md`) أو نص عادي (`.txt`) في المجلد `seeds/content/` خبر واحد. الأمر `newsgen new "العنوان"` ينشئ ملفًا جديدًا فيه، والأمر `newsgen import` يستورد أرشيفًا قائمًا من ووردبريس أو من ملف CSV أو JSON Lines.

## كيف يُبنى الموقع؟

الأمر `newsgen build` يكتب الموقع كله في المجلد `public/`. عدّل هذه الصفحة في `content/about.md`.
"""

GITIGNORE = "/public/\n/.newsgen-cache/\n"


def toml_string(text: str) -> str:
    """A TOML basic string: JSON's escapes are TOML's too."""
    return json.dumps(text, ensure_ascii=False)


def site_toml(title: str, base_url: str, timezone: str, description: str = "") -> str:
    return (SITE_TOML
            .replace("@TITLE@", toml_string(title))
            .replace("@DESCRIPTION@", toml_string(description))
            .replace("@BASE_URL@", toml_string(base_url))
            .replace("@PUBLISHER@", toml_string(title))
            .replace("@TIMEZONE@", toml_string(timezone))
            .replace("@TOPICS@", TOPICS.rstrip("\n")))


def add_parser(subparsers, add_site_options) -> None:
    init = subparsers.add_parser(
        "init", help="start a new site in a folder",
        description="Start a new site in DIR: site.toml with the Arabic topic set, one sample item "
                    "in seeds/content/ and an about page in content/. `newsgen build` works in it at once; "
                    "the templates stay in newsgen until you copy one into templates/ to change it.")
    init.add_argument("directory", metavar="DIR", nargs="?", default=".",
                      help="the new site's folder (default: the current folder)")
    init.add_argument("--title", default=DEFAULT_TITLE, help=f"the site's title (default: {DEFAULT_TITLE})")
    init.add_argument("--base-url", default="/", metavar="URL",
                      help="the address the site is published at, e.g. https://example.org/archive/ (default: /)")
    init.add_argument("--timezone", default=DEFAULT_TIMEZONE, metavar="ZONE",
                      help=f"the newsroom's time zone (default: {DEFAULT_TIMEZONE})")
    init.add_argument("--description", default="", help="one sentence about the site")
    init.add_argument("--force", action="store_true",
                      help="write into a folder that is not empty (newsgen's own files there are replaced)")
    init.add_argument("--quiet", "-q", action="store_true", help="print nothing but errors")
    init.set_defaults(handler=run_init)

    new = subparsers.add_parser(
        "new", help="write a new item with its front matter filled in",
        description="Write a new news item into the site's first items folder, dated now in the site's "
                    "time zone, and print its path. An existing file is never overwritten.")
    new.add_argument("title", metavar="TITLE", help="the headline")
    new.add_argument("--topic", action="append", default=[], metavar="TOPIC",
                     help="a topic key or name from site.toml; repeat for more than one")
    new.add_argument("--breaking", action="store_true", help="mark it as breaking news (عاجل)")
    new.add_argument("--draft", action="store_true", help="mark it as a draft (not published)")
    new.add_argument("--format", choices=("md", "txt"), default="md", help="Markdown or plain text (default: md)")
    new.add_argument("--config", default="site.toml", metavar="PATH",
                     help="the site configuration (default: site.toml)")
    new.add_argument("--quiet", "-q", action="store_true", help="print nothing but errors and the path")
    new.set_defaults(handler=run_new)


def load_site_config(path: str, console) -> SiteConfig | None:
    """The site's configuration; its problems printed (`path:line: message`) and None when it is wrong."""
    try:
        return load_config(path)
    except BuildFailed as exc:
        for problem in exc.problems:
            if problem.severity == "error":
                console.error(str(problem))
        return None


# -- init ---------------------------------------------------------------------------

def run_init(args: argparse.Namespace, console) -> int:
    root = Path(args.directory)
    shown = args.directory
    try:
        ZoneInfo(args.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise NewsgenError(f"--timezone {args.timezone!r} is not a known time zone; "
                           "use a name such as Asia/Damascus, Africa/Cairo or UTC") from None
    if not args.title.strip():
        raise NewsgenError("--title must not be empty")
    if root.exists() and not root.is_dir():
        raise NewsgenError("exists and is not a folder; choose another DIR", shown)
    if root.is_dir() and any(root.iterdir()) and not args.force:
        raise NewsgenError("the folder is not empty; choose a new folder, or pass --force to write "
                           "newsgen's files into it (files of the same name are replaced)", shown)
    written = init_site(root, title=args.title.strip(), base_url=args.base_url, timezone=args.timezone,
                        description=args.description.strip())
    console.info(f"created a new site in {shown}: " + ", ".join(str(p.relative_to(root)) for p in written))
    where = "" if root.resolve() == Path.cwd().resolve() else f"cd {shown} && "
    console.info(f"next: {where}newsgen build   (then add items with `newsgen new` or `newsgen import`)")
    return 0


def init_site(root: Path, *, title: str = DEFAULT_TITLE, base_url: str = "/",
              timezone: str = DEFAULT_TIMEZONE, description: str = "") -> list[Path]:
    """Write a new site's files into `root`; return them in the order written."""
    if not base_url.strip():
        base_url = "/"
    now = datetime.now(ZoneInfo(timezone)).replace(microsecond=0)
    files = {
        "site.toml": site_toml(title, base_url.strip(), timezone, description),
        "seeds/content/sample-book-fair.md": SAMPLE_ITEM.replace("@DATE@", now.isoformat()),
        "content/about.md": ABOUT_PAGE.replace("@TITLE_TEXT@", title.replace("»", "").replace("«", "")),
        ".gitignore": GITIGNORE,
    }
    written = []
    for relative, text in files.items():
        path = root / relative
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise NewsgenError(f"cannot write the file: {exc.strerror}", path) from None
        written.append(path)
    (root / "templates").mkdir(exist_ok=True)
    return written


# -- new ----------------------------------------------------------------------------

def run_new(args: argparse.Namespace, console) -> int:
    config = load_site_config(args.config, console)
    if config is None:
        return 1
    title = " ".join(args.title.split())
    if not title:
        raise NewsgenError("the title is empty; write the headline in quotes: newsgen new \"العنوان\"")
    topics = []
    for value in args.topic:
        value = value.strip()
        if not value:
            continue
        topic = resolve_topic_name(value, config.topics)
        if topic is None:
            console.info(f"note: topic «{value}» is not declared in {args.config}; "
                         "the build will give it its own page and a warning")
        name = topic.name if topic is not None else value
        if name not in topics:
            topics.append(name)
    path = new_item(config, title, topics=topics, breaking=args.breaking, draft=args.draft,
                    file_format=args.format)
    print(_shown(path))
    return 0


def new_item(config: SiteConfig, title: str, *, topics: list[str] | tuple[str, ...] = (),
             breaking: bool = False, draft: bool = False, file_format: str = "md",
             now: datetime | None = None) -> Path:
    """Write a new item into the first items folder; never over an existing file."""
    from .importers.writer import front_matter

    if not config.item_dirs:
        raise NewsgenError("site.toml names no items folder; add items = [\"seeds/content\"] under [content]",
                           config.path)
    now = (now or datetime.now(config.tz)).astimezone(config.tz).replace(microsecond=0)
    stem = make_slug(title, "latin")[:60].rstrip("-") or make_slug(title, "arabic")[:60].rstrip("-") or "item"
    folder = config.item_dirs[0] / f"{now.year:04d}"
    base = f"{now.date().isoformat()}-{stem}"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise NewsgenError(f"cannot create the folder: {exc.strerror}", folder) from None
    number = 1
    while True:
        name = base if number == 1 else f"{base}-{number}"
        path = folder / f"{name}.{file_format}"
        slug = _slug(config, title, path, number)
        text = _item_text(title, now, slug, topics, breaking, draft, file_format, front_matter)
        # Another item of the same name in the other format would share the slug too.
        if any((folder / f"{name}.{suffix}").exists() for suffix in ("md", "txt")):
            number += 1
            continue
        try:
            with open(path, "x", encoding="utf-8") as handle:
                handle.write(text)
            return path
        except FileExistsError:
            number += 1
        except OSError as exc:
            raise NewsgenError(f"cannot write the file: {exc.strerror}", path) from None


def _slug(config: SiteConfig, title: str, path: Path, number: int) -> str:
    if config.slugs == "id":
        return slug_from_path(path.name)
    slug = make_slug(title, config.slugs) or slug_from_path(path.name)
    return slug if number == 1 else f"{slug}-{number}"


def _item_text(title, now, slug, topics, breaking, draft, file_format, front_matter) -> str:
    meta: dict = {} if file_format == "txt" else {"title": title}
    meta["date"] = now
    if topics:
        meta["topics"] = list(topics)
    meta["slug"] = slug
    if breaking:
        meta["breaking"] = True
    if draft:
        meta["draft"] = True
    placeholder = "اكتب نص الخبر هنا: من، ماذا، أين، متى."
    if file_format == "txt":
        return f"{front_matter(meta)}\n{title}\n\n{placeholder}\n"
    return f"{front_matter(meta)}\n{placeholder}\n"


def _shown(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)
