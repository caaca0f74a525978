"""An order tag's name in the reader's language. A tag is a code (``Order.tags``: lower-case, what filters, rules
and routing read); the tags the default classification rules add and the ones every Chinese OMS uses have a name
(``fresh`` → 生鲜); a tag a person made up is its own name. Pages show the name, with the code as small secondary
text where they differ (``tag_html``); English pages show the code as before (the name's msgid is the code)."""

from django.utils.html import format_html
from django.utils.translation import gettext, gettext_noop

from .models import Capability, ServiceKindRequirement

TAG_NAMES = {
    "fresh": gettext_noop("fresh"),
    "fragile": gettext_noop("fragile"),
    "bulky": gettext_noop("bulky"),
    "gift": gettext_noop("gift"),
    "presale": gettext_noop("presale"),
    "no-merge": gettext_noop("no-merge"),
    "urgent": gettext_noop("urgent"),
}


def tag_name(tag) -> str:
    """The tag's name in the active language (the tag itself when it has none)."""
    tag = "" if tag is None else str(tag)
    known = TAG_NAMES.get(tag.strip().lower())
    return gettext(known) if known else tag


def tag_names(tags) -> str:
    """Tags written "a, b" (a timeline row, a classification summary) as their names."""
    return ", ".join(tag_name(t.strip()) for t in str(tags or "").split(",") if t.strip())


def tag_html(tag):
    """The tag's name, and its code as small secondary text when the name differs (HTML)."""
    name = tag_name(tag)
    if name == tag:
        return format_html("{}", tag)
    return format_html('{} <small class="tag-code">{}</small>', name, tag)


def service_kind_label(code) -> str:
    """A service kind required by classification (cold_chain → 冷链), a code it does not know as it is."""
    try:
        return str(ServiceKindRequirement(code).label)
    except ValueError:
        return "" if code is None else str(code)


def capability_label(code) -> str:
    """A location capability required by classification (bulky → 大件), a code it does not know as it is."""
    try:
        return str(Capability(code).label)
    except ValueError:
        return "" if code is None else str(code)


def capability_labels(codes) -> str:
    """Capabilities written "a, b" as their labels."""
    return ", ".join(capability_label(c.strip()) for c in str(codes or "").split(",") if c.strip())
