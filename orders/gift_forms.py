"""赠品: the gift rule form (pages and API) and the remove-a-gift form."""

from django import forms
from django.utils.translation import gettext_lazy as _

from inventory.models import Product

from .models import Channel, GiftRule


class GiftRuleForm(forms.ModelForm):
    gift_sku = forms.CharField(label=_("Gift SKU"), max_length=64, help_text=_("The product given away."))

    class Meta:
        model = GiftRule
        fields = [
            "name",
            "position",
            "active",
            "channels",
            "starts_at",
            "ends_at",
            "min_goods_total",
            "bought_skus",
            "min_quantity",
            "limit_per_customer",
            "gift_quantity",
            "out_of_stock",
            "stop_processing",
        ]
        widgets = {
            "starts_at": forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
            "ends_at": forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
            "channels": forms.CheckboxSelectMultiple,
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["channels"].queryset = Channel.objects.order_by("name")
        if self.instance.pk and self.instance.gift_product_id:
            self.initial.setdefault("gift_sku", self.instance.gift_product.sku)
        order = ["name", "position", "active", "gift_sku"]
        self.order_fields(order + [f for f in self.fields if f not in order])

    def clean_gift_sku(self):
        sku = self.cleaned_data["gift_sku"].strip()
        product = Product.objects.filter(sku=sku).first()
        if product is None:
            raise forms.ValidationError(_("No product has the SKU %(sku)s.") % {"sku": sku})
        self.instance.gift_product = product
        return sku

    def clean_bought_skus(self):
        from .models import split_list

        skus = split_list(self.cleaned_data.get("bought_skus", ""))
        return ", ".join(skus)


class GiftRemoveForm(forms.Form):
    note = forms.CharField(label=_("Why"), max_length=200, required=False)
