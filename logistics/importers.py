"""Carrier rate cards on the Imports page (oms/imports/): the column-mapping step, one row per
price band, checked by the same rules as `manage.py import_rate_cards` (logistics.rating), saved row
by row (a bad row rejects itself; the rest go in). The Rate cards page keeps the all-or-nothing
replace of one service's card."""

from django.utils.translation import gettext_lazy as _

from inventory.importers import Item, RowImporter
from oms.imports import register_importer

from .models import Carrier
from .rate_cards import RATE_CARD_COLUMNS, rate_card_row_parse, rate_card_row_save


class RateCardImporter(RowImporter):
    label = _("Carrier rate cards (create or update by service, zone and weight band)")
    position = 60
    permission = "logistics.add_ratecardrow"
    columns = RATE_CARD_COLUMNS
    required = RATE_CARD_COLUMNS
    help = _(
        "One row per price band: carrier and service codes, zone, the band's max_weight_kg, price, "
        "extra_per_kg above the band, transit_days. A known band is updated."
    )

    def parse(self, rows):
        carriers = {c.code: c for c in Carrier.objects.all()}
        items = []
        for number, row in rows:
            values = {c: row.get(c, "") for c in self.columns}
            try:
                items.append(Item(number, values, {"row": rate_card_row_parse(row, carriers)}))
            except (ValueError, TypeError) as exc:
                items.append(Item(number, values, None, [{"field": "", "message": str(exc)}]))
        return items

    def apply(self, args, *, user):
        return "created" if rate_card_row_save(args["row"]) else "updated"


register_importer("rate-cards", RateCardImporter())
