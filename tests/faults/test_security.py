"""Secrets and exposure: no private key, Django secret key file or Terraform state in git
or committable in the tree; every secret generated per stack or per deploy at 0600; the
app listening on its host's private address only, with DEBUG off unless asked."""

from __future__ import annotations

import re
import stat
import subprocess
from pathlib import Path

import pytest

from tests.fixtures.deploy import Deployer

ROOT = Path(__file__).resolve().parents[2]
# Built from pieces so that this file does not match itself.
PEM_PRIVATE = re.compile(rb"-----BEGIN [A-Z0-9 ]*" + rb"PRIVATE KEY-----")
SECRET_NAMES = re.compile(
    r"(^|/)(id_(rsa|dsa|ecdsa|ed25519)|secret_key|[^/]*\.pem|[^/]*\.key|"
    r"[^/]*\.tfstate(\.[^/]*)?|\.env)$"
)
DJANGO_KEY_ASSIGNED = re.compile(rb"SECRET_KEY\s*=\s*['\"][^'\"]{20,}['\"]")
SKIP_DIRS = {".git", ".venv", "build", "__pycache__", ".ruff_cache", ".pytest_cache"}


def git_files(*args: str) -> list[str]:
    out = subprocess.run(
        ["git", "-C", str(ROOT), "ls-files", "-z", *args], capture_output=True, check=True
    )
    return [p for p in out.stdout.decode().split("\0") if p]


def committable() -> list[str]:
    """Tracked files and untracked ones git would add (not ignored)."""
    return git_files() + git_files("--others", "--exclude-standard")


@pytest.mark.timeout(120)
def test_no_private_key_or_secret_is_in_git_or_committable() -> None:
    found = []
    for rel in committable():
        path = ROOT / rel
        if SECRET_NAMES.search(rel):
            found.append(f"{rel}: a secret by its name")
        if not path.is_file() or path.stat().st_size > 5_000_000:
            continue
        data = path.read_bytes()
        if PEM_PRIVATE.search(data):
            found.append(f"{rel}: a PEM private key")
        if rel.endswith(".py") and DJANGO_KEY_ASSIGNED.search(data):
            found.append(f"{rel}: a hard-coded Django SECRET_KEY")
    assert not found, found


@pytest.mark.timeout(120)
def test_secrets_lying_in_the_tree_are_ignored_by_git() -> None:
    """Terraform state, stack keys and the like may exist in a working tree (a user ran
    `make bench`), but git must ignore each one."""
    candidates = []
    for path in ROOT.rglob("*"):
        parts = set(path.relative_to(ROOT).parts)
        if parts & SKIP_DIRS or not path.is_file():
            continue
        rel = str(path.relative_to(ROOT))
        if SECRET_NAMES.search(rel):
            candidates.append(rel)
    if not candidates:
        return
    ignored = subprocess.run(
        ["git", "-C", str(ROOT), "check-ignore", "--no-index", "--stdin"],
        input="\n".join(candidates),
        capture_output=True,
        text=True,
        check=False,
    ).stdout.split()
    assert sorted(set(candidates) - set(ignored)) == []


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.hosts
@pytest.mark.timeout(420)
def test_generated_secrets_are_private(app: Deployer) -> None:
    stack = app.stack
    keys = [p for p in stack.state_dir.rglob("*") if p.is_file() and PEM_PRIVATE.search(
        p.read_bytes()[:200])]  # fmt: skip
    assert stack.key_file in keys
    secret = Path(stack.app.bench_root) / "secret_key"
    for path in [*keys, secret]:
        assert mode_of(path) == 0o600, f"{path} has mode {oct(mode_of(path))}"
        assert not str(path).startswith(str(ROOT) + "/"), f"{path} lies in the repository"
    assert len(secret.read_text().strip()) >= 50


@pytest.mark.hosts
@pytest.mark.timeout(420)
def test_app_listens_only_on_its_private_address_with_debug_off(app: Deployer) -> None:
    stack = app.stack
    host = stack.app
    port = int(host.vars.get("app_port", 8000))
    out = subprocess.run(
        ["ip", "netns", "exec", f"{stack.prefix}-app", "ss", "-Htln"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    listeners = [line.split()[3] for line in out.splitlines() if line.strip()]
    on_port = [a for a in listeners if a.rsplit(":", 1)[1] == str(port)]
    assert on_port == [f"{host.address}:{port}"], listeners
    for address in listeners:  # nothing on every interface: sshd and the app on the host's
        assert address.rsplit(":", 1)[0] in (host.address, "127.0.0.1", "[::1]"), listeners
    health = app.health()
    assert health["debug"] is False
    status, body = app.get("/no-such-page/")
    assert status == 404
    assert "URLconf" not in body and "Traceback" not in body  # no debug page
