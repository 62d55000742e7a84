"""A fake cgroup v2 tree that behaves like the kernel where infra/local relies on it, and
records every operation in order (this machine has cgroup v1 only)."""

from __future__ import annotations

import errno
import shutil
from pathlib import Path

from runner import host_resources as hr

# Interface files a new cgroup gets for each controller its parent enabled for it.
CONTROLLER_FILES = {
    "cpuset": ("cpuset.cpus", "cpuset.mems", "cpuset.cpus.effective", "cpuset.mems.effective"),
    "cpu": ("cpu.max", "cpu.weight"),
    "memory": ("memory.max", "memory.current", "memory.events", "memory.swap.max"),
}


class FakeV2(hr.Files):
    """Kernel rules kept: interface files appear only for controllers the parent enabled;
    control files are never created by a write; a controller can be enabled only if the
    cgroup has it; a non-root cgroup with enabled controllers holds no process; rmdir
    fails while a process is in the cgroup."""

    def __init__(self, recorded: Path, tmp: Path) -> None:
        self.root = tmp / "cgroup"
        shutil.copytree(recorded, self.root)
        self.ops: list[tuple[str, ...]] = []

    def _rel(self, path: Path) -> str:
        return str(path.relative_to(self.root))

    def read(self, path: Path) -> str:
        return path.read_text()

    def write(self, path: Path, text: str) -> None:
        self.ops.append(("write", self._rel(path), text))
        if not path.is_file():
            raise FileNotFoundError(errno.ENOENT, "no such control file", str(path))
        folder = path.parent
        if path.name == "cgroup.subtree_control":
            have = set(self.read(folder / "cgroup.controllers").split())
            enabled = set(self.read(path).split())
            for word in text.split():
                if word[1:] not in have:
                    raise OSError(errno.ENOENT, f"controller {word[1:]} not available", str(path))
                enabled.add(word[1:]) if word[0] == "+" else enabled.discard(word[1:])
            path.write_text(" ".join(sorted(enabled)) + "\n")
            return
        if path.name == "cgroup.procs" and folder != self.root:
            if self.read(folder / "cgroup.subtree_control").split():
                raise OSError(errno.EBUSY, "no internal processes", str(path))
            path.write_text(self.read(path) + text + "\n")
            return
        path.write_text(text + "\n")
        if path.name in ("cpuset.cpus", "cpuset.mems"):
            (folder / f"{path.name}.effective").write_text(text + "\n")

    def mkdir(self, path: Path) -> None:
        self.ops.append(("mkdir", self._rel(path)))
        path.mkdir()
        enabled = self.read(path.parent / "cgroup.subtree_control").split()
        (path / "cgroup.controllers").write_text(" ".join(enabled) + "\n")
        for name in ("cgroup.subtree_control", "cgroup.procs"):
            (path / name).write_text("")
        for controller in enabled:
            for name in CONTROLLER_FILES.get(controller, ()):
                (path / name).write_text("max\n" if name.endswith(".max") else "")
        if "cpuset" in enabled:  # a new cpuset inherits its parent's effective sets
            for name in ("cpuset.cpus.effective", "cpuset.mems.effective"):
                (path / name).write_text(self.read(path.parent / name))

    def rmdir(self, path: Path) -> None:
        self.ops.append(("rmdir", self._rel(path)))
        if not path.is_dir():
            raise FileNotFoundError(errno.ENOENT, "gone", str(path))
        if self.read(path / "cgroup.procs").split():
            raise OSError(errno.EBUSY, "cgroup has processes", str(path))
        if any(p.is_dir() for p in path.iterdir()):
            raise OSError(errno.EBUSY, "cgroup has children", str(path))
        shutil.rmtree(path)  # the kernel's interface files go with the cgroup
