"""The connection form: the access token is write-only (never rendered back, blank keeps the stored one)."""

from django import forms

from .models import ChannelConnection


class ConnectionForm(forms.ModelForm):
    base_url = forms.URLField(
        max_length=300,
        assume_scheme="https",
        help_text="The platform's API root, e.g. https://my-shop.myshopify.com (http only on loopback)",
    )
    auth_url = forms.URLField(
        max_length=300,
        required=False,
        assume_scheme="https",
        help_text="Amazon: the LWA token URL (empty: https://api.amazon.com/auth/o2/token)",
    )
    access_token = forms.CharField(
        required=False,
        strip=True,
        max_length=500,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text="Write-only. Leave empty to keep the stored token. Amazon: client id:client secret:refresh token.",
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

    def connection_data(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.Meta.fields}
