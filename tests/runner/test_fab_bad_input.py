"""`fab bench` refuses bad input with one clear line and a non-zero exit, and leaves no
partial run behind in results/."""

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FAB = str(Path(sys.executable).with_name("fab"))

DOWN_INVENTORY = textwrap.dedent(
    """\
    all:
      children:
        app:
          hosts:
            down-app:
              ansible_host: 198.19.255.250
              private_address: 198.19.255.250
              bench_root: /nonexistent/app
              app_port: 8000
        loadgen:
          hosts:
            down-lg1:
              ansible_host: 198.19.255.251
              private_address: 198.19.255.251
              bench_root: /nonexistent/lg1
    """
)


def fab(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run(
        [FAB, "-r", str(ROOT), *args], cwd=cwd, capture_output=True, text=True, timeout=120
    )


@pytest.fixture
def inventories(tmp_path):
    down = tmp_path / "down.yml"
    down.write_text(DOWN_INVENTORY)
    no_loadgen = tmp_path / "no-loadgen.yml"
    no_loadgen.write_text(DOWN_INVENTORY.split("    loadgen:")[0])
    empty = tmp_path / "empty.yml"
    empty.write_text("")
    return {"down": down, "no_loadgen": no_loadgen, "empty": empty}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--scenario", "nope"], "unknown scenario 'nope'"),
        (["--concurrency", "0"], "--concurrency must be at least 1"),
        (["--scenario", "users", "--concurrency", "50", "--requests", "10"], "below concurrency"),
        (["--view", "fastest"], "unknown view 'fastest'"),
        (["--inventory", "{missing}"], "does not exist"),
        (["--inventory", "{empty}"], "is empty"),
        (["--inventory", "{no_loadgen}"], "no host in group 'loadgen'"),
        (["--inventory", "{down}"], "no network namespace on this machine holds 198.19.255.250"),
    ],
)
def test_bad_input_gives_one_clear_line(tmp_path, inventories, args, message):
    results = tmp_path / "results"
    paths = {k: str(v) for k, v in inventories.items()} | {"missing": str(tmp_path / "no.yml")}
    args = [a.format(**paths) for a in args]
    if "--inventory" not in args:
        args += ["--inventory", paths["down"]]
    proc = fab("bench", "--results", str(results), *args)
    assert proc.returncode != 0
    lines = [line for line in proc.stderr.strip().splitlines() if line.strip()]
    assert lines, proc.stdout
    assert lines[-1].startswith("fab bench: ")
    assert message in lines[-1]
    assert not results.exists() or not any(results.iterdir()), "a refused run left files behind"


def test_fab_lists_its_tasks_and_documents_every_bench_option():
    listing = fab("--list")
    assert listing.returncode == 0
    for name in ("bench", "compare", "report"):
        assert name in listing.stdout
    manual = fab("--help", "bench")
    for option in (
        "--inventory",
        "--scenario",
        "--view",
        "--concurrency",
        "--requests",
        "--repeat",
        "--keepalive",
        "--preset",
        "--results",
        "--resume",
    ):
        assert option in manual.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--search", "--concurrency", "8,x"], "whole numbers separated by commas"),
        (["--search", "--concurrency", "64,8"], "START,CAP"),
        (["--search", "--tuned"], "separate runs"),
        (["--load", "siege"], "unknown load generator 'siege'"),
        (["--duration", "3601"], "--duration must be above 0 and at most 3600 seconds"),
        (["--duration", "0"], "for a count-based run give --requests N without --duration"),
        (["--duration", "-5"], "--duration must be above 0"),
        (["--duration", "2.5"], "ab's -t takes whole seconds"),
        (["--precision", "-1"], "--precision must be above 0"),
        (["--max-pairs", "1"], "cap of pairs must be at least 3"),
        (["--modes", "cgi"], "unknown mode 'cgi'"),
        # The version matrix (docs/MATRIX.md).
        (["--django", "6.1", "--python", "3.11"], "no supported combination"),
        (["--django", "5.2,", "--python", "3.11"], "--django '5.2,' has an empty item"),
        (["--django", "six"], "not a Django version: 'six'"),
        (["--django", "5.5", "--python", "3.12"], "Django 5.5 is not on the package index"),
        (["--python", "3.99"], "Python 3.99 is not on this machine: it has"),
        (["--django", "6.1", "--python", "3.12", "--tuned"], "--django/--python measure levels"),
        (["--repeat", "auto", "--precision", "0"], "--precision must be above 0"),
        (["--repeat", "auto", "--max-pairs", "2"], "cap of pairs must be at least 3"),
        (["--interleave", "--modes", "asgi"], "needs both modes"),
        (["--repeat", "often"], "--repeat must be a whole number or auto"),
    ],
)
def test_compare_refuses_bad_input_before_any_host(tmp_path, inventories, args, message):
    results = tmp_path / "results"
    proc = fab("compare", "--inventory", str(inventories["down"]), "--results", str(results), *args)
    assert proc.returncode == 1
    lines = [line for line in proc.stderr.strip().splitlines() if line.strip()]
    assert lines == [lines[-1]] and "Traceback" not in proc.stderr, proc.stderr
    assert lines[-1].startswith("fab compare: ") and message in lines[-1]
    assert not results.exists() or not any(results.iterdir())
