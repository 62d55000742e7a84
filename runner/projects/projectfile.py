"""The project file (TOML, docs/PROJECT.md): read it, check every key, keep its text.

Checks here need nothing but the file itself; whether the source exists or the settings
import is for the later steps. Every error is a ProjectError of one line naming the file,
the key and the fix.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from runner.projects import ProjectError

# Keys and the TOML types they take (tables last).
STRING_KEYS = (
    "name",
    "source",
    "ref",
    "root",
    "python",
    "requirements",
    "settings",
    "wsgi",
    "asgi",
)
LIST_KEYS = ("exclude", "setup")
TABLE_KEYS = ("settings_overrides", "env", "urls")
KNOWN_KEYS = (*STRING_KEYS, *LIST_KEYS, *TABLE_KEYS)
URL_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
SETTING_NAME = re.compile(r"^[A-Z][A-Z0-9_]*$")
ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
PYTHON_VERSION = re.compile(r"^3\.[0-9]{1,2}$")
APP_PATH = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$")
MODULE_PATH = re.compile(r"^[A-Za-z_][\w]*(\.[A-Za-z_]\w*)*$")
# Environment the harness itself sets: a project may not change them.
RESERVED_ENV = ("BENCH_", "DJANGO_SETTINGS_MODULE", "PYTHONPATH", "GRANIAN_")


@dataclass(frozen=True)
class ProjectFile:
    """A checked project file. Paths stay as written; ``base`` is the file's folder."""

    path: Path
    text: str
    name: str
    source: str
    urls: dict[str, str]
    ref: str | None = None
    root: str | None = None
    python: str | None = None
    requirements: str | None = None
    exclude: tuple[str, ...] = ()
    settings: str | None = None
    wsgi: str | None = None
    asgi: str | None = None
    setup: tuple[str, ...] = ()
    settings_overrides: dict[str, Any] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)

    @property
    def base(self) -> Path:
        """The folder relative paths in the file are read from."""
        return self.path.parent

    def with_urls(self, extra: list[str]) -> ProjectFile:
        """This project with ``name=/path`` URLs from the command line added (they win)."""
        urls = dict(self.urls)
        for item in extra:
            name, sep, path = item.partition("=")
            if not sep:
                raise ProjectError(f"--project-url {item!r}: write it as name=/path")
            urls[name.strip()] = path.strip()
        _check_urls(self.path, urls)
        return replace(self, urls=urls)

    def record(self) -> dict[str, Any]:
        """What goes into the results' metadata: the file's path and text."""
        return {"path": str(self.path), "text": self.text, "name": self.name}


def _fail(path: Path, message: str) -> ProjectError:
    return ProjectError(f"project file {path}: {message}")


def load(path: str | Path) -> ProjectFile:
    """Read and check the project file at ``path``; raise ProjectError on anything wrong."""
    path = Path(path).expanduser().absolute()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ProjectError(
            f"project file {path} does not exist: pass the path of a TOML file "
            "(docs/PROJECT.md has an example)"
        ) from None
    except (OSError, UnicodeDecodeError) as error:
        raise _fail(path, f"cannot be read ({error})") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise _fail(path, f"is not valid TOML ({error})") from None
    return parse(path, text, data)


def parse(path: Path, text: str, data: dict[str, Any]) -> ProjectFile:
    """Check the parsed TOML ``data`` of the file at ``path`` (text kept for the record)."""
    unknown = sorted(set(data) - set(KNOWN_KEYS))
    if unknown:
        raise _fail(path, f"unknown key {unknown[0]!r}: the keys are {', '.join(KNOWN_KEYS)}")
    for key in STRING_KEYS:
        if key in data and (not isinstance(data[key], str) or not data[key].strip()):
            raise _fail(path, f"{key} must be a non-empty string (got {data[key]!r})")
    for key in LIST_KEYS:
        value = data.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            raise _fail(path, f"{key} must be a list of non-empty strings (got {value!r})")
    for key in TABLE_KEYS:
        if key in data and not isinstance(data[key], dict):
            raise _fail(path, f"[{key}] must be a table (got {data[key]!r})")
    if "source" not in data:
        raise _fail(path, 'no source: add source = "path/to/project" (a folder, git URL or bundle)')
    if "urls" not in data or not data["urls"]:
        raise _fail(path, 'no [urls]: add a [urls] table, e.g. home = "/" (each is measured)')
    urls = {str(k): v for k, v in data["urls"].items()}
    _check_urls(path, urls)
    _check_values(path, data)
    overrides = dict(data.get("settings_overrides", {}))
    env = {str(k): v for k, v in data.get("env", {}).items()}
    for key, value in env.items():
        if not ENV_NAME.match(key) or key.startswith(RESERVED_ENV):
            raise _fail(path, f"[env] {key!r} is not a variable the project may set")
        if not isinstance(value, str | int | float | bool):
            raise _fail(path, f"[env] {key} must be a string or number (got {value!r})")
    return ProjectFile(
        path=path,
        text=text,
        name=data.get("name") or path.stem,
        source=data["source"],
        urls=urls,
        ref=data.get("ref"),
        root=data.get("root"),
        python=data.get("python"),
        requirements=data.get("requirements"),
        exclude=tuple(data.get("exclude", [])),
        settings=data.get("settings"),
        wsgi=data.get("wsgi"),
        asgi=data.get("asgi"),
        setup=tuple(data.get("setup", [])),
        settings_overrides=overrides,
        env={k: _env_text(v) for k, v in env.items()},
    )


def _env_text(value: object) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)


def _check_urls(path: Path, urls: dict[str, Any]) -> None:
    for name, url in urls.items():
        if not URL_NAME.match(name):
            raise _fail(path, f"[urls] name {name!r}: use letters, digits, '_', '-', '.'")
        if not isinstance(url, str) or not url.startswith("/"):
            raise _fail(path, f"[urls] {name} = {url!r} must be a path starting with '/'")
        if any(c.isspace() for c in url) or "#" in url:
            raise _fail(path, f"[urls] {name} = {url!r}: no spaces or '#' (encode them)")


def _check_values(path: Path, data: dict[str, Any]) -> None:
    if "python" in data and not PYTHON_VERSION.match(data["python"]):
        raise _fail(path, f'python must be a version like "3.12" (got {data["python"]!r})')
    for key in ("wsgi", "asgi"):
        if key in data and not APP_PATH.match(data[key]):
            raise _fail(path, f"{key} must be module:attribute (got {data[key]!r})")
    if "settings" in data and not MODULE_PATH.match(data["settings"]):
        raise _fail(path, f"settings must be a dotted module (got {data['settings']!r})")
    for key in data.get("settings_overrides", {}):
        if not SETTING_NAME.match(key):
            raise _fail(path, f"[settings_overrides] {key!r}: Django settings are UPPER_CASE")
    for key in ("root", "requirements"):
        if key in data and (Path(data[key]).is_absolute() or ".." in Path(data[key]).parts):
            raise _fail(path, f"{key} must be a path inside the source (got {data[key]!r})")
