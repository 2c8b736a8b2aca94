"""`newsgen import`: JSON Lines, CSV and WordPress exports into item files that build.

Each round trip imports a fixture into a site made by `newsgen init`, builds it and
reads the built pages back: the titles, dates and topics must be the source's.
"""

from __future__ import annotations

import json
import os
import re
import time
from datetime import date, datetime, timezone
from email.utils import parsedate_to_datetime
from html import unescape
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml
from bs4 import BeautifulSoup

from newsgen.cli import main
from newsgen.importers.htmlmd import html_to_markdown
from newsgen.importers.values import BadValue, parse_date, plain_to_markdown
from newsgen.loaders.markdown import render_markdown

REPO = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "import"
ZONE = ZoneInfo("Asia/Damascus")  # the zone `newsgen init` writes
CORPUS_TOPICS = ["--map-topic", "internationalNews=world", "--map-topic", "middleEast=middle-east"]


def run(*argv) -> int:
    return main([str(a) for a in argv])


@pytest.fixture
def site(tmp_path: Path) -> Path:
    root = tmp_path / "site"
    assert run("init", root, "-q") == 0
    for sample in (root / "seeds" / "content").rglob("*.md"):
        sample.unlink()
    return root


def import_(site: Path, fmt: str, source: Path, *extra) -> int:
    return run("import", fmt, source, "--config", site / "site.toml", *extra)


def build(site: Path, *extra) -> None:
    assert run("build", "--config", site / "site.toml", "-q", *extra) == 0


def items(site: Path) -> dict[Path, bytes]:
    return {p: p.read_bytes() for p in sorted((site / "seeds" / "content").rglob("*")) if p.is_file()}


def front_matter(path: Path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8").split("---\n", 2)[1])


def built_articles(site: Path) -> dict[str, dict]:
    """title -> what the built article page shows."""
    found = {}
    for page in sorted((site / "public" / "articles").glob("*/index.html")):
        soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
        title = soup.select_one("h1.article-title").get_text(strip=True)
        time_tag = soup.select_one(".meta-date time")
        found[title] = {
            "date": datetime.fromisoformat(time_tag["datetime"]) if time_tag else None,
            "topics": [a.get_text(strip=True) for a in soup.select(".meta-topics a")],
            "soup": soup,
            "slug": page.parent.name,
        }
    return found


def same_date(shown: datetime | None, source) -> bool:
    """The built page's date is the source's: the same day for a date, the same instant for a time."""
    if source is None:
        return shown is None
    if isinstance(source, date) and not isinstance(source, datetime):
        return shown is not None and shown.date() == source
    return shown is not None and shown == source


# -- JSON Lines ------------------------------------------------------------------

def _source_date(text: str | None):
    """The fixture's dates, read without newsgen's code."""
    if text is None:
        return None
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        return date.fromisoformat(text)
    if text[0].isalpha():
        return parsedate_to_datetime(text)
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=ZONE)


JSONL_TOPICS = {
    "najima-0001": ["ثقافة"],
    "najima-0002": ["اقتصاد", "تكنولوجيا"],
    "najima-0003": ["العالم"],
    "najima-0004": ["رياضة", "صحة"],
    "najima-0005": ["الشرق الأوسط"],
    "najima-0006": ["العالم"],
    "najima-0007": ["science"],
}


