"""Order files on the generic import pages (oms/imports/), one importer per file format: the
readers of orders.intake (streaming, one canonical order per group of rows) and its bulk path
(orders.intake.bulk, the same outcome per order as ``order_create``). The channel is chosen on
the upload form. As every inbound file, the file is recorded as an inbound message with its
outcome, so the intake monitor shows it too.
"""

import itertools
from contextlib import closing
from pathlib import Path

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from oms.imports import (
    PREVIEW_CHECK,
    FileUnusable,
    Importer,
    PreviewResult,
    PreviewRow,
    add_error,
    column_mapping,
    count_data_rows,
    importers,
    job_mapping,
    mapped_rows,
    register_importer,
)

from . import services
from .intake import amazon_tsv, bulk, files, oms_csv, shopify_csv
from .intake.canonical import CanonicalOrder, OrderRejected, check
from .intake.importer import BINARY_FORMATS, FORMATS, checked_ahead
from .intake.read_ahead import read_ahead
from .intake.rows import csv_rows, normalize_header, xlsx_rows
from .models import Channel, ChannelKind, InboundStatus, Order
from .selectors import products_for_channel

BATCH = 200  # orders per transaction; progress is written after each batch

# The OMS template's columns under the names people give them (the mapping step, oms/imports/column_mapping.py).
OMS_SYNONYMS = {
    "external_id": ("order id", "order no", "order number", "order", "订单号", "订单编号", "外部订单号", "平台订单号"),
    "placed_at": ("order date", "created at", "date", "下单时间", "订单时间", "付款时间"),
    "customer_name": ("customer", "buyer", "buyer name", "买家", "客户", "客户名称", "买家昵称"),
    "customer_email": ("email", "buyer email", "邮箱"),
    "customer_phone": ("buyer phone", "客户电话", "买家电话"),
    "ship_name": ("recipient", "recipient name", "consignee", "收件人", "收货人", "收件人姓名"),
    "ship_phone": ("phone", "recipient phone", "mobile", "收件人电话", "收货人电话", "手机", "联系电话"),
    "ship_email": ("recipient email",),
    "ship_country": ("country", "国家"),
    "ship_province": ("province", "state", "省", "省份"),
    "ship_city": ("city", "市", "城市"),
    "ship_district": ("district", "区", "区县"),
    "ship_address1": ("address", "address1", "street", "地址", "详细地址", "收货地址"),
    "ship_address2": ("address2", "地址2"),
    "ship_postcode": ("postcode", "zip", "postal code", "邮编"),
    "currency": ("币种", "货币"),
    "requested_service": ("service", "shipping service", "配送方式", "快递方式"),
    "promise_date": ("promise", "deliver by", "承诺日期"),
    "note": ("notes", "remark", "remarks", "备注", "订单备注"),
    "buyer_message": ("buyer message", "buyer note", "customer note", "买家留言", "留言", "客户留言"),
    "seller_memo": ("seller memo", "seller note", "memo", "卖家备注", "商家备注", "客服备注"),
    "seller_flag": ("flag", "旗帜", "插旗", "备注旗帜"),
    "sku": ("item code", "product code", "商品编码", "商品编号", "货号", "sku编码"),
    "quantity": ("qty", "数量", "件数"),
    "unit_price": ("price", "unit price", "单价", "价格"),
    "line_name": ("product name", "item name", "title", "品名", "商品名称"),
}

