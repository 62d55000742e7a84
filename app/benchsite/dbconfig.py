"""How the app holds its database connections: pool or not, and for how long.

Kept free of Django imports (like ``env.py``) so the deploy's checks and the health route
read the same rules. See ``settings.py`` for what each variable is for.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

from benchsite.env import ConfigError, read_bool, read_int

MAX_CONN_MAX_AGE = 86_400
MAX_POOL_SIZE = 1_000
POOL_TIMEOUT_S = 30


@dataclasses.dataclass(frozen=True)
class DbConnections:
    """Connection handling: Django's ``CONN_MAX_AGE`` and the psycopg pool's sizes."""

    pool: bool = True
    pool_min: int = 4
    pool_max: int = 4
    conn_max_age: int = 0

    def pool_options(self) -> dict[str, int]:
        """The ``OPTIONS["pool"]`` mapping Django passes to ``psycopg_pool.ConnectionPool``."""
        return {"min_size": self.pool_min, "max_size": self.pool_max, "timeout": POOL_TIMEOUT_S}

    def as_dict(self) -> dict[str, object]:
        """What the health route reports (and the runner stores with every sample)."""
        return {
            "conn_max_age": self.conn_max_age,
            "pool": self.pool_options() if self.pool else None,
        }


def read_db_connections(environ: Mapping[str, str]) -> DbConnections:
    """Read ``BENCH_DB_POOL``, ``BENCH_DB_POOL_MIN/MAX`` and ``BENCH_CONN_MAX_AGE``.

    Raises ConfigError with one line naming the variable to fix.
    """
    pool = read_bool(environ, "BENCH_DB_POOL", default=True)
    raw_age = environ.get("BENCH_CONN_MAX_AGE", "").strip()
    if raw_age.lstrip("-").isdigit() and int(raw_age) < 0:
        raise ConfigError(
            f"BENCH_CONN_MAX_AGE must be 0 or more seconds (got {raw_age}): "
            "0 closes each connection after its request, 60 keeps it a minute"
        )
    conn_max_age = read_int(environ, "BENCH_CONN_MAX_AGE", 0, 0, MAX_CONN_MAX_AGE) or 0
    pool_min = read_int(environ, "BENCH_DB_POOL_MIN", 4, 0, MAX_POOL_SIZE)
    pool_max = read_int(environ, "BENCH_DB_POOL_MAX", max(pool_min or 0, 4), 1, MAX_POOL_SIZE)
    assert pool_min is not None and pool_max is not None
    if pool_max < pool_min:
        raise ConfigError(
            f"BENCH_DB_POOL_MAX={pool_max} is below BENCH_DB_POOL_MIN={pool_min}: raise the max"
        )
    if pool and conn_max_age:
        raise ConfigError(
            f"BENCH_CONN_MAX_AGE={conn_max_age} needs BENCH_DB_POOL=0: Django refuses "
            "persistent connections with a pool (set db_pool=off, or conn_max_age=0)"
        )
    return DbConnections(pool, pool_min, pool_max, conn_max_age)
