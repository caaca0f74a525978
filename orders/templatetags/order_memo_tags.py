"""Template helpers of 买家留言 / 卖家备注 and manual tags (orders/templates/orders/_memo_tags_panel.html)."""

from django import template

from ..models import SellerFlag

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
