"""Serving configurations `fab compare` sweeps: lists of middleware stacks, event loops,
workers, blocking threads and backpressure turned into one deploy per configuration.

Pure: no host is touched here. Two rules follow Granian's own: the event loop only means
something under ASGI (WSGI gets one configuration whatever --loop lists), and more than
one blocking thread is refused under ASGI (such values are dropped for ASGI, and said).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from runner.plan import MODES, PlanError

MIDDLEWARE = ("stock", "minimal", "async")
LOOPS = ("auto", "asyncio", "uvloop", "rloop")


@dataclass(frozen=True)
class Sweep:
    """The lists to sweep; an empty list means "the deploy's default", not swept."""

    middleware: tuple[str, ...] = ()
    loop: tuple[str, ...] = ()
    workers: tuple[int, ...] = ()
    blocking_threads: tuple[int, ...] = ()
    backpressure: tuple[int, ...] = ()

    def is_empty(self) -> bool:
        """Whether nothing is swept (one deploy per mode, as before)."""
        return not any(
            (self.middleware, self.loop, self.workers, self.blocking_threads, self.backpressure)
        )


def _choices(text: str, what: str, valid: tuple[str, ...]) -> tuple[str, ...]:
    values = tuple(v.strip() for v in str(text).split(",") if v.strip())
    for value in values:
        if value not in valid:
            raise PlanError(f"--{what} value {value!r} is unknown: choose from {', '.join(valid)}")
    return tuple(dict.fromkeys(values))


def _counts(text: str, what: str) -> tuple[int, ...]:
    try:
        values = tuple(int(v) for v in str(text).split(",") if v.strip())
    except ValueError:
        raise PlanError(f"--{what} takes whole numbers separated by commas, not {text!r}") from None
    for value in values:
        if value < 1:
            raise PlanError(f"--{what} must be at least 1, not {value}")
    return tuple(dict.fromkeys(values))


def parse_sweep(
    middleware: str = "",
    loop: str = "",
    workers: str = "",
    blocking_threads: str = "",
    backpressure: str = "",
) -> Sweep:
    """Check the comma lists of the command line; errors name the bad option."""
    return Sweep(
        middleware=_choices(middleware, "middleware", MIDDLEWARE),
        loop=_choices(loop, "loop", LOOPS),
        workers=_counts(workers, "workers"),
        blocking_threads=_counts(blocking_threads, "blocking-threads"),
        backpressure=_counts(backpressure, "backpressure"),
    )


def deployments(
    modes: list[str], sweep: Sweep, base: dict[str, object] | None = None
) -> tuple[list[tuple[str, dict[str, object]]], list[str]]:
    """Every (mode, deploy variables) to measure, in order, and notes on what was dropped."""
    notes: list[str] = []
    out: list[tuple[str, dict[str, object]]] = []
    for mode in modes:
        if mode not in MODES:
            raise PlanError(f"unknown mode {mode!r}: choose from {', '.join(MODES)}")
        threads: tuple[int | None, ...] = sweep.blocking_threads or (None,)
        if mode == "asgi" and sweep.blocking_threads:
            kept = tuple(t for t in sweep.blocking_threads if t == 1)
            if len(kept) < len(sweep.blocking_threads):
                notes.append("ASGI takes at most 1 blocking thread: larger values only for WSGI")
            threads = kept or (None,)
        loops: tuple[str | None, ...] = sweep.loop if mode == "asgi" and sweep.loop else (None,)
        if mode == "wsgi" and len(sweep.loop) > 1:
            notes.append("the event loop is an ASGI setting: WSGI is deployed once per config")
        dims = itertools.product(
            sweep.middleware or (None,),
            loops,
            sweep.workers or (None,),
            threads,
            sweep.backpressure or (None,),
        )
        for mw, lp, wk, bt, bp in dims:
            extra = dict(base or {})
            for key, value in (
                ("middleware", mw),
                ("event_loop", lp),
                ("workers", wk),
                ("blocking_threads", bt),
                ("backpressure", bp),
            ):
                if value is not None:
                    extra[key] = value
            out.append((mode, extra))
    return out, list(dict.fromkeys(notes))
