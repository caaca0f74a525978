"""ImportJob.status has one door (``oms.imports.jobs.import_jobs_move``): every pair of statuses is walked through
it on a real row; an allowed move writes the status with its values, a refused one changes nothing."""

import pytest

from oms.errors import TransitionNotAllowed
from oms.imports.jobs import import_job_move, import_jobs_move
from oms.models import ImportJob
from oms.status import IMPORT_TRANSITIONS, ImportStatus

pytestmark = pytest.mark.django_db

S = ImportStatus
PAIRS = [(a, b) for a in S.values for b in S.values]


def test_the_table_is_the_documented_life_of_a_job():
    assert IMPORT_TRANSITIONS == {
        S.UPLOADED: {S.PREVIEWED, S.FAILED},
        S.PREVIEWED: {S.UPLOADED, S.QUEUED, S.FAILED},
        S.QUEUED: {S.RUNNING},
        S.RUNNING: {S.DONE, S.FAILED},
        S.DONE: set(),
        S.FAILED: set(),
    }


@pytest.fixture
def job():
    return ImportJob.objects.create(kind="products", file="imports/x.csv", original_filename="x.csv")


@pytest.mark.parametrize(("source", "target"), PAIRS)
def test_door_walks_every_pair(job, source, target):
    ImportJob.objects.filter(pk=job.pk).update(status=source, message="before")
    job.refresh_from_db()
    before = ImportJob.objects.filter(pk=job.pk).values().get()

    moved = import_job_move(job, target, message="after")

    row = ImportJob.objects.filter(pk=job.pk).values().get()
    if target in IMPORT_TRANSITIONS[source] or target == source:  # staying writes the values
        assert moved is True
        assert (row["status"], row["message"], job.status, job.message) == (target, "after", target, "after")
    else:
        assert moved is False
        assert row == before
        assert (job.status, job.message) == (source, "before")


def test_only_from_narrows_and_cannot_widen(job):
    ImportJob.objects.filter(pk=job.pk).update(status=S.RUNNING)
    assert import_job_move(job, S.RUNNING, only_from=[S.QUEUED]) is False  # a second delivery claims nothing
    assert ImportJob.objects.get(pk=job.pk).status == S.RUNNING
    with pytest.raises(TransitionNotAllowed):
        import_job_move(job, S.RUNNING, only_from=[S.UPLOADED])
    with pytest.raises(ValueError):
        import_job_move(job, "paused")
    assert ImportJob.objects.get(pk=job.pk).status == S.RUNNING


def test_set_based_door_moves_only_the_jobs_that_may(job):
    other = ImportJob.objects.create(kind="products", file="imports/y.csv", original_filename="y.csv")
    ImportJob.objects.filter(pk=other.pk).update(status=S.DONE)

    moved = import_jobs_move(ImportJob.objects.all(), S.FAILED, message="swept")

    assert moved == 1
    assert list(ImportJob.objects.order_by("pk").values_list("status", "message")) == [
        (S.FAILED, "swept"),
        (S.DONE, ""),
    ]
