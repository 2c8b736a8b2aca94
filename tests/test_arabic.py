import re
from datetime import date, datetime, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from newsgen import arabic
from newsgen.arabic import (count_words, format_arabic_date, format_month, format_number, join_list, keyword_stem,
                            normalize, split_words, stems, to_digits, words)


@pytest.mark.parametrize("variant, folded", [
    ("أحمد", "احمد"), ("إسلام", "اسلام"), ("آمال", "امال"), ("ٱلله", "الله"),
    ("مستشفى", "مستشفي"), ("مدرسة", "مدرسه"),
    ("مُحَمَّدٌ", "محمد"), ("الـــعربية", "العربيه"),
    ("١٢٣", "123"), ("۴۵", "45"), ("BBC", "bbc"),
    ("ﻻ", "لا"),  # presentation form ligature
])
def test_normalize_folds_spelling_variants(variant, folded):
    assert normalize(variant) == folded


def test_normalize_keeps_distinct_letters_distinct():
    assert normalize("سوق") != normalize("شوق")
    assert normalize("عاجل") == "عاجل"


@settings(max_examples=300)
@given(st.text(alphabet=st.sampled_from("الحُكومةُ تُقرّ أإآٱىة١٢٣۴۵۶789ـ\u200c\u200f\ufeffﻻﷲﷺStraßeİΣ،.«» \n")) | st.text())
def test_normalize_is_nfkc_without_marks_then_folded_then_casefolded(text):
    import unicodedata

    # The definition, one character at a time; `normalize` folds a character at a time instead.
    expected = arabic._MARKS.sub("", unicodedata.normalize("NFKC", text)).translate(arabic._FOLD).casefold()
    assert normalize(text) == expected
    assert words(text) == re.findall(r"\w+", expected)


def test_no_character_is_folded_into_one_that_is_folded_again():
    # `normalize` folds one character at a time, in no particular order: that is only the
    # translation table's result when no folded character is itself folded.
    assert not any(char in folded for _, folded in arabic._FOLD_PAIRS for char, _ in arabic._FOLD_PAIRS)


def test_words_split_and_fold():
    assert words("قالَ الوزيرُ: «الاقتصاد ينمو» ٢٠٢٤") == ["قال", "الوزير", "الاقتصاد", "ينمو", "2024"]


@pytest.mark.parametrize("word, stem", [
    ("والدفاع", "دفاع"), ("بالدفاع", "دفاع"), ("للدفاع", "دفاع"), ("فالدفاع", "دفاع"),
    ("الدفاع", "دفاع"), ("وسوريا", "سوريا"), ("للجيش", "الجيش"),
])
def test_stems_strip_prefix_clitics(word, stem):
    assert stem in stems(normalize(word))


def test_stems_do_not_strip_short_words_to_nothing():
    assert stems("ول") == ("ول",)


def test_keyword_stem_drops_the_article():
    assert keyword_stem("الدفاع") == "دفاع"
    assert keyword_stem("الأمن") == "امن"


def test_digits_by_site_choice():
    assert to_digits("15 يناير 2024", "arabic-indic") == "١٥ يناير ٢٠٢٤"
    assert to_digits("15", "western") == "15"
    assert format_number(42, "arabic-indic") == "٤٢"


@pytest.mark.parametrize("months, expected", [
    ("ar_SY", "15 كانون الثاني 2024"), ("ar_EG", "15 يناير 2024"), ("ar_TN", "15 جانفي 2024"),
])
def test_dates_in_the_chosen_month_names(months, expected):
    assert format_arabic_date(date(2024, 1, 15), locale=months, digits="western") == expected


def test_dates_with_arabic_indic_digits_and_undated():
    moment = datetime(2024, 5, 3, 10, 0, tzinfo=timezone.utc)
    assert format_arabic_date(moment, locale="ar_SY", digits="arabic-indic") == "٣ أيار ٢٠٢٤"
    assert format_arabic_date(None, locale="ar_SY", digits="western") == "غير مؤرخ"
    assert format_month(2024, 5, locale="ar_EG", digits="western") == "مايو 2024"


def test_join_uses_the_arabic_comma():
    assert join_list(["سياسة", "دفاع"]) == "سياسة، دفاع"


# Prose with the punctuation `split_words` makes spaces of, and what it must leave to the
# regular expression: `_`, marks, other symbols, unusual spaces, digits of other scripts.
_NEWS_TEXT = st.lists(st.sampled_from(list("أبتجحدرسعفقلمنهويىةءئ abcXYZ0189٣۴_\n\t\xa0\u200c\u064b\u0640@&|²")
                                      + list(arabic._PUNCTUATION) + ["  ", "الحكومة", "#وسم_هنا"]),
                      max_size=80).map("".join)


@settings(max_examples=500, deadline=None)
@given(st.one_of(_NEWS_TEXT, st.text(st.characters(blacklist_categories=("Cs",)), max_size=60)))
def test_split_words_and_count_words_find_the_runs_of_word_characters(text):
    runs = re.findall(r"\w+", text)
    assert split_words(text) == runs
    assert split_words(normalize(text)) == words(text)
    assert count_words(text) == len(runs)


def test_the_punctuation_made_spaces_is_neither_word_nor_space():
    assert all(not re.match(r"[\w\s]", mark) for mark in arabic._PUNCTUATION)
