from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import REPO, write_site
from newsgen.config import load_config
from newsgen.errors import Diagnostics
from newsgen.loaders import display_path, find_item_files, load_article, load_articles
from newsgen.loaders.markdown import (_single_spaced, plain_paragraphs, render_commonmark, render_markdown,
                                      render_plain, sanitize)
from newsgen.loaders.plaintext import parse_plaintext

SEED = REPO / "seeds" / "content" / "000_a32ecea6be25f2b2.txt"
SEED_TITLE = "وصل وفد رسمي من وزارة الدفاع السورية إلى موسكو في زيارة رسمية."


def load_one(tmp_path: Path, name: str, body: str | bytes):
    site = write_site(tmp_path, {name: body})
    config = load_config(site / "site.toml")
    diagnostics = Diagnostics()
    article = load_article(site / "items" / name, config, diagnostics)
    return article, [str(p) for p in diagnostics.problems]


def test_the_seed_item():
    config = load_config(REPO / "site.toml")
    diagnostics = Diagnostics()
    article = load_article(SEED, config, diagnostics)
    assert diagnostics.problems == []
    assert article.title == SEED_TITLE
    assert article.breaking is True
    assert article.date is None
    assert article.body_html.count("<h2>") == 2
    assert "<h2>عاجل.. وصول وفد رسمي من وزارة الدفاع السورية إلى موسكو</h2>" in article.body_html
    assert "<h2>زيارة دفاعية سورية روسية لتعزيز الشراكات</h2>" in article.body_html
    assert article.body_html.count("<p>") == 4
    assert "عاجل:" not in article.title
    assert article.summary.endswith("…") and len(article.summary.split()) <= 41
    assert article.word_count > 400


def test_plaintext_structure_rules():
    headline, line, blocks = parse_plaintext(
        "\n\nعاجل | عنوان الخبر\nعنوان فرعي قصير\n\nفقرة أولى طويلة نسبيا. تنتهي بنقطة.\n\n"
        "سطر قصير ينتهي بنقطة.\n\nفقرة ثانية.\nتكمل السطر السابق.\n\nسطر أخير بلا فقرة بعده")
    assert headline == "عاجل | عنوان الخبر" and line == 3
    assert blocks == [("h", "عنوان فرعي قصير"), ("p", "فقرة أولى طويلة نسبيا. تنتهي بنقطة."),
                      ("p", "سطر قصير ينتهي بنقطة."), ("p", "فقرة ثانية. تكمل السطر السابق."),
                      ("p", "سطر أخير بلا فقرة بعده")]
    _, _, blocks = parse_plaintext("عنوان\n\nعنوان فرعي\n\nفقرة كاملة هنا.")
    assert blocks[0] == ("h", "عنوان فرعي")


@pytest.mark.parametrize("marker", ["عاجل: ", "عاجل.. ", "عاجل - ", "عاجل | ", "عاجل:"])
def test_breaking_markers(tmp_path, marker):
    article, problems = load_one(tmp_path, "a.txt", f"{marker}انفجار في المرفأ\n\nنص الخبر.\n")
    assert problems == []
    assert article.breaking and article.title == "انفجار في المرفأ"


def test_plaintext_with_front_matter_bom_and_crlf(tmp_path):
    body = "\ufeff---\r\ndate: 2024-05-14\r\nsource: وكالة\r\n---\r\nعنوان الخبر\r\n\r\nفقرة.\r\n".encode()
    article, problems = load_one(tmp_path, "a.txt", body)
    assert problems == []
    assert article.title == "عنوان الخبر" and article.source == "وكالة"
    assert article.date == datetime(2024, 5, 14, tzinfo=ZoneInfo("Asia/Riyadh"))


