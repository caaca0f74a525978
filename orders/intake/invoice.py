"""An invoice request (发票) as intake reads it: from the OMS's JSON (``invoice`` object), the order page's form
and the API; checked here, once, with every problem a FieldError naming ``invoice.<field>``.

Rules (as a Chinese finance team keys them into the tax system):

- ``kind``: ``plain`` (普票), ``special`` (专票, VAT special invoice) or ``electronic`` (电子发票); the Chinese
  names are accepted too.
- ``title_type``: ``personal`` (个人) or ``company`` (企业/单位); given a tax id and no type, ``company``.
- ``title`` (抬头) is required; a company title and every 专票 need a tax id (税号): the 18-character unified
  social credit code with its check digit (GB 32100-2015), or a 15- or 20-character tax registration number of
  the old scheme.
- An e-invoice needs an e-mail; a 专票 is for companies only and needs the buyer's bank, account, address
  and phone.
- ``amount``: defaults to the order's total and may not exceed it.
"""

import re
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext_lazy as _
from django.utils.translation import override

from oms.money import InvalidAmount, parse_amount
from oms.wording import known

from ..models import InvoiceKind, InvoiceRequest, InvoiceTitleType
from .canonical import FieldError, OrderRejected, clean_text, shown, text_problem
from .words import say

# The problems below in the reader's language (``say``: formatted when shown; the API and stored rows in English).
NOT_USCC = _(
    "'%(value)s' is not a unified social credit code: it uses letters a code never has (I, O, Z, S, V) or other "
    "characters."
)
WRONG_CHECK = _("'%(value)s' has a wrong check character: the last character should be %(expected)s. Check for a typo.")
NOT_TAX_ID = _(
    "'%(value)s' is not a tax id: give the 18-character unified social credit code (or a 15- or 20-character old "
    "tax registration number); it has %(length)s characters."
)
NOT_KIND = _("'%(value)s' is not plain, special or electronic.")
NOT_TITLE_TYPE = _("'%(value)s' is not personal or company.")
TOO_LONG = _("is %(length)s characters long; at most %(limit)s fit.")
TITLE_REQUIRED = _("is required (the buyer's name or company name, 抬头).")
SPECIAL_COMPANY = _("a special VAT invoice (专票) is issued to companies only.")
TAX_ID_REQUIRED = _("is required for a company title and a special VAT invoice (税号).")
NOT_EMAIL = _("'%(value)s' is not an e-mail address.")
EMAIL_REQUIRED = _("is required for an e-invoice (it is sent there).")
NEEDED_FOR_SPECIAL = _("is required for a special VAT invoice (专票).")
NOT_ABOVE_ZERO = _("'%(value)s' is not an amount above zero.")
MUST_BE_TEXT = _("must be text, got %(kind)s.")
INVALID_AMOUNT = _("invalid amount: %(problem)s")
MUST_BE_OBJECT = _("must be an object.")

with override(None):  # an import job stores its rows' errors in English; its page reads them as known phrases
    known(*(str(v) for v in (NOT_USCC, WRONG_CHECK, NOT_TAX_ID, NOT_KIND, NOT_TITLE_TYPE, TITLE_REQUIRED,
                             SPECIAL_COMPANY, TAX_ID_REQUIRED, NOT_EMAIL, EMAIL_REQUIRED, NEEDED_FOR_SPECIAL,
                             NOT_ABOVE_ZERO, MUST_BE_TEXT, INVALID_AMOUNT)))  # fmt: skip

KIND_ALIASES = {
    "plain": InvoiceKind.PLAIN,
    "普票": InvoiceKind.PLAIN,
    "普通发票": InvoiceKind.PLAIN,
    "增值税普通发票": InvoiceKind.PLAIN,
    "special": InvoiceKind.SPECIAL,
    "专票": InvoiceKind.SPECIAL,
    "专用发票": InvoiceKind.SPECIAL,
    "增值税专用发票": InvoiceKind.SPECIAL,
    "electronic": InvoiceKind.ELECTRONIC,
    "e-invoice": InvoiceKind.ELECTRONIC,
    "einvoice": InvoiceKind.ELECTRONIC,
    "电子发票": InvoiceKind.ELECTRONIC,
    "电子普票": InvoiceKind.ELECTRONIC,
}
TITLE_ALIASES = {
    "personal": InvoiceTitleType.PERSONAL,
    "individual": InvoiceTitleType.PERSONAL,
    "个人": InvoiceTitleType.PERSONAL,
    "company": InvoiceTitleType.COMPANY,
    "企业": InvoiceTitleType.COMPANY,
    "单位": InvoiceTitleType.COMPANY,
    "公司": InvoiceTitleType.COMPANY,
}
TEXT_FIELDS = ("title", "tax_id", "email", "buyer_address", "buyer_phone", "bank_name", "bank_account")
# What a request is made of, as the JSON object's keys (and the OMS template's ``invoice_*`` columns).
INVOICE_INPUTS = ("kind", "title_type", *TEXT_FIELDS, "amount")
SPECIAL_REQUIRED = ("bank_name", "bank_account", "buyer_address", "buyer_phone")

# The unified social credit code (统一社会信用代码, GB 32100-2015): 18 characters of this alphabet (no I, O, Z,
# S, V), the last a check character over the first 17.
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
USCC = re.compile(f"[{USCC_ALPHABET}]{{18}}")
LEGACY_TAX_ID = re.compile(r"[0-9A-Z]{15}|[0-9A-Z]{20}")


