"""The project file: every key checked, one line per mistake."""

from __future__ import annotations

from pathlib import Path

import pytest

from runner.projects import ProjectError, projectfile

GOOD = """
source = "../mysite"
ref = "main"
python = "3.12"
exclude = ["psycopg2"]
setup = ["migrate"]
[settings_overrides]
DEBUG = false
[env]
SOME_FLAG = "1"
[urls]
home = "/"
api = "/api/v2/pages/?type=blog.BlogPage"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "bench.toml"
    path.write_text(text)
    return path


def test_a_good_file_is_read_with_its_text(tmp_path: Path) -> None:
    project = projectfile.load(write(tmp_path, GOOD))
    assert project.urls == {"home": "/", "api": "/api/v2/pages/?type=blog.BlogPage"}
    assert project.settings_overrides == {"DEBUG": False}
    assert project.exclude == ("psycopg2",)
    assert project.name == "bench"
    assert project.record()["text"] == GOOD


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("source = 'x'\n[urls\n", "is not valid TOML"),
        ("source = 'x'\ncolour = 'red'\n[urls]\nhome = '/'\n", "unknown key 'colour'"),
        ("source = 'x'\n", "no [urls]"),
        ("source = 'x'\n[urls]\nhome = 'home/'\n", "must be a path starting with '/'"),
        ("[urls]\nhome = '/'\n", "no source"),
        ("source = 'x'\npython = 'three'\n[urls]\nhome = '/'\n", "python must be a version"),
        ("source = 'x'\nwsgi = 'a.b'\n[urls]\nhome = '/'\n", "module:attribute"),
        ("source = 'x'\nroot = '../up'\n[urls]\nhome = '/'\n", "inside the source"),
        ("source = 'x'\n[settings_overrides]\ndebug = 1\n[urls]\nhome = '/'\n", "UPPER_CASE"),
        ("source = 'x'\n[env]\nBENCH_MODE = 'wsgi'\n[urls]\nhome = '/'\n", "may set"),
        ("source = 'x'\nexclude = 'psycopg2'\n[urls]\nhome = '/'\n", "list of non-empty"),
    ],
)
def test_bad_files_say_what_is_wrong_in_one_line(tmp_path: Path, text: str, expected: str) -> None:
    with pytest.raises(ProjectError) as error:
        projectfile.load(write(tmp_path, text))
    assert expected in str(error.value)
    assert "\n" not in str(error.value).strip()


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ProjectError, match="does not exist"):
        projectfile.load(tmp_path / "nope.toml")


def test_command_line_urls_are_added_and_checked(tmp_path: Path) -> None:
    project = projectfile.load(write(tmp_path, GOOD)).with_urls(["extra=/x/", "home=/home/"])
    assert project.urls["extra"] == "/x/"
    assert project.urls["home"] == "/home/"
    with pytest.raises(ProjectError, match="name=/path"):
        project.with_urls(["nothing"])
    with pytest.raises(ProjectError, match="starting with '/'"):
        project.with_urls(["bad=x"])
