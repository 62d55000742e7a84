"""Everything the deploy needs for a project, made on the controller before any host is
touched: ``python -m runner.projects.prepare FILE [--python 3.12] [--project-url n=/p]``.

Prints one JSON object (``Prepared.as_vars``) for the playbook; on bad input prints
``project: error: <one line>`` and exits 2. Output lives under build/projects/<name>-<id>/:
``src/`` (the staged code), ``harness/abw_project/``, ``project.tar.gz`` and
``project.json`` (the record for results' metadata); wheelhouses under
build/projects/wheelhouses/<py-version>-<hash>/, shared by projects with equal needs.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from runner.projects import (
    ProjectError,
    interpreters,
    layout,
    overlay,
    projectfile,
    source,
    wheelhouse,
)
from runner.projects import requirements as reqs

ROOT = Path(__file__).resolve().parents[2]
BUILD = ROOT / "build" / "projects"


@dataclass(frozen=True)
class Prepared:
    """A project ready to deploy, and what the results' metadata records of it."""

    folder: Path
    archive: Path
    wheelhouse: Path
    interpreter: interpreters.Interpreter
    record: dict[str, Any]

    def as_vars(self) -> dict[str, Any]:
        """The playbook's variables (``project_*``), paths absolute."""
        rec = self.record
        return {
            "name": rec["name"],
            "archive": str(self.archive),
            "wheelhouse": str(self.wheelhouse),
            "requirements": rec["requirements"]["install"],
            "python": self.interpreter.version,
            "python_path": str(self.interpreter.path),
            "root": rec["layout"]["root"],
            "setup": rec["setup"],
            "env": rec["env"],
            "urls": rec["urls"],
            "health_path": overlay.HEALTH_PATH,
            "record": str(self.folder / "project.json"),
        }


def folder_for(project: projectfile.ProjectFile) -> Path:
    """build/projects/<name>-<id>: one folder per project file (id from its path)."""
    ident = hashlib.sha256(str(project.path).encode()).hexdigest()[:8]
    return BUILD / f"{project.name}-{ident}"


def prepare(
    path: str | Path,
    python: str | None = None,
    extra_urls: list[str] | None = None,
    build: Path = BUILD,
) -> Prepared:
    """Check the project file, stage the code, build the wheelhouse and the archive."""
    project = projectfile.load(path)
    if extra_urls:
        project = project.with_urls(extra_urls)
    interpreter = interpreters.resolve(python or project.python)
    folder = build / folder_for(project).name
    staged = source.stage(project.source, project.base, project.ref, folder / "src")
    found = layout.detect(staged.path, project)
    lines = reqs.read_lines(staged.path / found.requirements)
    install = reqs.build(lines, project.exclude, reqs.harness_pins())
    wheels = wheelhouse.build(
        install.text(),
        interpreter,
        build / "wheelhouses" / wheelhouse.key(install.text(), interpreter),
    )
    record = _record(project, staged, found, interpreter, install, wheels)
    overlay.write_package(
        folder / "harness",
        {
            "PROJECT": {"name": project.name, "commit": staged.commit},
            "SETTINGS": found.settings,
            "WSGI": found.wsgi,
            "ASGI": found.asgi,
            "OVERRIDES": project.settings_overrides,
        },
    )
    archive = overlay.archive(
        {"code": staged.path, "harness": folder / "harness"}, folder / "project.tar.gz"
    )
    (folder / "project.json").write_text(json.dumps(record, indent=2, default=str) + "\n")
    return Prepared(folder, archive, wheels, interpreter, record)


def _record(
    project: projectfile.ProjectFile,
    staged: source.StagedSource,
    found: layout.Layout,
    interpreter: interpreters.Interpreter,
    install: reqs.Requirements,
    wheels: Path,
) -> dict[str, Any]:
    """The project's record for the results' metadata (project.json)."""
    return {
        "name": project.name,
        "file": project.record(),
        "source": staged.record(),
        "commit": staged.commit,
        "layout": found.record(),
        "python": interpreter.version,
        "django": wheelhouse.django_version(wheels),
        "requirements": install.record(),
        "settings_overrides": project.settings_overrides,
        "debug_override": project.settings_overrides.get("DEBUG"),
        "setup": list(project.setup),
        "env": project.env,
        "urls": project.urls,
    }


def main(argv: list[str] | None = None) -> None:
    """Entry point: print the playbook's variables as JSON, or one error line."""
    parser = argparse.ArgumentParser(prog="project", description=__doc__.splitlines()[0])
    parser.add_argument("file", help="the project file (TOML)")
    parser.add_argument("--python", help="the app host's Python (overrides the file's)")
    parser.add_argument("--project-url", action="append", default=[], metavar="NAME=/PATH")
    args = parser.parse_args(argv)
    try:
        prepared = prepare(args.file, args.python or None, args.project_url)
    except ProjectError as error:
        print(f"project: error: {error}", file=sys.stderr)
        sys.exit(2)
    print(json.dumps(prepared.as_vars()))


if __name__ == "__main__":
    main()