def test_jsonl_round_trip(site: Path, capsys):
    assert import_(site, "jsonl", FIXTURES / "items.jsonl", *CORPUS_TOPICS) == 0
    assert "7 new" in capsys.readouterr().out
    build(site)
    built = built_articles(site)
    rows = [json.loads(line) for line in (FIXTURES / "items.jsonl").read_text(encoding="utf-8").splitlines()]
    assert sorted(built) == sorted(row["title"] for row in rows)
    for row in rows:
        page = built[row["title"]]
        assert same_date(page["date"], _source_date(row.get("date"))), row["id"]
        assert page["topics"] == JSONL_TOPICS[row["id"]], row["id"]

    first = built["افتتاح مهرجان نجيمة للسينما بمشاركة ثلاثين فيلمًا"]["soup"]
    assert first.select_one(".meta-author bdi").get_text() == "ليلى الحداد"
    assert first.select_one(".meta-source a")["href"] == "https://najima.example.org/news/1"
    assert first.select_one(".article-summary").get_text() == "ثلاثون فيلمًا في الدورة الأولى."
    assert first.select_one(".article-image img")["src"] == "https://najima.example.org/img/1.jpg"
    assert [p.get_text() for p in first.select(".article-body p")] == [
        "افتتح مهرجان نجيمة للسينما دورته الأولى مساء أمس.", "ويعرض المهرجان ثلاثين فيلمًا من عشر دول."]
    # Plain text stays plain: Markdown characters in it are not markup.
    escaped = built["شركة ناشئة تطلق تطبيقًا للدفع الرقمي"]["soup"].select_one(".article-body")
    assert [p.get_text() for p in escaped.select("p")] == [
        "- ليس بندًا في قائمة", "1. ليس قائمة مرقمة", "# ليس عنوانًا",
        "*نجمة* و_شرطة_ و<b>ليس وسمًا</b> و[قوس](x) و&amp; كما هي."]
    assert built["عاجل: \"زلزال\" بقوة 5 درجات يضرب الساحل"]["soup"].select_one(".badge-large")


def test_jsonl_files_follow_the_content_contract(site: Path):
    assert import_(site, "jsonl", FIXTURES / "items.jsonl", *CORPUS_TOPICS, "-q") == 0
    written = items(site)
    assert len(written) == 7
    for path, data in written.items():
        text = data.decode("utf-8")
        assert path.suffix == ".md"
        assert text.startswith("---\ntitle: ")
        meta = front_matter(path)
        assert set(meta) <= {"title", "date", "updated", "topics", "slug", "summary", "author", "source",
                             "source_url", "location", "image", "image_alt", "breaking", "draft"}
    undated = site / "seeds" / "content" / "undated" / "najima-0005.md"
    assert "date" not in front_matter(undated)
    first = site / "seeds" / "content" / "2024" / "2024-03-02-najima-0001.md"
    text = first.read_text(encoding="utf-8")
    assert "title: افتتاح مهرجان نجيمة للسينما بمشاركة ثلاثين فيلمًا\n" in text  # readable, not \u escapes
    assert front_matter(first)["date"] == date(2024, 3, 2)
    # An offset in the source is kept as the same instant, written in the site's zone.
    second = front_matter(site / "seeds" / "content" / "2024" / "2024-06-10-najima-0002.md")
    assert second["date"] == datetime(2024, 6, 10, 13, 30, tzinfo=timezone.utc)
    assert second["date"].utcoffset() == ZONE.utcoffset(datetime(2024, 6, 10))


def test_jsonl_field_names(site: Path):
    source = FIXTURES / "custom-fields.jsonl"
    assert import_(site, "jsonl", source, "-q") == 1  # no title or text under the usual names
    assert not items(site)
    assert import_(site, "jsonl", source, "-q", "--field", "title=headline_ar", "--field", "text=article_body",
                   "--field", "date=published_on", "--field", "topics=section", "--field", "author=writer") == 0
    build(site)
    built = built_articles(site)
    assert built["وزارة الصحة تطلق حملة تطعيم"]["topics"] == ["صحة"]
    assert built["المصرف المركزي يرفع الفائدة"]["date"] == datetime(2024, 2, 2, 5, 0, tzinfo=timezone.utc)
    assert "سلمى" in built["المصرف المركزي يرفع الفائدة"]["soup"].select_one(".meta-author").get_text()


def test_unknown_field_name_is_a_usage_error(site: Path, capsys):
    assert import_(site, "jsonl", FIXTURES / "items.jsonl", "--field", "headline=title") == 1
    err = capsys.readouterr().err
    assert "--field" in err and "title" in err and "Traceback" not in err


