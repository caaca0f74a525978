"""Self-service on the public tracking page: correct the address, cancel, start a return, rate the
delivery, download the return label. The signed token in the URL is the only key: every view
opens the order from the token and nothing else, calls one orders service or workflow action (which
checks the stage again under the order's lock; the workflow actions are given by the URLs,
workflows/urls/public.py), and answers a refusal with a message, never a 500.
Who changed it is recorded as "customer via tracking page".

Anything that writes (and the return label, which carries the address) needs change access: the link we
e-mailed (``tracking_token``) or, after a lookup by number and phone digits (a view-only link), a one-time
code sent to the order's e-mail or phone and entered here (logistics/access_codes.py).
"""

from functools import wraps

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import get_language
from django.views.decorators.http import require_POST

from oms.errors import DomainError
from oms.pdf import pdf_response
from orders.care.ratings import delivery_rate
from orders.care.returns import CUSTOMER_SOURCE, return_create
from orders.care.tracking_links import token_access
from orders.intake.canonical import CanonicalAddress
from orders.models import Order, ReturnRequest

from . import access_codes
from .lookup_guard import rate_limited
from .return_labels import return_label_pdf

SOURCE = CUSTOMER_SOURCE  # "customer via tracking page"


def _zh() -> bool:
    return (get_language() or "").startswith("zh")


def _say(en: str, zh: str) -> str:
    return zh if _zh() else en


def _order_from_token(token: str) -> Order:
    number = token_access(token)[0]
    order = Order.objects.select_related("customer", "channel").filter(number=number).first() if number else None
    if order is None:
        raise Http404("This link is not valid or has expired.")
    return order


def _back(token: str, anchor: str = ""):
    response = redirect("public:track_order", token=token)
    if anchor:
        response["Location"] += f"#{anchor}"
    return response


def may_change(request, token: str, order: Order) -> bool:
    """The e-mailed link, or this browser session entered a right one-time code for the order."""
    return token_access(token)[1] or access_codes.session_is_verified(request, order)


def _too_many(request, token):
    _order_from_token(token)
    messages.error(request, _say("Too many tries. Please wait a minute.", "操作次数过多，请一分钟后再试。"))
    return _back(token)


def _limited(view):
    """POST only, and at most TRACKING_LOOKUP_RATE actions a minute per client, counted before anything else."""

    @require_POST
    @wraps(view)
    def limited(request, token, *args, **kwargs):
        if rate_limited(request, "action"):
            return _too_many(request, token)
        return view(request, token, *args, **kwargs)

    return limited


def _guarded(view):
    """A change: rate-limited as above, and only with change access (else nothing is written)."""

    @_limited
    @wraps(view)
    def guarded(request, token, *args, **kwargs):
        order = _order_from_token(token)
        if not may_change(request, token, order):
            messages.error(
                request,
                _say(
                    "To change this order, open the link in the e-mail we sent you, or ask for a code below.",
                    "如需修改订单，请打开我们邮件中的链接，或在下方获取验证码。",
                ),
            )
            return _back(token, "verify")
        return view(request, token, *args, **kwargs)

    return guarded


@_limited
def track_code_send(request, token):
    """Send a one-time code to the order's e-mail (else phone)."""
    order = _order_from_token(token)
    try:
        access_codes.access_code_issue(order=order)
    except DomainError:
        messages.error(
            request,
            _say(
                "We cannot send another code right now. Please wait a few minutes, or use the link in our e-mail.",
                "暂时无法再发送验证码，请稍等几分钟，或使用我们邮件中的链接。",
            ),
        )
    else:
        email = access_codes.code_channel(order) == "email"
        minutes = access_codes.CODE_MINUTES
        messages.success(
            request,
            _say(
                f"We sent a 6-digit code to the {'e-mail address' if email else 'phone'} on the order. "
                f"It is valid for {minutes} minutes.",
                f"验证码已发送到订单上的{'邮箱' if email else '手机'}，{minutes} 分钟内有效。",
            ),
        )
    return _back(token, "verify")


@_limited
def track_code_verify(request, token):
    order = _order_from_token(token)
    result = access_codes.access_code_check(order=order, code=request.POST.get("code", "")[:20])
    if result.ok:
        access_codes.session_verify(request, order)
        messages.success(request, _say("Thank you. You can now change this order.", "验证成功，现在可以修改订单。"))
        return _back(token)
    text = {
        "wrong": ("This code is not right. Check it and try again.", "验证码不正确，请检查后重试。"),
        "too_many": ("Too many wrong codes. Ask for a new code.", "错误次数过多，请重新获取验证码。"),
        "expired": ("This code has expired or was replaced. Ask for a new code.", "验证码已过期或已失效，请重新获取。"),
    }[result.reason]
    messages.error(request, _say(*text))
    return _back(token, "verify")


