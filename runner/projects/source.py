"""Stage the project's code on the controller: a folder copied, a git repository or
bundle cloned at a ref. The user's folder or repository is only ever read (git runs with
``--no-optional-locks``, clones with ``--no-hardlinks``); the copy lives under build/.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from runner.projects import ProjectError

# Never copied from a folder source: VCS data, caches, virtualenvs, local databases.
IGNORED = (".git", "__pycache__", "*.pyc", ".venv", "venv", "node_modules", ".tox", "*.sqlite3")
GIT_TIMEOUT_S = 300


@dataclass(frozen=True)
class StagedSource:
    """The staged copy: where it is, what it came from and at which commit."""

    path: Path
    kind: str  # folder | git | bundle
    origin: str
    commit: str | None
    dirty: bool = False

    def record(self) -> dict[str, object]:
        """The source's part of the results' metadata."""
        return {
            "kind": self.kind,
            "origin": self.origin,
            "commit": self.commit,
            "dirty": self.dirty,
        }


def _git(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["git", "--no-optional-locks", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=GIT_TIMEOUT_S,
        check=False,
        env={"GIT_TERMINAL_PROMPT": "0", "PATH": "/usr/bin:/bin:/usr/local/bin", "HOME": "/tmp"},
    )


def _last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1].strip() if lines else "(no output)"


def kind_of(source: str, base: Path, ref: str | None) -> tuple[str, str]:
    """(kind, resolved origin) of a source as written: a URL or ``git@`` is git; an
    existing file is a bundle; a folder is git when a ref is given (or it is a bare
    repository), else a folder. ProjectError when a local source does not exist."""
    if "://" in source or source.startswith("git@"):
        return "git", source
    path = (base / source).expanduser().resolve()
    if path.is_file():
        return "bundle", str(path)
    if not path.is_dir():
        raise ProjectError(
            f"source {source!r} does not exist (looked at {path}): "
            "give a folder, a git repository (URL or path) or a git bundle"
        )
    bare = (path / "HEAD").is_file() and (path / "objects").is_dir()
    if ref or bare:
        return "git", str(path)
    return "folder", str(path)


def stage(source: str, base: Path, ref: str | None, dest: Path) -> StagedSource:
    """Put a fresh copy of the source at ``dest`` (replacing what was there)."""
    kind, origin = kind_of(source, base, ref)
    if dest.exists():
        shutil.rmtree(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    if kind == "folder":
        shutil.copytree(origin, dest, ignore=shutil.ignore_patterns(*IGNORED), symlinks=True)
        commit, dirty = _folder_commit(Path(origin))
        return StagedSource(dest, kind, origin, commit, dirty)
    return _clone(kind, origin, ref, dest)


def _folder_commit(folder: Path) -> tuple[str | None, bool]:
    """The commit of a folder that is a git work tree (and whether it has changes)."""
    head = _git("rev-parse", "--verify", "HEAD", cwd=folder)
    if head.returncode != 0:
        return None, False
    status = _git("status", "--porcelain", "--untracked-files=no", cwd=folder)
    return head.stdout.strip(), bool(status.stdout.strip())


def _clone(kind: str, origin: str, ref: str | None, dest: Path) -> StagedSource:
    clone = _git("clone", "--quiet", "--no-hardlinks", "--no-checkout", origin, str(dest))
    if clone.returncode != 0:
        raise ProjectError(f"cannot clone {origin}: {_last_line(clone.stderr)}")
    target = ref or "HEAD"
    resolved = _git("rev-parse", "--verify", "--quiet", f"{target}^{{commit}}", cwd=dest)
    if resolved.returncode != 0 and ref:
        resolved = _git("rev-parse", "--verify", "--quiet", f"origin/{ref}^{{commit}}", cwd=dest)
    if resolved.returncode != 0:
        shutil.rmtree(dest, ignore_errors=True)
        raise ProjectError(
            f"ref {target!r} is not in {origin}: give a branch, tag or commit it has"
        )
    commit = resolved.stdout.strip()
    checkout = _git("checkout", "--quiet", "--detach", commit, cwd=dest)
    if checkout.returncode != 0:
        raise ProjectError(f"cannot check out {commit} of {origin}: {_last_line(checkout.stderr)}")
    shutil.rmtree(dest / ".git")
    return StagedSource(dest, kind, origin, commit)
