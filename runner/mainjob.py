"""The README's main command (`make bench`): local hosts up, both modes deployed and
benched in turn, the report written, and the hosts destroyed whatever happened."""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
from pathlib import Path

from runner.deploy import DeployError
from runner.tasks import FAILURES, _options, run_compare

ROOT = Path(__file__).resolve().parent.parent
LOCAL = ROOT / "infra" / "local"


def terraform(*args: str, timeout: int = 600) -> None:
    """Run terraform in infra/local; raise CalledProcessError on failure."""
    env = {**os.environ, "CHECKPOINT_DISABLE": "1", "TF_IN_AUTOMATION": "1"}
    subprocess.run(
        ["terraform", f"-chdir={LOCAL}", *args, "-input=false", "-no-color"],
        check=True,
        timeout=timeout,
        stdout=sys.stderr,
        env=env,
    )


def _sigterm_as_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    """Apply, compare, report, destroy; the exit code says whether everything ran."""
    parser = argparse.ArgumentParser(prog="make bench", description=__doc__)
    parser.add_argument("--preset", default="", help="runner preset (default, original, smoke)")
    parser.add_argument("--scenario", default="", help="comma list of users, io, plain")
    parser.add_argument("--concurrency", default="")
    parser.add_argument("--requests", default="")
    parser.add_argument("--repeat", type=int, default=0)
    parser.add_argument("--results", default=str(ROOT / "results"))
    parser.add_argument("--keep-hosts", action="store_true", help="do not destroy (debugging)")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, _sigterm_as_interrupt)
    try:
        options = _options(
            args.scenario,
            "original",
            args.concurrency,
            args.requests,
            args.repeat,
            False,
            args.preset,
            30,
        )
    except FAILURES as exc:
        print(f"make bench: {exc}", file=sys.stderr)
        return 2
    code = 0
    try:
        terraform("init", "-upgrade=false")
        terraform("apply", "-auto-approve")
        run_dir = run_compare(
            str(ROOT / "inventory" / "local.yml"), "asgi,wsgi", options, results=args.results
        )
        print(f"\nreport: {run_dir / 'report.md'}")
    except KeyboardInterrupt:
        print("make bench: interrupted; completed samples are kept", file=sys.stderr)
        code = 130
    except (*FAILURES, DeployError, subprocess.SubprocessError) as exc:
        print(f"make bench: {exc}", file=sys.stderr)
        code = 1
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # teardown must not be interrupted
        if not args.keep_hosts:
            code = _teardown() or code
    return code


def _teardown() -> int:
    """terraform destroy, then the by-name sweep as a backstop; 0 when both went well."""
    try:
        terraform("destroy", "-auto-approve")
        return 0
    except (subprocess.SubprocessError, OSError) as exc:
        print(
            f"make bench: terraform destroy failed ({exc}); sweeping hosts by name", file=sys.stderr
        )
        sweep = subprocess.run(
            [str(LOCAL / "scripts" / "clean-hosts.sh")], check=False, env=os.environ.copy()
        )
        return 1 if sweep.returncode else 0


if __name__ == "__main__":
    sys.exit(main())
