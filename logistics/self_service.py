"""Self-service on the public tracking page: correct the address, cancel, start a return, rate the
delivery, download the return label. The signed token in the URL is the only key: every view
opens the order from the token and nothing else, calls one orders service (which checks the
stage again under the order's lock), and answers a refusal with a message, never a 500.
Who changed it is recorded as "customer via tracking page".
"""

from functools import wraps

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.cache import cache
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.utils import timezone
from django.utils.translation import get_language
from django.views.decorators.http import require_POST

from oms.errors import DomainError
from oms.pdf import pdf_response
from orders.intake.canonical import CanonicalAddress
from orders.models import Order, ReturnRequest
from orders.ratings import delivery_rate
from orders.returns import CUSTOMER_SOURCE, return_create
from orders.services import order_cancel, order_change_address

from .returns import return_label_pdf
from .tracking_links import order_number_from_token

SOURCE = CUSTOMER_SOURCE  # "customer via tracking page"


def _zh() -> bool:
    return (get_language() or "").startswith("zh")


def _say(en: str, zh: str) -> str:
    return zh if _zh() else en


def _order_from_token(token: str) -> Order:
    number = order_number_from_token(token)
    order = Order.objects.select_related("customer", "channel").filter(number=number).first() if number else None
    if order is None:
        raise Http404("This link is not valid or has expired.")
    return order


def _back(token: str, anchor: str = ""):
    response = redirect("public:track_order", token=token)
    if anchor:
        response["Location"] += f"#{anchor}"
    return response


def _rate_limited(request) -> bool:
    """The lookup's per-IP rate (TRACKING_LOOKUP_RATE a minute) also guards the actions."""
    key = f"track-action:{request.META.get('REMOTE_ADDR', 'unknown')}:{timezone.now():%Y%m%d%H%M}"
    count = cache.get_or_set(key, 0, 70)
    if count >= settings.TRACKING_LOOKUP_RATE:
        return True
    try:
        cache.incr(key)
    except ValueError:
        cache.set(key, 1, 70)
    return False


def _guarded(view):
    """POST only, and at most TRACKING_LOOKUP_RATE actions a minute per IP, counted before anything else."""

    @require_POST
    @wraps(view)
    def guarded(request, token, *args, **kwargs):
        if _rate_limited(request):
            _order_from_token(token)
            messages.error(request, _say("Too many tries. Please wait a minute.", "操作次数过多，请一分钟后再试。"))
            return _back(token)
        return view(request, token, *args, **kwargs)

    return guarded


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
def track_change_address(request, token):
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
        lambda: order_change_address(order=order, address=address, source=SOURCE, reason="corrected by the customer"),
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
def track_cancel(request, token):
    order = _order_from_token(token)
    if request.POST.get("confirm") != "yes":
        messages.error(request, _say("Tick the box to confirm the cancellation.", "请勾选确认取消。"))
        return _back(token, "cancel")
    why = CANCEL_REASONS.get(request.POST.get("reason", ""), "other")
    return _run(
        request,
        token,
        "",
        lambda: order_cancel(order=order, reason=f"{SOURCE}: {why}"),
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
    ret = get_object_or_404(ReturnRequest, order=order, number=number)  # only a return of this order
    return pdf_response(return_label_pdf(ret), f"return-{ret.number}.pdf")


@login_required
@permission_required("orders.view_returnrequest", raise_exception=True)
def return_label(request, number):
    """The same label for staff (the return page's button)."""
    ret = get_object_or_404(ReturnRequest, number=number)
    return pdf_response(return_label_pdf(ret, request=request), f"return-{ret.number}.pdf")
