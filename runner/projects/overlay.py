"""The harness's package for the host (``abw_project``) and the code archive.

The package is this folder's ``host/`` modules, copies of the built-in app's ``env``,
``serving`` and ``instrument`` modules (one source of the serving rules and the counting
wrappers), and ``generated.py``, the only file that says which project it serves.
"""

from __future__ import annotations

import gzip
import io
import shutil
import tarfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
HOST = Path(__file__).resolve().parent / "host"
PACKAGE = "abw_project"
HEALTH_PATH = "/__bench__/health/"
COPIED = {
    "env.py": ROOT / "app" / "benchsite" / "env.py",
    "serving.py": ROOT / "app" / "benchsite" / "serving.py",
    "instrument.py": ROOT / "app" / "bench" / "instrument.py",
}
SKIP = ("__pycache__", "*.pyc")


def generated_module(values: dict[str, Any]) -> str:
    """``generated.py``: one ``NAME = repr(value)`` line per value (TOML values are
    Python literals; dates need the datetime import)."""
    lines = ['"""Written by the controller (runner/projects/overlay.py): which project."""', ""]
    lines += ["import datetime  # noqa: F401  (TOML dates in OVERRIDES)", ""]
    lines += [f"{name} = {value!r}" for name, value in values.items()]
    return "\n".join(lines) + "\n"


def write_package(dest: Path, values: dict[str, Any]) -> Path:
    """Write the ``abw_project`` package under ``dest`` (replacing it); returns its folder."""
    package = dest / PACKAGE
    if package.exists():
        shutil.rmtree(package)
    shutil.copytree(HOST, package, ignore=shutil.ignore_patterns(*SKIP))
    for name, origin in COPIED.items():
        text = origin.read_text().replace(
            "from benchsite.env import", "from abw_project.env import"
        )
        (package / name).write_text(text)
    (package / "generated.py").write_text(generated_module({"HEALTH_PATH": HEALTH_PATH, **values}))
    return package


def _reset(info: tarfile.TarInfo) -> tarfile.TarInfo:
    info.mtime = 0
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    return info


def archive(members: dict[str, Path], dest: Path) -> Path:
    """A deterministic .tar.gz of folders (archive name -> folder): sorted, times and owners
    zeroed, so an unchanged tree is an unchanged checksum on the host."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for arcname, folder in sorted(members.items()):
            paths = [folder, *sorted(folder.rglob("*"))]
            for path in paths:
                if any(part == "__pycache__" for part in path.parts) or path.suffix == ".pyc":
                    continue
                name = Path(arcname, path.relative_to(folder)).as_posix()
                tar.add(path, arcname=name, recursive=False, filter=_reset)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_suffix(".tmp")
    with open(tmp, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as zipped:
        zipped.write(buffer.getvalue())
    tmp.replace(dest)
    return dest