def test_markdown_item_fields(tmp_path):
    article, problems = load_one(tmp_path, "a.md", """\
        ---
        title: "البنك المركزي: الفائدة ثابتة"
        date: 2024-05-14T09:30:00+03:00
        updated: 2024-05-15T10:00:00Z
        topics: [اقتصاد, مال]
        author: Jane Doe
        source: عينة
        source_url: https://example.org/x
        location: سهلان
        breaking: true
        summary: ملخص قصير.
        ---
        # عنوان داخلي

        نص **الخبر** هنا.

        | أ | ب |
        |---|---|
        | 1 | 2 |
        """)
    assert problems == []
    assert article.title == "البنك المركزي: الفائدة ثابتة"
    assert article.date.utcoffset() == timedelta(hours=3)
    assert article.updated == datetime(2024, 5, 15, 10, tzinfo=timezone.utc)
    assert article.topics == ("اقتصاد", "مال")
    assert article.breaking and article.summary == "ملخص قصير."
    assert "<h1>" not in article.body_html and "<h2>عنوان داخلي</h2>" in article.body_html
    assert "<table>" in article.body_html and "<strong>الخبر</strong>" in article.body_html


def test_single_string_topics_and_date_from_file_name(tmp_path):
    article, problems = load_one(tmp_path, "2024-11-03-port.md", "---\ntitle: خبر\ntopics: صحة\n---\nنص.\n")
    assert problems == []
    assert article.topics == ("صحة",)
    assert article.date == datetime(2024, 11, 3, tzinfo=ZoneInfo("Asia/Riyadh"))


def test_date_without_offset_is_in_the_site_zone(tmp_path):
    article, _ = load_one(tmp_path, "a.md", "---\ntitle: خبر\ndate: 2024-05-14 09:30\n---\nنص.\n")
    assert article.date == datetime(2024, 5, 14, 9, 30, tzinfo=ZoneInfo("Asia/Riyadh"))


@pytest.mark.parametrize("html, forbidden", [
    ('<script>alert(1)</script>', "<script"),
    ('<img src="x.png" onerror="alert(1)" alt="">', "onerror"),
    ('<a href="javascript:alert(1)">x</a>', 'href="javascript'),
    ('[x](javascript:alert(1))', 'href="javascript'),
    ('<a href="JaVaScRiPt&#58;alert(1)">x</a>', 'href="javascript'),
    ('<iframe src="https://evil.example"></iframe>', "<iframe"),
    ('<p style="color:red" onclick="x()">نص</p>', "onclick"),
    ('<svg><script>alert(1)</script></svg>', "<script"),
])
def test_html_in_markdown_is_sanitized(html, forbidden):
    rendered, _ = render_markdown(f"فقرة.\n\n{html}\n")
    assert forbidden not in rendered


def test_text_of_scripts_and_styles_in_a_paragraph_is_not_the_items_text(tmp_path):
    """The sanitizer drops them with their content; the summary, description and search
    index (which read the plain text) must not show it either."""
    article, problems = load_one(tmp_path, "a.md", "---\ntitle: خبر\n---\n"
                                 "نص <script>alert(1)</script>الخبر <STYLE>p{color:red}</style>كاملا "
                                 "و<span>هذا</span> <scripted>يبقى</scripted>.\n")
    assert problems == []
    assert "alert" not in article.body_html and "color" not in article.body_html
    assert article.summary == "نص الخبر كاملا وهذا يبقى."
    assert "alert" not in article.text and "color" not in article.text and "يبقى" in article.text


def test_safe_html_survives_sanitizing():
    rendered, _ = render_markdown('<bdi dir="ltr">BBC</bdi> و<a href="https://example.org">رابط</a>\n')
    assert '<bdi dir="ltr">BBC</bdi>' in rendered and 'href="https://example.org"' in rendered