def test_jsonl_bad_records(site: Path, capsys):
    source = FIXTURES / "bad.jsonl"
    assert import_(site, "jsonl", source) == 1
    err = capsys.readouterr().err
    shown = str(source)
    assert f"{shown}:2: missing title" in err
    assert f"{shown}:3: bad date '2024-13-45'" in err
    assert f"{shown}:4: invalid JSON" in err
    assert f"{shown}:5: not valid UTF-8" in err
    assert f"{shown}:6: expected one object" in err
    assert re.search(re.escape(f"{shown}:7: missing title") + r".*; missing text", err)
    assert f"{shown}:1:" not in err and f"{shown}:8:" not in err
    assert "skipped 6 records" in err and "--skip-bad" in err
    assert sorted(front_matter(p)["title"] for p in items(site)) == ["خبر سليم أخير", "خبر سليم أول"]

    assert import_(site, "jsonl", source, "--skip-bad") == 0
    assert "skipped 6 records" in capsys.readouterr().out


def test_jsonl_utf16_is_refused(site: Path, tmp_path: Path, capsys):
    source = tmp_path / "utf16.jsonl"
    source.write_bytes('{"title": "عنوان", "text": "نص"}\n'.encode("utf-16"))
    assert import_(site, "jsonl", source) == 1
    assert f"{source}:1: the file is UTF-16" in capsys.readouterr().err


# -- idempotence, collisions, dry run --------------------------------------------

def test_reimport_is_idempotent(site: Path, capsys):
    assert import_(site, "jsonl", FIXTURES / "items.jsonl", *CORPUS_TOPICS) == 0
    first = items(site)
    capsys.readouterr()
    assert import_(site, "jsonl", FIXTURES / "items.jsonl", *CORPUS_TOPICS) == 0
    assert "(0 new, 7 unchanged)" in capsys.readouterr().out
    assert items(site) == first


def test_same_title_same_day_gets_two_files_and_two_slugs(site: Path, tmp_path: Path):
    source = tmp_path / "twins.jsonl"
    rows = [{"title": "عنوان مكرر", "date": "2024-05-01", "text": f"النص رقم {n}."} for n in (1, 2)]
    source.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    assert import_(site, "jsonl", source, "-q") == 0
    first = items(site)
    assert len(first) == 2
    assert import_(site, "jsonl", source, "-q") == 0
    assert items(site) == first
    build(site)
    slugs = sorted(p.parent.name for p in (site / "public" / "articles").glob("*/index.html"))
    assert slugs == ["عنوان-مكرر", "عنوان-مكرر-2"]


def test_a_modification_before_the_publication_is_not_written_as_updated(site: Path, tmp_path: Path, capsys):
    source = tmp_path / "scheduled.jsonl"
    rows = [{"title": "خبر مجدول", "date": "2024-05-02T08:00:00+03:00", "modified": "2024-05-01T22:10:00+03:00",
             "text": "كتب مساء ونشر صباحا."},
            {"title": "خبر مصحح", "date": "2024-05-01", "modified": "2024-05-03T10:00:00+03:00", "text": "صحح بعد نشره."},
            {"title": "خبر بيوم واحد", "date": "2024-05-04T09:00:00+03:00", "modified": "2024-05-03",
             "text": "عدل قبل يوم نشره."}]
    source.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    assert import_(site, "jsonl", source, "-q") == 0
    meta = {m["title"]: m for m in map(front_matter, items(site))}
    assert "updated" not in meta["خبر مجدول"] and "updated" not in meta["خبر بيوم واحد"]
    assert str(meta["خبر مصحح"]["updated"]).startswith("2024-05-03")
    capsys.readouterr()
    build(site)
    assert "updated" not in capsys.readouterr().err  # no warning that `updated` is before `date`


def test_collision_is_reported_never_overwritten(site: Path, capsys):
    assert import_(site, "jsonl", FIXTURES / "items.jsonl", *CORPUS_TOPICS, "-q") == 0
    target = site / "seeds" / "content" / "2024" / "2024-03-02-najima-0001.md"
    edited = target.read_text(encoding="utf-8") + "\nتصحيح أضافه المحرر.\n"
    target.write_text(edited, encoding="utf-8")

    assert import_(site, "jsonl", FIXTURES / "items.jsonl", *CORPUS_TOPICS) == 1
    err = capsys.readouterr().err
    assert "2024-03-02-najima-0001.md: exists with other content; not overwritten" in err
    assert f"{FIXTURES / 'items.jsonl'}:1" in err
    assert "skipped 1 record (1 collision)" in err
    assert target.read_text(encoding="utf-8") == edited
    assert len(items(site)) == 7

    assert import_(site, "jsonl", FIXTURES / "items.jsonl", *CORPUS_TOPICS, "--skip-bad", "-q") == 0
    assert target.read_text(encoding="utf-8") == edited
    assert import_(site, "jsonl", FIXTURES / "items.jsonl", *CORPUS_TOPICS, "--overwrite", "-q") == 0
    assert "تصحيح" not in target.read_text(encoding="utf-8")


