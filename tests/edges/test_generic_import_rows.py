"""Files for every web import (products here; locations, stock and bins read the same way): a bad
row never stops the file (issue 13, item 4). A cell past IMPORT_MAX_CELL_CHARS, a NUL or bytes the
file's encoding cannot read reject their row with the reason; the good rows go in, accents intact."""

import pytest

from inventory.models import Product
from oms.models import ImportJob
from tests.oms.test_import_mapping import admin, media, post_columns, proposal, run, upload  # noqa: F401

pytestmark = pytest.mark.django_db


def test_one_bad_row_of_each_kind_rejects_only_itself(admin, client, django_capture_on_commit_callbacks):  # noqa: F811
    rows = [
        b"sku,name",
        "GOOD-1,Zoë's café".encode(),
        b"LONG-1," + b"x" * (128 * 1024),
        b"NUL-1,bad\x00name",
        b"LATIN-1,Zo\xeb",
        "GOOD-2,咖啡豆".encode(),
    ]
    job = upload(client, b"\n".join(rows) + b"\n")
    if job.status == "uploaded":
        assert post_columns(client, job, proposal(job)).status_code == 302
    job = run(client, ImportJob.objects.get(pk=job.pk), django_capture_on_commit_callbacks)

    assert job.status == "done", job.message
    imported = Product.objects.filter(sku__in=["GOOD-1", "GOOD-2", "LONG-1", "NUL-1", "LATIN-1"])
    assert sorted(imported.values_list("sku", "name")) == [("GOOD-1", "Zoë's café"), ("GOOD-2", "咖啡豆")]
    assert (job.created, job.rejected) == (2, 3)
    messages = {}
    for error in job.errors:
        messages.setdefault(error["row"], []).append(error["message"])
    assert "column 2: the cell is 131072 characters long; at most 32767." in messages[3]
    assert "column 2: the cell contains a NUL character." in messages[4]
    assert "column 2: bytes that are not valid in the file's encoding (save the file as UTF-8)." in messages[5]
    assert sorted(messages) == [3, 4, 5]
