"""Carrier rate cards on the Imports page (issue 13, item 7): a carrier's own sheet with its own
column names is mapped by the person, imported row by row (a bad row rejects itself), and the
columns it does not use are reported. The Rate cards page reads files with the one encoding
detector: a stray byte is an error, never a garbled name."""

from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from logistics.models import RateCardRow
from oms.models import ImportJob
from tests.factories import CarrierFactory, ServiceLevelFactory
from tests.oms.test_import_mapping import admin, media, post_columns, run, upload  # noqa: F401

pytestmark = pytest.mark.django_db

SHEET = (
    "Carrier,Service,Zone,Band kg,Price,Extra,Days,Notes\n"
    "sf,std,a,1,12.00,2.00,2,first band\n"
    "sf,std,a,5,20.50,2.00,2,\n"
    'sf,std,b,1,"1,5",2.00,3,a decimal comma\n'
    "sf,nope,a,1,9.00,1.00,2,\n"
)
FIELDS = ["carrier", "service", "zone", "max_weight_kg", "price", "extra_per_kg", "transit_days", ""]


def test_a_carriers_own_sheet_is_mapped_and_imported_row_by_row(admin, client, django_capture_on_commit_callbacks):  # noqa: F811
    ServiceLevelFactory(carrier=CarrierFactory(code="sf", name="SF Express"), code="std")
    job = upload(client, SHEET, kind="rate-cards", name="sf-rates.csv")
    assert job.status == "uploaded"  # the columns wait for the person
    choice = {f"field-{i}": name for i, name in enumerate(FIELDS)}

    assert post_columns(client, job, choice).status_code == 302
    job = run(client, ImportJob.objects.get(pk=job.pk), django_capture_on_commit_callbacks)

    assert job.status == "done", job.message
    assert (job.created, job.rejected) == (2, 2)
    assert sorted(RateCardRow.objects.values_list("zone", "max_weight_g", "price")) == [
        ("A", 1000, Decimal("12.00")),
        ("A", 5000, Decimal("20.50")),
    ]
    errors = {e["row"]: e["message"] for e in job.errors}
    assert errors[4] == "price is not a number: '1,5'"
    assert errors[5] == "unknown service 'nope' of sf"
    page = client.get(f"/imports/{job.pk}/").content.decode()
    assert "Notes" in page  # the column it did not use is named


def test_the_rate_card_page_refuses_a_stray_byte_instead_of_garbling(admin, client):  # noqa: F811
    ServiceLevelFactory(carrier=CarrierFactory(code="sf", name="SF Express"), code="std")
    data = b"carrier,service,zone,max_weight_kg,price,extra_per_kg,transit_days\nsf,std,\xe9,1,12.00,2.00,2\n"
    response = client.post("/logistics/rate-cards/import/", {"file": SimpleUploadedFile("r.csv", data)}, follow=True)

    assert response.status_code == 200
    assert "not valid UTF-8" in response.content.decode()
    assert not RateCardRow.objects.exists()