# The OMS template's fields and the order preview's columns as a person reads them (the column name from the file
# is shown beside, as it was): the mapping, preview and error pages show these labels in the reader's language.
column_mapping.FIELD_LABELS.update(
    {
        "external_id": gettext_noop("External order id"),
        "placed_at": gettext_noop("Placed at"),
        "customer_name": gettext_noop("Customer name"),
        "customer_email": gettext_noop("Customer e-mail"),
        "customer_phone": gettext_noop("Customer phone"),
        "ship_name": gettext_noop("Recipient"),
        "ship_phone": gettext_noop("Recipient phone"),
        "ship_email": gettext_noop("Recipient e-mail"),
        "ship_country": gettext_noop("Ship-to country"),
        "ship_province": gettext_noop("Ship-to province"),
        "ship_city": gettext_noop("Ship-to city"),
        "ship_district": gettext_noop("Ship-to district"),
        "ship_address1": gettext_noop("Address line 1"),
        "ship_address2": gettext_noop("Address line 2"),
        "ship_postcode": gettext_noop("Ship-to postcode"),
        "currency": gettext_noop("Currency"),
        "requested_service": gettext_noop("Requested service"),
        "promise_date": gettext_noop("Promise date"),
        "billing_country": gettext_noop("Billing country"),
        "payment_method": gettext_noop("Payment method"),
        "note": gettext_noop("Note"),
        "buyer_message": gettext_noop("Buyer message"),
        "seller_memo": gettext_noop("Seller memo"),
        "seller_flag": gettext_noop("Seller flag"),
        "unit_price": gettext_noop("Unit price"),
        "line_name": gettext_noop("Line name"),
        "customer": gettext_noop("Customer"),
        "ship_to": gettext_noop("Ship to"),
        "lines": gettext_noop("Lines"),
        "total": gettext_noop("Total"),
        "invoice_kind": gettext_noop("Invoice kind"),
        "invoice_title_type": gettext_noop("Invoice title type"),
        "invoice_title": gettext_noop("Invoice title"),
        "invoice_tax_id": gettext_noop("Tax id"),
        "invoice_email": gettext_noop("Invoice e-mail"),
        "invoice_buyer_address": gettext_noop("Buyer address (invoice)"),
        "invoice_buyer_phone": gettext_noop("Buyer phone (invoice)"),
        "invoice_bank_name": gettext_noop("Bank (invoice)"),
        "invoice_bank_account": gettext_noop("Bank account (invoice)"),
        "invoice_amount": gettext_noop("Invoice amount"),
    }
)
# The columns the channel readers take, by their own names (anything else in the file is not used).
AMAZON_COLUMNS = (
    "order-id",
    "purchase-date",
    "promise-date",
    "buyer-email",
    "buyer-name",
    "buyer-phone-number",
    "sku",
    "product-name",
    "quantity-purchased",
    "currency",
    "item-price",
    "shipping-price",
    "ship-service-level",
    "recipient-name",
    "ship-address-1",
    "ship-address-2",
    "ship-address-3",
    "ship-city",
    "ship-state",
    "ship-postal-code",
    "ship-country",
    "ship-phone-number",
    "purchase-order-number",
)
# format -> (reader over a row source, delimiter; None: XLSX)
ROW_READERS = {
    "oms-csv": (oms_csv.read_rows, ","),
    "oms-xlsx": (oms_csv.read_rows, None),
    "shopify-csv": (shopify_csv.read_rows, ","),
    "amazon-tsv": (amazon_tsv.read_rows, "\t"),
}