def test_dry_run_writes_nothing(site: Path, capsys):
    assert import_(site, "jsonl", FIXTURES / "items.jsonl", *CORPUS_TOPICS, "--dry-run") == 0
    assert "would import 7 items" in capsys.readouterr().out
    assert not items(site)


def test_into_folder(site: Path):
    into = site / "seeds" / "content" / "archive-2018"
    assert import_(site, "jsonl", FIXTURES / "items.jsonl", *CORPUS_TOPICS, "--into", into, "-q") == 0
    assert len([p for p in into.rglob("*.md")]) == 7
    build(site)
    assert len(built_articles(site)) == 7


def test_missing_source_file(site: Path, tmp_path: Path, capsys):
    assert import_(site, "jsonl", tmp_path / "nope.jsonl") == 1
    err = capsys.readouterr().err
    assert "nope.jsonl: no such file" in err and "Traceback" not in err


# -- CSV -------------------------------------------------------------------------

def test_csv_round_trip_semicolons_bom_and_multiline_fields(site: Path):
    assert import_(site, "csv", FIXTURES / "items.csv", "-q") == 0
    build(site)
    built = built_articles(site)
    assert sorted(built) == sorted(["افتتاح معرض الكتاب في نجيمة", "الحكومة تقر الموازنة العامة; بعد نقاش طويل",
                                    "نادي نجيمة يتصدر الدوري"])
    fair = built["افتتاح معرض الكتاب في نجيمة"]
    assert fair["date"] == datetime(2024, 4, 20, 7, 0, tzinfo=timezone.utc)
    assert fair["topics"] == ["ثقافة"]
    assert [p.get_text() for p in fair["soup"].select(".article-body p")] == [
        'افتتح معرض الكتاب أبوابه صباح اليوم؛ وفيه "مئة" دار نشر.', "ويستمر المعرض عشرة أيام."]
    budget = built["الحكومة تقر الموازنة العامة; بعد نقاش طويل"]
    assert budget["date"].date() == date(2024, 12, 30) and budget["topics"] == ["اقتصاد"]
    league = built["نادي نجيمة يتصدر الدوري"]
    assert league["date"] == datetime(2025, 1, 5, 19, 45, tzinfo=ZONE)
    assert league["topics"] == ["رياضة"]


def test_csv_round_trip_tabs_without_bom(site: Path):
    assert import_(site, "csv", FIXTURES / "items.tsv", "-q") == 0
    build(site)
    built = built_articles(site)
    assert built["إطلاق قمر صناعي للاتصالات"]["topics"] == ["تكنولوجيا"]
    assert built["إطلاق قمر صناعي للاتصالات"]["date"].date() == date(2023, 8, 21)
    assert built["مستشفى جديد للأطفال"]["topics"] == ["صحة", "الشرق الأوسط"]


def test_csv_bad_records(site: Path, capsys):
    source = FIXTURES / "bad.csv"
    assert import_(site, "csv", source) == 1
    err = capsys.readouterr().err
    shown = str(source)
    assert f"{shown}:3: missing title" in err
    assert f"{shown}:4: bad date '31/02/2024'" in err
    assert f"{shown}:5: not valid UTF-8" in err
    assert f"{shown}:6: the row has 4 columns but the header has 3" in err
    assert "skipped 4 records" in err
    written = {front_matter(p)["title"]: p for p in items(site)}
    assert sorted(written) == ["خبر سليم أخير", "خبر سليم أول"]
    assert "نص سليم\nعلى سطرين." in written["خبر سليم أخير"].read_text(encoding="utf-8")
    assert import_(site, "csv", source, "--skip-bad", "-q") == 0


