"""Find what the project file leaves out, by reading (never importing) the staged code:
the folder holding manage.py, the settings module, the WSGI and ASGI applications and
the requirements file."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from runner.projects import ProjectError
from runner.projects.projectfile import ProjectFile

SKIP_DIRS = {".git", "node_modules", "venv", ".venv", "__pycache__", ".tox", "site-packages"}
MAX_DEPTH = 4
SETTINGS_DEFAULT = re.compile(
    r"""os\.environ\.setdefault\(\s*['"]DJANGO_SETTINGS_MODULE['"]\s*,\s*['"]([\w.]+)['"]"""
)


@dataclass(frozen=True)
class Layout:
    """Where things are in the staged source (``root`` relative to it, POSIX style)."""

    root: str
    settings: str
    wsgi: str | None  # module:attribute, None = Django's get_wsgi_application()
    asgi: str | None  # module:attribute, None = Django's get_asgi_application()
    requirements: str  # relative to the source

    def record(self) -> dict[str, object]:
        """The layout's part of the results' metadata."""
        return {
            "root": self.root,
            "settings": self.settings,
            "wsgi": self.wsgi or "django.core.wsgi:get_wsgi_application()",
            "asgi": self.asgi or "django.core.asgi:get_asgi_application()",
            "requirements": self.requirements,
        }


def find_root(source: Path, root: str | None) -> str:
    """The folder holding manage.py: as given, else the only one within MAX_DEPTH levels."""
    if root is not None:
        if not (source / root / "manage.py").is_file():
            raise ProjectError(
                f"root {root!r} has no manage.py: set root to the folder that holds it"
            )
        return Path(root).as_posix()
    found = sorted(_manage_folders(source, 0), key=lambda p: (len(p.parts), str(p)))
    if not found:
        raise ProjectError(
            "the source has no manage.py: point source at a Django project "
            "(or set root to the folder that holds manage.py)"
        )
    if len(found) > 1 and len(found[0].parts) == len(found[1].parts):
        names = ", ".join(p.as_posix() or "." for p in found[:3])
        raise ProjectError(f"the source has several manage.py ({names}): set root to one of them")
    return found[0].as_posix() or "."


def _manage_folders(folder: Path, depth: int, base: Path | None = None) -> list[Path]:
    base = base or folder
    found = [folder.relative_to(base)] if (folder / "manage.py").is_file() else []
    if depth < MAX_DEPTH:
        for child in sorted(folder.iterdir()):
            if child.is_dir() and not child.is_symlink() and child.name not in SKIP_DIRS:
                found += _manage_folders(child, depth + 1, base)
    return found


def _module_file(root: Path, module: str) -> Path | None:
    base = root.joinpath(*module.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _setting(text: str, name: str) -> str | None:
    match = re.search(rf"""^{name}\s*=\s*['"]([\w.]+)['"]""", text, re.MULTILINE)
    return match[1] if match else None


def _app_path(root: Path, dotted: str | None, package: str, kind: str) -> str | None:
    """``a.b.application`` from settings, else ``<package>.<kind>:application`` when that
    file exists, else None (Django's own factory)."""
    if dotted and "." in dotted:
        module, _, attribute = dotted.rpartition(".")
        if _module_file(root, module):
            return f"{module}:{attribute}"
    if package and _module_file(root, f"{package}.{kind}"):
        return f"{package}.{kind}:application"
    return None


def detect(source: Path, project: ProjectFile) -> Layout:
    """The project's layout: the file's values where given, the code's otherwise."""
    root_rel = find_root(source, project.root)
    root = source / root_rel
    settings = project.settings
    if settings is None:
        match = SETTINGS_DEFAULT.search((root / "manage.py").read_text(errors="replace"))
        if not match:
            raise ProjectError(
                'manage.py does not name its settings module: set settings = "mysite.settings"'
            )
        settings = match[1]
    settings_file = _module_file(root, settings)
    if settings_file is None:
        raise ProjectError(
            f"settings module {settings!r} is not under {root_rel}: set settings to the "
            "module manage.py uses (dotted, from the folder holding manage.py)"
        )
    text = settings_file.read_text(errors="replace")
    package = settings.rpartition(".")[0]
    wsgi = project.wsgi or _app_path(root, _setting(text, "WSGI_APPLICATION"), package, "wsgi")
    asgi = project.asgi or _app_path(root, _setting(text, "ASGI_APPLICATION"), package, "asgi")
    return Layout(root_rel, settings, wsgi, asgi, _requirements(source, root_rel, project))


def _requirements(source: Path, root_rel: str, project: ProjectFile) -> str:
    if project.requirements is not None:
        if not (source / project.requirements).is_file():
            raise ProjectError(
                f"requirements {project.requirements!r} is not in the source: "
                "give a requirements file or pyproject.toml, relative to the source"
            )
        return project.requirements
    for folder in dict.fromkeys([root_rel, "."]):
        for name in ("requirements.txt", "pyproject.toml"):
            if (source / folder / name).is_file():
                return (Path(folder) / name).as_posix()
    raise ProjectError(
        "no requirements.txt or pyproject.toml found: set requirements to the file that "
        "lists the project's packages"
    )
