"""The one place that turns a serving configuration into Granian's command line.

``BENCH_MODE`` decides the interface and nothing may contradict it:
``asgi`` -> ``--interface asginl benchsite.asgi:application`` (Django does not speak the
ASGI lifespan protocol, so the no-lifespan flavour, as the original used);
``wsgi`` -> ``--interface wsgi benchsite.wsgi:application``. Both run with
``--working-dir`` set to the app folder.

Settings (environment ``BENCH_*``, or the CLI flags, which win) and their defaults. A
value left unset is not passed, so Granian's own default applies (checked against
``granian --help`` and ``granian/server/common.py`` of Granian 2.8.7):

==================  ======================  ===============================================
setting             env                     default
==================  ======================  ===============================================
mode                BENCH_MODE              required: asgi | wsgi
workers             BENCH_WORKERS           CPUs this process may use (sched_getaffinity);
                                            Granian's own default would be 1
blocking_threads    BENCH_BLOCKING_THREADS  Granian: 1 under ASGI; backpressure // 2 under
                                            WSGI (512 with 1 worker, 256 with 2...)
runtime_threads     BENCH_RUNTIME_THREADS   Granian: 1 (Rust I/O threads, per worker)
backpressure        BENCH_BACKPRESSURE      Granian: backlog (1024) // workers; it counts
                                            connections, keep-alive ones included
loop                BENCH_LOOP              Granian: auto (rloop, else uvloop, else asyncio)
host                BENCH_HOST              127.0.0.1
port                BENCH_PORT              8000
preset              BENCH_PRESET            none; ``original`` = the original study's
                                            "4 workers and 6 threads"
metrics_port        BENCH_METRICS_PORT      none (no exporter); a port turns on Granian's
                                            Prometheus exporter on ``host``:port
==================  ======================  ===============================================

Granian's metrics (Granian >= 2.7; names and units in its README, "Metrics"): with a
metrics port the command gets ``--metrics --metrics-address <host> --metrics-port <port>
--metrics-scrape-interval 1``. The exporter shows what the workers last sent it, and the
default 15 s interval would make readings taken around a repetition stale; 1 s is
Granian's minimum. The port must differ from the app's.

Threads differ by interface: under WSGI the blocking threads run the Python app (one
request each), under ASGI the single blocking thread runs the event loop and Granian
refuses more than one ("Blocking threads > 1 is not supported on ASGI"). The original's
``--threads`` no longer exists in Granian 2.x. So preset ``original`` means 4 workers
with 6 blocking threads under WSGI, and 4 workers with 1 blocking thread under ASGI.
Explicit settings override a preset's values.

CLI::

    python -m benchsite.serving [--print | --json | --exec] [--migrate]
                                [--mode M] [--host H] [--port P] [--workers N] ...

``--print`` shows the shell-quoted command, ``--json`` prints
``{"argv": [...], "config": {...}, "env": {...}}``; ``--exec`` checks the database (and
with ``--migrate`` runs ``migrate --noinput``) then replaces itself with Granian, so a
supervisor's signals reach Granian directly. ``--migrate`` alone checks the database,
migrates it and exits (a deploy runs it once, before it starts its servers). With
``--exec`` and no secret key set (and DEBUG off), an ephemeral key is generated for
this server's lifetime, shared by all of its workers, and a note says so; deployments
pass ``DJANGO_SECRET_KEY_FILE`` instead.
Any bad value: ``serving: error: <what is wrong and how to fix it>``, exit status 2.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib.util
import json
import os
import secrets
import shlex
import sys
from collections.abc import Mapping
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make ``benchsite`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchsite.env import ConfigError, read_choice, read_int, read_mode

APP_DIR = Path(__file__).resolve().parent.parent
INTERFACES = {"asgi": "asginl", "wsgi": "wsgi"}
TARGETS = {"asgi": "benchsite.asgi:application", "wsgi": "benchsite.wsgi:application"}
LOOPS = ("auto", "asyncio", "uvloop", "rloop")
PRESETS = ("none", "original")
MAX_WORKERS = 256
MAX_BLOCKING_THREADS = 4096
MAX_RUNTIME_THREADS = 256
MAX_BACKPRESSURE = 1_000_000
METRICS_SCRAPE_INTERVAL_S = 1

# Environment variable of each field, in the order the CLI and JSON show them.
ENV_NAMES = {
    "mode": "BENCH_MODE",
    "workers": "BENCH_WORKERS",
    "blocking_threads": "BENCH_BLOCKING_THREADS",
    "runtime_threads": "BENCH_RUNTIME_THREADS",
    "backpressure": "BENCH_BACKPRESSURE",
    "loop": "BENCH_LOOP",
    "host": "BENCH_HOST",
    "port": "BENCH_PORT",
    "preset": "BENCH_PRESET",
    "metrics_port": "BENCH_METRICS_PORT",
}


def available_cpus() -> int:
    """CPUs this process may run on (its affinity mask, which honours cpusets)."""
    return len(os.sched_getaffinity(0))


@dataclasses.dataclass(frozen=True)
class ServingConfig:
    """How Granian serves the app. ``None`` means "Granian's own default"."""

    mode: str
    workers: int
    blocking_threads: int | None = None
    runtime_threads: int | None = None
    backpressure: int | None = None
    loop: str | None = None
    host: str = "127.0.0.1"
    port: int = 8000
    preset: str = "none"
    metrics_port: int | None = None

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> ServingConfig:
        """Read the ``BENCH_*`` variables, apply the preset, and validate.

        Raises ConfigError with a one-line message naming the variable to fix.
        """
        mode = read_mode(environ)
        preset = read_choice(environ, "BENCH_PRESET", PRESETS, "none")
        workers = read_int(environ, "BENCH_WORKERS", None, 1, MAX_WORKERS)
        blocking = read_int(environ, "BENCH_BLOCKING_THREADS", None, 1, MAX_BLOCKING_THREADS)
        if preset == "original":
            workers = 4 if workers is None else workers
            if blocking is None:
                blocking = 6 if mode == "wsgi" else 1
        loop = environ.get("BENCH_LOOP", "").strip().lower() or None
        config = cls(
            mode=mode,
            workers=available_cpus() if workers is None else workers,
            blocking_threads=blocking,
            runtime_threads=read_int(
                environ, "BENCH_RUNTIME_THREADS", None, 1, MAX_RUNTIME_THREADS
            ),
            backpressure=read_int(environ, "BENCH_BACKPRESSURE", None, 1, MAX_BACKPRESSURE),
            loop=loop,
            host=environ.get("BENCH_HOST", "").strip() or "127.0.0.1",
            port=read_int(environ, "BENCH_PORT", 8000, 1, 65535) or 8000,
            preset=preset,
            metrics_port=read_int(environ, "BENCH_METRICS_PORT", None, 1, 65535),
        )
        config.validate()
        return config

    def validate(self) -> None:
        """Raise ConfigError (one line: what is wrong, how to fix it) on a bad value."""
        if self.mode not in INTERFACES:
            raise ConfigError(f"BENCH_MODE must be 'asgi' or 'wsgi' (got {self.mode!r})")
        _check_range("BENCH_WORKERS", self.workers, 1, MAX_WORKERS)
        _check_range("BENCH_BLOCKING_THREADS", self.blocking_threads, 1, MAX_BLOCKING_THREADS)
        _check_range("BENCH_RUNTIME_THREADS", self.runtime_threads, 1, MAX_RUNTIME_THREADS)
        _check_range("BENCH_BACKPRESSURE", self.backpressure, 1, MAX_BACKPRESSURE)
        _check_range("BENCH_PORT", self.port, 1, 65535)
        _check_range("BENCH_METRICS_PORT", self.metrics_port, 1, 65535)
        if self.metrics_port == self.port:
            raise ConfigError(
                f"BENCH_METRICS_PORT={self.metrics_port} is the app's own port: "
                "choose another port for Granian's metrics exporter"
            )
        if self.mode == "asgi" and (self.blocking_threads or 1) > 1:
            raise ConfigError(
                f"BENCH_BLOCKING_THREADS={self.blocking_threads} needs BENCH_MODE=wsgi: under "
                "ASGI Granian's one blocking thread runs the event loop and it refuses more; "
                "unset it or set it to 1"
            )
        if self.loop is not None:
            if self.loop not in LOOPS:
                raise ConfigError(
                    f"BENCH_LOOP must be one of {'|'.join(LOOPS)} (got {self.loop!r})"
                )
            if self.loop in ("uvloop", "rloop") and importlib.util.find_spec(self.loop) is None:
                raise ConfigError(
                    f"BENCH_LOOP={self.loop} but the {self.loop} package is not installed here; "
                    "install it or choose asyncio"
                )
        if self.preset not in PRESETS:
            raise ConfigError(
                f"BENCH_PRESET must be one of {'|'.join(PRESETS)} (got {self.preset!r})"
            )
        if not self.host or any(c.isspace() for c in self.host):
            raise ConfigError(f"BENCH_HOST must be an address to bind to (got {self.host!r})")

    def as_dict(self) -> dict[str, object]:
        """The configuration as plain JSON-able values."""
        return dataclasses.asdict(self)

    def to_env(self) -> dict[str, str]:
        """The ``BENCH_*`` variables that reproduce this configuration (unset ones omitted)."""
        values = self.as_dict()
        return {ENV_NAMES[k]: str(v) for k, v in values.items() if v is not None}


def _check_range(name: str, value: int | None, low: int, high: int) -> None:
    if value is not None and not low <= value <= high:
        raise ConfigError(f"{name} must be between {low} and {high} (got {value})")


def granian_executable() -> list[str]:
    """Granian from the same environment as this Python (its script, else ``-m``)."""
    script = Path(os.path.abspath(sys.executable)).parent / "granian"
    return [str(script)] if script.exists() else [sys.executable, "-m", "granian"]


def granian_argv(config: ServingConfig) -> list[str]:
    """The exact Granian 2.x command line that serves the app as ``config`` says."""
    config.validate()
    argv = [
        *granian_executable(),
        "--interface",
        INTERFACES[config.mode],
        "--host",
        config.host,
        "--port",
        str(config.port),
        "--workers",
        str(config.workers),
    ]
    optional = {
        "--blocking-threads": config.blocking_threads,
        "--runtime-threads": config.runtime_threads,
        "--backpressure": config.backpressure,
        "--loop": config.loop,
    }
    for flag, value in optional.items():
        if value is not None:
            argv += [flag, str(value)]
    if config.metrics_port is not None:
        argv += [
            "--metrics",
            "--metrics-address",
            config.host,
            "--metrics-port",
            str(config.metrics_port),
            "--metrics-scrape-interval",
            str(METRICS_SCRAPE_INTERVAL_S),
        ]
    argv += ["--working-dir", str(APP_DIR), TARGETS[config.mode]]
    return argv


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="serving",
        description="Build (and optionally run) the Granian command line that serves the app.",
    )
    action = parser.add_mutually_exclusive_group()
    action.add_argument("--print", action="store_true", help="print the shell-quoted command")
    action.add_argument("--json", action="store_true", help="print argv, config and env as JSON")
    action.add_argument("--exec", action="store_true", help="check the database, then exec Granian")
    parser.add_argument(
        "--migrate", action="store_true", help="migrate first (alone: migrate, then exit)"
    )
    for field, env in ENV_NAMES.items():
        parser.add_argument(f"--{field.replace('_', '-')}", dest=field, help=f"overrides {env}")
    return parser


def _fail(message: str) -> None:
    print(f"serving: error: {message}", file=sys.stderr)
    sys.exit(2)


def _prepare_django(environ: dict[str, str], migrate: bool) -> None:
    """Load the settings, check the database answers, and migrate when asked."""
    os.environ.clear()
    os.environ.update(environ)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "benchsite.settings")
    sys.path.insert(0, str(APP_DIR))
    import django
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import call_command
    from django.db import DatabaseError, connection

    try:
        django.setup()
        if connection.vendor == "postgresql":
            # Straight to the server, not through the pool (which would retry for 30 s).
            params = connection.get_connection_params()
            connection.Database.connect(**params, connect_timeout=5).close()
        else:
            connection.ensure_connection()
        if migrate:
            call_command("migrate", interactive=False, verbosity=1)
        else:
            from django.db.migrations.executor import MigrationExecutor

            executor = MigrationExecutor(connection)
            if plan := executor.migration_plan(executor.loader.graph.leaf_nodes()):
                _fail(
                    f"the database has {len(plan)} unapplied migrations "
                    f"(first: {plan[0][0]}): add --migrate or run manage.py migrate"
                )
        connection.close()
    except ImproperlyConfigured as error:
        _fail(str(error))
    except (DatabaseError, connection.Database.Error, OSError) as error:
        first_line = (
            str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        )
        _fail(
            f"database {connection.vendor} unreachable or failing: {first_line}; check DATABASE_URL"
        )


def main(argv: list[str] | None = None) -> None:
    """Entry point of ``python -m benchsite.serving``."""
    args = _parser().parse_args(argv)
    environ = dict(os.environ)
    for field, env in ENV_NAMES.items():
        value = getattr(args, field)
        if value is not None:
            environ[env] = value
    try:
        config = ServingConfig.from_env(environ)
        command = granian_argv(config)
    except ConfigError as error:
        _fail(str(error))
    environ.update(config.to_env())

    if args.json:
        print(json.dumps({"argv": command, "config": config.as_dict(), "env": config.to_env()}))
    elif args.exec or (args.migrate and not args.print):
        if not (environ.get("DJANGO_SECRET_KEY") or environ.get("DJANGO_SECRET_KEY_FILE")):
            debug = environ.get("BENCH_DEBUG", "0").strip() in ("1", "true", "yes", "on")
            if args.exec and not debug:
                print(
                    "serving: note: no DJANGO_SECRET_KEY set; using an ephemeral one",
                    file=sys.stderr,
                )
            environ["DJANGO_SECRET_KEY"] = secrets.token_urlsafe(50)
        _prepare_django(environ, args.migrate)
        if not args.exec:
            return
        sys.stdout.flush()
        sys.stderr.flush()
        os.execvpe(command[0], command, environ)
    else:
        print(shlex.join(command))


if __name__ == "__main__":
    main()
