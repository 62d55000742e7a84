"""The run folder, results/<run-id>/: every sample appended to samples.jsonl the moment it
exists (flushed and fsynced), and results.json rewritten atomically after each one
(temp file + os.replace), so Ctrl-C, a dead host or a full disk never loses or corrupts
what had completed.

results.json = {"schema": 2, "metadata": {...}, "samples": [...]}: the contract is
docs/RESULTS.md (every record has a `kind`; schema 1 files are read and migrated).
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import re
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from runner.model import Sample

SCHEMA = 2
READABLE_SCHEMAS = (1, 2)  # older ones are read and migrated (runner.model.Sample.from_dict)
RESULTS = "results.json"
SAMPLES = "samples.jsonl"
DONE_STATUSES = ("ok", "invalid", "aborted", "overload")  # measured: --resume keeps these
_RUN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


class RunStoreError(Exception):
    """The run folder cannot be written or read; the message says which path and what to do."""


def new_run_id(now: datetime | None = None) -> str:
    """A sortable, unique run id: UTC timestamp + 4 random hex digits."""
    now = now or datetime.now(UTC)
    return f"{now.strftime('%Y%m%dT%H%M%SZ')}-{secrets.token_hex(2)}"


def write_error(path: Path, exc: OSError) -> RunStoreError:
    """One line: what failed where, and how to fix it (also for files other modules write
    into the run folder, e.g. raw files pulled back)."""
    if exc.errno == errno.ENOSPC or exc.errno == errno.EDQUOT:
        how = "free some space or pass --results on another disk"
        what = "no space left on device"
    elif exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        how = "make it writable or pass --results with a writable folder"
        what = exc.strerror or "not writable"
    else:
        how = "check the folder or pass --results with another one"
        what = exc.strerror or str(exc)
    return RunStoreError(f"cannot write {path}: {what}; {how} (samples already stored are intact)")


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


@dataclass
class RunData:
    """One run as read back: its id, folder, metadata and samples."""

    run_id: str
    run_dir: Path
    metadata: dict[str, Any] = field(default_factory=dict)
    samples: list[Sample] = field(default_factory=list)


def loadavg() -> list[float]:
    """The machine's 1, 5 and 15-minute load averages, rounded."""
    return [round(x, 2) for x in os.getloadavg()]


