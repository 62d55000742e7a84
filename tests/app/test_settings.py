"""Settings come from the environment only; each switch read in a fresh interpreter."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from tests.app.conftest import APP_DIR, PYTHON, app_env

PROBE = """
import json, django
django.setup()
from django.conf import settings as s
db = s.DATABASES["default"]
print(json.dumps({
    "debug": s.DEBUG, "key": s.SECRET_KEY, "hosts": s.ALLOWED_HOSTS, "middleware": s.MIDDLEWARE,
    "engine": db["ENGINE"], "name": str(db["NAME"]), "conn_max_age": db["CONN_MAX_AGE"],
    "pool": db.get("OPTIONS", {}).get("pool"),
}))
"""


def _settings(env: dict[str, str]) -> dict:
    env = {**env, "DJANGO_SETTINGS_MODULE": "benchsite.settings", "PYTHONPATH": str(APP_DIR)}
    result = subprocess.run([PYTHON, "-c", PROBE], env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_production_like_defaults(tmp_path: Path) -> None:
    env = app_env(tmp_path, "wsgi", "http://127.0.0.1:9/")
    found = _settings(env)
    assert found["debug"] is False
    assert found["key"] == env["DJANGO_SECRET_KEY"]
    assert found["hosts"] == ["localhost", "127.0.0.1", "[::1]"]
    assert found["engine"] == "django.db.backends.sqlite3"
    assert found["name"] == str(tmp_path / "db.sqlite3")
    assert found["conn_max_age"] == 0
    assert len(found["middleware"]) == 7


def test_debug_switch_and_generated_key(tmp_path: Path) -> None:
    env = app_env(tmp_path, "asgi", "http://127.0.0.1:9/", BENCH_DEBUG="1")
    del env["DJANGO_SECRET_KEY"]
    first, second = _settings(env), _settings(env)
    assert first["debug"] is True
    assert len(first["key"]) >= 50 and first["key"] != second["key"]


def test_secret_key_file_hosts_postgres_pool_and_middleware(tmp_path: Path) -> None:
    key_file = tmp_path / "secret_key"
    key_file.write_text("from-a-file\n")
    env = app_env(
        tmp_path,
        "asgi",
        "http://127.0.0.1:9/",
        DJANGO_SECRET_KEY_FILE=str(key_file),
        DJANGO_ALLOWED_HOSTS="198.18.0.10, localhost",
        DATABASE_URL="postgres://bench@198.18.0.10:5432/bench",
        BENCH_MIDDLEWARE="async",
    )
    del env["DJANGO_SECRET_KEY"]
    found = _settings(env)
    assert found["key"] == "from-a-file"
    assert found["hosts"] == ["198.18.0.10", "localhost"]
    assert found["engine"] == "django.db.backends.postgresql"
    assert found["conn_max_age"] == 0
    assert found["pool"] == {"min_size": 4, "max_size": 4, "timeout": 30}
    assert found["middleware"] == ["bench.middleware.SecurityHeadersMiddleware"]


def _postgres_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    return app_env(
        tmp_path,
        "wsgi",
        "http://127.0.0.1:9/",
        DATABASE_URL="postgres://bench@198.18.0.10:5432/bench",
        **extra,
    )


def test_the_production_mistake_no_pool_and_persistent_connections(tmp_path: Path) -> None:
    found = _settings(_postgres_env(tmp_path, BENCH_DB_POOL="0", BENCH_CONN_MAX_AGE="60"))
    assert found["conn_max_age"] == 60
    assert found["pool"] is None


def test_pool_sizes_come_from_the_environment(tmp_path: Path) -> None:
    found = _settings(_postgres_env(tmp_path, BENCH_DB_POOL_MIN="2", BENCH_DB_POOL_MAX="16"))
    assert found["pool"] == {"min_size": 2, "max_size": 16, "timeout": 30}


def _refusal(env: dict[str, str]) -> str:
    env = {**env, "DJANGO_SETTINGS_MODULE": "benchsite.settings", "PYTHONPATH": str(APP_DIR)}
    result = subprocess.run([PYTHON, "-c", PROBE], env=env, capture_output=True, text=True)
    assert result.returncode != 0
    return result.stderr.strip().splitlines()[-1]


def test_bad_connection_settings_are_one_clear_line(tmp_path: Path) -> None:
    negative = _refusal(_postgres_env(tmp_path, BENCH_DB_POOL="0", BENCH_CONN_MAX_AGE="-5"))
    assert "BENCH_CONN_MAX_AGE must be 0 or more seconds (got -5)" in negative
    with_pool = _refusal(_postgres_env(tmp_path, BENCH_CONN_MAX_AGE="60"))
    assert "BENCH_CONN_MAX_AGE=60 needs BENCH_DB_POOL=0" in with_pool
    inverted = _refusal(_postgres_env(tmp_path, BENCH_DB_POOL_MIN="8", BENCH_DB_POOL_MAX="2"))
    assert "BENCH_DB_POOL_MAX=2 is below BENCH_DB_POOL_MIN=8" in inverted
