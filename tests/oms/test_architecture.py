"""The architecture, held by tests (see ARCHITECTURE.md, "Apps and the direction of imports").

Imports point one way: inventory <- orders <- fulfillment <- logistics <- workflows (the cross-app
order verbs; no app imports workflows); reports reads all of them and nobody imports reports; the
base package `oms` imports none of the apps; `demo` (seed data) is imported by nobody. A lower app
that must start work in a higher one sends a signal or enqueues a task by name
(`send_task("fulfillment....")`), which is not an import.

Every import counts, at module level or inside a function: a local import that dodges a
cycle is still an import in the wrong direction.
"""

import ast
import importlib
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(settings.BASE_DIR)
APPS = ("inventory", "orders", "fulfillment", "logistics", "workflows", "reports", "demo")

# package -> the top-level packages it must not import
FORBIDDEN: dict[str, set[str]] = {
    "oms": {"inventory", "orders", "fulfillment", "logistics", "workflows", "reports", "demo"},
    "inventory": {"orders", "fulfillment", "logistics", "workflows", "reports", "demo"},
    "orders": {"fulfillment", "logistics", "workflows", "reports", "demo"},
    "fulfillment": {"logistics", "workflows", "reports", "demo"},
    "logistics": {"workflows", "reports", "demo"},
    "workflows": {"reports", "demo"},
    "reports": {"workflows", "demo"},
}


@dataclass(frozen=True)
class Import:
    path: Path
    line: int
    module: str  # absolute dotted name

    def __str__(self) -> str:
        shown = self.path.relative_to(ROOT) if self.path.is_relative_to(ROOT) else self.path
        return f"{shown}:{self.line}: imports {self.module}"


def python_files(package: str) -> list[Path]:
    return sorted(p for p in (ROOT / package).rglob("*.py") if "migrations" not in p.relative_to(ROOT).parts)


def module_name(path: Path, root: Path = ROOT) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(path: Path, root: Path = ROOT) -> list[Import]:
    """Every module a file imports, relative imports resolved, plus import_module("...") calls."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    own = module_name(path, root)
    package = own if path.name == "__init__.py" else own.rpartition(".")[0]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [Import(path, node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                if node.level > 1:
                    base = base[: len(base) - (node.level - 1)]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            found.append(Import(path, node.lineno, target))
            if not node.module:  # "from . import x": the names may be modules
                found += [Import(path, node.lineno, f"{target}.{alias.name}") for alias in node.names]
        elif isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
            if (
                name in {"import_module", "__import__"}
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)
            ):
                found.append(Import(path, node.lineno, node.args[0].value))
    return sorted(found, key=lambda imp: (imp.line, imp.module))


def violations(package: str) -> list[str]:
    forbidden = FORBIDDEN[package]
    return [
        str(imp) for path in python_files(package) for imp in imports_of(path) if imp.module.split(".")[0] in forbidden
    ]


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_imports_point_one_way(package):
    files = python_files(package)
    assert files, f"no Python files found in {package}/: the test would pass vacuously"

    found = violations(package)

    assert not found, (
        f"{package} must not import {', '.join(sorted(FORBIDDEN[package]))}; send a signal or enqueue a task "
        "by name instead. Offending imports:\n  " + "\n  ".join(found)
    )


def test_nobody_imports_reports():
    found = [
        str(imp)
        for package in ("oms", *APPS)
        if package != "reports"
        for path in python_files(package)
        for imp in imports_of(path)
        if imp.module.split(".")[0] == "reports"
    ]

    assert not found, "nothing may import reports:\n  " + "\n  ".join(found)


def test_import_finder_sees_every_kind_of_import(tmp_path):
    """The checker itself: absolute, from-, relative, local and import_module imports."""
    package = tmp_path / "inventory" / "sub"
    package.mkdir(parents=True)
    source = package / "mod.py"
    source.write_text(
        "import orders.models\n"
        "from fulfillment import services\n"
        "from . import helpers\n"
        "from ..models import Stock\n"
        "def f():\n"
        "    from reports.selectors import kpis\n"
        "    importlib.import_module('demo.seed')\n",
        encoding="utf-8",
    )

    found = [(imp.line, imp.module) for imp in imports_of(source, root=tmp_path)]

    assert found == [
        (1, "orders.models"),
        (2, "fulfillment"),
        (3, "inventory.sub"),
        (3, "inventory.sub.helpers"),
        (4, "inventory.models"),
        (6, "reports.selectors"),
        (7, "demo.seed"),
    ]
    assert str(imports_of(source, root=tmp_path)[0]).endswith("inventory/sub/mod.py:1: imports orders.models")


# --- Status transition tables ---------------------------------------------------------

TRANSITION_TABLES = [
    # (status module, choices class, transition table)
    ("orders.status", "OrderStatus", "ORDER_TRANSITIONS"),
    ("fulfillment.status", "ShipmentStatus", "SHIPMENT_TRANSITIONS"),
]


@pytest.mark.parametrize(("module_path", "choices_name", "table_name"), TRANSITION_TABLES)
def test_transition_table_is_complete_and_matches_can_transition(module_path, choices_name, table_name):
    module = importlib.import_module(module_path)
    statuses = set(getattr(module, choices_name).values)
    table = getattr(module, table_name)

    assert set(table) == statuses, (
        f"{table_name} must have an entry for every status: missing {sorted(statuses - set(table))}, "
        f"unknown {sorted(set(table) - statuses)}"
    )
    unknown_targets = {(source, target) for source, targets in table.items() for target in targets} - {
        (source, target) for source in statuses for target in statuses
    }
    assert not unknown_targets, f"{table_name} names unknown statuses: {sorted(unknown_targets)}"

    mismatches = [
        (source, target)
        for source in sorted(statuses)
        for target in sorted(statuses)
        if module.can_transition(source, target) != (target in table[source])
    ]
    assert not mismatches, f"can_transition disagrees with {table_name} on {mismatches}"
    assert module.can_transition("no-such-status", sorted(statuses)[0]) is False


@pytest.mark.parametrize(("module_path", "choices_name", "table_name"), TRANSITION_TABLES)
def test_every_status_is_reachable_from_the_first(module_path, choices_name, table_name):
    module = importlib.import_module(module_path)
    choices = getattr(module, choices_name)
    table = getattr(module, table_name)
    initial = choices.values[0]

    reached, frontier = {initial}, [initial]
    while frontier:
        for target in table[frontier.pop()]:
            if target not in reached:
                reached.add(target)
                frontier.append(target)

    assert reached == set(choices.values), f"unreachable from {initial}: {sorted(set(choices.values) - reached)}"