@pytest.mark.parametrize("name, body, expected", [
    ("a.md", "---\ntitle: [unclosed\n---\nنص\n", "a.md:3: malformed YAML"),
    ("a.md", "---\ntitle: خبر\nsource: x\n", "a.md:1: the front matter opened on line 1 is never closed"),
    ("a.md", "---\nsource: x\n---\nنص\n", "a.md:1: the item has no title"),
    ("a.md", "---\ntitle: خبر\ndate: yesterday\n---\n", "a.md:3: `date` 'yesterday' is not a date"),
    ("a.md", "---\ntitle: خبر\ndate: 2024-13-45\n---\n", "a.md:3: `date` '2024-13-45' is not a date"),
    ("a.md", "---\ntitle: خبر\ntopics: {a: 1}\n---\n", "a.md:3: `topics` must be a list"),
    ("a.md", "---\ntitle: خبر\ntopics: [[x]]\n---\n", "a.md:3: `topics` must be a list"),
    ("a.md", "---\ntitle: خبر\nbreaking: maybe\n---\n", "a.md:3: `breaking` must be true or false"),
    ("a.md", b"---\ntitle: \xd8\n---\n", "a.md:2: invalid UTF-8"),
    ("a.md", b"", "a.md:1: the file is empty"),
    ("a.md", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "a.md:1: this is a binary file"),
    ("a.md", "---\ntitle: خبر\nslug: ../../x\n---\n", "a.md:3: `slug` '../../x' is not allowed"),
    ("a.md", "---\ntitle: خبر\nslug: /etc/passwd\n---\n", "a.md:3: `slug` '/etc/passwd' is not allowed"),
    ("a.md", "---\ntitle: خبر\nimage: ../../x.png\n---\n", "a.md:3: `image` «../../x.png» points outside the site"),
    ("a.md", "---\ntitle: خبر\nimage: assets/../../x.png\n---\n", "a.md:3: `image` «assets/../../x.png» points outside"),
    ("a.md", "title: خبر\n\nنص\n", "a.md:1: no front matter"),
    ("a.md", "---\ntitle: خبر\ntitle: آخر\n---\n", "a.md:3: malformed YAML in the front matter: the key `title` appears twice"),
    ("a.txt", "---\nsource: x\n---\n\n\n", "a.txt:1: the item has no title"),
])
def test_bad_input_is_reported_with_path_and_line(tmp_path, name, body, expected):
    article, problems = load_one(tmp_path, name, body)
    assert article is None
    assert any(p.startswith("items/" + expected) for p in problems), problems


def test_unknown_key_is_a_warning_naming_the_closest_key(tmp_path):
    article, problems = load_one(tmp_path, "a.md", "---\ntitle: خبر\nauthr: سعاد\n---\nنص.\n")
    assert article is not None
    assert problems == ["items/a.md:3: warning: unknown front matter key `authr`; did you mean `author`?"]


def test_an_update_before_the_date_is_a_warning(tmp_path):
    article, problems = load_one(tmp_path, "a.md", "---\ntitle: خبر\ndate: 2024-05-14T09:30:00+03:00\n"
                                               "updated: 2024-05-13T10:00:00+03:00\n---\nنص.\n")
    assert article is not None and article.updated < article.date
    assert problems == ["items/a.md:4: warning: `updated` (2024-05-13T10:00:00+03:00) is before `date` "
                        "(2024-05-14T09:30:00+03:00): the page would say the item was updated before it was "
                        "published; correct one of them, or remove `updated`"]
    article, problems = load_one(tmp_path, "b.md", "---\ntitle: خبر\ndate: 2024-05-14\nupdated: 2024-05-14T12:00:00\n"
                                               "---\nنص.\n")
    assert article is not None and problems == []


def test_all_errors_of_a_build_are_collected(tmp_path):
    site = write_site(tmp_path, {"a.md": "", "b.md": "---\ntitle: x\n", "c.md": "---\ntitle: خبر\n---\nنص\n"})
    diagnostics = Diagnostics()
    articles = load_articles(load_config(site / "site.toml"), diagnostics)
    assert [a.path for a in articles] == ["items/c.md"]
    assert len(diagnostics.errors) == 2


def test_hidden_and_underscore_files_are_skipped(tmp_path):
    site = write_site(tmp_path, {"a.md": "x", "_draft.md": "x", ".hidden/b.md": "x", "_parts/c.md": "x",
                                 "d.txt": "x", "e.html": "x"})
    found = [p.name for p in find_item_files([site / "items"])]
    assert found == ["a.md", "d.txt"]


def test_drafts_only_when_asked(tmp_path):
    site = write_site(tmp_path, {"a.md": "---\ntitle: خبر\ndraft: true\n---\nنص\n"})
    config = load_config(site / "site.toml")
    assert load_articles(config, Diagnostics()) == []
    assert len(load_articles(config, Diagnostics(), drafts=True)) == 1