def test_csv_without_a_title_column(site: Path, tmp_path: Path, capsys):
    source = tmp_path / "no-title.csv"
    source.write_text("onwan,text\nعنوان,نص\n", encoding="utf-8")
    assert import_(site, "csv", source) == 1
    err = capsys.readouterr().err
    assert f"{source}:1: no title column" in err and "onwan" in err and "--field title=COLUMN" in err
    assert not items(site)
    assert import_(site, "csv", source, "--field", "title=onwan", "-q") == 0
    assert [front_matter(p)["title"] for p in items(site)] == ["عنوان"]


def test_csv_date_format(site: Path, tmp_path: Path):
    source = tmp_path / "dates.csv"
    source.write_text("title,date,text\nخبر بتاريخ عربي,٢٥/١٢/٢٠٢٣,نص الخبر.\n", encoding="utf-8")
    assert import_(site, "csv", source, "-q") == 1
    assert import_(site, "csv", source, "--date-format", "%d/%m/%Y", "-q") == 0
    build(site)
    assert built_articles(site)["خبر بتاريخ عربي"]["date"].date() == date(2023, 12, 25)


# -- WordPress -------------------------------------------------------------------

WXR_POSTS = {
    # title -> (post_date_gmt, topics shown)
    "البرلمان يقر قانون الانتخابات البلدية الجديد": ("2024-05-14 06:30:00", ["سياسة", "انتخابات"]),
    "البنك المركزي يبقي أسعار الفائدة دون تغيير – للمرة الثالثة": ("2024-11-03 21:15:00", ["اقتصاد"]),
    "منتخب نجيمة يتأهل إلى نهائي الكأس": ("2024-08-21 18:05:00", ["رياضة"]),
}
NOT_IMPORTED = ["من نحن", "parliament", "الرئيسية", "خبر محذوف", "مسودة: ملعب المدينة الجديد"]


def test_wordpress_round_trip(site: Path, capsys):
    assert import_(site, "wordpress", FIXTURES / "wordpress.xml") == 0
    out = capsys.readouterr().out
    assert "4 new" in out
    assert "1 attachment" in out and "1 page" in out and "1 revision" in out and "1 nav menu item" in out
    build(site)
    built = built_articles(site)
    assert sorted(built) == sorted(WXR_POSTS)
    for title, (gmt, topics) in WXR_POSTS.items():
        page = built[title]
        expected = datetime.fromisoformat(gmt).replace(tzinfo=timezone.utc)
        assert page["date"] == expected, title
        assert page["date"].utcoffset() == ZONE.utcoffset(expected.replace(tzinfo=None)), title
        assert page["topics"] == topics, title
    for title in NOT_IMPORTED:
        assert title not in built
    # The revision of the first post did not become a second copy.
    assert [p["slug"] for t, p in built.items() if t.startswith("البرلمان")] == ["البرلمان-يقر-قانون-الانتخابات"]


