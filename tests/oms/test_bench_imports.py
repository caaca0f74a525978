"""The benchmarks borrow the test suite's loopback fakes, imported inside their functions (bench/ runs only under
`make bench`): every name a bench module imports from the project must exist, so that moving a fake between test
modules cannot break `make bench` unseen (it did once: FakeShopify moved to fake_shopify_server.py)."""

import ast
import importlib
import importlib.util
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"
PROJECT = ("tests", "orders", "inventory", "fulfillment", "logistics", "connectors", "workflows", "reports", "oms")


def imports_from_project():
    for path in sorted(BENCH.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] in PROJECT:
                for alias in node.names:
                    yield pytest.param(node.module, alias.name, id=f"{path.name}:{node.lineno}:{alias.name}")


@pytest.mark.parametrize("module, name", list(imports_from_project()))
def test_every_name_a_bench_module_imports_exists(module, name):
    imported = importlib.import_module(module)
    assert hasattr(imported, name) or importlib.util.find_spec(f"{module}.{name}") is not None, (
        f"bench/ imports {name} from {module}, which has no such name"
    )
