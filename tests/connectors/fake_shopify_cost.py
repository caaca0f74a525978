"""Shopify's calculated query cost, as the fake Shopify works it out before running a document
(shopify.dev/docs/apps/build/apis/graphql-admin/rate-limits, "Cost calculation" and "Single query limit"):

- a scalar or enum field costs 0, an object 1 (plus what is selected under it);
- a connection (a field with ``first:``/``last:``, a variable read from the request's variables) costs 2 plus
  ``first`` times the cost of one node (the node an object: 1 plus what is selected in it; ``pageInfo``,
  ``edges``/``nodes`` and ``cursor`` are the connection's own);
- ``nodes(ids:)`` costs one node per id;
- an inline fragment (an interface or union) costs the most expensive of the possible selections;
- a mutation field costs 10 (plus the objects it returns).

A single query may request at most ``MAX_COST`` (1,000): above it Shopify answers ``MAX_COST_EXCEEDED`` and runs
nothing (``max_cost_exceeded`` is that answer's body)."""

from __future__ import annotations

from graphql import (
    FieldNode,
    InlineFragmentNode,
    IntValueNode,
    ListValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
)

MAX_COST = 1000
MUTATION_COST = 10
CONNECTION_COST = 2
CONNECTION_PARTS = {"edges", "nodes", "node", "pageInfo", "cursor"}


def requested_cost(operation: OperationDefinitionNode, variables: dict) -> int:
    fields = _fields(operation.selection_set)
    if operation.operation.value == "mutation":
        return sum(MUTATION_COST + _selection(f.selection_set, variables) for f in fields)
    return _selection(operation.selection_set, variables)


def max_cost_exceeded(cost: int) -> dict:
    """The body Shopify answers (HTTP 200) for a document requesting more than ``MAX_COST``."""
    return {
        "errors": [
            {
                "message": f"Query cost is {cost}, which exceeds the single query max cost limit ({MAX_COST}).\n\n"
                "See https://shopify.dev/concepts/about-apis/rate-limits for more information on how the\n"
                "cost of a query is calculated.\n\n"
                "To query larger amounts of data with fewer limits, bulk operations should be used instead.\n"
                "See https://shopify.dev/tutorials/perform-bulk-operations-with-admin-api for usage details.\n",
                "extensions": {
                    "code": "MAX_COST_EXCEEDED",
                    "cost": cost,
                    "maxCost": MAX_COST,
                    "documentation": "https://shopify.dev/api/usage/rate-limits",
                },
            }
        ]
    }


def _fields(selection_set: SelectionSetNode | None) -> list[FieldNode]:
    return [s for s in (selection_set.selections if selection_set else []) if isinstance(s, FieldNode)]


def _selection(selection_set: SelectionSetNode | None, variables: dict) -> int:
    """The fields' costs, and the dearest of the inline fragments (the possible types)."""
    if selection_set is None:
        return 0
    fragments = [s for s in selection_set.selections if isinstance(s, InlineFragmentNode)]
    common = sum(_field(f, variables) for f in _fields(selection_set))
    return common + max((_selection(f.selection_set, variables) for f in fragments), default=0)


def _argument(field: FieldNode, name: str, variables: dict):
    argument = next((a for a in field.arguments or [] if a.name.value == name), None)
    if argument is None:
        return None
    value = argument.value
    if isinstance(value, VariableNode):
        return variables.get(value.name.value)
    if isinstance(value, IntValueNode):
        return int(value.value)
    if isinstance(value, ListValueNode):
        return list(value.values)
    return None


def _field(field: FieldNode, variables: dict) -> int:
    if field.selection_set is None:
        return 0  # a scalar or an enum
    ids = _argument(field, "ids", variables)
    if field.name.value == "nodes" and ids is not None:
        return len(ids) * (1 + _selection(field.selection_set, variables))
    size = _argument(field, "first", variables)
    if size is None:
        size = _argument(field, "last", variables)
    if size is None:
        return 1 + _selection(field.selection_set, variables)  # an object
    return CONNECTION_COST + int(size) * _node(field.selection_set, variables)


def _node(selection_set: SelectionSetNode, variables: dict) -> int:
    """One node of a connection: the object in ``nodes``/``edges { node }``, or the listed object itself."""
    fields = _fields(selection_set)
    if not any(f.name.value in CONNECTION_PARTS for f in fields):
        return 1 + _selection(selection_set, variables)  # a plain list with ``first:``
    cost = 0
    for f in fields:
        if f.name.value == "nodes":
            cost = max(cost, 1 + _selection(f.selection_set, variables))
        elif f.name.value == "edges":
            inner = next((n for n in _fields(f.selection_set) if n.name.value == "node"), None)
            cost = max(cost, 1 + _selection(inner.selection_set, variables) if inner else 0)
    return cost
