"""Input shape for the stock pages; the rules live in the services."""

from django import forms
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from .models import Location, Product, ReasonCode


class _LocationField(forms.ModelChoiceField):
    def __init__(self, **kwargs):
        super().__init__(queryset=Location.objects.filter(active=True), to_field_name="code", **kwargs)

    def label_from_instance(self, obj):
        return f"{obj.code} · {obj.name}"


class _SkuField(forms.CharField):
    def clean(self, value):
        sku = super().clean(value).strip()
        product = Product.objects.filter(sku=sku).first()
        if product is None:
            raise forms.ValidationError(gettext("Unknown SKU %(sku)s.") % {"sku": repr(sku)})
        return product


REASON_CHOICES = [("", "—")] + list(ReasonCode.choices)
# The most one movement may move: far below the stock columns' 32-bit range, so sums never overflow.
# (Zero and negative quantities are the services' to refuse, with their own message.)
MAX_MOVE = 1_000_000


class ReceiveForm(forms.Form):
    location = _LocationField(label=_("Location"))
    sku = _SkuField(label="SKU", widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "off"}))
    quantity = forms.IntegerField(max_value=MAX_MOVE, label=_("Quantity"))
    reference = forms.CharField(
        required=False, max_length=64, label=_("Reference"), help_text=_("Purchase order, delivery note …")
    )
    bin = forms.CharField(required=False, max_length=32, label=_("Bin"))
    reason_code = forms.ChoiceField(
        choices=REASON_CHOICES, required=False, initial=ReasonCode.PURCHASE, label=_("Reason code")
    )
    reason = forms.CharField(required=False, max_length=200, label=_("Reason"))


class AdjustForm(forms.Form):
    location = _LocationField(label=_("Location"))
    sku = _SkuField(label="SKU", widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "off"}))
    delta = forms.IntegerField(
        label=_("Change (+/−)"), min_value=-MAX_MOVE, max_value=MAX_MOVE, help_text=_("Negative takes stock away.")
    )
    reason_code = forms.ChoiceField(
        choices=REASON_CHOICES, required=False, initial=ReasonCode.CORRECTION, label=_("Reason code")
    )
    reason = forms.CharField(max_length=200, label=_("Reason"))
    reference = forms.CharField(required=False, max_length=64, label=_("Reference"))


class CountForm(forms.Form):
    location = _LocationField(label=_("Location"))
    sku = _SkuField(label="SKU", widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "off"}))
    counted = forms.IntegerField(label=_("Counted quantity"), max_value=MAX_MOVE)
    reference = forms.CharField(required=False, max_length=64, label=_("Reference"), help_text=_("Count sheet or task"))


class WriteOffForm(forms.Form):
    location = _LocationField(label=_("Location"))
    sku = _SkuField(label="SKU", widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "off"}))
    quantity = forms.IntegerField(max_value=MAX_MOVE, label=_("Quantity"))
    reason_code = forms.ChoiceField(
        choices=[(c, label) for c, label in ReasonCode.choices if c in ("damaged", "expired", "lost", "other")],
        initial=ReasonCode.DAMAGED,
        label=_("Reason code"),
    )
    reason = forms.CharField(max_length=200, label=_("Reason"))
    reference = forms.CharField(required=False, max_length=64, label=_("Reference"))


class TransferForm(forms.Form):
    from_location = _LocationField(label=pgettext_lazy("transfer", "From"))
    to_location = _LocationField(label=pgettext_lazy("transfer", "To"))
    lines = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 6, "placeholder": "SKU-A 10\nSKU-B 4"}),
        label=_("Lines"),
        help_text=_("One line per product: SKU and quantity."),
    )
    note = forms.CharField(required=False, max_length=200, label=_("Note"))

    def clean_lines(self):
        result, errors = [], []
        for number, raw in enumerate(self.cleaned_data["lines"].splitlines(), start=1):
            parts = raw.replace(",", " ").replace("\t", " ").split()
            if not parts:
                continue
            if len(parts) != 2:
                errors.append(gettext("line %(number)s: write the SKU and the quantity") % {"number": number})
                continue
            sku, qty = parts
            product = Product.objects.filter(sku=sku).first()
            if product is None:
                errors.append(gettext("line %(number)s: unknown SKU %(sku)s") % {"number": number, "sku": repr(sku)})
                continue
            try:
                quantity = int(qty)
            except ValueError:
                errors.append(
                    gettext("line %(number)s: %(qty)s is not a whole number") % {"number": number, "qty": repr(qty)}
                )
                continue
            if not 1 <= quantity <= MAX_MOVE:
                errors.append(
                    gettext("line %(number)s: the quantity must be from 1 to %(max)s")
                    % {"number": number, "max": MAX_MOVE}
                )
                continue
            result.append((product, quantity))
        if errors:
            raise forms.ValidationError(errors)
        if not result:
            raise forms.ValidationError(gettext("Add at least one line."))
        return result


class ImportForm(forms.Form):
    kind = forms.ChoiceField(
        choices=[
            ("receipts", _("Receipts")),
            ("adjustments", _("Adjustments")),
            ("counts", _("Cycle counts")),
            ("transfers", _("Transfers")),
        ],
        label=_("Kind"),
    )
    file = forms.FileField(label=_("File"), help_text=_("CSV (UTF-8 or GBK) or XLSX with a header row."))


class StockRuleForm(forms.Form):
    location = _LocationField(label=_("Location"))
    sku = _SkuField(label="SKU")
    safety_stock = forms.IntegerField(initial=0, min_value=0, max_value=MAX_MOVE, label=_("Safety stock"))
    low_stock_threshold = forms.IntegerField(
        required=False, min_value=0, max_value=MAX_MOVE, label=_("Low stock threshold")
    )
    min_days_of_cover = forms.IntegerField(required=False, min_value=0, max_value=32767, label=_("Min days of cover"))


class BinForm(forms.Form):
    code = forms.CharField(max_length=32, label=_("Code"), help_text=_("e.g. A-01-03 (aisle, rack, level)"))
    zone = forms.CharField(
        max_length=32, required=False, label=_("Zone"), help_text=_("Pick lists group bins by zone.")
    )
    pick_sequence = forms.IntegerField(
        min_value=0,
        max_value=2_000_000_000,
        initial=0,
        label=_("Pick sequence"),
        help_text=_("Pickers walk bins in this order."),
    )
    active = forms.BooleanField(required=False, initial=True, label=_("Active"))


class BinAssignForm(forms.Form):
    location = _LocationField(label=_("Location"))
    bin = forms.CharField(max_length=32, required=False, label=_("Bin"), help_text=_("Empty: no pick face."))


class PresaleForm(forms.Form):
    """预售 on a product: empty date unmarks it."""

    ship_from = forms.DateField(
        required=False,
        label=_("Ship from"),
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("Orders are promised and routed from this day. Empty: not presale."),
    )
    batch_qty = forms.IntegerField(
        required=False, min_value=1, max_value=MAX_MOVE, label=_("Expected batch"), help_text=_("Units arriving then.")
    )
