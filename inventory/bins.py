"""Bins: the storage places inside a location (``Bin``), and the pick face a stock row names
(``Stock.bin``, a bin code).

The rule that keeps the two consistent: when a location has Bin rows, a stock row's bin must be
one of its active bins (``bin_check``, called by every write of ``Stock.bin``: receipts, imports,
the product page's "assign bin"); a location without any Bin row takes any text, as before, so
stores and small warehouses need no bin setup. A blank bin is always allowed.

Services raise DomainError with a message for the page; selectors read.
"""

import re
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.utils.translation import gettext

from oms.errors import DomainError

from .models import Bin, Location, Product, Stock

CODE = re.compile(r"^[A-Za-z0-9][-A-Za-z0-9_.:/]*$")


def clean_code(value: str, *, column: str = "code") -> str:
    code = " ".join((value or "").split())
    if not code:
        raise DomainError(f"{column}: " + gettext("a bin needs a code."))
    if len(code) > 32:
        raise DomainError(f"{column}: " + gettext("'%(code)s' is longer than 32 characters.") % {"code": code})
    if not CODE.match(code):
        raise DomainError(
            f"{column}: "
            + gettext("'%(code)s' may hold only letters, digits and - _ . : / (e.g. A-01-03).") % {"code": code}
        )
    return code


# ---- the Stock.bin rule --------------------------------------------------------------------------


def bin_check(location: Location, code: str) -> str:
    """The bin code to store on a stock row at ``location``: blank, or an active bin of the location
    when it has bins. Raises DomainError naming the column ``bin``."""
    code = " ".join((code or "").split())
    if not code:
        return ""
    matches = list(Bin.objects.filter(location=location, code__iexact=code))
    found = next((b for b in matches if b.code == code), matches[0] if matches else None)
    if found is None:
        if not Bin.objects.filter(location=location).exists():
            return code  # a location without bins takes any pick face
        some = Bin.objects.filter(location=location, active=True).order_by("code").values_list("code", flat=True)
        raise DomainError(
            "bin: "
            + gettext(
                "%(location)s has no bin '%(code)s'. Create it on the location's bins page first, "
                "or use one of: %(bins)s."
            )
            % {"location": location.code, "code": code, "bins": ", ".join(some[:10]) or gettext("none active")}
        )
    if not found.active:
        raise DomainError(
            "bin: "
            + gettext("bin '%(code)s' at %(location)s is deactivated.")
            % {"code": found.code, "location": location.code}
        )
    return found.code


@transaction.atomic
def stock_bin_assign(*, location: Location, product: Product, bin: str, user=None) -> Stock:  # noqa: A002
    """Set the pick face of a product at a location (the stock row is created empty if needed)."""
    code = bin_check(location, bin)
    stock, _ = Stock.objects.get_or_create(location=location, product=product)
    if stock.bin != code:
        Stock.objects.filter(pk=stock.pk).update(bin=code)
        stock.refresh_from_db()
    return stock


# ---- bins ----------------------------------------------------------------------------------------


@dataclass
class BinData:
    code: str
    zone: str = ""
    pick_sequence: int = 0
    active: bool = True


def bin_save(*, location: Location, data: BinData, bin: Bin | None = None) -> tuple[Bin, str]:  # noqa: A002
    """Create a bin (``bin`` None) or change one; returns (bin, "created" | "updated" | "unchanged").

    Renaming a bin that stock rows name moves those rows to the new code, so nothing points at a
    code that no longer exists."""
    code = clean_code(data.code)
    zone = " ".join((data.zone or "").split())
    if len(zone) > 32:
        raise DomainError("zone: " + gettext("'%(code)s' is longer than 32 characters.") % {"code": zone})
    if data.pick_sequence is None or data.pick_sequence < 0:
        raise DomainError("pick_sequence: " + gettext("must be 0 or more."))
    with transaction.atomic():
        other = Bin.objects.filter(location=location, code__iexact=code)
        if bin is not None:
            other = other.exclude(pk=bin.pk)
        if other.exists():
            raise DomainError(
                "code: "
                + gettext("%(location)s already has a bin '%(code)s'.") % {"location": location.code, "code": code}
            )
        if bin is None:
            try:
                created = Bin.objects.create(
                    location=location, code=code, zone=zone, pick_sequence=data.pick_sequence, active=data.active
                )
            except IntegrityError:
                raise DomainError(
                    "code: "
                    + gettext("%(location)s already has a bin '%(code)s'.") % {"location": location.code, "code": code}
                ) from None
            return created, "created"
        bin = Bin.objects.select_for_update().get(pk=bin.pk)
        before = (bin.code, bin.zone, bin.pick_sequence, bin.active)
        if before == (code, zone, data.pick_sequence, data.active):
            return bin, "unchanged"
        if not data.active and bin.active:
            _refuse_deactivate_if_stocked(bin)
        old_code = bin.code
        bin.code, bin.zone, bin.pick_sequence, bin.active = code, zone, data.pick_sequence, data.active
        bin.save(update_fields=["code", "zone", "pick_sequence", "active"])
        if old_code != code:
            Stock.objects.filter(location=location, bin=old_code).update(bin=code)
        return bin, "updated"


def _refuse_deactivate_if_stocked(bin: Bin) -> None:  # noqa: A002
    stocked = (
        Stock.objects.filter(location_id=bin.location_id, bin=bin.code)
        .filter(Q(on_hand__gt=0) | Q(reserved__gt=0))
        .select_related("product")
        .order_by("product__sku")
    )
    skus = [s.product.sku for s in stocked[:5]]
    if skus:
        raise DomainError(
            gettext("Bin %(code)s still holds stock (%(skus)s): move it to another bin before deactivating.")
            % {"code": bin.code, "skus": ", ".join(skus)}
        )


@transaction.atomic
def bin_set_active(*, bin: Bin, active: bool) -> Bin:  # noqa: A002
    """Deactivate (refused while stock sits there) or reactivate a bin."""
    bin = Bin.objects.select_for_update().get(pk=bin.pk)
    if bin.active == active:
        return bin
    if not active:
        _refuse_deactivate_if_stocked(bin)
    bin.active = active
    bin.save(update_fields=["active"])
    return bin


def bin_upsert(*, location: Location, data: BinData) -> tuple[Bin, str]:
    """Import: create or update the bin with this code at the location."""
    existing = Bin.objects.filter(location=location, code__iexact=clean_code(data.code)).first()
    return bin_save(location=location, data=data, bin=existing)


# ---- selectors -----------------------------------------------------------------------------------


def location_bins(location: Location) -> tuple[list[dict], dict[str, list[dict]]]:
    """The location's bins in pick order, each with the products whose stock row names it; plus the
    stock rows naming a code that is not a bin (from before the location had bins)."""
    stock = list(
        Stock.objects.filter(location=location)
        .exclude(bin="")
        .select_related("product")
        .order_by("product__sku")
        .values("bin", "product__sku", "product__name", "on_hand", "reserved")
    )
    by_code: dict[str, list[dict]] = {}
    for row in stock:
        by_code.setdefault(row["bin"], []).append(row)
    rows = []
    for b in Bin.objects.filter(location=location).order_by("pick_sequence", "code"):
        rows.append({"bin": b, "stock": by_code.pop(b.code, [])})
    return rows, by_code


def bin_counts() -> dict[int, int]:
    """Location id -> how many bins it has."""
    return dict(Bin.objects.values("location_id").annotate(n=Count("id")).values_list("location_id", "n"))
