"""Credentials at rest (oms/vault.py): channel and carrier secrets are encrypted in the database, readable in
Python, rotated with ``rotate_credentials``; a value no key opens reads as not set instead of failing."""

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.db import connection

from connectors.models import ChannelConnection
from connectors.services import connection_save
from logistics.models import Carrier
from oms import vault
from tests.factories import ChannelFactory

pytestmark = pytest.mark.django_db
TOKEN = "shpat_0123456789abcdef0123456789"


def raw(table, column, pk):
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {table} WHERE id = %s", [pk])  # noqa: S608
        return cursor.fetchone()[0]


@pytest.fixture
def shop():
    channel = ChannelFactory(slug="shop", platform="shopify")
    return connection_save(channel=channel, data={"base_url": "https://shop.example.com"}, secret=TOKEN)


def test_a_connections_token_is_stored_encrypted_and_read_back(shop):
    stored = raw("connectors_channelconnection", "credentials", shop.pk)
    assert stored.startswith("fernet:") and TOKEN not in stored
    assert ChannelConnection.objects.get(pk=shop.pk).credentials == {"access_token": TOKEN}


def test_a_carrier_key_is_stored_encrypted(db):
    carrier = Carrier.objects.create(code="ep", name="EasyPost", adapter="easypost", api_key="EZAK_secret_1234")
    stored = raw("logistics_carrier", "api_key", carrier.pk)
    assert stored.startswith("fernet:") and "EZAK" not in stored
    assert Carrier.objects.get(pk=carrier.pk).api_key == "EZAK_secret_1234"
    blank = Carrier.objects.create(code="local2", name="Local", adapter="local")
    assert raw("logistics_carrier", "api_key", blank.pk) == "" and Carrier.objects.get(pk=blank.pk).api_key == ""


def test_a_value_stored_before_encryption_is_read_and_sealed_on_save(shop):
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE connectors_channelconnection SET credentials = %s WHERE id = %s",
            ['{"access_token": "plain-old-token"}', shop.pk],
        )
    legacy = ChannelConnection.objects.get(pk=shop.pk)
    assert legacy.credentials == {"access_token": "plain-old-token"}
    legacy.save()
    assert raw("connectors_channelconnection", "credentials", shop.pk).startswith("fernet:")


def test_rotation_reseals_with_the_new_key_and_the_old_key_can_go(shop, settings, capsys):
    old = vault._keys()[0]
    new = Fernet.generate_key().decode()
    settings.OMS_CREDENTIALS_KEYS = f"{new},{old}"
    assert ChannelConnection.objects.get(pk=shop.pk).credentials["access_token"] == TOKEN  # the old key still opens
    before = raw("connectors_channelconnection", "credentials", shop.pk)
    call_command("rotate_credentials")
    assert "1 row(s) encrypted with the first key; 0 unreadable." in capsys.readouterr().out
    after = raw("connectors_channelconnection", "credentials", shop.pk)
    assert after != before
    settings.OMS_CREDENTIALS_KEYS = new  # the old key removed
    assert ChannelConnection.objects.get(pk=shop.pk).credentials == {"access_token": TOKEN}
    settings.OMS_CREDENTIALS_KEYS = old  # only the old key: the new value is unreadable, read as not set
    assert ChannelConnection.objects.get(pk=shop.pk).credentials == {}
    with pytest.raises(SystemExit):
        call_command("rotate_credentials")
    assert raw("connectors_channelconnection", "credentials", shop.pk) == after  # left as it was


def test_a_bad_key_setting_is_a_clear_configuration_error(shop, settings):
    from django.core.exceptions import ImproperlyConfigured

    settings.OMS_CREDENTIALS_KEYS = "not-a-fernet-key"
    with pytest.raises(ImproperlyConfigured, match="Fernet.generate_key"):
        ChannelConnection.objects.get(pk=shop.pk)


def test_a_stored_credential_is_decrypted_once_and_a_changed_one_is_read_at_once(shop, monkeypatch):
    opened = []
    real = vault._open

    def counting(keys, stored):
        opened.append(stored)
        return real(keys, stored)

    monkeypatch.setattr(vault, "_open", counting)
    vault._opened.cache_clear()
    for _ in range(3):  # a consumer reading the connection every round
        assert ChannelConnection.objects.get(pk=shop.pk).credentials == {"access_token": TOKEN}
    assert len(opened) == 1

    connection_save(channel=shop.channel, data={}, secret="shpat_new_token_0123456789abcdef")
    assert ChannelConnection.objects.get(pk=shop.pk).credentials == {"access_token": "shpat_new_token_0123456789abcdef"}
    assert len(opened) == 2 and opened[1] != opened[0]  # a new stored value: opened anew, never the old secret
