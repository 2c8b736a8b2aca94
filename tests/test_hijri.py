"""Hijri (Umm al-Qura) dates beside the Gregorian ones, and isolated mixed-direction text."""

from __future__ import annotations

import textwrap
from datetime import date, datetime, timezone

import pytest
from bs4 import BeautifulSoup
from hijridate import Gregorian, Hijri

from conftest import write_site
from newsgen.arabic import HIJRI_MONTHS, format_hijri_date, hijri_date, text_direction
from newsgen.cli import main


def test_known_dates_agree_with_hijridate():
    # 15 January 2024 is 3 Rajab 1445 in the Umm al-Qura calendar (1 Rajab was 13 January).
    assert tuple(Gregorian(2024, 1, 15).to_hijri().datetuple()) == (1445, 7, 3)
    assert hijri_date(date(2024, 1, 15)) == (1445, 7, 3)
    assert format_hijri_date(date(2024, 1, 15), digits="western") == "3 رجب 1445 هـ"
    assert format_hijri_date(date(2024, 1, 15), digits="arabic-indic") == "٣ رجب ١٤٤٥ هـ"
    assert format_hijri_date(date(2024, 3, 11), digits="western") == "1 رمضان 1445 هـ"
    assert format_hijri_date(date(2023, 7, 19), digits="western") == "1 محرم 1445 هـ"


def test_a_date_time_gives_the_day_it_shows():
    late = datetime(2024, 1, 15, 23, 30, tzinfo=timezone.utc)
    assert format_hijri_date(late, digits="western") == "3 رجب 1445 هـ"


def test_every_month_has_its_arabic_name():
    assert HIJRI_MONTHS == ("محرم", "صفر", "ربيع الأول", "ربيع الآخر", "جمادى الأولى", "جمادى الآخرة",
                            "رجب", "شعبان", "رمضان", "شوال", "ذو القعدة", "ذو الحجة")
    seen = set()
    for month in range(1, 13):
        day = Hijri(1446, month, 10).to_gregorian()
        text = format_hijri_date(date(day.year, day.month, day.day), digits="western")
        assert text == f"10 {HIJRI_MONTHS[month - 1]} 1446 هـ"
        seen.add(text)
    assert len(seen) == 12


@pytest.mark.parametrize("day", [date(1924, 7, 31), date(1900, 1, 1), date(2077, 11, 17), date(2100, 1, 1)])
def test_outside_the_supported_range_there_is_no_hijri_date(day):
    assert hijri_date(day) is None
    assert format_hijri_date(day, digits="arabic-indic") == ""


def test_range_edges():
    assert format_hijri_date(date(1924, 8, 1), digits="western") == "1 محرم 1343 هـ"
    assert format_hijri_date(date(2077, 11, 16), digits="western") == "30 ذو الحجة 1500 هـ"
    assert format_hijri_date(None, digits="western") == ""


def test_text_direction():
    assert text_direction("Files Go تطبيق من غوغل") == "rtl"
    assert text_direction("BBC News") == "auto"
    assert text_direction("2024") == "auto"


CONFIG = """\
    [site]
    title = "موقع الاختبار"
    timezone = "Asia/Riyadh"
    digits = "arabic-indic"
    hijri = {hijri}

    [content]
    items = ["items"]

    [[topic]]
    key = "economy"
    name = "اقتصاد"
    keywords = ["اقتصاد"]
    """


def build_site(tmp_path, hijri: bool):
    items = {
        "a.md": "---\ntitle: Files Go تطبيق جديد\ndate: 2024-01-15T10:00:00+03:00\ntopics: [economy, COVID-19]\n---\nاقتصاد ونص.\n",
        "b.md": "---\ntitle: خبر قديم في الاقتصاد\ndate: 1900-01-01\ntopics: [economy]\n---\nاقتصاد ونص آخر.\n",
    }
    site = write_site(tmp_path, items, config=textwrap.dedent(CONFIG.format(hijri="true" if hijri else "false")))
    assert main(["build", "--config", str(site / "site.toml"), "--quiet"]) == 0
    out = site / "public"
    pages = {}
    for path in (out / "articles").glob("*/index.html"):
        page = BeautifulSoup(path.read_text("utf-8"), "html.parser")
        pages[page.find("h1").get_text(strip=True)] = page
    home = BeautifulSoup((out / "index.html").read_text("utf-8"), "html.parser")
    return pages, home


def test_pages_show_both_dates_when_asked(tmp_path):
    pages, home = build_site(tmp_path, hijri=True)
    meta = pages["Files Go تطبيق جديد"].select_one(".meta-date")
    assert meta.select_one("time").get_text() == "١٥ يناير ٢٠٢٤ م"
    assert meta.select_one(".date-hijri").get_text() == "، ٣ رجب ١٤٤٥ هـ"
    # Outside hijridate's range: the Gregorian date alone, without «م».
    old = pages["خبر قديم في الاقتصاد"].select_one(".meta-date")
    assert old.select_one("time").get_text() == "١ يناير ١٩٠٠"
    assert old.select_one(".date-hijri") is None
    cards = {c.select_one(".card-title a").get_text(): c for c in home.select(".cards-latest .card")}
    assert cards["Files Go تطبيق جديد"].select_one(".card-meta .date-hijri").get_text() == "، ٣ رجب ١٤٤٥ هـ"
    assert cards["Files Go تطبيق جديد"].select_one(".card-meta time").get_text() == "١٥ يناير ٢٠٢٤ م"


def test_pages_show_the_gregorian_date_alone_by_default(tmp_path):
    pages, home = build_site(tmp_path, hijri=False)
    meta = pages["Files Go تطبيق جديد"].select_one(".meta-date")
    assert meta.select_one("time").get_text() == "١٥ يناير ٢٠٢٤"
    assert not home.select(".date-hijri") and not meta.select(".date-hijri")


def test_inserted_titles_and_topic_names_are_isolated(tmp_path):
    pages, home = build_site(tmp_path, hijri=False)
    page = pages["Files Go تطبيق جديد"]
    links = {a.get_text(): a for a in page.select(".meta-topics a")}
    assert links["اقتصاد"]["dir"] == "rtl" and links["COVID-19"]["dir"] == "auto"
    assert page.select_one(".breadcrumb li:nth-of-type(2) a")["dir"] == "rtl"
    title = home.select_one(".card-title a")
    assert title["dir"] == "rtl"  # an Arabic headline that opens with Latin stays right-to-left
    for link in page.select(".related .more-list a"):
        assert link["dir"] in ("rtl", "auto")
