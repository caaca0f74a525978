"""The connection form: the access token is write-only (never rendered back, blank keeps the stored one)."""

from django import forms
from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _

from .models import API_VERSION, MARKETPLACE_IDS, ChannelConnection


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
    # The model's checks again, worded for the reader (the form's fail first; the model's then are not run).
    api_version = forms.CharField(
        label=_("API version"),
        max_length=20,
        required=False,
        validators=[RegexValidator(API_VERSION, _("A dated version like 2025-01, or unstable."))],
        help_text=_("e.g. 2025-01 for Shopify"),
    )
    marketplace_ids = forms.CharField(
        label=_("Marketplace ids"),
        max_length=200,
        required=False,
        validators=[RegexValidator(MARKETPLACE_IDS, _("Marketplace ids like ATVPDKIKX0DER, comma-separated."))],
        help_text=_("Amazon: the marketplace id(s) orders are pulled from and stock is set in, e.g. ATVPDKIKX0DER"),
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
            "location_ref": _("Platform location"),
            "active": _("Active"),
            "pull_orders": _("Pull orders"),
            "confirm_shipments": _("Confirm shipments"),
            "push_stock": _("Push stock"),
            "cancel_notices": _("Cancellation notices"),
            "refund_payments": _("Refund payments"),
            "tracking_extension": _("Tracking extension"),
        }
        help_texts = {
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
