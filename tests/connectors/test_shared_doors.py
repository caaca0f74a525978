"""The connectors' shared doors: our lines onto a platform's items (confirmations and refunds of every platform),
the refund's note, and the HTTP status of an answer sorted into the connector errors."""

import pytest

from connectors.answers import retry_after, sort_status
from connectors.base import Refused, Rejected, RetryLater, Transient, match_lines, refund_marker, refund_note


def test_lines_are_matched_in_order_by_sku_or_product_sku_up_to_what_each_item_can_take():
    items = [
        {"id": "a1", "sku": "SKU-A", "left": 1},
        {"id": "a2", "sku": "SKU-A", "left": 5},
        {"id": "b1", "sku": "P-B", "left": 2},
        {"id": "", "sku": "SKU-C", "left": 9},  # no id: never taken
    ]
    lines = [
        {"sku": "SKU-A", "quantity": 3},
        {"sku": "X-B", "product_sku": "P-B", "quantity": 2},
        {"sku": "SKU-C", "quantity": 1},
        {"sku": "SKU-A", "quantity": 4},
    ]
    taken, missing = match_lines(items, lines)
    assert taken == {"a1": 1, "a2": 5, "b1": 2}
    assert missing == ["SKU-C ×1", "SKU-A ×1"]
    assert items[0]["left"] == 1  # the caller's items are not changed


def test_the_refund_note_carries_the_rows_key_and_is_cut_to_the_platforms_limit():
    notice = {"key": "7:lines:abc", "order": "SO-7", "reason": "x" * 600}
    assert refund_marker(notice) == "[OMS 7:lines:abc]"
    assert refund_note(notice, 40) == "[OMS 7:lines:abc] Cancelled in the OMS ("
    assert len(refund_note(notice, 500)) == 500


@pytest.mark.parametrize(
    ("status", "error", "message"),
    [
        (429, RetryLater, "Acme answered 429: slow down"),
        (401, Refused, "Acme answered 401: slow down Check the key."),
        (403, Refused, "Acme answered 403: slow down Check the key."),
        (502, Transient, "Acme answered 502: slow down"),
        (404, Rejected, "Acme answered 404: slow down"),
    ],
)
def test_an_answers_status_is_sorted_into_the_connector_errors(status, error, message):
    with pytest.raises(error) as caught:
        sort_status(
            status, vendor="Acme", text=lambda: "slow down", retry_after=lambda: 3.0, refused_hint=" Check the key."
        )
    assert str(caught.value) == message
    if error is RetryLater:
        assert caught.value.after_seconds == 3.0


def test_a_good_answer_raises_nothing_and_asks_for_no_text():
    def never():
        raise AssertionError("asked")

    assert sort_status(200, vendor="Acme", text=never, retry_after=never) is None
    with pytest.raises(RetryLater, match=r"^Acme answered 429 \(busy\)\.$"):
        sort_status(429, vendor="Acme", text=never, retry_after=lambda: 1.0, busy=" (busy).")


def test_retry_after_takes_seconds_and_falls_back_on_anything_else():
    assert [retry_after(v, 2.0) for v in ("3.5", "0", None, "", "soon", "-1", "inf", "nan")] == [
        3.5,
        0.0,
        2.0,
        2.0,
        2.0,
        2.0,
        2.0,
        2.0,
    ]
