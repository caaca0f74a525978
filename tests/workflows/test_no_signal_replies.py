"""No signal whose receivers' answers matter (ARCHITECTURE.md, "Workflow actions"): a cross-app verb is a
workflow action that calls each app's services; signals stay for optional listeners. Held with ``ast``: in the
apps, no ``<signal>.send(...)`` has its result used (kept in a variable, iterated, returned), and the signals
that did (order_cancelled, order_reroute, order_intercept_requested, order_open_shipments_cancel,
shipment_cancelled) are gone. ``send_robust`` is allowed where its result only reports failures."""

import ast
from pathlib import Path

from django.conf import settings

ROOT = Path(settings.BASE_DIR)
PACKAGES = ("oms", "inventory", "orders", "fulfillment", "logistics", "workflows", "reports")
GONE = {
    "order_cancelled",
    "order_reroute",
    "order_intercept_requested",
    "order_open_shipments_cancel",
    "shipment_cancelled",
}


def _files():
    for package in PACKAGES:
        yield from sorted(p for p in (ROOT / package).rglob("*.py") if "migrations" not in p.parts)


def _signal_names() -> set[str]:
    names = set()
    for path in _files():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call):
                func = node.value.func
                if getattr(func, "id", getattr(func, "attr", "")) == "Signal":
                    names |= {t.id for t in node.targets if isinstance(t, ast.Name)}
    return names


def test_the_signals_whose_answers_mattered_are_gone():
    assert _signal_names() & GONE == set()
    assert _signal_names() >= {"order_ready", "orders_ready"}


def used_replies(tree: ast.AST, signals: set[str]) -> list[int]:
    """Lines where ``<signal>.send(...)`` is not a statement of its own (or a lambda's body, as in on_commit)."""
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    return [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "send"
        and getattr(node.func.value, "id", "") in signals
        and not isinstance(parents.get(node), (ast.Expr, ast.Lambda))
    ]


def test_no_signal_reply_is_used():
    signals = _signal_names()
    used = [
        f"{path.relative_to(ROOT)}:{line}: a signal's reply is used"
        for path in _files()
        for line in used_replies(ast.parse(path.read_text(encoding="utf-8")), signals)
    ]
    assert used == []


def test_the_check_finds_a_used_reply():
    code = (
        "def f():\n"
        "    x.send(sender=None)\n"
        "    on_commit(lambda: x.send(sender=None))\n"
        "    replies = x.send(sender=None)\n"
        "    return [r for _, r in x.send(sender=None)]\n"
    )
    assert used_replies(ast.parse(code), {"x"}) == [4, 5]
