import django_tables2 as tables
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _

from oms.tables import BaseTable, StatusColumn

from .models import Channel, InboundMessage, Order
from .selectors import may_see_contact
from .tag_names import tag_html
from .templatetags.order_memo_tags import flag_colour
from .wording import hold_text, in_words, source_label

# Customers' contact details: only for roles that may see customers (selectors.may_see_contact), never for the
# warehouse; hidden in the page and in its CSV/XLSX export alike.
CONTACT_COLUMNS = ("ship_phone", "ship_email")


def hidden_columns(user) -> tuple[str, ...]:
    return () if may_see_contact(user) else CONTACT_COLUMNS


class OrderTable(BaseTable):
    number = tables.LinkColumn("orders:order_detail", args=[tables.A("number")], verbose_name=_("Order"))
    channel = tables.Column(accessor="channel__name", verbose_name=_("Channel"), order_by="channel__name")
    external_id = tables.Column(verbose_name=_("External id"))
    channel_order_name = tables.Column(verbose_name=_("Channel order"))
    ship_name = tables.Column(verbose_name=_("Recipient"))
    ship_phone = tables.Column(verbose_name=_("Phone"))
    ship_email = tables.Column(verbose_name=_("E-mail"))
    ship_city = tables.Column(verbose_name=_("City"))
    status = StatusColumn(verbose_name=_("Status"))
    on_hold = tables.TemplateColumn(
        '{% if value %}<span class="badge st-hold">{% load i18n %}{% translate "Hold" %}</span>{% endif %}',
        verbose_name=_("Hold"),
    )
    priority = tables.Column(verbose_name=_("Prio"), attrs={"td": {"class": "num"}})
    total = tables.TemplateColumn(
        "{{ value }} {{ record.currency }}", attrs={"td": {"class": "num"}}, verbose_name=_("Total")
    )
    created_at = tables.DateTimeColumn(format="Y-m-d H:i", verbose_name=_("Received"))
    # 买家留言 / 卖家备注: an icon each, the text on hover (and in the export); tags rule-made and manual.
    memo = tables.Column(empty_values=(), orderable=False, verbose_name=_("Memo"), attrs={"td": {"class": "memo"}})
    tags = tables.Column(orderable=False, verbose_name=_("Tags"), attrs={"td": {"class": "wrap"}})

    class Meta(BaseTable.Meta):
        model = Order
        fields = [
            "number",
            "status",
            "on_hold",
            "memo",
            "tags",
            "ship_name",
            "ship_phone",
            "ship_email",
            "ship_city",
            "channel",
            "channel_order_name",
            "external_id",
            "priority",
            "total",
            "created_at",
        ]

    def render_memo(self, record):
        parts = []
        if record.buyer_message:
            parts.append(
                format_html(
                    '<span class="memo-icon buyer" title="{}: {}" aria-label="{}">✉</span>',
                    _("Buyer message"),
                    record.buyer_message,
                    _("Buyer message"),
                )
            )
        if record.seller_memo or record.seller_flag:
            colour = flag_colour(record.seller_flag)
            parts.append(
                format_html(
                    '<span class="memo-icon seller" title="{}: {}" aria-label="{}"{}>{}</span>',
                    _("Seller memo"),
                    record.seller_memo or record.get_seller_flag_display(),
                    _("Seller memo"),
                    format_html(' style="color:{}"', colour) if colour else "",
                    "⚑" if record.seller_flag else "✎",
                )
            )
        return format_html_join(" ", "{}", ((p,) for p in parts)) if parts else ""

    def value_memo(self, record):
        return " | ".join(
            p
            for p in (
                f"{_('Buyer message')}: {record.buyer_message}" if record.buyer_message else "",
                f"{_('Seller memo')}: {record.seller_memo}" if record.seller_memo else "",
            )
            if p
        )

    def render_tags(self, record):
        return format_html_join(" ", '<span class="badge">{}</span>', ((tag_html(t),) for t in record.tag_list))

    def value_tags(self, record):
        return ", ".join(record.tag_list)