def test_wordpress_post_details(site: Path):
    assert import_(site, "wordpress", FIXTURES / "wordpress.xml", "-q") == 0
    files = {front_matter(p)["title"]: p for p in items(site)}
    law = files["البرلمان يقر قانون الانتخابات البلدية الجديد"]
    meta = front_matter(law)
    assert meta["author"] == "سارة المحررة"
    assert meta["summary"] == "البرلمان يقر قانون الانتخابات البلدية."
    assert meta["slug"] == "البرلمان-يقر-قانون-الانتخابات"
    assert meta["image"] == "https://najima.example.org/wp-content/uploads/2024/05/parliament.jpg"
    assert meta["image_alt"] == "قاعة البرلمان في نجيمة"
    assert meta["source_url"].startswith("https://najima.example.org/2024/05/14/")
    body = law.read_text(encoding="utf-8").split("---\n", 2)[2]
    for kept in ("## أبرز ما في القانون", "- خفض سن الترشح إلى *خمسة وعشرين* عامًا", "- زيادة عدد المقاعد",
                 "> «هذا يوم مهم للديمقراطية المحلية»", "[نص القانون](https://najima.example.org/law)",
                 "![قاعة البرلمان](https://najima.example.org/wp-content/uploads/2024/05/parliament.jpg)",
                 "**ثمانين**"):
        assert kept in body, kept
    for dropped in ("<", "style", "script", "document.write", "إعلان", "onclick", "wp:paragraph", "display"):
        assert dropped not in body, dropped
    assert "تعليق لا يُستورد" not in body  # comments stay out

    bank = files["البنك المركزي يبقي أسعار الفائدة دون تغيير – للمرة الثالثة"]
    bank_body = bank.read_text(encoding="utf-8").split("---\n", 2)[2]
    assert front_matter(bank)["author"] == "كريم العطّار"
    assert "![مبنى البنك المركزي](https://najima.example.org/wp-content/uploads/2024/11/bank.jpg)" in bank_body
    assert "*مبنى البنك المركزي في نجيمة*" in bank_body
    assert "### ردود الفعل" in bank_body and "1. الأسهم ارتفعت" in bank_body
    assert "javascript" not in bank_body and "[caption" not in bank_body
    assert "\n\nرحبت غرفة التجارة" in bank_body  # paragraphs saved without <p> stay paragraphs

    build(site)
    soup = built_articles(site)["البرلمان يقر قانون الانتخابات البلدية الجديد"]["soup"]
    body_html = soup.select_one(".article-body")
    assert body_html.find("h2").get_text() == "أبرز ما في القانون"
    assert len(body_html.select("ul li")) == 2 and body_html.find("blockquote")
    assert body_html.find("a", href="https://najima.example.org/law")
    assert body_html.find("img", alt="قاعة البرلمان")
    assert not body_html.find(style=True) and not body_html.find("script")


def test_wordpress_drafts_stay_drafts(site: Path):
    assert import_(site, "wordpress", FIXTURES / "wordpress.xml", "-q") == 0
    drafts = [p for p in items(site) if front_matter(p).get("draft")]
    assert [front_matter(p)["title"] for p in drafts] == ["مسودة: ملعب المدينة الجديد"]
    meta = front_matter(drafts[0])
    assert meta["date"] == datetime(2025, 1, 20, 11, 0, tzinfo=ZONE)  # no GMT date: the local one
    assert meta["topics"] == ["رياضة"]
    build(site)
    assert "مسودة: ملعب المدينة الجديد" not in built_articles(site)
    build(site, "--drafts")
    assert "مسودة: ملعب المدينة الجديد" in built_articles(site)


def test_wordpress_pages_when_asked(site: Path):
    assert import_(site, "wordpress", FIXTURES / "wordpress.xml", "--include-pages", "-q") == 0
    page = site / "content" / "who-we-are.md"
    assert front_matter(page) == {"title": "من نحن", "slug": "who-we-are"}
    build(site)
    assert "من نحن" not in built_articles(site)
    assert "صحيفة نجيمة اليومية صحيفة متخيلة." in (site / "public" / "who-we-are" / "index.html").read_text(
        encoding="utf-8")


def test_wordpress_reimport_and_topic_map(site: Path, capsys):
    assert import_(site, "wordpress", FIXTURES / "wordpress.xml", "-q") == 0
    first = items(site)
    assert import_(site, "wordpress", FIXTURES / "wordpress.xml") == 0
    assert "(0 new, 4 unchanged)" in capsys.readouterr().out
    assert items(site) == first
    # Other options give other files; they collide with the first import, reported.
    assert import_(site, "wordpress", FIXTURES / "wordpress.xml", "--no-tags", "--map-topic", "سياسة=world") == 1
    assert "1 collision" in capsys.readouterr().err
    assert items(site) == first


def test_wordpress_bad_records(site: Path, capsys):
    source = FIXTURES / "wordpress-bad-records.xml"
    assert import_(site, "wordpress", source) == 1
    err = capsys.readouterr().err
    assert f"{source}:39: post 22: missing title" in err
    assert f"{source}:53: post 23: bad date '2024-02-30 08:00:00'" in err
    assert "skipped 2 records" in err
    assert sorted(front_matter(p)["title"] for p in items(site)) == ["خبر سليم أخير", "خبر سليم أول"]
    assert import_(site, "wordpress", source, "--skip-bad", "-q") == 0