@dataclass
class CanonicalInvoice:
    kind: str
    title_type: str
    title: str
    tax_id: str = ""
    email: str = ""
    buyer_address: str = ""
    buyer_phone: str = ""
    bank_name: str = ""
    bank_account: str = ""
    amount: Decimal | None = None  # None: the order's total

    def fields(self) -> dict:
        return {name: getattr(self, name) for name in INVOICE_INPUTS}


def uscc_check_char(first17: str) -> str:
    total = sum(USCC_ALPHABET.index(ch) * w for ch, w in zip(first17, USCC_WEIGHTS, strict=True))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def normalize_tax_id(value: str) -> str:
    return re.sub(r"[\s-]", "", value or "").upper()


def tax_id_problem(tax_id: str) -> str:
    """Why ``tax_id`` (normalized) is no tax id ("" when it is one)."""
    if len(tax_id) == 18:
        if not USCC.fullmatch(tax_id):
            return say(NOT_USCC, value=shown(tax_id))
        expected = uscc_check_char(tax_id[:17])
        if tax_id[17] != expected:
            return say(WRONG_CHECK, value=tax_id, expected=expected)
        return ""
    if LEGACY_TAX_ID.fullmatch(tax_id):
        return ""
    return say(NOT_TAX_ID, value=shown(tax_id), length=len(tax_id))


def _column(name: str) -> int:
    return InvoiceRequest._meta.get_field(name).max_length


def invoice_problems(invoice: CanonicalInvoice, prefix: str = "invoice") -> list[FieldError]:
    """Every problem of a parsed request ([] when it can be stored as given)."""
    errors: list[FieldError] = []
    if invoice.kind not in InvoiceKind.values:
        errors.append(FieldError(f"{prefix}.kind", say(NOT_KIND, value=shown(invoice.kind))))
    if invoice.title_type not in InvoiceTitleType.values:
        errors.append(FieldError(f"{prefix}.title_type", say(NOT_TITLE_TYPE, value=shown(invoice.title_type))))
    for name in TEXT_FIELDS:
        value = getattr(invoice, name)
        problem = text_problem(value)
        if problem:
            errors.append(FieldError(f"{prefix}.{name}", problem))
        elif len(value) > _column(name):
            errors.append(FieldError(f"{prefix}.{name}", say(TOO_LONG, length=len(value), limit=_column(name))))
    if errors:
        return errors
    if not invoice.title:
        errors.append(FieldError(f"{prefix}.title", TITLE_REQUIRED))
    special = invoice.kind == InvoiceKind.SPECIAL
    if special and invoice.title_type != InvoiceTitleType.COMPANY:
        errors.append(FieldError(f"{prefix}.title_type", SPECIAL_COMPANY))
    if invoice.tax_id:
        problem = tax_id_problem(invoice.tax_id)
        if problem:
            errors.append(FieldError(f"{prefix}.tax_id", problem))
    elif special or invoice.title_type == InvoiceTitleType.COMPANY:
        errors.append(FieldError(f"{prefix}.tax_id", TAX_ID_REQUIRED))
    if invoice.email:
        try:
            validate_email(invoice.email)
        except ValidationError:
            errors.append(FieldError(f"{prefix}.email", say(NOT_EMAIL, value=shown(invoice.email))))
    elif invoice.kind == InvoiceKind.ELECTRONIC:
        errors.append(FieldError(f"{prefix}.email", EMAIL_REQUIRED))
    if special:
        for name in SPECIAL_REQUIRED:
            if not getattr(invoice, name):
                errors.append(FieldError(f"{prefix}.{name}", NEEDED_FOR_SPECIAL))
    if invoice.amount is not None and (not invoice.amount.is_finite() or invoice.amount <= 0):
        errors.append(FieldError(f"{prefix}.amount", say(NOT_ABOVE_ZERO, value=shown(invoice.amount))))
    return errors


def _text(errors: list[FieldError], value, field_name: str) -> str:
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        errors.append(FieldError(field_name, say(MUST_BE_TEXT, kind=type(value).__name__.replace("dict", "object"))))
        return ""
    return clean_text(value)


def parse_invoice(raw, prefix: str = "invoice") -> CanonicalInvoice | None:
    """The request from a JSON object or a form's cleaned data (None when nothing is asked for); raises
    OrderRejected with every problem."""
    if raw is None or raw == "" or raw == {}:
        return None
    if not isinstance(raw, dict):
        raise OrderRejected([FieldError(prefix, MUST_BE_OBJECT)])
    errors: list[FieldError] = []
    texts = {name: _text(errors, raw.get(name), f"{prefix}.{name}") for name in (*TEXT_FIELDS, "kind", "title_type")}
    kind_text = texts.pop("kind")
    kind = KIND_ALIASES.get(kind_text.lower(), kind_text) if kind_text else InvoiceKind.PLAIN
    title_text = texts.pop("title_type")
    texts["tax_id"] = normalize_tax_id(texts["tax_id"])
    if title_text:
        title_type = TITLE_ALIASES.get(title_text.lower(), title_text)
    else:
        company = texts["tax_id"] or kind == InvoiceKind.SPECIAL
        title_type = InvoiceTitleType.COMPANY if company else InvoiceTitleType.PERSONAL
    amount = None
    if raw.get("amount") not in (None, ""):
        try:
            amount = parse_amount(raw.get("amount"))
        except InvalidAmount as exc:
            errors.append(FieldError(f"{prefix}.amount", say(INVALID_AMOUNT, problem=str(exc))))
    if errors:
        raise OrderRejected(errors)
    invoice = CanonicalInvoice(kind=str(kind), title_type=str(title_type), amount=amount, **texts)
    errors = invoice_problems(invoice, prefix)
    if errors:
        raise OrderRejected(errors)
    return invoice
