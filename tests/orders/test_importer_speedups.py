"""What the file import's speed-ups keep true (issue 14, "file import end to end"): each one is a cache of
something the import computed per order or per process, and the cached answer is the one computed."""

import pickle
from decimal import Decimal

import pytest
from django.test import override_settings
from django.utils import translation

from oms import cn_divisions
from oms.wording import _store, label
from orders.intake.values import OrderRejected, _money_text, parse_money
from orders.status import EventKind, HoldReason, OrderStatus


def test_a_label_is_made_once_per_member_and_keeps_its_class():
    assert label(HoldReason.ADDRESS_INVALID) is label(HoldReason.ADDRESS_INVALID)
    # The same value in two choice classes: two labels, each shown through its own class.
    assert OrderStatus.CANCELLED == EventKind.CANCELLED
    status, kind = label(OrderStatus.CANCELLED), label(EventKind.CANCELLED)
    assert status is not kind
    assert _store(status) == {"e": "orders.status.OrderStatus", "v": "cancelled"}
    assert _store(kind) == {"e": "orders.status.EventKind", "v": "cancelled"}


def test_a_cached_label_is_english_whatever_language_made_it_first():
    from oms.wording import _made_labels

    _made_labels.pop((HoldReason, HoldReason.PAYMENT), None)
    with translation.override("zh-hans"):
        made = label(HoldReason.PAYMENT)
    assert str(made) == str(HoldReason.PAYMENT.label) == label(HoldReason.PAYMENT).english
    with translation.override("en"):
        assert str(made) == str(HoldReason.PAYMENT.label)


@pytest.fixture
def fresh_index(tmp_path):
    """The division index built or loaded anew, with its cache file under a temporary VAR_DIR."""
    with override_settings(VAR_DIR=tmp_path):
        cn_divisions._index.cache_clear()
        cn_divisions._loaded.clear()
        yield tmp_path
        cn_divisions._index.cache_clear()
        cn_divisions._loaded.clear()


def test_the_division_index_is_kept_for_the_next_process_and_read_back_the_same(fresh_index):
    built = cn_divisions.divisions()
    (kept,) = (fresh_index / "cache").glob("cn-divisions-*.pickle")
    assert kept == cn_divisions._cache_path()
    cn_divisions._index.cache_clear()
    cn_divisions._loaded.clear()
    loaded = cn_divisions.divisions()
    assert loaded is not built
    assert loaded == built
    assert loaded.named("长沙市")[0].path == "湖南省 长沙市"


def test_a_damaged_index_file_is_built_again_and_replaced(fresh_index):
    path = cn_divisions._cache_path()
    path.parent.mkdir(parents=True)
    path.write_bytes(b"not a pickle")
    index = cn_divisions.divisions()
    assert index.named("岳麓区")[0].city == "长沙市"
    assert pickle.loads(path.read_bytes()) == index  # noqa: S301 - the file the test just had written


def test_an_amount_text_is_parsed_once_and_a_bad_one_is_still_named_by_its_field():
    _money_text.cache_clear()
    assert parse_money("19.90", "Lineitem price") == Decimal("19.90")
    assert parse_money("19.90", "Total") is parse_money("19.90", "Lineitem price")
    assert _money_text.cache_info().hits == 2
    for field in ("Lineitem price", "Total", "Lineitem price"):
        with pytest.raises(OrderRejected) as exc:
            parse_money("14,00", field)
        assert [(e.field, e.message[:31]) for e in exc.value.errors] == [(field, "invalid price: '14,00' is not a")]
    # A blank text is the caller's blank, as given (never one kept from another call).
    assert parse_money("", "Shipping", blank=None) is None
    assert str(parse_money("  ", "Shipping", blank=Decimal("0.00"))) == "0.00"
    assert str(parse_money(" ", "Shipping")) == "0"


def test_a_folder_that_takes_no_file_only_costs_the_build(fresh_index):
    (fresh_index / "cache").write_text("a file where the folder would be")  # mkdir fails
    index = cn_divisions.divisions()
    assert index.named("长沙市")[0].province == "湖南省"
    assert sorted(p.name for p in fresh_index.iterdir()) == ["cache"]
