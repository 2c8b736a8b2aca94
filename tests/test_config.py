from pathlib import Path

import pytest

from newsgen.config import load_config
from newsgen.errors import BuildFailed

REPO = Path(__file__).resolve().parent.parent


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "site.toml"
    path.write_text(text, encoding="utf-8")
    return path


def problems(tmp_path: Path, text: str) -> list[str]:
    with pytest.raises(BuildFailed) as caught:
        load_config(write(tmp_path, text))
    return [str(p) for p in caught.value.problems]


def test_the_sample_configuration_loads():
    config = load_config(REPO / "site.toml")
    assert config.title == "أرشيف الأخبار"
    assert {"politics", "defense", "economy", "sport", "culture", "technology", "health",
            "middle-east", "world", "general"} <= {t.key for t in config.topics}
    assert config.date_locale == "ar_SY"
    assert config.base_path == "/archive/"


def test_defaults_and_a_minimal_file(tmp_path):
    config = load_config(write(tmp_path, '[site]\ntitle = "أخبار"\n'))
    assert config.per_page == 20 and config.digits == "western" and config.months == "egyptian"
    assert config.item_dirs == ((tmp_path / "seeds/content").absolute(),)
    assert config.topic("general") is not None  # the catch-all always exists


def test_every_problem_is_reported_with_key_and_line(tmp_path):
    found = problems(tmp_path, '[site]\ntitle = "x"\ndigits = "roman"\ntimezone = "Mars/Base"\n'
                               '[build]\nper_page = "ten"\n')
    assert any("site.toml:3:" in p and "`site.digits`" in p for p in found)
    assert any("site.toml:4:" in p and "`site.timezone`" in p for p in found)
    assert any("site.toml:6:" in p and "`build.per_page` must be a whole number" in p for p in found)


def test_missing_title_is_an_error(tmp_path):
    assert any("`site.title` is required" in p for p in problems(tmp_path, "[site]\n"))


def test_malformed_toml_names_the_line(tmp_path):
    found = problems(tmp_path, '[site]\ntitle = "x"\nbase_url = https://x\n')
    assert found[0].startswith(str(tmp_path / "site.toml") + ":3: invalid TOML")


def test_unknown_key_warns_with_closest_key(tmp_path):
    found = problems(tmp_path, '[site]\ntitle = "x"\ntitel = "y"\n[build]\nper_page = 0\n')
    assert any("warning: unknown key `site.titel`; did you mean `title`?" in p for p in found)


def test_bad_topic_key(tmp_path):
    found = problems(tmp_path, '[site]\ntitle = "x"\n[[topic]]\nkey = "Politics News"\nname = "سياسة"\n')
    assert any("site.toml:4:" in p and "`topic.key`" in p for p in found)


def test_topic_problems_name_the_line_of_the_key_in_that_topic(tmp_path):
    found = problems(tmp_path, '[site]\ntitle = "x"\n'
                               '[[topic]]\nkey = "sport"\nname = "رياضة"\n'
                               '[[topic]]\nname = "رياضة"\nkeyword = ["كرة"]\nkey = "sport"\n'
                               '[[topic]]\nkey = "economy"\nname = "اقتصاد"\nkeywords = "سوق"\n')
    assert any(p.endswith("site.toml:9: topic key `sport` is declared twice (first at line 4); rename one of "
                          "them or merge the two [[topic]] tables") for p in found), found
    assert any(p.endswith("site.toml:8: warning: unknown key `topic.keyword`; did you mean `keywords`?")
               for p in found), found
    assert any("site.toml:13: `keywords` of topic `economy` must be a list of strings" in p for p in found), found


def test_missing_config_file(tmp_path):
    with pytest.raises(BuildFailed) as caught:
        load_config(tmp_path / "nope.toml")
    assert "no such configuration file" in str(caught.value.problems[0])


def test_configuration_warnings_reach_every_command(tmp_path, capsys):
    """A warning of `site.toml` alone (no error with it) is shown by `build`, again by a build
    that changes nothing, and by `check`."""
    from newsgen.cli import main
    from conftest import write_site

    site = write_site(tmp_path / "site", {"a.md": """\
        ---
        title: خبر عن الاقتصاد
        date: 2024-03-01
        topics: [economy]
        ---
        نص الخبر عن التضخم.
        """}, config="""\
        [site]
        title = "موقع"
        [content]
        items = ["items"]
        [build]
        search = false
        """)
    shown = f"{site / 'site.toml'}:6: warning: unknown key `build.search`; did you mean the section [search]?"
    for command in (["build"], ["build"], ["check"]):
        assert main([*command, "--config", str(site / "site.toml")]) == 0
        printed = capsys.readouterr()
        assert shown in printed.out + printed.err
