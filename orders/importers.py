"""Order files on the generic import pages (oms/imports.py), one importer per file format: the
readers of orders.intake (streaming, one canonical order per group of rows) and its bulk path
(orders.intake.bulk, the same outcome per order as ``order_create``). The channel is chosen on
the upload form. As every inbound file, the file is recorded as an inbound message with its
outcome, so the intake monitor shows it too.
"""

from pathlib import Path

from django import forms

from oms.imports import (
    PREVIEW_CHECK,
    FileUnusable,
    Importer,
    PreviewResult,
    PreviewRow,
    add_error,
    count_data_rows,
    register_importer,
)

from . import services
from .intake import bulk, files
from .intake.canonical import CanonicalOrder, OrderRejected, check
from .intake.importer import BINARY_FORMATS, FORMATS
from .models import Channel, ChannelKind, InboundStatus, Order
from .selectors import products_for_channel

BATCH = 200  # orders per transaction; progress is written after each batch


class ChannelOptionsForm(forms.Form):
    channel = forms.ModelChoiceField(
        queryset=Channel.objects.filter(active=True).order_by("name"),
        help_text="The orders are created on this channel; channel + order id is unique, so a re-import "
        "changes nothing.",
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
            from .intake.oms_csv import COLUMNS

            return ",".join(COLUMNS) + "\n"
        return ""

    def _orders(self, path: Path):
        """(first row, canonical order or rejection) per order; a file that cannot be used raises
        oms's FileUnusable with the reader's reason."""
        try:
            if path.stat().st_size == 0:
                raise FileUnusable("The file is empty.")
            if self.fmt in BINARY_FORMATS:
                handle = path.open("rb")
            else:
                handle, _encoding = files.open_text(path)
            with handle:
                yield from self.reader(handle)
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
            for row, parsed in self._orders(path):
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
            for outcome in bulk.create_batch(channel=channel, items=batch, source=source, user=job.user, names=names):
                if outcome.status == "rejected":
                    reject(outcome.row, outcome.errors)
                elif outcome.status == "duplicate":
                    counts["duplicates"] += 1
                    for e in outcome.errors:  # a name another order has: say so
                        add_error(job, e.row or outcome.row, e.field, e.message)
                else:
                    counts["created"] += 1
                    counts["held"] += int(outcome.held)

        try:
            batch: list = []
            for row, parsed in self._orders(path):
                last_row = row
                if isinstance(parsed, OrderRejected):
                    reject(row, parsed.errors)
                    continue
                batch.append((row, parsed))
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
        label="Orders: OMS template (CSV)",
        formats=("csv",),
        group_column="external_id",
        help="One row per order line; the order's columns repeat on each of its rows, which stay together.",
    ),
)
register_importer(
    "orders-oms-xlsx",
    OrderFileImporter(
        "oms-xlsx",
        label="Orders: OMS template (XLSX)",
        formats=("xlsx",),
        group_column="external_id",
        help="The OMS template's columns on the first worksheet.",
    ),
)
register_importer(
    "orders-shopify-csv",
    OrderFileImporter(
        "shopify-csv",
        label="Orders: Shopify export (CSV)",
        formats=("csv",),
        group_column="name",
        help="Shopify admin › Orders › Export, 'CSV for Excel'.",
    ),
)
register_importer(
    "orders-amazon-tsv",
    OrderFileImporter(
        "amazon-tsv",
        label="Orders: Amazon unshipped orders (TSV)",
        formats=("tsv", "txt"),
        group_column="order-id",
        delimiter="\t",
        help="Seller Central › Orders › Order Reports › Unshipped Orders (tab-delimited).",
    ),
)
