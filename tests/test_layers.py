"""The library must stay Prefect-free: flows orchestrate, tasks wrap, the library computes."""

from __future__ import annotations

import ast
from pathlib import Path

LIB = Path(__file__).resolve().parents[1] / "erenhot"


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text("utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_library_never_imports_prefect_flows_or_tasks():
    offenders = {str(p.relative_to(LIB)): sorted(_imports(p) & {"prefect", "flows", "tasks"})
                 for p in LIB.rglob("*.py") if _imports(p) & {"prefect", "flows", "tasks"}}
    assert offenders == {}


def test_the_check_sees_a_prefect_import(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("from prefect import flow\n")
    assert "prefect" in _imports(bad)
