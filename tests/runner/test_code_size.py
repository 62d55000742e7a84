"""The runner's functions stay small: none over 50 lines or 8 parameters unless a
one-line reason stands beside it (a `# size: why` comment on its `def` line or just
above it), e.g. an Invoke task whose signature is its command line."""

from __future__ import annotations

import ast
from pathlib import Path

RUNNER = Path(__file__).resolve().parents[2] / "runner"
MAX_LINES = 50
MAX_PARAMS = 8
REASON = "# size:"


def _params(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    args = fn.args
    names = [*args.posonlyargs, *args.args, *args.kwonlyargs]
    names += [a for a in (args.vararg, args.kwarg) if a is not None]
    return len([a for a in names if a.arg not in ("self", "cls")])


def oversized(source: str) -> list[str]:
    """Functions of `source` over the limits with no reason beside them."""
    lines = source.splitlines()
    out = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        length = (node.end_lineno or node.lineno) - node.lineno + 1
        params = _params(node)
        if length <= MAX_LINES and params <= MAX_PARAMS:
            continue
        first = node.decorator_list[0].lineno if node.decorator_list else node.lineno
        near = lines[max(first - 2, 0) : node.lineno]
        if any(REASON in line for line in near):
            continue
        out.append(f"{node.name} (line {node.lineno}): {length} lines, {params} parameters")
    return out


def test_no_function_in_the_runner_is_oversized_without_a_reason():
    found = []
    for path in sorted(RUNNER.rglob("*.py")):
        found += [f"{path.relative_to(RUNNER.parent)}: {o}" for o in oversized(path.read_text())]
    assert not found, "split these, or say why beside them (# size: ...):\n" + "\n".join(found)


def test_the_check_sees_a_long_function_and_its_reason():
    body = "\n".join(f"    x{i} = {i}" for i in range(60))
    assert oversized(f"def f():\n{body}\n")
    assert not oversized(f"# size: a table of values\ndef f():\n{body}\n")
    assert oversized("def g(a, b, c, d, e, f, g, h, i):\n    pass\n")
    assert not oversized("def g(self, a, b, c, d, e, f, g, h):\n    pass\n")