def test_wordpress_broken_xml(site: Path, capsys):
    source = FIXTURES / "wordpress-broken.xml"
    assert import_(site, "wordpress", source) == 1
    captured = capsys.readouterr()
    assert f"{source}:50: broken XML: mismatched tag" in captured.err
    assert "Traceback" not in captured.err
    # What came before the break is imported; nothing after it.
    assert [front_matter(p)["title"] for p in items(site)] == ["خبر قبل الخلل"]


def test_wordpress_wrong_encoding(site: Path, capsys):
    source = FIXTURES / "wordpress-wrong-encoding.xml"
    assert import_(site, "wordpress", source, "--skip-bad") == 1  # a file that cannot be read always fails
    err = capsys.readouterr().err
    assert f"{source}:11: the file is not valid UTF-8" in err
    assert not items(site)


def test_wordpress_refuses_other_xml(site: Path, tmp_path: Path, capsys):
    source = tmp_path / "feed.xml"
    source.write_text('<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>x</title></feed>',
                      encoding="utf-8")
    assert import_(site, "wordpress", source) == 1
    assert "not a WordPress export" in capsys.readouterr().err
    bomb = tmp_path / "bomb.xml"
    bomb.write_text('<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>'
                    "<rss><channel><title>&b;</title></channel></rss>", encoding="utf-8")
    assert import_(site, "wordpress", bomb) == 1
    assert "entities" in capsys.readouterr().err


# -- conversions -----------------------------------------------------------------

@pytest.mark.parametrize("text", [
    "- ليس بندًا", "+ ولا هذا", "1. ولا هذه", "12) ولا هذه", "# ولا عنوان", "> ولا اقتباس", "=== ولا خط",
    "نص فيه *نجمة* و__شرطتان__ و`علامة` و<span>وسم</span> و[قوس] و\\ مائلة و~~خط~~ و&copy; كما هي",
    "| ليس | جدولًا |",
])
def test_plain_text_shows_as_written(text: str):
    _, blocks = render_markdown(plain_to_markdown(text))
    assert blocks == [("p", text)]


def test_plain_text_paragraphs():
    markdown = plain_to_markdown("الفقرة الأولى\r\nتكملتها\r\n\r\n\r\n  الفقرة الثانية  \n")
    assert markdown == "الفقرة الأولى\nتكملتها\n\nالفقرة الثانية"


def test_html_to_markdown_cleans_up():
    html = ('<div style="direction:rtl"><h1 style="color:red">عنوان</h1><p class="x">نص <i>مائل</i> '
            '<a href="https://e.org" target="_blank">رابط</a></p><script>alert(1)</script>'
            '<style>p{}</style><ul><li>أ</li><li>ب</li></ul><ol><li>ج</li></ol>'
            '<blockquote>قول</blockquote><img src="https://e.org/a.png" alt="صورة" onerror="x()">'
            '<iframe src="https://www.youtube.com/embed/abc"></iframe><form><input></form></div>')
    markdown = html_to_markdown(html)
    assert markdown.splitlines() == [
        "# عنوان", "", "نص *مائل* [رابط](https://e.org)", "", "- أ", "- ب", "", "1. ج", "", "> قول", "",
        "![صورة](https://e.org/a.png)", "", "<https://www.youtube.com/embed/abc>"]


def test_html_to_markdown_wordpress_classic_content():
    markdown = html_to_markdown("سطر أول\nسطر ثان\n\nفقرة ثانية\n\n[gallery ids=\"1,2\"]\n\n"
                                "[embed]https://e.org/v[/embed]")
    assert markdown == "سطر أول\\\nسطر ثان\n\nفقرة ثانية\n\n<https://e.org/v>"
    assert html_to_markdown("") == ""


