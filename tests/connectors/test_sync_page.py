"""The channel's sync page (issue 16): last pull, last push, lag, failures with their error and Retry; the
connection form with a write-only token; permission-checked."""

from html import unescape

import pytest
from django.urls import reverse
from django.utils import timezone

from connectors.models import ChannelConnection
from connectors.services import connection_save
from oms.errors import DomainError
from oms.models import OutboxMessage
from orders.models import Order
from tests.factories import make_user
from tests.orders.branch_catalogue import branch_chinese

from .conftest import dispatch, make_order, ship, shipment_rows
from .fake_shopify import TOKEN, order_node

pytestmark = pytest.mark.django_db


def _url(world, name="channel_sync"):
    return reverse(f"connectors:{name}", args=[world["channel"].slug])


def test_the_page_shows_the_state_and_never_the_token(client, fake, world):
    client.force_login(make_user("manager1", "manager"))
    response = client.get(_url(world))
    assert response.status_code == 200
    html = response.content.decode()
    assert TOKEN not in html
    assert "••••" + TOKEN[-4:] in html
    assert fake.base_url in html
    assert 'name="access_token"' in html and 'value="' + TOKEN not in html
    assert "No failures." in html
    # the channel page links here
    assert _url(world) in client.get(reverse("orders:channel_detail", args=[world["channel"].slug])).content.decode()


def test_warehouse_staff_may_not_see_or_use_it(client, fake, world):
    client.force_login(make_user("floor1", "warehouse"))
    assert client.get(_url(world)).status_code == 403
    assert client.post(_url(world, "channel_retry")).status_code == 403
    assert client.post(_url(world, "channel_pull")).status_code == 403
    before = ChannelConnection.objects.values().get()
    assert client.post(_url(world, "connection_update"), {"base_url": "https://evil.example"}).status_code == 403
    assert ChannelConnection.objects.values().get() == before


def test_saving_without_a_token_keeps_it_and_a_new_token_replaces_it(client, fake, world):
    client.force_login(make_user("manager1", "manager"))
    form = {
        "base_url": "https://shop-cn.myshopify.com",
        "api_version": "2025-04",
        "location_ref": "gid://shopify/Location/9",
    }
    form |= {"active": "on", "pull_orders": "on", "confirm_shipments": "on"}
    response = client.post(_url(world, "connection_update"), form)
    assert response.status_code == 302
    connection = ChannelConnection.objects.get()
    assert (connection.base_url, connection.api_version, connection.push_stock) == (
        "https://shop-cn.myshopify.com",
        "2025-04",
        False,
    )
    assert connection.credentials == {"access_token": TOKEN}

    client.post(_url(world, "connection_update"), form | {"access_token": "shpat_new_token_9999999999"})
    connection.refresh_from_db()
    assert connection.credentials == {"access_token": "shpat_new_token_9999999999"}


def test_a_bad_base_url_is_a_form_error_and_changes_nothing(client, fake, world):
    client.force_login(make_user("manager1", "manager"))
    before = ChannelConnection.objects.values().get()
    response = client.post(
        _url(world, "connection_update"), {"base_url": "not a url", "access_token": "x" * 20}, follow=True
    )
    assert response.status_code == 200
    assert "API root: Enter a valid URL." in response.content.decode()
    assert ChannelConnection.objects.values().get() == before


def test_a_dead_confirmation_is_listed_with_its_error_and_retried_from_the_page(
    client, fake, world, django_capture_on_commit_callbacks
):
    fake.shop.add_fulfillable_order(5001, [("SKU-A", 2), ("SKU-B", 1)])
    order = make_order(django_capture_on_commit_callbacks, world)
    ship(django_capture_on_commit_callbacks, order.shipments.get())
    fake.shop.fail_next("401")
    dispatch()
    row = OutboxMessage.objects.get(kind="channel.shipment")
    client.force_login(make_user("manager1", "manager"))

    html = client.get(_url(world)).content.decode()
    assert "Refused: Shopify answered 401" in html
    assert order.shipments.get().number in html
    assert TOKEN not in html

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(_url(world, "channel_retry"), {"id": str(row.pk)})
    assert response.status_code == 302
    assert shipment_rows() == [("sent", 1, "")]
    assert len(fake.shop.fulfillments) == 1
    html = client.get(_url(world)).content.decode()
    assert "No failures." in html
    assert next(iter(fake.shop.fulfillments)) in html


