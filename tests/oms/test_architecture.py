"""The architecture, held by tests (see ARCHITECTURE.md, "Apps and the direction of imports").

Imports point one way: inventory <- orders <- fulfillment <- logistics <- connectors <- workflows (the cross-app
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
APPS = ("inventory", "orders", "fulfillment", "logistics", "connectors", "workflows", "reports", "demo")

# package -> the top-level packages it must not import
FORBIDDEN: dict[str, set[str]] = {
    "oms": {"inventory", "orders", "fulfillment", "logistics", "connectors", "workflows", "reports", "demo"},
    "inventory": {"orders", "fulfillment", "logistics", "connectors", "workflows", "reports", "demo"},
    "orders": {"fulfillment", "logistics", "connectors", "workflows", "reports", "demo"},
    "fulfillment": {"logistics", "connectors", "workflows", "reports", "demo"},
    "logistics": {"connectors", "workflows", "reports", "demo"},
    "connectors": {"workflows", "reports", "demo"},
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
    # (status module, choices class, transition table, its can_transition function)
    ("orders.status", "OrderStatus", "ORDER_TRANSITIONS", "can_transition"),
    ("orders.status", "ReturnStatus", "RETURN_TRANSITIONS", "can_return_transition"),
    ("fulfillment.status", "ShipmentStatus", "SHIPMENT_TRANSITIONS", "can_transition"),
    ("fulfillment.status", "PickListStatus", "PICKLIST_TRANSITIONS", "can_picklist_transition"),
    ("fulfillment.status", "ReplayStatus", "REPLAY_TRANSITIONS", "can_replay_transition"),
    ("logistics.cases.types", "CaseStatus", "CASE_TRANSITIONS", "can_transition"),
    ("oms.status", "ImportStatus", "IMPORT_TRANSITIONS", "can_transition"),
]
TABLE_IDS = [table for _, _, table, _ in TRANSITION_TABLES]


@pytest.mark.parametrize(("module_path", "choices_name", "table_name", "can_name"), TRANSITION_TABLES, ids=TABLE_IDS)
def test_transition_table_is_complete_and_matches_can_transition(module_path, choices_name, table_name, can_name):
    module = importlib.import_module(module_path)
    statuses = set(getattr(module, choices_name).values)
    table = getattr(module, table_name)
    can_transition = getattr(module, can_name)

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
        if can_transition(source, target) != (target in table[source])
    ]
    assert not mismatches, f"{can_name} disagrees with {table_name} on {mismatches}"
    assert can_transition("no-such-status", sorted(statuses)[0]) is False


@pytest.mark.parametrize(("module_path", "choices_name", "table_name", "can_name"), TRANSITION_TABLES, ids=TABLE_IDS)
def test_every_status_is_reachable_from_the_first(module_path, choices_name, table_name, can_name):
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


@pytest.mark.parametrize(
    ("module_path", "model_path", "choices_name"),
    [
        ("orders.status", "orders.models.Order", "OrderStatus"),
        ("orders.status", "orders.models.ReturnRequest", "ReturnStatus"),
        ("fulfillment.status", "fulfillment.models.Shipment", "ShipmentStatus"),
        ("fulfillment.status", "fulfillment.models.PickList", "PickListStatus"),
        ("fulfillment.status", "fulfillment.models.RoutingReplay", "ReplayStatus"),
        ("logistics.cases.types", "logistics.models.ExceptionCase", "CaseStatus"),
        ("oms.status", "oms.models.ImportJob", "ImportStatus"),
    ],
)
def test_each_status_field_takes_exactly_its_tables_statuses(module_path, model_path, choices_name):
    """The field's choices are the table's statuses: a status the table does not know cannot be stored."""
    model_module, _, model_name = model_path.rpartition(".")
    field = getattr(importlib.import_module(model_module), model_name)._meta.get_field("status")
    choices = getattr(importlib.import_module(module_path), choices_name)

    assert [value for value, _ in field.choices] == list(choices.values)
    assert field.default == choices.values[0]


# --- The shape of the code beyond the direction of imports ---------------------------------------
# Each check below is an ast walk over the project's own code (outside migrations and tests) with an
# explicit allow-list; each allow-list entry says why, and a test fails when an entry is no longer needed,
# so the lists can only shrink. Each checker is itself tested on a synthetic snippet.

PROJECT_PACKAGES = (
    "oms",
    "inventory",
    "orders",
    "fulfillment",
    "logistics",
    "connectors",
    "workflows",
    "reports",
    "demo",
)


def project_files() -> list[Path]:
    return [path for package in PROJECT_PACKAGES if (ROOT / package).is_dir() for path in python_files(package)]


def relative(path: Path, root: Path = ROOT) -> str:
    return path.relative_to(root).as_posix()


def app_of(path: Path, root: Path = ROOT) -> str:
    return path.relative_to(root).parts[0]


def parse(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


# --- apps.get_model across apps -------------------------------------------------------------------

GET_MODEL_ALLOWED: set[tuple[str, str]] = set()  # empty: the customer page's cases are a panel logistics registers


def get_model_apps(path: Path) -> list[tuple[int, str]]:
    """(line, app label) of every ``get_model("app", "Model")`` / ``get_model("app.Model")`` call."""
    found = []
    for node in ast.walk(parse(path)):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
        if name != "get_model" or not node.args or not isinstance(node.args[0], ast.Constant):
            continue
        label = str(node.args[0].value)
        found.append((node.lineno, label.split(".")[0] if len(node.args) == 1 else label))
    return found


def get_model_violations(files, root: Path = ROOT) -> list[str]:
    return [
        f"{relative(path, root)}:{line}: apps.get_model of {label}"
        for path in files
        for line, label in get_model_apps(path)
        if label != app_of(path, root) and (relative(path, root), label) not in GET_MODEL_ALLOWED
    ]


def test_no_get_model_across_apps():
    found = get_model_violations(project_files())
    assert not found, "import the other app's models (in the allowed direction) instead:\n  " + "\n  ".join(found)
    used = {(relative(path), label) for path in project_files() for _, label in get_model_apps(path)}
    assert GET_MODEL_ALLOWED <= used, f"no longer needed, remove from GET_MODEL_ALLOWED: {GET_MODEL_ALLOWED - used}"


def test_get_model_checker_complains(tmp_path):
    (tmp_path / "orders").mkdir()
    source = tmp_path / "orders" / "mod.py"
    source.write_text(
        "from django.apps import apps\n"
        "A = apps.get_model('logistics', 'Parcel')\n"
        "B = apps.get_model('fulfillment.Shipment')\n"
        "C = apps.get_model('orders', 'Order')\n",
        encoding="utf-8",
    )

    assert get_model_violations([source], root=tmp_path) == [
        "orders/mod.py:2: apps.get_model of logistics",
        "orders/mod.py:3: apps.get_model of fulfillment",
    ]


# --- another app's forms, views, tables, filtersets -----------------------------------------------

PRESENTATION = ("forms", "views", "tables", "filtersets")
PRESENTATION_ALLOWED = {
    # The pack station's form: fulfillment renders it, logistics answers its POST with a label. Settle it with
    # a form of logistics' own when the pack station page is split (issue 14).
    ("logistics/dispatch_views.py", "fulfillment.forms"),
}


def is_presentation(module: str) -> bool:
    suffixes = tuple(f"_{kind}" for kind in PRESENTATION)
    return any(part in PRESENTATION or part.endswith(suffixes) for part in module.split(".")[1:])


# Apps that may import the views of the apps below them: workflows/ is the top layer, and its URLs route the lower
# apps' views with the workflow action each view is given (workflows/urls/), so those views import no action.
PRESENTATION_TOP = {"workflows"}


def presentation_imports(path: Path, root: Path = ROOT) -> list[tuple[int, str]]:
    """(line, module) of every import of another app's forms/views/tables/filtersets (``oms`` is the base
    package: its base views and tables are for every app). ``from app import views`` counts too. Nothing for a
    module of a top layer (``PRESENTATION_TOP``)."""
    own = app_of(path, root)
    if own in PRESENTATION_TOP:
        return []
    found = set()
    for node in ast.walk(parse(path)):
        if isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            modules = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        else:
            continue
        for module in modules:
            app = module.split(".")[0]
            if app != own and app in PROJECT_PACKAGES and app != "oms" and is_presentation(module):
                found.add((node.lineno, module))
    # "from x.forms import Form" yields x.forms and x.forms.Form: keep the module
    return sorted({(line, m) for line, m in found if not any(o != m and m.startswith(o + ".") for _, o in found)})


def presentation_violations(files, root: Path = ROOT) -> list[str]:
    return [
        f"{relative(path, root)}:{line}: imports {module}"
        for path in files
        for line, module in presentation_imports(path, root)
        if (relative(path, root), module) not in PRESENTATION_ALLOWED
    ]


def test_no_app_imports_another_apps_forms_views_or_tables():
    found = presentation_violations(project_files())
    assert not found, "call the other app's services or selectors instead:\n  " + "\n  ".join(found)
    used = {(relative(path), module) for path in project_files() for _, module in presentation_imports(path)}
    assert PRESENTATION_ALLOWED <= used, f"no longer needed: {PRESENTATION_ALLOWED - used}"


def test_presentation_checker_complains(tmp_path):
    (tmp_path / "logistics").mkdir()
    source = tmp_path / "logistics" / "mod.py"
    source.write_text(
        "from fulfillment.forms import PackForm\n"
        "import orders.views.orders\n"
        "from orders import tables\n"
        "from fulfillment import floor_views\n"
        "from orders.services import order_lock\n"
        "from oms.views import ObjectListView\n"
        "from .forms import Mine\n",
        encoding="utf-8",
    )

    (tmp_path / "workflows").mkdir()
    top = tmp_path / "workflows" / "urls.py"
    top.write_text("from orders import views\nfrom logistics.cases import views as case_views\n", encoding="utf-8")

    assert presentation_violations([source, top], root=tmp_path) == [
        "logistics/mod.py:1: imports fulfillment.forms",
        "logistics/mod.py:2: imports orders.views.orders",
        "logistics/mod.py:3: imports orders.tables",
        "logistics/mod.py:4: imports fulfillment.floor_views",
    ]


# --- status assignments outside their door ---------------------------------------------------------

# module -> the status it writes. Everything else reaches a status through these modules' services.
STATUS_WRITERS = {
    "orders/services/core.py": "Order.status: the door (order status setter)",
    "orders/care/returns.py": "ReturnRequest.status: the door (_set_return_status)",
    "orders/services/intake.py": "InboundMessage.status: inbound_record_outcome",
    "orders/care/notifications.py": "Notification.status: the door (notifications_move, NOTIFICATION_TRANSITIONS)",
    "inventory/services.py": "Transfer.status: transfer_receive",
    "fulfillment/shipments.py": "Shipment.status and PickList.status: the doors (and a tracking batch by their rules)",
    "fulfillment/routing/reroute.py": "RoutingReplay.status: the door (_set_replay_status)",
    "logistics/cases/core.py": "ExceptionCase.status: the door (case_status_set)",
    "logistics/cases/actions.py": "CarrierClaim.status: case_claim_update (CLAIM_TRANSITIONS)",
    "logistics/intake.py": "InboundMessage.status: a tracking batch's outcomes in one bulk UPDATE",
    "logistics/polling.py": "not a model: the poll report's dict.update(status=...)",
    "oms/imports/jobs.py": "ImportJob.status: the door (import_jobs_move)",
    "oms/outbox/door.py": "OutboxMessage.status: the door (outbox_move, OUTBOX_TRANSITIONS)",
    "orders/intake/inbox.py": "InboundMessage.status of an API message built in memory before its one INSERT (a "
    "replay answered at once); verdict.status is the request's own answer, not a model",
}


def status_writes(path: Path) -> list[tuple[int, str]]:
    """(line, what) of every ``x.status = ...`` (also in a tuple or augmented), ``.update(status=...)`` and
    ``setattr(x, "status", ...)``."""
    found = []
    for node in ast.walk(parse(path)):
        targets = []
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, ast.AugAssign | ast.AnnAssign):
            targets = [node.target]
        for target in targets:
            for element in target.elts if isinstance(target, ast.Tuple | ast.List) else [target]:
                if isinstance(element, ast.Attribute) and element.attr == "status":
                    found.append((node.lineno, f"{ast.unparse(element)} = ..."))
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
            if name == "update" and any(keyword.arg == "status" for keyword in node.keywords):
                found.append((node.lineno, "update(status=...)"))
            if (
                name == "setattr"
                and len(node.args) >= 2
                and isinstance(node.args[1], ast.Constant)
                and node.args[1].value == "status"
            ):
                found.append((node.lineno, 'setattr(..., "status", ...)'))
    return sorted(found)


def status_violations(files, root: Path = ROOT) -> list[str]:
    return [
        f"{relative(path, root)}:{line}: {what}"
        for path in files
        if relative(path, root) not in STATUS_WRITERS
        for line, what in status_writes(path)
    ]


def test_statuses_are_written_only_through_their_door():
    found = status_violations(project_files())
    assert not found, (
        "a status changes only through its door (the module that holds the transition check); call the "
        "service instead:\n  " + "\n  ".join(found)
    )
    writing = {relative(path) for path in project_files() if status_writes(path)}
    assert set(STATUS_WRITERS) <= writing, f"no longer writes a status: {set(STATUS_WRITERS) - writing}"


def test_status_checker_complains(tmp_path):
    (tmp_path / "orders").mkdir()
    source = tmp_path / "orders" / "mod.py"
    source.write_text(
        "order.status = 'x'\n"
        "ret.status, ret.note = 'a', 'b'\n"
        "Order.objects.filter(pk=1).update(status='done', note='')\n"
        "setattr(case, 'status', 'open')\n"
        "parcel.carrier_status = 'x'\n"
        "same = order.status == 'x'\n"
        "Order.objects.create(status='received')\n",
        encoding="utf-8",
    )

    assert status_violations([source], root=tmp_path) == [
        "orders/mod.py:1: order.status = ...",
        "orders/mod.py:2: ret.status = ...",
        "orders/mod.py:3: update(status=...)",
        'orders/mod.py:4: setattr(..., "status", ...)',
    ]


# --- module size -----------------------------------------------------------------------------------

MAX_MODULE_LINES = 700
# Today's offenders, each with the size it may not pass: split them by sub-domain, then remove the entry.
OVERSIZED: dict[str, int] = {}  # empty: orders/models.py became the package orders/models/


def size_violations(files, root: Path = ROOT) -> list[str]:
    found = []
    for path in files:
        lines = len(path.read_text(encoding="utf-8").splitlines())
        limit = OVERSIZED.get(relative(path, root), MAX_MODULE_LINES)
        if lines > limit:
            found.append(f"{relative(path, root)}: {lines} lines (at most {limit})")
    return found


def size_files() -> list[Path]:
    extra = [p for p in ("bench", "scripts") if (ROOT / p).is_dir()]
    return project_files() + [path for package in extra for path in python_files(package)]


def test_no_module_grows_past_the_size_limit():
    found = size_violations(size_files())
    assert not found, "split these modules by sub-domain (a package):\n  " + "\n  ".join(found)
    for name in OVERSIZED:
        lines = len((ROOT / name).read_text(encoding="utf-8").splitlines())
        assert lines > MAX_MODULE_LINES, f"{name} is {lines} lines now: remove it from OVERSIZED"


def test_size_checker_complains(tmp_path):
    (tmp_path / "orders").mkdir()
    big, small = tmp_path / "orders" / "big.py", tmp_path / "orders" / "small.py"
    big.write_text("x = 1\n" * (MAX_MODULE_LINES + 1), encoding="utf-8")
    small.write_text("x = 1\n" * MAX_MODULE_LINES, encoding="utf-8")

    assert size_violations([big, small], root=tmp_path) == ["orders/big.py: 701 lines (at most 700)"]


# --- a package by sub-domain stays one ------------------------------------------------------------

# A folder that has a package for a kind of module (views/, urls/, models/) keeps every module of that kind in
# it: no orders/foo_views.py beside orders/views/, no orders/api_urls.py beside orders/urls/ (issue 14).
GROUPED_KINDS = ("views", "urls", "models", "forms", "tables")


def scattered_modules(folders, root: Path = ROOT) -> list[str]:
    found = []
    for folder in folders:
        for kind in GROUPED_KINDS:
            if (folder / kind / "__init__.py").is_file():
                found += [relative(path, root) for path in sorted(folder.glob(f"*_{kind}.py"))]
                found += [relative(folder / f"{kind}.py", root)] if (folder / f"{kind}.py").is_file() else []
    return found


def test_grouped_modules_stay_in_their_package():
    folders = [path.parent for path in project_files() if path.name == "__init__.py"]
    found = scattered_modules(folders)
    assert not found, "move these into the package of their kind (views/, urls/, ...):\n  " + "\n  ".join(found)


def test_scattered_module_checker_complains(tmp_path):
    (tmp_path / "orders" / "views").mkdir(parents=True)
    (tmp_path / "orders" / "views" / "__init__.py").write_text("", encoding="utf-8")
    for name in ("care_views.py", "care_forms.py", "urls.py"):
        (tmp_path / "orders" / name).write_text("", encoding="utf-8")

    assert scattered_modules([tmp_path / "orders"], root=tmp_path) == ["orders/care_views.py"]


# --- private names across modules ----------------------------------------------------------------

PRIVATE_ALLOWED: set[str] = set()  # empty: stage_changes.py imports core's public names since workflows/ came


DJANGO_API = {"_meta", "_default_manager", "_base_manager"}  # public by Django's own documentation


def is_private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__") and name not in DJANGO_API


def private_imports(path: Path) -> list[tuple[int, str]]:
    """(line, name) of every private name (``_foo``) taken from another project module: ``from x import _foo``
    and ``module._foo`` where ``module`` was imported from the project."""
    tree = parse(path)
    found, modules = [], set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.level or (node.module or "").split(".")[0] in PROJECT_PACKAGES):
            for alias in node.names:
                if is_private(alias.name):
                    found.append((node.lineno, alias.name))
                modules.add(alias.asname or alias.name)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] in PROJECT_PACKAGES:
                    modules.add(alias.asname or alias.name.split(".")[0])
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and is_private(node.attr) and isinstance(node.value, ast.Name):
            if node.value.id in modules:
                found.append((node.lineno, f"{node.value.id}.{node.attr}"))
    return sorted(found)


def private_violations(files, root: Path = ROOT) -> list[str]:
    return [
        f"{relative(path, root)}:{line}: uses {name}"
        for path in files
        if relative(path, root) not in PRIVATE_ALLOWED
        for line, name in private_imports(path)
    ]


def test_no_private_name_crosses_a_module():
    found = private_violations(project_files())
    assert not found, (
        "make the name public with a docstring, or move the function to where it is used:\n  " + "\n  ".join(found)
    )
    using = {relative(path) for path in project_files() if private_imports(path)}
    assert PRIVATE_ALLOWED <= using, f"no longer needed: {PRIVATE_ALLOWED - using}"


def test_private_name_checker_complains(tmp_path):
    (tmp_path / "orders").mkdir()
    source = tmp_path / "orders" / "mod.py"
    source.write_text(
        "import sys\n"
        "from orders.services import _lock, order_lock\n"
        "from .core import _set_status as door\n"
        "from fulfillment import routing\n"
        "from __future__ import annotations\n"
        "plan = routing._plan_json(x)\n"
        "frame = sys._getframe()\n"
        "class A:\n"
        "    def f(self):\n"
        "        return self._cache\n",
        encoding="utf-8",
    )

    assert private_violations([source], root=tmp_path) == [
        "orders/mod.py:2: uses _lock",
        "orders/mod.py:3: uses _set_status",
        "orders/mod.py:6: uses routing._plan_json",
    ]


# --- no import circle inside an app ------------------------------------------------------------------

CYCLES_ALLOWED: set[frozenset[str]] = set()  # empty: the orders.returns <-> orders.services circle went with workflows/


def import_cycles(files, root: Path = ROOT) -> list[frozenset[str]]:
    """The import circles among these modules (strongly connected parts of the graph of every import, local
    ones included; ``from package import name`` counts as importing the package)."""
    modules = {module_name(path, root): path for path in files}

    def resolve(target: str) -> str | None:
        parts = target.split(".")
        while parts and ".".join(parts) not in modules:
            parts.pop()
        return ".".join(parts) or None

    graph = {
        name: {
            found
            for imp in imports_of(path, root)
            if (found := resolve(imp.module)) and found != name and found.split(".")[0] == name.split(".")[0]
        }
        for name, path in modules.items()
    }
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles = []

    def visit(node: str) -> None:  # Tarjan's strongly connected components
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in graph[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            part = []
            while True:
                member = stack.pop()
                part.append(member)
                if member == node:
                    break
            if len(part) > 1:
                cycles.append(frozenset(part))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return cycles


def test_no_import_circle_inside_an_app():
    found = import_cycles(project_files())
    new = [sorted(cycle) for cycle in found if cycle not in CYCLES_ALLOWED]
    assert not new, "break these circles (move the shared part down, or queue work by name):\n  " + "\n  ".join(
        map(str, new)
    )
    assert CYCLES_ALLOWED <= set(found), f"no longer a circle: {CYCLES_ALLOWED - set(found)}"


def test_cycle_finder_complains(tmp_path):
    package = tmp_path / "orders"
    package.mkdir()
    (package / "__init__.py").write_text("", encoding="utf-8")
    (package / "a.py").write_text("from .b import x\n", encoding="utf-8")
    (package / "b.py").write_text("def f():\n    from . import a\n", encoding="utf-8")
    (package / "c.py").write_text("from orders.a import y\n", encoding="utf-8")

    files = sorted(package.glob("*.py"))

    assert import_cycles(files, root=tmp_path) == [frozenset({"orders.a", "orders.b"})]