# Prose with the characters news items are made of, and some that CommonMark reads as markup.
_PROSE = st.lists(st.sampled_from(list("أبتثجحخدذرزسشصضطظعغفقكلمنهويىةءئؤ ٠١٢٣0123456789.,،؛:؟?!\"'()-+*_#>=\n ")
                                   + ["  ", "\n\n", "\n   ", "1. ", "- ", "\t"]),
                   max_size=120).map("".join)


# Prose as the shortcut accepts it: hashtags, words joined by `_`, `!`, lines opening with
# `-` or `+`, rules between blank lines, no-break and other spaces, Latin letters.
_PROSE_AND_RULES = st.lists(st.sampled_from(list("أبتجحدرسعفقلمنهويىة 0123456789.,،؟!\"'()-+_#aZé\n ")
                                            + ["\n\n", "---", "___", "\n\n---\n\n", "\n\n___", "#وسم", "و_ب",
                                               "-وأضاف", "+٣", " \n", "\n\n\n", "أ\xa0ب", "\xa0", "\u3000"]),
                            max_size=60).map("".join)


@settings(max_examples=1900, deadline=None)
@given(st.one_of(_PROSE, _PROSE_AND_RULES))
def test_the_plain_prose_shortcut_renders_what_commonmark_renders(text):
    if plain_paragraphs(text):
        assert render_plain(text) == render_commonmark(text)


@settings(max_examples=500, deadline=None)
@given(st.text(st.characters(blacklist_categories=("Cs",)), max_size=80))
def test_the_shortcut_html_is_what_the_sanitizer_leaves(text):
    if plain_paragraphs(text):
        html, _ = render_plain(text)
        assert sanitize(html) == html


def test_plain_prose_takes_the_shortcut_and_markup_does_not():
    assert plain_paragraphs("قال الوزير \"إن الاتفاق\" تم.\n\nوأضاف: سنرى (غداً).")
    for prose in ("وسم #الانتخابات_2024 هنا!", "rate_limit و كلمة_أخرى", "فقرة\n\n---\n\nفقرة",
                  "فقرة\n\n_____\n", "-وأضاف المصدر\n+٣ نقاط"):
        assert plain_paragraphs(prose), prose
    for markup in ("**عريض**", "- بند", "1. أول", "# عنوان", "<b>x</b>", "سطر  \nثان", "    شيفرة", "a & b",
                   "[رابط](http://x)", "نص\n===", "> اقتباس", "نص\n#عنوان", "_مائل_", "كلمة _مائلة",
                   "نص\n---", "---\nنص", "نص\n\n--- \n", "نص\n\n-", "![صورة](x.png)", "--نص", "نص\n- -"):
        assert not plain_paragraphs(markup), markup
    assert render_markdown("نص \"مقتبس\"\nسطر ثان\n\n\nفقرة")[0] == \
        "<p>نص \"مقتبس\"\nسطر ثان</p>\n<p>فقرة</p>\n"
    assert render_markdown("أ\xa0ب\n\n---\n\nفقرة")[0] == "<p>أ&nbsp;ب</p>\n<hr>\n<p>فقرة</p>\n"


@settings(max_examples=300, deadline=None)
@given(st.text(st.sampled_from(list(" a\n\t\xa0\u3000\u2003\x1cب")), max_size=30))
def test_single_spacing_is_splitting_and_joining_with_spaces(text):
    assert _single_spaced(text) == " ".join(text.split())


_PATH_PART = st.sampled_from(["site", "items", "a.md", "..", ".", "سياسة", "site2", "x y"])


@settings(max_examples=300, deadline=None)
@given(st.lists(_PATH_PART, max_size=4), st.lists(_PATH_PART, max_size=4), st.booleans())
def test_display_path_is_the_path_relative_to_the_root(root_parts, rest, absolute):
    root = Path("/" if absolute else ".", *root_parts)
    for path in (root.joinpath(*rest), Path("/" if absolute else ".", *rest)):
        try:
            expected = path.relative_to(root).as_posix()
        except ValueError:
            expected = path.as_posix()
        assert display_path(path, root) == expected
