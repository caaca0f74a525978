"""Reference data: carriers and their service levels, rate cards, tracking sources."""

from django import forms
from django.contrib import admin

from .models import Carrier, RateCardRow, ServiceLevel, TrackingSource


class ServiceLevelInline(admin.StackedInline):
    model = ServiceLevel
    extra = 0


class CarrierForm(forms.ModelForm):
    """The API key is write-only: never rendered back; left empty, the stored key is kept."""

    api_key = forms.CharField(
        required=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text="Write-only. Leave empty to keep the stored key.",
    )

    class Meta:
        model = Carrier
        fields = (  # not webhook_secret: never shown
            "code",
            "name",
            "adapter",
            "active",
            "tracking_url_template",
            "tracking_format",
            "pickup_cutoff",
            "api_key",
            "api_base_url",
            "account_id",
            "shipper_code",
            "account_options",
            "label_format",
            "live_rates",
            "privacy_waybill",
        )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk and not self.is_bound:  # account passwords shown as a mask, kept when unchanged
            self.initial["account_options"] = {
                k: (MASK if _is_secret(k) and v else v) for k, v in (self.instance.account_options or {}).items()
            }

    def clean_api_key(self):
        return self.cleaned_data.get("api_key") or (self.instance.api_key if self.instance.pk else "")

    def clean_account_options(self):
        options = self.cleaned_data.get("account_options") or {}
        if not isinstance(options, dict):
            raise forms.ValidationError('Account options are a JSON object, e.g. {"CustomerName": "..."}.')
        stored = (self.instance.account_options or {}) if self.instance.pk else {}
        return {k: (stored.get(k, "") if v == MASK else v) for k, v in options.items()}


MASK = "********"


def _is_secret(key: str) -> bool:
    return any(word in key.lower() for word in ("pwd", "password", "secret", "key", "token"))


@admin.register(Carrier)
class CarrierAdmin(admin.ModelAdmin):
    form = CarrierForm
    list_display = ("code", "name", "adapter", "active")
    list_filter = ("adapter", "active")
    inlines = [ServiceLevelInline]


@admin.register(RateCardRow)
class RateCardRowAdmin(admin.ModelAdmin):
    list_display = [f.name for f in RateCardRow._meta.fields if f.name != "id"][:8]
    list_filter = ("service__carrier",)


@admin.register(TrackingSource)
class TrackingSourceAdmin(admin.ModelAdmin):
    list_display = [f.name for f in TrackingSource._meta.fields if f.name != "id"][:6]
