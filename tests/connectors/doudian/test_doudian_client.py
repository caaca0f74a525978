"""The 抖店 client: every call signed as the platform checks it, the self-use app's token made once, kept and
refreshed when the platform says it expired, the platform's error codes sorted into retries and dead letters,
and the secret never shown."""

import hashlib
import hmac

import pytest

from connectors.base import Refused, Rejected, RetryLater
from connectors.doudian import client as dd_client
from connectors.doudian.adapter import DoudianAdapter, client_for
from connectors.models import ChannelConnection
from connectors.services import connection_save
from oms.errors import DomainError

from ..fake_doudian import APP_KEY, APP_SECRET, SHOP_ID, TOKEN

pytestmark = pytest.mark.django_db


def _connection():
    return ChannelConnection.objects.get()


def test_the_signature_is_the_platforms_hmac_over_secret_sorted_params_secret():
    body = dd_client.param_json({"size": 100, "page": 0, "order_asc": True, "备注": "中文"})
    assert body == '{"order_asc":true,"page":0,"size":100,"备注":"中文"}'
    pattern = f"{APP_SECRET}app_key{APP_KEY}methodorder.searchListparam_json{body}timestamp1733500000v2{APP_SECRET}"
    expected = hmac.new(APP_SECRET.encode(), pattern.encode(), hashlib.sha256).hexdigest()
    made = dd_client.sign(
        app_key=APP_KEY, app_secret=APP_SECRET, method="order.searchList", param_json=body, timestamp="1733500000"
    )
    assert made == expected
    assert (
        dd_client.sign(
            app_key=APP_KEY,
            app_secret=APP_SECRET,
            method="order.searchList",
            param_json=body,
            timestamp="1733500000",
            sign_method="md5",
        )
        == hashlib.md5(pattern.encode()).hexdigest()
    )


def test_the_first_call_makes_the_token_and_keeps_it_for_the_next_calls(dd, dd_world):
    data = client_for(_connection()).call("order.searchList", {"page": 0, "size": 10})
    assert data == {"shop_order_list": [], "total": 0, "page": 0, "size": 10}
    assert [r.path.split("?")[0] for r in dd.requests] == ["/token/create", "/order/searchList"]
    assert dd.api_calls("token.create") == [{"code": "", "grant_type": "authorization_self", "shop_id": SHOP_ID}]
    kept = _connection().credentials["doudian_token"]
    assert (kept["access_token"], kept["refresh_token"], kept["app_key"], kept["shop_id"]) == (
        dd.access_token,
        dd.refresh_token,
        APP_KEY,
        SHOP_ID,
    )
    query = dd.requests[-1].path.split("?")[1]
    assert f"access_token={dd.access_token}" in query and "sign_method=hmac-sha256" in query and "v=2" in query

    client_for(_connection()).call("order.searchList", {"page": 0, "size": 10})
    assert dd.made_tokens == 1  # kept on the connection, not made again


def test_an_expired_token_is_refreshed_once_and_the_call_made_again(dd, dd_world):
    client_for(_connection()).call("order.searchList", {"page": 0})
    old_refresh = dd.refresh_token
    dd.expire_token()

    client_for(_connection()).call("order.searchList", {"page": 0})

    assert dd.api_calls("token.refresh") == [{"grant_type": "refresh_token", "refresh_token": old_refresh}]
    assert len(dd.api_calls("order.searchList")) == 3  # the first, the refused one, the one after the refresh
    assert _connection().credentials["doudian_token"]["access_token"] == dd.access_token


def test_a_spent_refresh_token_makes_a_new_token(dd, dd_world):
    client_for(_connection()).call("order.searchList", {"page": 0})
    dd.expire_token()
    dd.refresh_token = "rotated-elsewhere"

    client_for(_connection()).call("order.searchList", {"page": 0})

    assert len(dd.api_calls("token.create")) == 2
    assert _connection().credentials["doudian_token"]["access_token"] == dd.access_token


def test_a_wrong_secret_is_the_platforms_signature_error_and_refused(dd, dd_world):
    ChannelConnection.objects.update(credentials={"access_token": f"{APP_KEY}:wrong-secret:{SHOP_ID}"})
    with pytest.raises(Refused) as caught:
        client_for(_connection()).call("order.searchList", {"page": 0})
    assert str(caught.value).startswith("抖店 answered 40003 非法的参数 (isv.signature-invalid: 签名校验失败)")
    assert "wrong-secret" not in str(caught.value)
    assert dd.access_token == ""


def test_the_platforms_rate_limit_is_a_retry_later(dd, dd_world):
    dd.limit("order.searchList")
    with pytest.raises(RetryLater) as caught:
        client_for(_connection()).call("order.searchList", {"page": 0})
    assert caught.value.after_seconds == dd_client.RATE_LIMIT_WAIT
    assert "60000" in str(caught.value) and "isv.api-flow-limit" in str(caught.value)


def test_a_business_error_is_rejected_with_the_platforms_words(dd, dd_world):
    with pytest.raises(Rejected) as caught:
        client_for(_connection()).call("order.orderDetail", {"shop_order_id": "1"})
    assert str(caught.value) == "抖店 answered 50002 业务处理失败 (isv.business-failed:10002: 订单不存在)"
    assert (caught.value.code, caught.value.sub_code) == (50002, "isv.business-failed:10002")


def test_the_secret_is_not_in_the_repr_and_a_bad_one_is_refused_on_save(dd, dd_world):
    client = client_for(_connection())
    assert APP_SECRET not in repr(client) and APP_SECRET not in str(vars(client).get("root"))
    for bad in ("just-a-token", f"{APP_KEY}:{APP_SECRET}", f"key:{APP_SECRET}:{SHOP_ID}"):
        assert DoudianAdapter().check_secret(bad)
        with pytest.raises(DomainError, match="抖店"):
            connection_save(channel=dd_world["channel"], data={}, secret=bad)
    assert _connection().credentials["access_token"] == TOKEN
