"""The built-in Django app of app/: scenarios users, io and plain, served by Granian."""

from __future__ import annotations

from typing import Any, ClassVar

from runner.targets.base import Deployed, Endpoint, Target, TargetError

EXPECTED_USERS = 1000


class BuiltinApp(Target):
    """app/ deployed by playbooks/deploy.yml; the health page names its mode, serving
    config, middleware, routes and user count."""

    name: ClassVar[str] = "builtin"
    scenarios: ClassVar[tuple[str, ...]] = ("users", "io", "plain")
    views: ClassVar[tuple[str, ...]] = ("original", "sync", "async", "async-wrapped")

    def endpoint(self, scenario: str, view: str, mode: str) -> Endpoint:
        """'original' pairs the mode's own style (ASGI -> /async/, WSGI -> /sync/)."""
        from runner.plan import PlanError

        if view == "original":
            if scenario == "users":
                path = "/async/" if mode == "asgi" else "/sync/"
                return Endpoint(scenario, path, rows=EXPECTED_USERS)
            view = "async" if mode == "asgi" else "sync"
        if view == "async-wrapped" and scenario != "users":
            raise PlanError(f"view async-wrapped exists only for scenario users, not {scenario}")
        rows = EXPECTED_USERS if scenario == "users" else None
        return Endpoint(scenario, f"/{scenario}/{view}/", rows=rows)

    def check_health(self, answer: dict[str, Any]) -> Deployed:
        """Health 200 with JSON, a harness mode, the 1000 users loaded."""
        if "error" in answer or answer.get("status") != 200 or "json" not in answer:
            raise TargetError(
                f"app at {self.health_path} failed its health check "
                f"({answer.get('error') or answer.get('status')}): deploy it first "
                "(ansible-playbook playbooks/deploy.yml -e mode=asgi)"
            )
        body = answer["json"]
        if body.get("mode") not in self.modes:
            raise TargetError(f"app reports mode {body.get('mode')!r}: not a harness app")
        if body.get("users") != EXPECTED_USERS:
            raise TargetError(
                f"app has {body.get('users')} users, not {EXPECTED_USERS}: "
                "redeploy to load the data"
            )
        # The middleware stack is part of the serving config: a sweep over it must not
        # look like repetitions of one configuration (to the report or to --resume).
        serving = {**(body.get("serving") or {}), "middleware": body.get("middleware")}
        return Deployed(mode=body["mode"], serving=serving, health=body)