class ChannelOptionsForm(forms.Form):
    channel = forms.ModelChoiceField(
        queryset=Channel.objects.filter(active=True).order_by("name"),
        label=_("Channel"),
        help_text=_(
            "The orders are created on this channel; channel + order id is unique, so a re-import changes nothing."
        ),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        spreadsheet = Channel.objects.filter(kind=ChannelKind.SPREADSHEET, active=True).order_by("pk").first()
        if spreadsheet is not None and "channel" not in self.initial:
            self.initial["channel"] = spreadsheet.pk


def _summary(order: CanonicalOrder) -> dict:
    addr = order.ship_to
    return {
        "external_id": order.external_id,
        "customer": order.customer_name or addr.name,
        "ship_to": " ".join(p for p in (addr.country, addr.province, addr.city) if p),
        "lines": ", ".join(f"{ln.sku}×{ln.quantity}" for ln in order.lines[:6])
        + (" …" if len(order.lines) > 6 else ""),
        "total": f"{order.total} {order.currency}" if order.total is not None else "",
    }


def _errors(rejection: OrderRejected) -> list[dict]:
    return [{"field": e.field, "message": e.message, "row": e.row} for e in rejection.errors]


class OrderFileImporter(Importer):
    permission = "orders.add_order"
    options_form = ChannelOptionsForm
    columns = ("external_id", "customer", "ship_to", "lines", "total")
    position = 10

    def __init__(self, fmt: str, *, label: str, formats: tuple[str, ...], group_column: str, delimiter=",", help=""):  # noqa: A002
        self.fmt = fmt
        self.reader = FORMATS[fmt]
        self.label = label
        self.formats = formats
        self.group_column = group_column
        self.delimiter = delimiter
        self.help = help

    def template_csv(self) -> str:
        if self.fmt in ("oms-csv", "oms-xlsx"):
            return ",".join(oms_csv.COLUMNS) + "\n"
        return ""

    def fields(self) -> list[column_mapping.Field]:
        if self.fmt in ("oms-csv", "oms-xlsx"):
            return column_mapping.fields_from_columns(oms_csv.COLUMNS, oms_csv.REQUIRED, extra=OMS_SYNONYMS)
        if self.fmt == "shopify-csv":
            return column_mapping.fields_from_columns(sorted(shopify_csv.USED), shopify_csv.REQUIRED)
        return column_mapping.fields_from_columns(AMAZON_COLUMNS, amazon_tsv.REQUIRED)

    def _open(self, path: Path):
        if path.stat().st_size == 0:
            raise FileUnusable("The file is empty.")
        if self.fmt in BINARY_FORMATS:
            return path.open("rb")
        handle, _encoding = files.open_text(path)
        return handle

    def _source(self, handle):
        """The file's rows as (number, cells), read as the reader reads them; and its header."""
        delimiter = ROW_READERS[self.fmt][1]
        source = iter(xlsx_rows(handle) if delimiter is None else csv_rows(handle, delimiter=delimiter))
        taken = []
        for number, cells in source:
            taken.append((number, cells))
            if any(str(c).strip() for c in cells):
                return taken[-1][1], itertools.chain(taken, source)
        return None, iter(taken)

    def propose_mapping(self, path: Path) -> dict:
        try:
            with self._open(path) as handle:
                header, rows = self._source(handle)
                if header is None:
                    raise FileUnusable("The file has no header row.")
                next(rows)
                samples = [cells for _n, cells in itertools.islice(rows, column_mapping.SAMPLE_ROWS)]
        except files.FileUnusable as exc:
            text = str(exc).removeprefix(f"{path.name}: ")
            raise FileUnusable(text[:1].upper() + text[1:]) from exc
        except (UnicodeError, ValueError) as exc:
            raise FileUnusable(f"The file cannot be read: {exc}") from exc
        return column_mapping.propose(header, self.fields(), samples)

    def _orders(self, path: Path, options: dict | None = None):
        """(first row, canonical order or rejection) per order, the file's columns taken as the job's
        column mapping says; a file that cannot be used raises oms's FileUnusable with the reason."""
        try:
            with self._open(path) as handle:
                if self.fmt not in ROW_READERS:
                    yield from self.reader(handle)
                    return
                header, rows = self._source(handle)
                if header is not None:
                    rows = mapped_rows.renamed_header(rows, job_mapping(self, header, options or {}))
                yield from ROW_READERS[self.fmt][0](rows)
        except files.FileUnusable as exc:
            text = str(exc).removeprefix(f"{path.name}: ")
            raise FileUnusable(text[:1].upper() + text[1:]) from exc
        except (UnicodeError, ValueError) as exc:
            raise FileUnusable(f"The file cannot be read: {exc}") from exc

    @staticmethod
    def _channel(options: dict) -> Channel:
        channel = Channel.objects.filter(pk=(options or {}).get("channel")).first()
        if channel is None:
            raise FileUnusable("Choose the channel the orders come from.")
        return channel

    # ---- preview: parse and check, no writes ------------------------------------------------

    def preview(self, path: Path, options: dict) -> PreviewResult:
        result = PreviewResult(columns=list(self.columns), unit="order")
        try:
            channel = self._channel(options)
            batch: list = []
            seen: set[str] = set()
            names: dict[str, str] = {}
            for row, parsed in self._orders(path, options):
                batch.append((row, parsed))
                if len(batch) >= BATCH:
                    self._preview_batch(batch, channel, seen, result, names)
                    batch = []
                if result.checked + len(batch) >= PREVIEW_CHECK:
                    result.complete = False
                    break
            self._preview_batch(batch, channel, seen, result, names)
        except FileUnusable as exc:
            result.file_error = str(exc)
            return result
        if not result.checked:
            result.file_error = "The file has a header but no orders."
        result.total = count_data_rows(path)
        return result

    def _preview_batch(self, batch, channel, seen: set, result: PreviewResult, names: dict) -> None:
        checked: list[PreviewRow] = []
        self._check_batch(batch, channel, seen, checked, names)
        for preview_row in sorted(checked, key=lambda r: r.number):
            result.add(preview_row)

    def _check_batch(self, batch, channel, seen: set, result: list, names: dict) -> None:
        good = []
        for row, parsed in batch:
            if isinstance(parsed, OrderRejected):
                result.append(PreviewRow(row, {"external_id": ""}, _errors(parsed)))
                continue
            try:
                check(parsed)
            except OrderRejected as exc:
                result.append(PreviewRow(row, _summary(parsed), _errors(exc)))
                continue
            good.append((row, parsed))
        if not good:
            return
        ids = [p.external_id for _, p in good]
        existing = set(Order.objects.filter(channel=channel, external_id__in=ids).values_list("external_id", flat=True))
        known = products_for_channel(channel, {ln.sku for _, p in good for ln in p.lines})
        taken = dict(
            Order.objects.filter(
                channel=channel, channel_order_name__in={p.channel_order_name for _, p in good} - {""}
            ).values_list("channel_order_name", "external_id")
        )
        for row, parsed in good:
            clash = None
            if parsed.external_id not in existing and parsed.external_id not in seen:
                clash = bulk.name_duplicate(parsed, names)
                other = taken.get(parsed.channel_order_name)
                if clash is None and other is not None and other != parsed.external_id:
                    clash = f"'{parsed.channel_order_name}' is already the name of order {other}."
            if clash is not None:
                message = clash if isinstance(clash, str) else clash.message
                result.append(PreviewRow(row, _summary(parsed), [{"field": "channel_order_name", "message": message}]))
                seen.add(parsed.external_id)
                continue
            if parsed.external_id in existing or parsed.external_id in seen:
                outcome = "duplicate"
            elif not parsed.cancelled_reason and (parsed.holds or any(ln.sku not in known for ln in parsed.lines)):
                outcome = "held"
            else:
                outcome = "created"
            seen.add(parsed.external_id)
            result.append(PreviewRow(row, _summary(parsed), [], outcome))

    # ---- run: the bulk path, in batches -----------------------------------------------------

    def run(self, path: Path, job, progress) -> dict:
        channel = self._channel(job.options)
        source = f"file:{self.fmt}"
        message = services.inbound_store(
            source=source,
            channel=channel,
            filename=str(path),
            headers={"original": job.original_filename, "import_job": job.pk, "size": path.stat().st_size},
            body="",
        )
        counts = dict.fromkeys(("created", "updated", "duplicates", "held", "rejected"), 0)
        last_row = 1
        names: dict[str, str] = {}  # channel order name -> external id, across the batches

        def reject(row: int, errors: list) -> None:
            counts["rejected"] += 1
            for e in errors:
                add_error(job, e.row or row, e.field, e.message)

        def flush(batch) -> None:
            outcomes = bulk.create_batch(
                channel=channel, items=batch, source=source, user=job.user, names=names, checked=True
            )
            for outcome in outcomes:
                if outcome.status == "rejected":
                    reject(outcome.row, outcome.errors)
                elif outcome.status == "duplicate":
                    counts["duplicates"] += 1
                    for e in outcome.errors:  # a name another order has: say so
                        add_error(job, e.row or outcome.row, e.field, e.message)
                else:
                    counts["created"] += 1
                    counts["held"] += int(outcome.held)

        # The file is read, canonicalised and checked by a process of its own (orders/intake/read_ahead.py)
        # while this one writes the previous batch; closing it (a failure here) ends that process.
        orders = read_ahead(lambda: checked_ahead(self._orders(path, job.options), check_ahead=True))
        try:
            with closing(orders):
                batch: list = []
                for row, parsed, refused in orders:
                    last_row = row
                    if isinstance(parsed, OrderRejected):
                        reject(row, parsed.errors)
                        continue
                    batch.append((row, refused or parsed))
                    if len(batch) >= BATCH:
                        flush(batch)
                        batch = []
                        progress(max(last_row - 2, 0), counts)
                if batch:
                    flush(batch)
        except FileUnusable as exc:
            services.inbound_record_outcome(message, status=InboundStatus.FAILED, error=str(exc))
            raise
        status = InboundStatus.PARTIAL if counts["rejected"] else InboundStatus.PROCESSED
        services.inbound_record_outcome(
            message,
            status=status,
            error="; ".join(e["message"] for e in job.errors[:20]),
            result=counts | {"errors": job.errors[:500], "format": self.fmt, "import_job": job.pk},
        )
        counts["processed"] = max(job.total, last_row - 1)
        return counts


register_importer(
    "orders-oms-csv",
    OrderFileImporter(
        "oms-csv",
        label=_("Orders: OMS template (CSV)"),
        formats=("csv",),
        group_column="external_id",
        help=_("One row per order line; the order's columns repeat on each of its rows, which stay together."),
    ),
)
register_importer(
    "orders-oms-xlsx",
    OrderFileImporter(
        "oms-xlsx",
        label=_("Orders: OMS template (XLSX)"),
        formats=("xlsx",),
        group_column="external_id",
        help=_("The OMS template's columns on the first worksheet."),
    ),
)
register_importer(
    "orders-shopify-csv",
    OrderFileImporter(
        "shopify-csv",
        label=_("Orders: Shopify export (CSV)"),
        formats=("csv",),
        group_column="name",
        help=_("Shopify admin › Orders › Export, 'CSV for Excel'."),
    ),
)
register_importer(
    "orders-amazon-tsv",
    OrderFileImporter(
        "amazon-tsv",
        label=_("Orders: Amazon unshipped orders (TSV)"),
        formats=("tsv", "txt"),
        group_column="order-id",
        delimiter="\t",
        help=_("Seller Central › Orders › Order Reports › Unshipped Orders (tab-delimited)."),
    ),
)


def unused_columns(path: Path, fmt: str) -> list[str] | None:
    """The columns of an order file that its format's reader does not take by name (for the
    ``import_orders`` command, which reads the formats' own names; the web import maps synonyms).
    None for a format without columns (JSON) or a file that cannot be read."""
    importer = next((imp for imp in _ORDER_IMPORTERS if imp.fmt == fmt), None)
    if importer is None:
        return None
    try:
        with importer._open(Path(path)) as handle:
            header, _rows = importer._source(handle)
    except (FileUnusable, files.FileUnusable, OSError, UnicodeError, ValueError):
        return None
    known = {normalize_header(f.name) for f in importer.fields()}
    return [
        str(cell).strip() or f"column {i + 1} (no header)"
        for i, cell in enumerate(header or [])
        if normalize_header(str(cell)) not in known
    ]


_ORDER_IMPORTERS = [imp for imp in importers().values() if isinstance(imp, OrderFileImporter)]
