"""Input shape only: the rules live in services and intake.canonical."""

from django import forms
from django.forms import formset_factory
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from inventory.models import Product

from .intake.canonical import MAX_QUANTITY
from .models import Channel, Order, OrderLine
from .models.memo_tags import MESSAGE_MAX
from .services.changes import CHANNEL_SETTINGS
from .status import HoldReason


def _max(model, name: str) -> int:
    """The column's own length: a form takes no more than the database stores."""
    return model._meta.get_field(name).max_length


class OrderForm(forms.Form):
    channel = forms.ModelChoiceField(queryset=Channel.objects.filter(active=True), label=_("Channel"))
    external_id = forms.CharField(
        max_length=_max(Order, "external_id"),
        required=False,
        label=_("External id"),
        help_text=_("Leave empty to number it automatically."),
    )
    ship_name = forms.CharField(label=_("Recipient"), max_length=_max(Order, "ship_name"))
    ship_phone = forms.CharField(label=_("Phone"), max_length=_max(Order, "ship_phone"), required=False)
    ship_email = forms.EmailField(label=_("E-mail"), max_length=_max(Order, "ship_email"), required=False)
    ship_country = forms.CharField(label=_("Country"), max_length=40, initial="CN")
    ship_province = forms.CharField(
        label=_("Province / state"), max_length=_max(Order, "ship_province"), required=False
    )
    ship_city = forms.CharField(label=_("City"), max_length=_max(Order, "ship_city"))
    ship_district = forms.CharField(label=_("District"), max_length=_max(Order, "ship_district"), required=False)
    ship_address1 = forms.CharField(label=_("Address"), max_length=_max(Order, "ship_address1"))
    ship_address2 = forms.CharField(label=_("Address 2"), max_length=_max(Order, "ship_address2"), required=False)
    ship_postcode = forms.CharField(label=_("Postcode"), max_length=_max(Order, "ship_postcode"), required=False)
    requested_service = forms.ChoiceField(
        required=False,
        label=_("Requested service"),
        choices=[("", _("Any")), ("express", _("Express")), ("standard", _("Standard")), ("economy", _("Economy"))],
    )
    promise_date = forms.DateField(
        required=False, label=_("Promise date"), widget=forms.DateInput(attrs={"type": "date"})
    )
    note = forms.CharField(required=False, label=_("Note"), widget=forms.Textarea(attrs={"rows": 2}))
    # 买家留言 / 卖家备注 (orders/models/memo_tags.py), e.g. typed from a phone order.
    buyer_message = forms.CharField(
        label=_("Buyer message"), required=False, max_length=MESSAGE_MAX, widget=forms.Textarea(attrs={"rows": 2})
    )
    seller_memo = forms.CharField(
        label=_("Seller memo"), required=False, max_length=MESSAGE_MAX, widget=forms.Textarea(attrs={"rows": 2})
    )


class OrderLineForm(forms.Form):
    sku = forms.CharField(max_length=_max(OrderLine, "sku"), label="SKU")
    quantity = forms.IntegerField(min_value=1, max_value=MAX_QUANTITY, label=_("Quantity"))
    unit_price = forms.DecimalField(
        min_value=0,
        max_digits=OrderLine._meta.get_field("unit_price").max_digits,
        decimal_places=OrderLine._meta.get_field("unit_price").decimal_places,
        required=False,
        label=_("Unit price"),
    )


OrderLineFormSet = formset_factory(OrderLineForm, extra=3, min_num=1, validate_min=True, max_num=100)


class HoldForm(forms.Form):
    reason = forms.ChoiceField(choices=HoldReason.choices, label=_("Reason"))
    note = forms.CharField(max_length=255, required=False, label=_("Note"))


class ReleaseForm(forms.Form):
    reason = forms.ChoiceField(
        choices=[("", _("All holds"))] + list(HoldReason.choices), required=False, label=_("Reason")
    )
    note = forms.CharField(max_length=255, required=True, label=_("Why"))


class CancelForm(forms.Form):
    reason = forms.CharField(max_length=200, label=_("Reason"))


class ChannelForm(forms.ModelForm):
    """A channel's intake settings. The secret is write-only: left empty, it stays as it is. The form only checks:
    the view gives what it cleaned to ``services.channel_settings_set`` (隐私面单 through its own door)."""

    new_webhook_secret = forms.CharField(
        required=False,
        max_length=200,
        label=_("New webhook secret"),
        widget=forms.PasswordInput(render_value=False),
        help_text=_("Leave empty to keep the current secret."),
    )

    class Meta:
        model = Channel
        fields = [*CHANNEL_SETTINGS, "mask_recipient"]
        labels = {
            "name": _("Name"),
            "kind": _("Kind"),
            "platform": _("Platform"),
            "stock_policy": _("Stock policy"),
            "default_priority": _("Default priority"),
            "active": _("Active"),
            "mask_recipient": _("Mask the recipient on labels and packing slips (隐私面单)"),
        }


class ChannelSkuForm(forms.Form):
    external_sku = forms.CharField(max_length=64, label=_("Channel's SKU"))
    product = forms.ModelChoiceField(
        queryset=Product.objects.filter(active=True),
        to_field_name="sku",
        label=_("Our SKU"),
        widget=forms.TextInput(attrs={"placeholder": _("our SKU")}),
    )


class ListingPresaleForm(forms.Form):
    """预售 on one channel listing (the channel's SKU map): an empty date unmarks it."""

    channel = forms.ModelChoiceField(queryset=Channel.objects.all(), label=_("Channel"))
    external_sku = forms.CharField(max_length=64, label=_("Channel SKU"))
    ship_from = forms.DateField(
        required=False,
        label=_("Ship from"),
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("Empty: the listing is not presale."),
    )

    def clean_ship_from(self):
        day = self.cleaned_data.get("ship_from")
        if day is not None and day <= timezone.localdate():
            raise forms.ValidationError(_("The ship-from date must be after today."))
        return day


class PresaleReleaseForm(forms.Form):
    note = forms.CharField(max_length=200, required=False, label=_("Why"))