class RunStore:
    """results/<run-id>/ for one `fab bench` or `fab compare` invocation.

    The root is checked for writability at once (a clear error before any host is
    touched); the run folder itself is created at the first write, so a run refused on
    bad input leaves nothing behind. An existing run folder is loaded: that is --resume.
    """

    def __init__(self, root: Path, run_id: str) -> None:
        if not _RUN_ID.match(run_id or ""):
            raise RunStoreError(
                f"bad run id {run_id!r}: letters, digits, '.', '_' and '-' only (ls {root})"
            )
        self.root = Path(root)
        self.run_id = run_id
        self.run_dir = self.root / run_id
        # The machine's load when the run began (a resume keeps the first run's): figures
        # are quoted only from runs that started on a quiet machine.
        self.metadata: dict[str, Any] = {"run_id": run_id, "loadavg_start": loadavg()}
        self.samples: list[Sample] = []
        self._check_root()
        if self.run_dir.exists():
            existing = load_run(self.run_dir, missing_ok=True)
            self.metadata = existing.metadata or self.metadata
            self.samples = existing.samples

    def _check_root(self) -> None:
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise write_error(self.root, exc) from None
        if not self.root.is_dir():
            raise RunStoreError(f"{self.root} is not a folder: pass --results with a folder")
        probe = self.root / f".write-test-{os.getpid()}-{secrets.token_hex(3)}"
        try:
            probe.write_bytes(b"ok")
        except OSError as exc:
            raise write_error(self.root, exc) from None
        finally:
            with contextlib.suppress(OSError):
                probe.unlink()

    def _ensure_dir(self) -> None:
        try:
            self.run_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise write_error(self.run_dir, exc) from None

    # -- writing --------------------------------------------------------------------
    def append(self, sample: Sample) -> None:
        """Store one sample: one fsynced line in samples.jsonl, then results.json."""
        self._ensure_dir()
        path = self.run_dir / SAMPLES
        line = (json.dumps(sample.to_dict(), sort_keys=True) + "\n").encode()
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        except OSError as exc:
            raise write_error(path, exc) from None
        try:
            size = os.fstat(fd).st_size
            try:
                written = os.write(fd, line)
                if written != len(line):  # only a full disk cuts a small append short
                    raise OSError(errno.ENOSPC, "short write")
                os.fsync(fd)
            except OSError as exc:
                with contextlib.suppress(OSError):
                    os.ftruncate(fd, size)  # never leave half a line behind
                raise write_error(path, exc) from None
        finally:
            os.close(fd)
        self.samples.append(sample)
        self._write_results()

    def set_metadata(self, metadata: dict[str, Any]) -> None:
        """Merge `metadata` into the run's metadata (top level) and save."""
        self.metadata.update(metadata)
        self._write_results()

    def update_metadata(self, mode: str, metadata: dict[str, Any]) -> None:
        """Record what one mode's bench found (hosts, versions, commands): kept per mode
        under metadata["modes"][mode]; run id, start time and commit also at the top."""
        modes = self.metadata.setdefault("modes", {})
        modes[mode] = {**modes.get(mode, {}), **metadata}
        for key in ("started_at", "commit", "machine_class", "inventory"):
            if key in metadata:
                self.metadata.setdefault(key, metadata[key])
        for key in ("hosts", "versions"):
            if isinstance(metadata.get(key), dict):
                self.metadata.setdefault(key, {}).update(metadata[key])
        commands = self.metadata.setdefault("commands", [])
        for command in metadata.get("commands") or []:
            if command and command not in commands:
                commands.append(command)
        self._write_results()

    def note_deploy(self, mode: str, seconds: float) -> None:
        """Record a deploy made for this run (which mode, how long it took)."""
        self.metadata.setdefault("deploys", []).append(
            {"mode": mode, "seconds": round(seconds, 2), "at": datetime.now(UTC).isoformat()}
        )
        self._write_results()

    def _write_results(self) -> None:
        """Rewrite results.json atomically: a temp file in the same folder, fsynced, then
        os.replace; on any error the temp file goes and the earlier results.json stays."""
        self._ensure_dir()
        self.metadata.setdefault("run_id", self.run_id)
        doc = {
            "schema": SCHEMA,
            "metadata": self.metadata,
            "samples": [s.to_dict() for s in self.samples],
        }
        final = self.run_dir / RESULTS
        tmp = self.run_dir / f".{RESULTS}.{os.getpid()}.tmp"
        try:
            with open(tmp, "w", encoding="utf-8") as fh:
                json.dump(doc, fh, indent=1, sort_keys=True, default=str)
                fh.write("\n")
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, final)
        except OSError as exc:
            with contextlib.suppress(OSError):
                tmp.unlink()
            raise write_error(final, exc) from None
        _fsync_dir(self.run_dir)

    # -- reading --------------------------------------------------------------------
    def has_samples(self) -> bool:
        """Whether any sample was stored in this run."""
        return bool(self.samples)

    def completed_identities(self) -> set[str]:
        """Identities of samples measured (ok, invalid, aborted): --resume skips them;
        failed ones are measured again."""
        return {s.identity() for s in self.samples if s.status in DONE_STATUSES}


def _read_jsonl(path: Path) -> list[Sample]:
    samples: list[Sample] = []
    lines = path.read_text(encoding="utf-8").splitlines()
    for i, line in enumerate(lines):
        if not line.strip():
            continue
        try:
            samples.append(Sample.from_dict(json.loads(line)))
        except (ValueError, TypeError) as exc:
            if i == len(lines) - 1:  # a line cut by a crash: what came before is intact
                break
            raise RunStoreError(f"{path} line {i + 1} is not a sample ({exc})") from None
    return samples


def load_run(run_dir: Path, missing_ok: bool = False) -> RunData:
    """Read results/<run-id>/: metadata from results.json, samples from samples.jsonl
    (the append-only record, which is never behind results.json)."""
    run_dir = Path(run_dir)
    results, jsonl = run_dir / RESULTS, run_dir / SAMPLES
    data = RunData(run_id=run_dir.name, run_dir=run_dir)
    if not results.exists() and not jsonl.exists():
        if missing_ok:
            return data
        raise RunStoreError(f"{run_dir} holds no {RESULTS}: not a run folder (ls {run_dir.parent})")
    try:
        if results.exists():
            doc = json.loads(results.read_text(encoding="utf-8"))
            if doc.get("schema") not in READABLE_SCHEMAS:
                raise RunStoreError(
                    f"{results} has schema {doc.get('schema')!r}, this runner reads "
                    f"{', '.join(map(str, READABLE_SCHEMAS))}: use the runner that wrote it"
                )
            data.metadata = doc.get("metadata") or {}
            data.samples = [Sample.from_dict(s) for s in doc.get("samples") or []]
        if jsonl.exists():
            from_jsonl = _read_jsonl(jsonl)
            if len(from_jsonl) >= len(data.samples):
                data.samples = from_jsonl
    except OSError as exc:
        raise RunStoreError(f"cannot read {run_dir}: {exc.strerror or exc}") from None
    except (ValueError, TypeError) as exc:
        raise RunStoreError(f"{results} is not a valid results file ({exc})") from None
    data.run_id = data.metadata.get("run_id", data.run_id)
    return data
