"""Input shape for the stock pages; the rules live in the services."""

from django import forms

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
            raise forms.ValidationError(f"Unknown SKU {sku!r}.")
        return product


REASON_CHOICES = [("", "—")] + list(ReasonCode.choices)
# The most one movement may move: far below the stock columns' 32-bit range, so sums never overflow.
# (Zero and negative quantities are the services' to refuse, with their own message.)
MAX_MOVE = 1_000_000


class ReceiveForm(forms.Form):
    location = _LocationField()
    sku = _SkuField(label="SKU", widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "off"}))
    quantity = forms.IntegerField(max_value=MAX_MOVE)
    reference = forms.CharField(required=False, max_length=64, help_text="Purchase order, delivery note …")
    bin = forms.CharField(required=False, max_length=32)
    reason_code = forms.ChoiceField(choices=REASON_CHOICES, required=False, initial=ReasonCode.PURCHASE)
    reason = forms.CharField(required=False, max_length=200)


class AdjustForm(forms.Form):
    location = _LocationField()
    sku = _SkuField(label="SKU", widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "off"}))
    delta = forms.IntegerField(
        label="Change (+/−)", min_value=-MAX_MOVE, max_value=MAX_MOVE, help_text="Negative takes stock away."
    )
    reason_code = forms.ChoiceField(choices=REASON_CHOICES, required=False, initial=ReasonCode.CORRECTION)
    reason = forms.CharField(max_length=200)
    reference = forms.CharField(required=False, max_length=64)


class CountForm(forms.Form):
    location = _LocationField()
    sku = _SkuField(label="SKU", widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "off"}))
    counted = forms.IntegerField(label="Counted quantity", max_value=MAX_MOVE)
    reference = forms.CharField(required=False, max_length=64, help_text="Count sheet or task")


class WriteOffForm(forms.Form):
    location = _LocationField()
    sku = _SkuField(label="SKU", widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "off"}))
    quantity = forms.IntegerField(max_value=MAX_MOVE)
    reason_code = forms.ChoiceField(
        choices=[(c, label) for c, label in ReasonCode.choices if c in ("damaged", "expired", "lost", "other")],
        initial=ReasonCode.DAMAGED,
    )
    reason = forms.CharField(max_length=200)
    reference = forms.CharField(required=False, max_length=64)


class TransferForm(forms.Form):
    from_location = _LocationField(label="From")
    to_location = _LocationField(label="To")
    lines = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 6, "placeholder": "SKU-A 10\nSKU-B 4"}),
        help_text="One line per product: SKU and quantity.",
    )
    note = forms.CharField(required=False, max_length=200)

    def clean_lines(self):
        result, errors = [], []
        for number, raw in enumerate(self.cleaned_data["lines"].splitlines(), start=1):
            parts = raw.replace(",", " ").replace("\t", " ").split()
            if not parts:
                continue
            if len(parts) != 2:
                errors.append(f"line {number}: write the SKU and the quantity")
                continue
            sku, qty = parts
            product = Product.objects.filter(sku=sku).first()
            if product is None:
                errors.append(f"line {number}: unknown SKU {sku!r}")
                continue
            try:
                quantity = int(qty)
            except ValueError:
                errors.append(f"line {number}: {qty!r} is not a whole number")
                continue
            if not 1 <= quantity <= MAX_MOVE:
                errors.append(f"line {number}: the quantity must be from 1 to {MAX_MOVE}")
                continue
            result.append((product, quantity))
        if errors:
            raise forms.ValidationError(errors)
        if not result:
            raise forms.ValidationError("Add at least one line.")
        return result


class ImportForm(forms.Form):
    kind = forms.ChoiceField(
        choices=[
            ("receipts", "Receipts"),
            ("adjustments", "Adjustments"),
            ("counts", "Cycle counts"),
            ("transfers", "Transfers"),
        ]
    )
    file = forms.FileField(help_text="CSV (UTF-8 or GBK) or XLSX with a header row.")


class StockRuleForm(forms.Form):
    location = _LocationField()
    sku = _SkuField(label="SKU")
    safety_stock = forms.IntegerField(initial=0, min_value=0, max_value=MAX_MOVE)
    low_stock_threshold = forms.IntegerField(required=False, min_value=0, max_value=MAX_MOVE)
    min_days_of_cover = forms.IntegerField(required=False, min_value=0, max_value=32767)


class BinForm(forms.Form):
    code = forms.CharField(max_length=32, help_text="e.g. A-01-03 (aisle, rack, level)")
    zone = forms.CharField(max_length=32, required=False, help_text="Pick lists group bins by zone.")
    pick_sequence = forms.IntegerField(
        min_value=0, max_value=2_000_000_000, initial=0, help_text="Pickers walk bins in this order."
    )
    active = forms.BooleanField(required=False, initial=True)


class BinAssignForm(forms.Form):
    location = _LocationField()
    bin = forms.CharField(max_length=32, required=False, help_text="Empty: no pick face.")
