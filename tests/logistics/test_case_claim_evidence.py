"""Carrier claim evidence: photos and PDF attached to a claim, checked by type, content and size, listed and
downloaded by staff; a bad upload is a clear message and stores nothing."""

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from logistics.cases import evidence
from logistics.cases import services as cases
from logistics.cases.types import CaseType
from logistics.models import CarrierClaim, ClaimEvidence
from logistics.status import TrackingStatus
from oms.errors import DomainError
from tests.factories import make_user
from tests.logistics.casework import T0, order_at, parcel_of, record, world

pytestmark = pytest.mark.django_db

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 200
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 100
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n"


def upload(name, content, content_type="application/octet-stream"):
    return SimpleUploadedFile(name, content, content_type=content_type)


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def claim(django_capture_on_commit_callbacks):
    world()
    order = order_at(django_capture_on_commit_callbacks, "shipped", "F1")
    parcel = parcel_of(order)
    record(parcel, TrackingStatus.EXCEPTION, T0, description="parcel damaged", carrier_status="kdniao/414")
    case, _ = cases.case_open(order=order, case_type=CaseType.DAMAGED, summary="crushed", parcel=parcel, now=T0)
    return cases.case_claim_file(case=case, amount="20", evidence="box crushed", now=T0)


@pytest.fixture
def cs(client):
    client.force_login(make_user("cs", "customer_service"))
    return client


def stored_files(media):
    return sorted(p.name for p in media.rglob("*") if p.is_file())


def test_files_are_stored_with_the_claim_and_recorded(claim, media):
    rows = evidence.claim_evidence_add(
        claim=claim, uploads=[upload("box.JPG", JPEG, "image/jpeg"), upload("report.pdf", PDF)]
    )
    assert [(r.original_name, r.content_type, r.size) for r in rows] == [
        ("box.JPG", "image/jpeg", len(JPEG)),
        ("report.pdf", "application/pdf", len(PDF)),
    ]
    assert all(r.file.name.startswith(f"claims/{claim.pk}/") for r in rows)
    assert rows[1].file.read() == PDF
    assert len(stored_files(media)) == 2
    assert claim.case.actions.filter(data__files=[r.pk for r in rows]).exists()


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("virus.exe", b"MZ\x90\x00", "only photos (JPG, PNG, WebP) and PDF files"),
        ("fake.pdf", b"MZ\x90\x00 not a pdf", "fake.pdf: the content is not a PDF"),
        ("photo.png", JPEG, "photo.png: the content is not a PNG image"),
        ("empty.jpg", b"", "empty.jpg: the file is empty"),
    ],
)
def test_a_bad_file_is_refused_with_a_clear_message_and_nothing_is_stored(claim, media, name, content, message):
    with pytest.raises(DomainError, match=re.escape(message)):
        evidence.claim_evidence_add(claim=claim, uploads=[upload("good.png", PNG), upload(name, content)])
    assert ClaimEvidence.objects.count() == 0
    assert stored_files(media) == []


def test_a_file_over_the_limit_is_refused(claim, media, settings):
    settings.OMS_CLAIM_EVIDENCE_MAX_BYTES = 100
    with pytest.raises(DomainError, match=r"box.jpg: 1 KB is too large; the limit is 1 KB"):
        evidence.claim_evidence_add(claim=claim, uploads=[upload("box.jpg", JPEG)])
    assert ClaimEvidence.objects.count() == 0


def test_filing_a_claim_with_a_bad_file_files_nothing(claim, media):
    before = CarrierClaim.objects.count()
    with pytest.raises(DomainError, match="not a PDF"):
        cases.case_claim_file(case=claim.case, amount="5", evidence="more", files=[upload("x.pdf", b"hello")])
    assert CarrierClaim.objects.count() == before
    assert stored_files(media) == []


def test_upload_list_and_download_through_the_pages(cs, claim, media):
    page = cs.post(
        f"/logistics/cases/claims/{claim.pk}/evidence/",
        {"files": [upload("box.jpg", JPEG, "image/jpeg"), upload("scan.pdf", PDF, "application/pdf")]},
        follow=True,
    )
    assert page.status_code == 200
    assert b"2 file(s) added to claim" in page.content
    assert b"box.jpg" in page.content and b"scan.pdf" in page.content
    row = ClaimEvidence.objects.get(original_name="scan.pdf")
    assert f"/logistics/cases/evidence/{row.pk}/".encode() in page.content

    download = cs.get(f"/logistics/cases/evidence/{row.pk}/")
    assert download.status_code == 200
    assert download["Content-Type"] == "application/pdf"
    assert 'attachment; filename="scan.pdf"' == download["Content-Disposition"]
    assert b"".join(download.streaming_content) == PDF


def test_a_bad_upload_on_the_page_is_a_message_not_a_500(cs, claim, media):
    page = cs.post(f"/logistics/cases/claims/{claim.pk}/evidence/", {"files": [upload("a.exe", b"MZ")]}, follow=True)
    assert page.status_code == 200
    assert b"Not uploaded" in page.content and b"only photos (JPG, PNG, WebP) and PDF files" in page.content
    nothing = cs.post(f"/logistics/cases/claims/{claim.pk}/evidence/", {}, follow=True)
    assert nothing.status_code == 200 and b"Not done" in nothing.content
    assert ClaimEvidence.objects.count() == 0


def test_filing_a_claim_with_files_on_the_case_page(cs, claim, media):
    page = cs.post(
        f"/logistics/cases/{claim.case.number}/claim/",
        {"amount": "12.50", "evidence": "photos attached", "files": [upload("dent.png", PNG, "image/png")]},
        follow=True,
    )
    assert page.status_code == 200 and b"Claim filed with 1 file(s)." in page.content
    new = CarrierClaim.objects.order_by("-pk").first()
    assert list(new.files.values_list("original_name", flat=True)) == ["dent.png"]


def test_warehouse_cannot_upload_or_download(client, claim, media):
    [row] = evidence.claim_evidence_add(claim=claim, uploads=[upload("box.jpg", JPEG)])
    client.force_login(make_user("wh", "warehouse"))
    assert client.get(f"/logistics/cases/evidence/{row.pk}/").status_code == 403
    post = client.post(f"/logistics/cases/claims/{claim.pk}/evidence/", {"files": [upload("b.jpg", JPEG)]})
    assert post.status_code == 403
    assert ClaimEvidence.objects.count() == 1
