"""赠品: the gift rules pages and API, and removing a gift line from an order before routing."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from oms.api import api_view, error, json_input, register_openapi
from oms.errors import DomainError

from .. import services
from ..gift_forms import GiftRemoveForm, GiftRuleForm
from ..models import Channel, GiftRule, Order

RULES_PERM = "orders.change_giftrule"


@login_required
@permission_required("orders.view_giftrule", raise_exception=True)
def gift_rule_list(request):
    rules = GiftRule.objects.select_related("gift_product").prefetch_related("channels").order_by("position", "pk")
    active = request.GET.get("active", "")
    if active in ("1", "0"):
        rules = rules.filter(active=active == "1")
    channel = request.GET.get("channel", "")
    if channel:
        rules = rules.filter(channels__slug=channel)
    context = {
        "rules": rules,
        "channels": Channel.objects.order_by("name"),
        "active": active,
        "channel": channel,
        "can_change": request.user.has_perm(RULES_PERM),
    }
    return render(request, "orders/gift_rule_list.html", context)


@login_required
@permission_required(RULES_PERM, raise_exception=True)
def gift_rule_edit(request, pk=None):
    rule = get_object_or_404(GiftRule, pk=pk) if pk else None
    form = GiftRuleForm(request.POST or None, instance=rule)
    if request.method == "POST" and form.is_valid():
        saved = form.save()
        messages.success(request, _("Gift rule “%(name)s” saved.") % {"name": saved.name})
        return redirect("orders:gift_rule_list")
    return render(request, "orders/gift_rule_form.html", {"form": form, "rule": rule})


@require_POST
@login_required
@permission_required("orders.delete_giftrule", raise_exception=True)
def gift_rule_delete(request, pk):
    rule = get_object_or_404(GiftRule, pk=pk)
    name = rule.name
    rule.delete()  # the gift lines it added keep their place; their rule is left empty
    messages.success(request, _("Gift rule “%(name)s” deleted.") % {"name": name})
    return redirect("orders:gift_rule_list")


@require_POST
@login_required
@permission_required("orders.change_order", raise_exception=True)
def order_gift_remove(request, number, line_id):
    order = get_object_or_404(Order, number=number)
    form = GiftRemoveForm(request.POST)
    if not form.is_valid():
        for field, errors in form.errors.items():
            messages.error(
                request, f"{form[field].label}: {' '.join(errors)}" if field in form.fields else " ".join(errors)
            )
        return redirect("orders:order_detail", number=number)
    try:
        services.order_gift_remove(order=order, line_id=line_id, user=request.user, note=form.cleaned_data["note"])
    except DomainError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Gift removed."))
    return redirect("orders:order_detail", number=number)


# ---- API: GET/POST /api/v1/gift-rules/ ----------------------------------------------------------------


def gift_rule_json(rule: GiftRule) -> dict:
    return {
        "id": rule.pk,
        "name": rule.name,
        "position": rule.position,
        "active": rule.active,
        "channels": [c.slug for c in rule.channels.all()],
        "starts_at": rule.starts_at.isoformat() if rule.starts_at else None,
        "ends_at": rule.ends_at.isoformat() if rule.ends_at else None,
        "min_goods_total": str(rule.min_goods_total) if rule.min_goods_total is not None else None,
        "bought_skus": rule.bought_skus,
        "min_quantity": rule.min_quantity,
        "limit_per_customer": rule.limit_per_customer,
        "gift_sku": rule.gift_product.sku,
        "gift_quantity": rule.gift_quantity,
        "out_of_stock": rule.out_of_stock,
        "stop_processing": rule.stop_processing,
    }


_SCALARS = (
    "name",
    "position",
    "active",
    "starts_at",
    "ends_at",
    "min_goods_total",
    "bought_skus",
    "min_quantity",
    "limit_per_customer",
    "gift_sku",
    "gift_quantity",
    "out_of_stock",
    "stop_processing",
)


@api_view(methods={"GET": "orders.view_giftrule", "POST": "orders.add_giftrule"})
def gift_rules_collection(request):
    if request.method == "GET":
        rules = GiftRule.objects.select_related("gift_product").prefetch_related("channels").order_by("position", "pk")
        return JsonResponse({"results": [gift_rule_json(r) for r in rules]})
    errors: list[dict] = []
    body = json_input(request, "GiftRuleIn", errors=errors)  # its unknown keys beside the other errors
    channels = body.get("channels") or []
    if not isinstance(channels, list) or not all(isinstance(c, str) for c in channels):
        errors.append({"field": "channels", "message": "must be a list of channel slugs."})
        channels = []
    found = dict(Channel.objects.filter(slug__in=channels).values_list("slug", "pk"))
    errors += [{"field": "channels", "message": f"no channel '{c}'."} for c in channels if c not in found]
    data = {}
    for key in _SCALARS:
        value = body.get(key)
        if value is None:
            continue
        if isinstance(value, bool):
            value = "on" if value else ""
        elif isinstance(value, dict | list):
            errors.append({"field": key, "message": "must be a single value."})
            continue
        data[key] = str(value)
    if "active" not in body:
        data["active"] = "on"  # a rule sent without "active" is active, as on the form's default
    for key, default in (("position", "0"), ("min_quantity", "1"), ("gift_quantity", "1"), ("out_of_stock", "skip")):
        data.setdefault(key, default)  # left out: the model's default
    data["channels"] = [found[c] for c in channels if c in found]
    form = GiftRuleForm(data)
    if not form.is_valid():
        errors += [{"field": f, "message": " ".join(m)} for f, m in form.errors.items()]
    if errors:
        return error("The gift rule was not saved.", 400, errors)
    rule = form.save()
    rule = GiftRule.objects.select_related("gift_product").prefetch_related("channels").get(pk=rule.pk)
    return JsonResponse(gift_rule_json(rule), status=201)


_RULE = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "name": {"type": "string"},
        "position": {"type": "integer"},
        "active": {"type": "boolean"},
        "channels": {"type": "array", "items": {"type": "string"}},
        "starts_at": {"type": ["string", "null"], "format": "date-time"},
        "ends_at": {"type": ["string", "null"], "format": "date-time"},
        "min_goods_total": {"type": ["string", "null"]},
        "bought_skus": {"type": "string"},
        "min_quantity": {"type": "integer"},
        "limit_per_customer": {"type": ["integer", "null"]},
        "gift_sku": {"type": "string"},
        "gift_quantity": {"type": "integer"},
        "out_of_stock": {"type": "string", "enum": ["skip", "hold"]},
        "stop_processing": {"type": "boolean"},
    },
}
_RULE_IN = {
    "type": "object",
    "required": ["name", "gift_sku"],
    "additionalProperties": False,
    "description": "A key not listed here is refused: 400 naming it, nothing saved.",
    "properties": {k: v for k, v in _RULE["properties"].items() if k != "id"},
}
_ERR = {"description": "Error", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}

register_openapi(
    schemas={"GiftRule": _RULE, "GiftRuleIn": _RULE_IN},
    paths={
        "/gift-rules/": {
            "get": {
                "summary": "赠品: the gift rules, in the order they run",
                "responses": {
                    "200": {
                        "description": "All gift rules",
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "properties": {
                                        "results": {"type": "array", "items": {"$ref": "#/components/schemas/GiftRule"}}
                                    },
                                }
                            }
                        },
                    },
                    "401": _ERR,
                    "403": _ERR,
                },
            },
            "post": {
                "summary": "Create a gift rule",
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/GiftRuleIn"}}},
                },
                "responses": {
                    "201": {
                        "description": "Created",
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/GiftRule"}}},
                    },
                    "400": _ERR,
                    "401": _ERR,
                    "403": _ERR,
                },
            },
        }
    },
)