def _run(request, token, anchor, action, success_en, success_zh):
    try:
        action()
    except DomainError as exc:
        messages.error(request, _say(str(exc), "无法完成此操作：" + str(exc)))
    else:
        messages.success(request, _say(success_en, success_zh))
    return _back(token, anchor)


class AddressForm(forms.Form):
    name = forms.CharField(max_length=120, required=False)
    phone = forms.CharField(max_length=32, required=False)
    province = forms.CharField(max_length=64)
    city = forms.CharField(max_length=64)
    district = forms.CharField(max_length=64, required=False)
    address1 = forms.CharField(max_length=255)
    address2 = forms.CharField(max_length=255, required=False)
    postcode = forms.CharField(max_length=16, required=False)


@_guarded
def track_change_address(request, token, *, change_address):
    """``change_address`` is workflows.changes.order_change_address, given by the URL (workflows/urls/public.py)."""
    order = _order_from_token(token)
    form = AddressForm(request.POST)
    if not form.is_valid():
        messages.error(request, _say("Fill in province, city and street.", "请填写省份、城市和详细地址。"))
        return _back(token, "address")
    d = form.cleaned_data
    address = CanonicalAddress(
        name=d["name"] or order.ship_name,
        phone=d["phone"] or order.ship_phone,
        email=order.ship_email,
        country=order.ship_country,
        province=d["province"],
        city=d["city"],
        district=d["district"],
        address1=d["address1"],
        address2=d["address2"],
        postcode=d["postcode"],
    )
    return _run(
        request,
        token,
        "address",
        lambda: change_address(order=order, address=address, source=SOURCE, reason="corrected by the customer"),
        "Thank you: we will deliver to the new address.",
        "谢谢，我们会按新地址配送。",
    )


CANCEL_REASONS = {
    "changed_mind": "no longer wanted",
    "ordered_wrong": "ordered the wrong item",
    "too_slow": "delivery takes too long",
    "other": "other",
}


@_guarded
def track_cancel(request, token, *, cancel):
    """``cancel`` is workflows.cancel.order_cancel, given by the URL (workflows/urls/public.py)."""
    order = _order_from_token(token)
    if request.POST.get("confirm") != "yes":
        messages.error(request, _say("Tick the box to confirm the cancellation.", "请勾选确认取消。"))
        return _back(token, "cancel")
    why = CANCEL_REASONS.get(request.POST.get("reason", ""), "other")
    return _run(
        request,
        token,
        "",
        lambda: cancel(order=order, reason=f"{SOURCE}: {why}"),
        "Your order is cancelled.",
        "您的订单已取消。",
    )


@_guarded
def track_return(request, token):
    order = _order_from_token(token)
    lines = {}
    for key, value in request.POST.items():
        if key.startswith("qty-") and value.strip():
            try:
                lines[int(key[4:])] = int(value)
            except ValueError:
                messages.error(request, _say("Quantities must be whole numbers.", "数量必须是整数。"))
                return _back(token, "return")
    return _run(
        request,
        token,
        "return",
        lambda: return_create(
            order=order,
            lines=lines,
            reason=request.POST.get("reason", ""),
            note=request.POST.get("note", "")[:500],
            resolution=request.POST.get("resolution", "refund"),
            source=SOURCE,
        ),
        "Your return is registered. Download the return label below.",
        "退货已登记，请在下方下载退货面单。",
    )


@_guarded
def track_rate(request, token):
    order = _order_from_token(token)
    return _run(
        request,
        token,
        "rate",
        lambda: delivery_rate(
            order=order,
            score=request.POST.get("score"),
            comment=request.POST.get("comment", ""),
            source="tracking page",
        ),
        "Thank you for your rating!",
        "感谢您的评价！",
    )


def track_return_label(request, token, number):
    order = _order_from_token(token)
    if not may_change(request, token, order):  # the label carries the customer's address
        raise Http404("Open the link from our e-mail to download the return label.")
    ret = get_object_or_404(ReturnRequest, order=order, number=number)  # only a return of this order
    return pdf_response(return_label_pdf(ret), f"return-{ret.number}.pdf")


@login_required
@permission_required("orders.view_returnrequest", raise_exception=True)
def return_label(request, number):
    """The same label for staff (the return page's button)."""
    ret = get_object_or_404(ReturnRequest, number=number)
    return pdf_response(return_label_pdf(ret, request=request), f"return-{ret.number}.pdf")
