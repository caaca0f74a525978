"""What the webhook and pull adapters share: a JSON body read or refused with a clear error, and the two
functions every adapter of *pulled* orders has (no signature: the OMS fetched them itself; each is an update of
the channel's order, created when new)."""

import json

from .canonical import FieldError, OrderRejected


def json_body(body: bytes):
    """The body's JSON value; ``OrderRejected`` naming ``body`` when it is not UTF-8, not JSON or nested too
    deeply."""
    try:
        return json.loads(body.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise OrderRejected([FieldError("body", f"not UTF-8 text: {exc}")]) from exc
    except ValueError as exc:
        raise OrderRejected([FieldError("body", f"not JSON: {exc}")]) from exc
    except RecursionError:
        raise OrderRejected([FieldError("body", "not usable JSON: nested too deeply.")]) from None


def pulled_signature(body: bytes, headers: dict, secret: str) -> None:
    """A pulled order was fetched by us over the API: there is no signature to check."""


def pulled_topic(headers: dict, body: bytes) -> str:
    return "update"  # create when new, else the channel's update of the order
