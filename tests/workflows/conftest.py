"""The workflow actions' tests use the stage-rule world of tests/orders (two locations with stock of SKU-A
and SKU-B, a web channel, a customer-service user and a manager)."""

from tests.orders.conftest import boss, cs, world  # noqa: F401 - fixtures
