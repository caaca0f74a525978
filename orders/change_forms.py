"""Forms of the order's "Change…" page (orders/views/stage_rules.py)."""

from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from .intake.canonical import CanonicalAddress, address_problems, normalize_country, normalize_phone
from .models import Order
from .services import ADDRESS_FIELDS
from .status import ChangeReason

LABELS = {
    "name": _("Recipient"),
    "phone": _("Phone"),
    "email": _("E-mail"),
    "country": _("Country (ISO code)"),
    "province": _("Province / state"),
    "city": _("City"),
    "district": _("District"),
    "address1": _("Address line 1"),
    "address2": _("Address line 2"),
    "postcode": _("Postcode"),
}
# A country is typed as a code or a name (then made a code); every other field takes what its column holds.
MAX_LENGTH = {"country": 64}


def max_length(name: str) -> int:
    return MAX_LENGTH.get(name) or Order._meta.get_field(f"ship_{name}").max_length


class AddressChangeForm(forms.Form):
    """The ship-to address as the back office corrects it. A person typing an address gets every problem
    (a postcode that does not fit the country, a missing city...) as a message, and nothing changes."""

    reason_code = forms.ChoiceField(
        choices=[("", _("— choose —")), *ChangeReason.choices],
        initial=ChangeReason.ADDRESS_CORRECTION,
        label=_("Reason code"),
    )
    note = forms.CharField(required=False, max_length=200, label=_("Note"))

    def __init__(self, *args, order: Order | None = None, **kwargs):
        if order is not None and "initial" not in kwargs:
            kwargs["initial"] = {name: getattr(order, f"ship_{name}") for name in ADDRESS_FIELDS}
        super().__init__(*args, **kwargs)
        for name in ADDRESS_FIELDS:
            self.fields[name] = forms.CharField(
                label=LABELS[name], required=False, max_length=max_length(name), strip=True
            )
        # The address first, then the reason.
        self.order_fields([*ADDRESS_FIELDS, "reason_code", "note"])

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        address = self.address()
        problems = address_problems(address)
        if problems:
            raise forms.ValidationError(
                gettext("Address not changed: %(problems)s.") % {"problems": "; ".join(problems)}
            )
        return data

    def address(self) -> CanonicalAddress:
        data = self.cleaned_data
        address = CanonicalAddress(**{name: (data.get(name) or "").strip() for name in ADDRESS_FIELDS})
        address.country = normalize_country(address.country)
        address.phone = normalize_phone(address.phone)
        address.postcode = address.postcode.upper()
        return address