class OrderListTable(OrderTable):
    """The order list: the order table with a selection column for the bulk tag action."""

    select = tables.CheckBoxColumn(
        accessor="pk",
        exclude_from_export=True,
        orderable=False,
        attrs={"input": {"name": "orders", "form": "bulk-tags"}, "th__input": {"data-select-all": "orders"}},
    )

    class Meta(OrderTable.Meta):
        fields = ["select", *OrderTable.Meta.fields]
        sequence = fields


class HoldQueueTable(OrderTable):
    """The order table with a selection column for bulk release and the active holds' reasons and notes."""

    select = tables.CheckBoxColumn(
        accessor="pk",
        exclude_from_export=True,
        orderable=False,
        attrs={"input": {"name": "orders", "form": "bulk-release"}, "th__input": {"data-select-all": "orders"}},
    )
    holds = tables.Column(
        empty_values=(), orderable=False, verbose_name=_("Why on hold"), attrs={"td": {"class": "wrap holdwhy"}}
    )

    class Meta(OrderTable.Meta):
        fields = [
            "select",
            "number",
            "holds",
            "status",
            "ship_name",
            "ship_city",
            "channel",
            "channel_order_name",
            "priority",
            "total",
            "created_at",
        ]
        sequence = fields
        exclude = ["on_hold", "external_id", "memo", "tags", *CONTACT_COLUMNS]

    def render_holds(self, record):
        holds = getattr(record, "active_holds", None)
        if holds is None:
            holds = record.holds.filter(released_at__isnull=True)
        shown = ((h.get_reason_display(), hold_text(h)) for h in holds)
        return format_html_join(mark_safe("<br>"), "<b>{}</b> {}", shown)

    def value_holds(self, record):
        holds = getattr(record, "active_holds", None) or record.holds.filter(released_at__isnull=True)
        return "; ".join(f"{h.get_reason_display()}: {h.note}" for h in holds)


class InboundTable(BaseTable):
    id = tables.LinkColumn("orders:inbound_detail", args=[tables.A("pk")], verbose_name="#")
    status = StatusColumn(verbose_name=_("Status"))
    received_at = tables.DateTimeColumn(format="Y-m-d H:i:s", verbose_name=_("Received"))
    channel = tables.Column(verbose_name=_("Channel"))
    source = tables.Column(verbose_name=_("Source"))
    filename = tables.Column(verbose_name=_("File"))
    attempts = tables.Column(verbose_name=_("Attempts"), attrs={"td": {"class": "num"}})
    error = tables.Column(attrs={"td": {"class": "wrap"}}, verbose_name=_("Error"))

    class Meta(BaseTable.Meta):
        model = InboundMessage
        fields = ["id", "received_at", "channel", "source", "filename", "status", "attempts", "error"]

    def render_source(self, value):
        """The source's label in the reader's language (api → API, form → 表单), with its platform or format."""
        code = str(value)
        _kind, _sep, detail = code.partition(":")
        shown = source_label(code)
        return f"{shown} · {detail}" if detail else shown

    def value_source(self, value):
        return value

    def render_error(self, value):
        return in_words(value)

    def value_error(self, value):
        return value


class ChannelTable(BaseTable):
    name = tables.LinkColumn("orders:channel_detail", args=[tables.A("slug")], verbose_name=_("Name"))
    slug = tables.Column(verbose_name=_("Code"))
    kind = tables.Column(verbose_name=_("Kind"))
    platform = tables.Column(verbose_name=_("Platform"))
    stock_policy = tables.Column(verbose_name=_("Stock policy"))
    default_priority = tables.Column(verbose_name=_("Default priority"), attrs={"td": {"class": "num"}})
    active = tables.BooleanColumn(verbose_name=_("Active"))

    class Meta(BaseTable.Meta):
        model = Channel
        fields = ["name", "slug", "kind", "platform", "stock_policy", "default_priority", "active"]
