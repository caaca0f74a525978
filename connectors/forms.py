"""The connection form: the access token is write-only (never rendered back, blank keeps the stored one). The
model's validators carry their own translated messages (connectors/models.py): the form runs them as they are."""

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import ChannelConnection


class ConnectionForm(forms.ModelForm):
    base_url = forms.URLField(
        label=_("API root"),
        max_length=300,
        assume_scheme="https",
        help_text=_("The platform's API root, e.g. https://my-shop.myshopify.com (http only on loopback)"),
    )
    auth_url = forms.URLField(
        label=_("Token URL"),
        max_length=300,
        required=False,
        assume_scheme="https",
        help_text=_("Amazon: the LWA token URL (empty: https://api.amazon.com/auth/o2/token)"),
    )
    access_token = forms.CharField(
        label=_("Access token"),
        required=False,
        strip=True,
        max_length=500,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text=_("Write-only. Leave empty to keep the stored token. Amazon: client id:client secret:refresh token."),
    )

    class Meta:
        model = ChannelConnection
        fields = [
            "base_url",
            "api_version",
            "location_ref",
            "marketplace_ids",
            "auth_url",
            "active",
            "pull_orders",
            "confirm_shipments",
            "push_stock",
            "cancel_notices",
            "refund_payments",
            "tracking_extension",
        ]
        labels = {
            "api_version": _("API version"),
            "location_ref": _("Platform location"),
            "marketplace_ids": _("Marketplace ids"),
            "active": _("Active"),
            "pull_orders": _("Pull orders"),
            "confirm_shipments": _("Confirm shipments"),
            "push_stock": _("Push stock"),
            "cancel_notices": _("Cancellation notices"),
            "refund_payments": _("Refund payments"),
            "tracking_extension": _("Tracking extension"),
        }
        help_texts = {
            "api_version": _("e.g. 2025-01 for Shopify"),
            "marketplace_ids": _(
                "Amazon: the marketplace id(s) orders are pulled from and stock is set in, e.g. ATVPDKIKX0DER"
            ),
            "location_ref": _(
                "The platform's location stock is set at (Shopify: gid://shopify/Location/…; Amazon: the seller id)"
            ),
            "pull_orders": _("Pull orders updated since the cursor on a schedule"),
            "confirm_shipments": _("Send each shipment's carrier and tracking"),
            "push_stock": _("Set the channel's stock figures on the platform"),
            "cancel_notices": _("Tell the platform of cancellations and refunds"),
            "refund_payments": _(
                "A partial cancellation refunds the payment through the platform (Shopify: the suggested refund's "
                "transactions; WooCommerce: api_refund); off: the refund only records the cancelled lines"
            ),
            "tracking_extension": _(
                "WooCommerce: the store has the Shipment Tracking extension (else tracking goes in an order note)"
            ),
        }

    def connection_data(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.Meta.fields}
