"""``logistics:`` — a case's address correction (it may re-route the order), then logistics' own patterns."""

from django.urls import path

from logistics.cases import views as case_views
from logistics.urls import urlpatterns as logistics_urlpatterns

from ..cases import case_address_correct

app_name = "logistics"

urlpatterns = [
    path(
        "cases/<str:number>/address/",
        case_views.case_address,
        {"case_address_correct": case_address_correct},
        name="case_address",
    ),
    *logistics_urlpatterns,
]
