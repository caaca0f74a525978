"""Intake's messages in the reader's language: a text marked with ``gettext_lazy`` and its values,
formatted only when shown (``say``). The staff pages show it in the person's language; the JSON API
(``oms.api.api_view`` overrides the language to English) and the stored records (``in_english``) in
English. The values are data (SKUs, amounts, Chinese place names) and are never translated."""

from django.utils.functional import Promise, lazy
from django.utils.translation import override


def _format(template, params: dict) -> str:
    text = str(template)
    return text % {k: str(v) if isinstance(v, Promise) else v for k, v in params.items()} if params else text


_lazy_format = lazy(_format, str)


def say(template, **params) -> str:
    """``template`` (a gettext_lazy text with ``%(name)s`` places) formatted with ``params`` when it is
    turned into text, in the language active then: translation first, formatting after."""
    return _lazy_format(template, params)


def in_english(value) -> str:
    """A message as it is stored and sent to machines."""
    with override("en"):
        return str(value)
