"""Template helpers of 买家留言 / 卖家备注 and manual tags (orders/templates/orders/_memo_tags_panel.html)."""

from django import template

from ..models import SellerFlag
from ..tag_names import capability_label, service_kind_label, tag_html

register = template.Library()

# The flag colours as the 旗帜 look on Taobao's seller pages.
FLAG_COLOURS = {
    "red": "#d92d20",
    "yellow": "#eaaa08",
    "green": "#079455",
    "blue": "#1570ef",
    "purple": "#7a5af8",
}


@register.simple_tag
def seller_flag_choices():
    return SellerFlag.choices


@register.filter
def flag_colour(flag: str) -> str:
    return FLAG_COLOURS.get(flag, "")


@register.filter(name="tag_html")
def tag_html_filter(tag):
    """A tag's name in the reader's language, its code as small secondary text where they differ."""
    return tag_html(tag)


@register.filter(name="service_kind_label")
def service_kind_label_filter(code):
    return service_kind_label(code)


@register.filter(name="capability_label")
def capability_label_filter(code):
    return capability_label(code)
