"""The 1000 users: generated deterministically, loaded and unloaded by the migration."""

from __future__ import annotations

import importlib.util
import json
import subprocess
from pathlib import Path

from tests.app.conftest import APP_DIR, PYTHON, app_env

DATA = APP_DIR / "bench" / "data"
KEYS = {
    "first_name",
    "email",
    "is_active",
    "is_staff",
    "is_superuser",
    "last_name",
    "password",
    "username",
    "date_joined",
}


def _generator():
    spec = importlib.util.spec_from_file_location("generate_users", DATA / "generate_users.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_committed_file_is_what_the_generator_makes() -> None:
    committed = json.loads((DATA / "users.json").read_text())
    assert committed == _generator().generate()


def test_the_file_has_the_originals_shape() -> None:
    users = json.loads((DATA / "users.json").read_text())
    assert len(users) == 1000
    assert all(set(user) == KEYS for user in users)
    assert len({user["username"] for user in users}) == 1000
    assert sum(user["is_staff"] for user in users) == 487
    assert not any(user["is_superuser"] for user in users)
    assert all(user["password"].startswith("pbkdf2_sha256$") for user in users)


def _manage(env: dict[str, str], *args: str) -> str:
    """Run manage.py; return the last line it printed."""
    result = subprocess.run(
        [PYTHON, "manage.py", *args], cwd=APP_DIR, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


def test_migration_loads_hashed_users_and_reverses(tmp_path: Path) -> None:
    env = app_env(tmp_path, "wsgi", "http://127.0.0.1:9/")
    probe = (
        "from django.contrib.auth.models import User;"
        "from django.contrib.auth.hashers import identify_hasher;"
        "users = list(User.objects.all());"
        "[identify_hasher(u.password) for u in users];"
        "print(len(users), sum(u.is_staff for u in users))"
    )
    _manage(env, "migrate", "--noinput")
    assert _manage(env, "shell", "-c", probe).split() == ["1000", "487"]
    _manage(env, "migrate", "bench", "zero", "--noinput")
    assert _manage(env, "shell", "-c", probe).split() == ["0", "0"]
    _manage(env, "migrate", "bench", "--noinput")
    assert _manage(env, "shell", "-c", probe).split() == ["1000", "487"]
