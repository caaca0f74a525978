"""Prove that stock equals the ledger: exit 0 when it does, 1 (with the differences) when not."""

from django.core.management.base import BaseCommand
from django.db.models import F, Q

from inventory.models import Location, Product, Stock
from inventory.selectors import ledger_mismatches, transit_mismatches


class Command(BaseCommand):
    help = "Check every stock row against the sum of its ledger rows (and transfers against theirs)."

    def handle(self, *args, **options):
        problems = ledger_mismatches()
        transit = transit_mismatches()
        negative = Stock.objects.filter(Q(reserved__lt=0) | Q(reserved__gt=F("on_hand"))).count()
        skus = dict(Product.objects.filter(pk__in={p["product_id"] for p in problems}).values_list("pk", "sku"))
        codes = dict(Location.objects.filter(pk__in={p["location_id"] for p in problems}).values_list("pk", "code"))
        for p in problems:
            stock = "no stock row" if p["stock"] is None else "on hand {}, reserved {}".format(*p["stock"])
            self.stdout.write(
                f"{skus.get(p['product_id'], p['product_id'])} at {codes.get(p['location_id'], p['location_id'])}: "
                f"{stock}; ledger says on hand {p['ledger'][0]}, reserved {p['ledger'][1]}"
            )
        for line in transit:
            self.stdout.write(line)
        if negative:
            self.stdout.write(f"{negative} stock rows break 0 <= reserved <= on hand")
        count = len(problems) + len(transit) + negative
        if count:
            self.stderr.write(f"Stock does not match the ledger: {count} problem(s).")
            raise SystemExit(1)
        self.stdout.write(f"Stock matches the ledger: {Stock.objects.count()} stock rows checked.")
