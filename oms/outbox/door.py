"""The one door of ``OutboxMessage.status`` (oms.status.OUTBOX_TRANSITIONS)."""

from __future__ import annotations

from collections.abc import Iterable

from ..models import OutboxMessage
from ..status import OUTBOX_TRANSITIONS, outbox_sources


def outbox_move(ids: Iterable[int], target: str, *, among: Iterable[str] | None = None, **fields) -> int:
    """The one door of ``OutboxMessage.status``: move the rows among ``ids`` whose status may go to ``target``
    (oms.status.OUTBOX_TRANSITIONS; ``among`` narrows the statuses further) in one UPDATE with ``fields``
    beside; returns how many moved. A row in a status that may not go there is left as it is."""
    if target not in OUTBOX_TRANSITIONS:
        raise ValueError(f"Unknown outbox status {target!r}.")
    sources = outbox_sources(target)
    if among is not None:
        sources = sources & frozenset(among)
    return OutboxMessage.objects.filter(pk__in=list(ids), status__in=sources).update(status=target, **fields)