@pytest.mark.parametrize("value, expected", [
    ("2018-02-26", date(2018, 2, 26)),
    ("2018/2/6", date(2018, 2, 6)),
    ("٢٠١٨-٠٢-٢٦", date(2018, 2, 26)),
    ("2018-02-26T10:00:00", datetime(2018, 2, 26, 10, tzinfo=ZONE)),
    ("2018-02-26 10:00", datetime(2018, 2, 26, 10, tzinfo=ZONE)),
    ("2018-02-26T10:00:00Z", datetime(2018, 2, 26, 10, tzinfo=timezone.utc)),
    ("2018-02-26T10:00:00+03:00", datetime(2018, 2, 26, 7, tzinfo=timezone.utc)),
    ("Mon, 26 Feb 2018 02:20:10 GMT", datetime(2018, 2, 26, 2, 20, 10, tzinfo=timezone.utc)),
    (1519611610, datetime(2018, 2, 26, 2, 20, 10, tzinfo=timezone.utc)),
    ("", None),
    (None, None),
])
def test_parse_date(value, expected):
    parsed = parse_date(value, ZONE)
    assert parsed == expected
    assert type(parsed) is type(expected)
    if isinstance(parsed, datetime):
        assert parsed.tzinfo is not None and parsed.utcoffset() == ZONE.utcoffset(parsed.replace(tzinfo=None))


@pytest.mark.parametrize("value", ["2018-13-01", "yesterday", "31/02/2024", True, [2018]])
def test_parse_date_refuses(value):
    with pytest.raises(BadValue):
        parse_date(value, ZONE)


# -- the shared corpus -----------------------------------------------------------

def corpus_path() -> Path | None:
    configured = os.environ.get("NEWSGEN_CORPUS")
    path = Path(configured) if configured else REPO.parent / "shared" / "corpus"
    if path.is_dir():
        path = path / "arabic-news.jsonl"
    return path if path.is_file() else None


CORPUS_CATEGORIES = {"culture": "ثقافة", "economy": "اقتصاد", "internationalNews": "العالم",
                     "middleEast": "الشرق الأوسط", "sport": "رياضة", "technology": "تكنولوجيا"}


@pytest.mark.corpus
def test_corpus_import_and_build(site: Path, capsys):
    path = corpus_path()
    if path is None:
        where = os.environ.get("NEWSGEN_CORPUS") or str(REPO.parent / "shared" / "corpus")
        if os.environ.get("CI") == "true":
            pytest.fail(f"the shared corpus is missing at {where}; CI needs it")
        pytest.skip(f"the shared corpus is not at {where} (set NEWSGEN_CORPUS to its path)")
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    assert len(rows) == 4800
    # Search has tests of its own; indexing 4,800 items here would only slow CI down.
    with open(site / "site.toml", "a", encoding="utf-8") as config:
        config.write("\n[search]\nenabled = false\n")

    started = time.perf_counter()
    assert import_(site, "jsonl", path, *CORPUS_TOPICS, "-q") == 0
    imported = time.perf_counter() - started
    assert len(items(site)) == 4800
    capsys.readouterr()
    assert run("build", "--config", site / "site.toml") == 0
    elapsed = time.perf_counter() - started
    out, err = capsys.readouterr()
    assert "built 4800 items" in out
    # The two titles that appear twice are the only slug clashes.
    assert err.count("warning: slug") == 2
    print(f"corpus: import {imported:.1f} s, import + build {elapsed:.1f} s")

    pages = sorted((site / "public" / "articles").glob("*/index.html"))
    assert len(pages) == 4800
    title_re = re.compile(r'<h1 class="article-title"[^>]*>(.*?)</h1>', re.S)
    date_re = re.compile(r'<li class="meta-date"[^>]*><time datetime="([^"]+)"')
    topics_re = re.compile(r'<li class="meta-topics">(.*?)</li>', re.S)
    shown = []
    for page in pages:
        html = page.read_text(encoding="utf-8")
        title = unescape(title_re.search(html).group(1)).strip()
        day = datetime.fromisoformat(date_re.search(html).group(1)).date().isoformat()
        topics = tuple(unescape(t) for t in re.findall(r">([^<]+)</a>", topics_re.search(html).group(1)))
        shown.append((title, day, topics))
    expected = [(row["title"], row["date"], (CORPUS_CATEGORIES[row["category"]],)) for row in rows]
    assert sorted(shown) == sorted(expected)
    slugs = {page.parent.name for page in pages}
    assert "الطاقة-النظيفة-في-مصر-تحد-يسابق-الزمن-2" in slugs
    assert "جربنا-لكم-هاتفين-honor-9-lite-و-honor-7x-2" in slugs
