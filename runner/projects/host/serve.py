"""Exec Granian on the project: ``python -m abw_project.serve [--print | --exec]``.

The serving rules are the built-in app's (``abw_project.serving`` is a copy of
``benchsite/serving.py``); only the target, the working folder (the folder holding
manage.py, this process's) and the static routes differ.
"""

from __future__ import annotations

import os
import shlex
import sys

from abw_project import check, serving
from abw_project.env import ConfigError


def project_argv(config: serving.ServingConfig, routes: list[list[str]], workdir: str) -> list[str]:
    """Granian's command line for the project in ``config.mode``."""
    argv = serving.granian_argv(config)
    cut = argv.index("--working-dir")
    argv = argv[:cut]
    for route, folder in routes:
        argv += ["--static-path-route", route, "--static-path-mount", folder]
    return [*argv, "--working-dir", workdir, f"abw_project.{config.mode}:application"]


def main(args: list[str] | None = None) -> None:
    """Entry point: print the command (default) or exec it (``--exec``)."""
    args = sys.argv[1:] if args is None else args
    try:
        config = serving.ServingConfig.from_env(os.environ)
    except ConfigError as error:
        print(f"serve: error: {error}", file=sys.stderr)
        sys.exit(2)
    try:
        check.setup()
        routes = check.static_routes()
    except Exception:  # the project's settings: their last line says what is wrong
        print(f"serve: error: the settings do not load: {check.last_error_line()}", file=sys.stderr)
        sys.exit(2)
    argv = project_argv(config, routes, os.getcwd())
    if "--exec" not in args:
        print(shlex.join(argv))
        return
    environ = {**os.environ, **config.to_env(), "DJANGO_SETTINGS_MODULE": check.SETTINGS_MODULE}
    sys.stdout.flush()
    sys.stderr.flush()
    os.execvpe(argv[0], argv, environ)


if __name__ == "__main__":
    main()