@pytest.mark.parametrize(
    ("field", "value", "error"),
    [
        (
            "base_url",
            "http://shop-cn.myshopify.com",
            "API root: Use https: plain http only reaches a server on this machine.",
        ),
        ("base_url", "https://shop-cn.myshopify.com/?x=1", "API root: The API root takes no query or fragment."),
        ("api_version", "2025-01/../../x", "API version: A dated version like 2025-01, or unstable."),
    ],
)
def test_a_connection_the_client_could_not_use_is_refused(client, fake, world, field, value, error):
    client.force_login(make_user("manager1", "manager"))
    before = ChannelConnection.objects.values().get()
    form = {"base_url": "https://shop-cn.myshopify.com", "api_version": "2025-01", field: value}
    response = client.post(_url(world, "connection_update"), form, follow=True)
    assert error in response.content.decode()
    assert ChannelConnection.objects.values().get() == before


def test_saving_a_bad_connection_through_the_service_is_a_domain_error(fake, world):
    with pytest.raises(DomainError, match="api_version: A dated version"):
        connection_save(channel=world["channel"], data={"api_version": "v1"})
    assert ChannelConnection.objects.get().api_version == "2025-01"


def test_a_garbled_retry_id_is_refused_and_changes_nothing(client, fake, world):
    client.force_login(make_user("manager1", "manager"))
    response = client.post(_url(world, "channel_retry"), {"id": "1 OR 1=1"}, follow=True)
    assert response.status_code == 200
    assert "Not a message id." in response.content.decode()


def test_pull_now_runs_the_pull_and_the_page_shows_it(client, fake, world, django_capture_on_commit_callbacks):
    fake.shop.orders = [order_node(7001, updated_at="2026-12-05T10:00:00Z")]
    client.force_login(make_user("manager1", "manager"))
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(_url(world, "channel_pull")).status_code == 302
    assert Order.objects.filter(external_id="7001").count() == 1
    html = client.get(_url(world)).content.decode()
    assert "1 stored" in html
    assert "2026-12-05T10:00:00Z" in html


def test_the_sync_pages_messages_read_in_chinese(client, fake, world, tmp_path):
    from tests.orders.branch_catalogue import branch_chinese

    client.force_login(make_user("manager1", "manager"))
    client.cookies["django_language"] = "zh-hans"
    with branch_chinese(tmp_path, "china-rest3.json"):
        response = client.post(_url(world, "channel_retry"), {"id": "1 OR 1=1"}, follow=True)
    page = response.content.decode()
    assert "不是有效的消息编号。" in page and "Not a message id." not in page


def test_the_page_in_chinese_labels_the_form_and_reads_the_connectors_own_words(client, fake, world, tmp_path):
    """Issue 17: the connection form's labels and help, and a stored last error of the connector's own words, in
    Chinese (scripts/i18n/zh/china-last.json); a platform's own text inside stays as it came."""
    ChannelConnection.objects.update(
        last_push_at=timezone.now(),
        last_push_error="not on the platform: SKU-X · refused: SKU-Y: locked",
        last_confirm_at=timezone.now(),
        last_confirm_error="No access token is set on the connection.",
    )
    client.force_login(make_user("manager1", "manager"))
    client.cookies["django_language"] = "zh-hans"
    with branch_chinese(tmp_path, "china-last.json"):
        html = unescape(client.get(_url(world)).content.decode())
    assert "平台上没有：SKU-X · 被拒绝：SKU-Y: locked" in html
    assert "该连接尚未设置访问令牌。" in html
    assert "API 根地址" in html and "访问令牌" in html and "推送库存" in html
    assert "Write-only" not in html and "Base url" not in html
    assert ChannelConnection.objects.get().last_push_error.startswith("not on the platform: ")  # stored English


@pytest.mark.parametrize(
    ("field", "value", "english", "chinese"),
    [
        (
            "api_version",
            "v1",
            "A dated version like 2025-01, or unstable.",
            "填写带日期的版本（如 2025-01）或 unstable。",
        ),
        (
            "marketplace_ids",
            "atvpdkikx0der;x",
            "Marketplace ids like ATVPDKIKX0DER, comma-separated.",
            "站点 ID 形如 ATVPDKIKX0DER，多个用逗号分隔。",
        ),
    ],
)
def test_the_form_words_the_models_own_rule_in_the_readers_language(db, field, value, english, chinese):
    """One rule in one place: the form has no copy of the model's validators; their messages are translated (the
    model's own check, as the service runs it, too)."""
    from django.core.exceptions import ValidationError
    from django.utils import translation

    from connectors.forms import ConnectionForm
    from orders.models import Channel

    channel = Channel.objects.create(slug="shop-x", name="Shop X", platform="shopify")
    data = {"base_url": "https://shop-x.myshopify.com", field: value}
    for language, words in (("en", english), ("zh-hans", chinese)):
        with translation.override(language):
            form = ConnectionForm(data, instance=ChannelConnection(channel=channel))
            assert not form.is_valid()
            assert form.errors[field] == [words]
            with pytest.raises(ValidationError) as refused:
                ChannelConnection(channel=channel, base_url=data["base_url"], **{field: value}).full_clean()
            assert refused.value.message_dict[field] == [words]
    assert not ChannelConnection.objects.exists()
