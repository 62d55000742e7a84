"""The user's own Django project (a project file, docs/PROJECT.md) as a Target.

Scenarios are the file's URL names; each is measured in every view the same way (the
project decides what its URLs do). A page may answer any 2xx, and its body length may
change between requests (CSRF tokens, nonces): ``strict_length`` is off, so the load
generator does not count a changed length as a failure (ab runs with ``-l``), and
``check_lengths`` judges the lengths seen during validation instead, across requests and
across modes, within ``LENGTH_TOLERANCE``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

from runner.projects.overlay import HEALTH_PATH
from runner.targets.base import Deployed, Endpoint, Target, TargetError

# A body may differ by this share of its length (at least LENGTH_SLACK bytes) between
# requests or modes and still be "the same page".
LENGTH_TOLERANCE = 0.01
LENGTH_SLACK = 64
# Requests made to each URL before it is timed: the first hits build caches.
WARM_REQUESTS = 3


class ProjectTarget(Target):
    """A project prepared by runner.projects.prepare (its record: project.json)."""

    name: ClassVar[str] = "project"
    views: ClassVar[tuple[str, ...]] = ("original",)
    health_path: ClassVar[str] = HEALTH_PATH
    strict_length: ClassVar[bool] = False

    def __init__(self, record: dict[str, Any], project_file: str) -> None:
        self.record = record
        self.project_file = project_file
        self.urls: dict[str, str] = dict(record["urls"])
        self.scenarios = tuple(self.urls)  # type: ignore[misc]
        self.extra_urls: tuple[str, ...] = ()

    @classmethod
    def from_file(cls, path: str, urls: tuple[str, ...] = (), python: str = "") -> ProjectTarget:
        """Prepare the project on the controller (every check of the file, the source,
        the requirements and the interpreter) and return it as a target; TargetError
        (one line) on bad input."""
        from runner.projects import ProjectError
        from runner.projects.prepare import prepare

        try:
            prepared = prepare(path, python or None, list(urls))
        except ProjectError as error:
            raise TargetError(str(error)) from None
        target = cls(prepared.record, str(Path(path).expanduser().absolute()))
        target.extra_urls = tuple(urls)
        return target

    def warm_and_measure(self, get: Callable[[str], dict[str, Any]]) -> dict[str, list[int]]:
        """Every URL warmed and its body lengths (see the module's warm_and_measure)."""
        return warm_and_measure(self, get)

    def metadata(self) -> dict[str, Any]:
        """The project's part of the results' metadata (project.json)."""
        return self.record

    def deploy_vars(self, mode: str, config: dict[str, object]) -> dict[str, object]:
        """The playbook's extra variables: the built-in's plus the project file."""
        extra = {"project_urls": " ".join(self.extra_urls)} if self.extra_urls else {}
        return {"mode": mode, **config, "project": self.project_file, **extra}

    def endpoint(self, scenario: str, view: str, mode: str) -> Endpoint:
        """The URL named ``scenario`` (the same in both modes)."""
        if scenario not in self.urls:
            raise TargetError(
                f"the project has no URL named {scenario!r}: its URLs are {', '.join(self.urls)}"
            )
        return Endpoint(scenario, self.urls[scenario])

    def check_health(self, answer: dict[str, Any]) -> Deployed:
        """The harness's health path of the project: this project, a known mode."""
        if "error" in answer or answer.get("status") != 200 or "json" not in answer:
            raise TargetError(
                f"project at {self.health_path} failed its health check "
                f"({answer.get('error') or answer.get('status')}): deploy it first "
                "(ansible-playbook playbooks/deploy.yml -e mode=asgi "
                f"-e project={self.project_file})"
            )
        body = answer["json"]
        if body.get("target") != "project" or body.get("mode") not in self.modes:
            raise TargetError(f"{self.health_path} is not the harness's project entry point")
        served = (body.get("project") or {}).get("name")
        if served != self.record["name"]:
            raise TargetError(
                f"the host serves project {served!r}, not {self.record['name']!r}: redeploy"
            )
        return Deployed(mode=body["mode"], serving=body.get("serving") or {}, health=body)

    def check_page(self, endpoint: Endpoint, answer: dict[str, Any], routes: set[str]) -> int:
        """Any 2xx; a 404/500 stops the run with the first lines of the error page."""
        status = answer.get("status")
        if not isinstance(status, int) or not 200 <= status < 300:
            first = " | ".join(first_lines(str(answer.get("body") or answer.get("error") or "")))
            raise TargetError(
                f"URL {endpoint.scenario} ({endpoint.path}) answered {status}, not 2xx: {first}"
            )
        return int(answer["length"])


def first_lines(text: str, count: int = 8) -> list[str]:
    """The first non-empty lines of an error page, tags stripped."""
    import re

    plain = re.sub(r"<[^>]+>", " ", text)
    return [line.strip() for line in plain.splitlines() if line.strip()][:count]


def close_enough(a: int, b: int) -> bool:
    """Whether two body lengths are the same page within the tolerance."""
    return abs(a - b) <= max(LENGTH_SLACK, LENGTH_TOLERANCE * max(a, b))


def check_lengths(lengths: dict[str, dict[str, list[int]]]) -> list[str]:
    """Notes on lengths (URL name -> mode -> lengths seen) that differ beyond the
    tolerance, between requests of one mode or between modes; [] when all agree."""
    notes = []
    for name, by_mode in sorted(lengths.items()):
        for mode, seen in sorted(by_mode.items()):
            if seen and not close_enough(min(seen), max(seen)):
                notes.append(f"{name}: {mode} lengths vary from {min(seen)} to {max(seen)} bytes")
        firsts = {mode: seen[0] for mode, seen in by_mode.items() if seen}
        if len(firsts) > 1 and not close_enough(min(firsts.values()), max(firsts.values())):
            shown = ", ".join(f"{mode} {size}" for mode, size in sorted(firsts.items()))
            notes.append(f"{name}: the modes answer different sizes ({shown} bytes)")
    return notes


def header(record: dict[str, Any], health: dict[str, Any] | None = None) -> list[str]:
    """The report header's lines for a project run (Markdown)."""
    versions = (health or {}).get("versions") or {}
    commit = record.get("commit") or "not a git checkout"
    if (record.get("source") or {}).get("dirty"):
        commit += " (with uncommitted changes)"
    lines = [
        f"**Project:** {record['name']} ({(record.get('source') or {}).get('origin', '?')})",
        f"**Commit:** {commit}",
        f"**Django:** {versions.get('django') or record.get('django')}, "
        f"**Python:** {versions.get('python') or record.get('python')}",
        f"**Settings overrides:** {record.get('settings_overrides') or 'none'}",
    ]
    debug = (health or {}).get("debug")
    if debug is None:
        debug = record.get("debug_override") is not False
    if debug:
        lines.append(
            "> **Warning:** the project runs with DEBUG on (as its settings say): Django "
            "keeps every query in memory and serves slower pages; set DEBUG = false in "
            "[settings_overrides] to measure it as deployed."
        )
    return lines


def warm_and_measure(
    target: ProjectTarget, get: Callable[[str], dict[str, Any]], count: int = WARM_REQUESTS
) -> dict[str, list[int]]:
    """GET every URL ``count`` times (the first hits warm caches); return each URL's
    body lengths; TargetError on the first answer that is not 2xx."""
    lengths: dict[str, list[int]] = {}
    for name in target.urls:
        endpoint = target.endpoint(name, "original", "asgi")
        lengths[name] = [
            target.check_page(endpoint, get(endpoint.path), set()) for _ in range(count)
        ]
    return lengths


def report_lines(metadata: dict[str, Any]) -> list[str]:
    """The report's project header for a run's metadata ([] when the run measured the
    built-in app): project, commit, versions, overrides, DEBUG warning, page sizes."""
    modes = metadata.get("modes") or {}
    found = [(mode, m) for mode, m in sorted(modes.items()) if m.get("project")]
    if not found:
        return []
    record = found[0][1]["project"]
    health = found[0][1].get("project_health") or {}
    debug_on = any((m.get("project_health") or {}).get("debug") for _, m in found)
    lines = [
        "## Project",
        "",
        *(f"{line}  " for line in header(record, {**health, "debug": debug_on})),
    ]
    lengths: dict[str, dict[str, list[int]]] = {}
    for mode, meta in found:
        for name, seen in (meta.get("page_lengths") or {}).items():
            lengths.setdefault(name, {})[mode] = list(seen)
    sizes = [
        f"{name} {record['urls'].get(name, '')}: "
        + ", ".join(f"{mode} {seen[0]} bytes" for mode, seen in sorted(by_mode.items()) if seen)
        for name, by_mode in sorted(lengths.items())
    ]
    lines += ["", "Page sizes at validation: " + ("; ".join(sizes) or "not recorded") + "."]
    notes = check_lengths(lengths)
    if notes:
        lines += ["", "> **Sizes differ:** " + "; ".join(notes) + "."]
    return [*lines, ""]
