"""runner.projects.prepare on the controller: staging, layout, wheelhouse, bad input.

No hosts: these run the real git and the real pip of each pyenv interpreter (the
wheelhouse step asks the package index, as `make wheelhouse` does).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from runner.projects import ProjectError, interpreters, layout, projectfile, source
from runner.projects.prepare import prepare
from tests.projects.sample import make_site, project_file

ROOT = Path(__file__).resolve().parents[2]
URLS = '[urls]\nhome = "/"\n'


def snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    """Every file under a folder with its size and mtime (to prove nothing was written)."""
    return {
        str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns)
        for p in folder.rglob("*")
    }


def git(folder: Path, *args: str) -> str:
    env = {
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@t",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@t",
        "HOME": str(folder),
        "PATH": "/usr/bin:/bin",
    }
    done = subprocess.run(["git", *args], cwd=folder, capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_a_folder_project_is_staged_without_writing_to_it(tmp_path: Path) -> None:
    site = make_site(tmp_path / "mysite")
    git(site, "init", "-q")
    git(site, "add", ".")
    git(site, "commit", "-qm", "one")
    before = snapshot(site)
    path = project_file(tmp_path / "bench.toml", "mysite", URLS)
    prepared = prepare(path, None, ["info=/info/"], build=tmp_path / "build")
    assert snapshot(site) == before
    record = prepared.record
    assert record["commit"] == git(site, "rev-parse", "HEAD")
    assert record["source"]["kind"] == "folder" and record["source"]["dirty"] is False
    assert record["layout"]["root"] == "site"
    assert record["layout"]["asgi"] == "django.core.asgi:get_asgi_application()"
    assert record["layout"]["wsgi"] == "mysite.wsgi:application"
    assert record["requirements"]["dropped_server"] == ["gunicorn==23.0.0"]
    assert record["urls"] == {"home": "/", "info": "/info/"}
    assert record["django"] == "5.2.19"
    wheels = {w.name.split("-")[0].lower() for w in prepared.wheelhouse.glob("*.whl")}
    assert {"django", "granian", "uvloop", "pip"} <= wheels and "gunicorn" not in wheels
    with tarfile.open(prepared.archive) as tar:
        names = set(tar.getnames())
    assert "code/site/manage.py" in names and "harness/abw_project/settings.py" in names
    assert not any(".git/" in n or n.endswith(".git") for n in names)


def test_a_git_repository_is_cloned_at_its_ref_and_a_bundle_too(tmp_path: Path) -> None:
    site = make_site(tmp_path / "repo")
    git(site, "init", "-q", "-b", "main")
    git(site, "add", ".")
    git(site, "commit", "-qm", "one")
    first = git(site, "rev-parse", "HEAD")
    git(site, "tag", "v1")
    (site / "site" / "mysite" / "extra.py").write_text("X = 1\n")
    git(site, "add", ".")
    git(site, "commit", "-qm", "two")
    staged = source.stage("repo", tmp_path, "v1", tmp_path / "staged")
    assert staged.kind == "git" and staged.commit == first
    assert not (staged.path / "site" / "mysite" / "extra.py").exists()
    git(site, "bundle", "create", str(tmp_path / "repo.bundle"), "--all")
    bundled = source.stage("repo.bundle", tmp_path, None, tmp_path / "staged2")
    assert bundled.kind == "bundle" and bundled.commit == git(site, "rev-parse", "HEAD")
    with pytest.raises(ProjectError, match="ref 'nope' is not in"):
        source.stage("repo", tmp_path, "nope", tmp_path / "staged3")


def test_layout_defaults_come_from_the_code(tmp_path: Path) -> None:
    site = make_site(tmp_path / "s")
    (site / "site" / "mysite" / "asgi.py").write_text("application = None\n")
    project = projectfile.parse(tmp_path / "b.toml", "", {"source": "s", "urls": {"h": "/"}})
    found = layout.detect(site, project)
    assert (found.root, found.settings) == ("site", "mysite.settings")
    assert found.asgi == "mysite.asgi:application"
    assert found.requirements == "requirements.txt"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ('source = "nowhere"\n' + URLS, "source 'nowhere' does not exist"),
        ('source = "empty"\n' + URLS, "has no manage.py"),
        ('source = "mysite"\nroot = "."\n' + URLS, "root '.' has no manage.py"),
        (
            'source = "mysite"\npython = "3.99"\n' + URLS,
            "3.99",
        ),
        (
            'source = "mysite"\nsettings = "nope.settings"\n' + URLS,
            "settings module 'nope.settings'",
        ),
    ],
)
def test_bad_sources_fail_before_any_host_is_touched(
    tmp_path: Path, body: str, expected: str
) -> None:
    make_site(tmp_path / "mysite")
    (tmp_path / "empty").mkdir()
    path = tmp_path / "bench.toml"
    path.write_text(body)
    with pytest.raises(ProjectError) as error:
        prepare(path, build=tmp_path / "build")
    assert expected in str(error.value)


def run_cli(path: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "runner.projects.prepare", str(path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def test_the_cli_says_one_line_for_an_unresolvable_requirement(tmp_path: Path) -> None:
    site = make_site(tmp_path / "mysite")
    (site / "requirements.txt").write_text("Django==5.2.19\nno-such-package-abw-test==9.9\n")
    done = run_cli(project_file(tmp_path / "b.toml", "mysite", URLS))
    assert done.returncode == 2, done.stdout
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert "no-such-package-abw-test" in lines[0] and "exclude" in lines[0]


def test_a_clashing_pin_is_named_by_the_cli(tmp_path: Path) -> None:
    site = make_site(tmp_path / "mysite")
    (site / "requirements.txt").write_text("Django==5.2.19\nuvloop==0.21.0\n")
    done = run_cli(project_file(tmp_path / "b.toml", "mysite", URLS))
    assert done.returncode == 2
    assert (
        "uvloop==0.21.0 (requirements.txt line 2) clashes with the harness's uvloop=="
        in done.stderr
    )


def sdist(tmp_path: Path, name: str, broken: bool) -> Path:
    """A source-only package (a setup.py sdist tarball), building or failing to build."""
    pkg = tmp_path / f"{name}-src"
    (pkg / name).mkdir(parents=True)
    (pkg / name / "__init__.py").write_text("VALUE = 1\n")
    fail = "raise SystemExit('this package cannot build here')\n" if broken else ""
    (pkg / "setup.py").write_text(
        f"{fail}from setuptools import setup\n"
        f"setup(name={name!r}, version='0.1', packages=[{name!r}])\n"
    )
    out = tmp_path / f"{name}-0.1.tar.gz"
    with tarfile.open(out, "w:gz") as tar:
        tar.add(pkg, arcname=f"{name}-0.1")
    return out


def test_sdists_are_built_into_wheels_or_named_with_exclude(tmp_path: Path) -> None:
    site = make_site(tmp_path / "mysite")
    good = sdist(tmp_path, "abwgood", broken=False)
    (site / "requirements.txt").write_text(f"Django==5.2.19\nabwgood @ file://{good}\n")
    prepared = prepare(project_file(tmp_path / "b.toml", "mysite", URLS), build=tmp_path / "b")
    assert list(prepared.wheelhouse.glob("abwgood-0.1-*.whl"))
    bad = sdist(tmp_path, "abwbad", broken=True)
    (site / "requirements.txt").write_text(f"Django==5.2.19\nabwbad @ file://{bad}\n")
    with pytest.raises(ProjectError) as error:
        prepare(project_file(tmp_path / "c.toml", "mysite", URLS), build=tmp_path / "c")
    assert "abwbad" in str(error.value) and 'add "abwbad" to exclude' in str(error.value)


@pytest.mark.parametrize("version", ["3.11", "3.12", "3.13"])
def test_each_local_python_builds_its_own_wheelhouse(tmp_path: Path, version: str) -> None:
    if version not in interpreters.available():
        pytest.skip(f"python {version} is not on this machine")
    make_site(tmp_path / "mysite")
    prepared = prepare(project_file(tmp_path / "b.toml", "mysite", URLS), version, build=tmp_path)
    tag = "cp" + version.replace(".", "")
    assert list(prepared.wheelhouse.glob(f"granian-*-{tag}-*.whl"))
    assert json.loads((prepared.folder / "project.json").read_text())["python"] == version


def test_the_example_for_the_original_study_prepares(tmp_path: Path) -> None:
    example = ROOT / "examples" / "original-study.toml"
    bundle = ROOT.parent / "shared" / "clients" / "asgi-wsgi-benchmark.bundle"
    if not bundle.is_file():
        pytest.skip(f"the original study's bundle is not at {bundle}")
    prepared = prepare(example, build=tmp_path)
    record = prepared.record
    assert record["commit"] == "0e98c6b4407515c792e043816f66d7a7b5213ac0"
    assert record["requirements"]["dropped_server"] == ["granian==1.6.1"]
    assert record["requirements"]["excluded"] == ["uvloop==0.21.0"]
    assert record["django"] == "5.1.2"


def test_a_missing_python_lists_the_ones_this_machine_has() -> None:
    with pytest.raises(ProjectError) as error:
        interpreters.resolve("3.99")
    message = str(error.value)
    assert "3.99" in message
    assert all(version in message for version in interpreters.available())
