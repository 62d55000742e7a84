"""One line for a failed stage of the main job: the tool's own last error, unwrapped from
Terraform's diagnostics or Ansible's task output (never a Python exception's repr)."""

from __future__ import annotations

import json
import re

LOCAL_EXEC = "(local-exec): "
CONTEXT = re.compile(r"^\s*(with |on |\d+:)")


def terraform_error(output: str) -> str:
    """The line that says why Terraform failed: infra/local's own one-line refusal when a
    provisioner printed one, else Terraform's last `Error:` with its first paragraph."""
    lines = [line.strip(" │╷╵\t") for line in output.splitlines()]
    ours = [line.split(LOCAL_EXEC, 1)[1] for line in lines if f"{LOCAL_EXEC}infra/local " in line]
    if ours:
        return ours[-1]
    starts = [i for i, line in enumerate(lines) if line.startswith("Error: ")]
    if not starts:
        tail = [line for line in lines if line]
        return tail[-1] if tail else "no output"
    first = starts[-1]
    detail: list[str] = []
    for line in lines[first + 1 :]:
        if not line or CONTEXT.match(line):
            if detail:
                break
            continue
        detail.append(line)
    return ": ".join(filter(None, [lines[first], " ".join(detail)]))


def ansible_error(output: str) -> str:
    """The last `fatal:`/`ERROR!`/`UNREACHABLE!` line of ansible-playbook, with the
    task's `msg` when its result is JSON."""
    marks = ("fatal: ", "ERROR! ", "UNREACHABLE!", "FAILED!")
    found = [line.strip() for line in output.splitlines() if any(m in line for m in marks)]
    if not found:
        tail = [line.strip() for line in output.splitlines() if line.strip()]
        return tail[-1] if tail else "no output"
    line = found[-1]
    head, sep, body = line.partition(" => ")
    if sep:
        try:
            result = json.loads(body)
        except ValueError:
            return line
        msg = result.get("msg") or result.get("stderr") or result.get("reason")
        if msg:
            return f"{head}: {str(msg).strip().splitlines()[-1]}"
    return line
