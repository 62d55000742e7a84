"""The Target interface: what is deployed, which URLs are measured and what each must
answer before anything is measured (TechEmpower-style validation).

A target knows its playbook and deploy variables, maps a (scenario, view, mode) to an
`Endpoint`, and judges the probe's answers: the health page (`check_health`, which also
says which mode and serving configuration is running) and each measured page
(`check_page`, which returns the body length every measured response must then have).
The Session does the probing (runner/session.py); a target never opens a connection.

Adding a target is one module with a subclass and one line in runner/targets/__init__.py.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, ClassVar


class TargetError(Exception):
    """The deployed target is wrong or broken (the message says what and how to fix it)."""


@dataclass(frozen=True)
class Endpoint:
    """One measured URL path and what its responses must be."""

    scenario: str
    path: str
    status: int = 200
    rows: int | None = None  # rows of the page's HTML table, when the target knows them

    @property
    def key(self) -> str:
        """A file-name-safe form of the path (for run folders)."""
        return self.path.strip("/").replace("/", "_")


@dataclass
class Deployed:
    """What verification found running: mode, serving config, the health answer and the
    body length of every page checked (path -> bytes)."""

    mode: str
    serving: dict[str, Any]
    health: dict[str, Any]
    lengths: dict[str, int] = field(default_factory=dict)


class Target(ABC):
    """A system under test. Subclasses set `name` (the --target value), `scenarios`,
    `views`, and `playbook` (under playbooks/)."""

    name: ClassVar[str]
    scenarios: ClassVar[tuple[str, ...]]
    views: ClassVar[tuple[str, ...]] = ("original",)
    modes: ClassVar[tuple[str, ...]] = ("asgi", "wsgi")
    playbook: ClassVar[str] = "deploy.yml"
    health_path: ClassVar[str] = "/health/"

    def deploy_vars(self, mode: str, config: dict[str, object]) -> dict[str, object]:
        """The playbook's extra variables for `mode` with serving `config`."""
        return {"mode": mode, **config}

    @abstractmethod
    def endpoint(self, scenario: str, view: str, mode: str) -> Endpoint:
        """The endpoint measured for `scenario` in `view` style under `mode`; raises
        runner.plan.PlanError when that combination does not exist."""

    @abstractmethod
    def check_health(self, answer: dict[str, Any]) -> Deployed:
        """Judge the probe's answer for `health_path`; raise TargetError when the target
        is not deployed, broken or not this target."""

    def check_page(self, endpoint: Endpoint, answer: dict[str, Any], routes: set[str]) -> int:
        """Judge the probe's answer for one measured page; return its body length.
        `routes` are the paths the health page says it serves (empty: unknown)."""
        if routes and endpoint.path not in routes:
            raise TargetError(f"app does not serve {endpoint.path} (its routes: {sorted(routes)})")
        if answer.get("status") != endpoint.status:
            raise TargetError(
                f"{endpoint.path} answered {answer.get('status') or answer.get('error')}"
            )
        if endpoint.rows is not None and answer.get("rows") != endpoint.rows:
            raise TargetError(
                f"{endpoint.path} shows {answer.get('rows')} rows, not {endpoint.rows}"
            )
        return int(answer["length"])
