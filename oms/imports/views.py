"""The import pages (oms/imports/): jobs list → new import (kind, options, file) → preview with
each row's errors → confirm (a background task) → the job's progress, polled with htmx → the
rejected rows as CSV. Every page checks the importer's permission; a bad file is a message."""

import logging
from pathlib import Path

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from .. import imports
from ..encoding import storable_json
from ..models import ImportJob, ImportStatus
from ..wording import in_words
from . import column_mapping, mapping_views
from . import jobs as import_jobs

logger = logging.getLogger(__name__)
FORMAT_NAMES = {"csv": "CSV", "tsv": "TSV", "txt": "TXT", "xlsx": "XLSX"}


def _forbidden(request):
    return render(request, "oms/forbidden.html", status=403)


def _job_for(request, pk: int):
    """(job, importer) if the user may use the job's importer, else (job, None)."""
    job = get_object_or_404(ImportJob.objects.select_related("user"), pk=pk)
    importer = imports.get_importer(job.kind)
    if importer is None or not request.user.has_perm(importer.permission):
        return job, None
    return job, importer


class UploadForm(forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("What to import"))
    file = forms.FileField(label=gettext_lazy("File"))

    def __init__(self, *args, importers: dict, **kwargs):
        super().__init__(*args, **kwargs)
        self.importers = importers
        self.fields["kind"].choices = [(name, imp.label) for name, imp in importers.items()]

    def clean(self):
        data = super().clean()
        importer = self.importers.get(data.get("kind"))
        upload = data.get("file")
        if importer is None or upload is None:
            return data
        suffix = Path(upload.name).suffix.lower().lstrip(".")
        if suffix not in importer.formats:
            allowed = " or ".join(FORMAT_NAMES.get(f, f) for f in importer.formats)
            self.add_error("file", f"{importer.label} takes a {allowed} file; this is a .{suffix or '?'} file.")
        elif upload.size == 0:
            self.add_error("file", _("The file is empty."))
        elif import_jobs.size_problem(upload.size):
            self.add_error("file", import_jobs.size_problem(upload.size))
        return data


def _options_form(importer, data=None):
    if importer is None or importer.options_form is None:
        return None
    return importer.options_form(data, prefix="opt")


def _json_options(cleaned: dict) -> dict:
    return {k: (v.pk if hasattr(v, "pk") else v) for k, v in cleaned.items()}


@login_required
def import_list(request):
    allowed = imports.importers_for(request.user)
    if not allowed:
        return _forbidden(request)
    jobs = ImportJob.objects.filter(kind__in=allowed).select_related("user")[:100]
    return render(request, "oms/imports/list.html", {"title": _("Imports"), "jobs": jobs, "importers": allowed})


@login_required
def import_new(request):
    allowed = imports.importers_for(request.user)
    if not allowed:
        return _forbidden(request)
    kind = request.POST.get("kind") or request.GET.get("kind") or next(iter(allowed))
    if kind not in allowed:
        kind = next(iter(allowed))
    importer = allowed[kind]
    if request.method == "POST":
        form = UploadForm(request.POST, request.FILES, importers=allowed)
        options = _options_form(importer, request.POST)
        if form.is_valid() and (options is None or options.is_valid()):
            upload = form.cleaned_data["file"]
            job = ImportJob.objects.create(
                kind=kind,
                file=upload,
                original_filename=Path(upload.name).name[:255],
                options=_json_options(options.cleaned_data) if options else {},
                user=request.user,
            )
            # The columns first (a template file is confirmed at once); then a small file is previewed
            # here, a big one by the worker (the job page waits for it).
            mapping, error = mapping_views.propose(importer, job)
            if not error and mapping["confirmed"]:
                if import_jobs.start_preview(job) and job.status == ImportStatus.FAILED:
                    error = in_words(job.message)
            if error:
                if job.status != ImportStatus.FAILED:
                    import_jobs.import_job_move(job, ImportStatus.FAILED, message=error)
                form.add_error("file", error)
            else:
                return redirect("imports:detail", pk=job.pk)
        status = 400
    else:
        form = UploadForm(importers=allowed, initial={"kind": kind})
        options = _options_form(importer)
        status = 200
    context = {
        "title": _("New import"),
        "form": form,
        "options": options,
        "importer": importer,
        "kind": kind,
        "importers": allowed,
        "formats": " or ".join(FORMAT_NAMES.get(f, f) for f in importer.formats),
    }
    if request.htmx and request.htmx.target == "import-options":
        return render(request, "oms/imports/_options.html", context)
    return render(request, "oms/imports/new.html", context, status=status)


@login_required
def import_detail(request, pk: int):
    job, importer = _job_for(request, pk)
    if importer is None:
        return _forbidden(request)
    mapping = (job.options or {}).get(column_mapping.OPTION_KEY)
    if job.status == ImportStatus.UPLOADED and mapping and not mapping.get("confirmed"):
        return mapping_views.render_mapping(
            request, job, importer, mapping, column_mapping.check(mapping, importer.fields())
        )
    preview = imports.preview_from_dict(job.preview)
    context = {
        "title": _("Import #%(number)s") % {"number": job.pk},
        "job": job,
        "importer": importer,
        "preview": preview,
        "columns": mapping_views.summary(importer, job),
        "can_confirm": job.status == ImportStatus.PREVIEWED and preview.good > 0,
    }
    return render(request, "oms/imports/detail.html", context)


@login_required
def import_mapping(request, pk: int):
    """The mapping page: each file column → a field or "not used", with units; confirm → the preview."""
    job, importer = _job_for(request, pk)
    if importer is None:
        return _forbidden(request)
    if job.status not in (ImportStatus.UPLOADED, ImportStatus.PREVIEWED):
        messages.info(
            request,
            _("Import #%(id)s is already %(status)s; its columns stay.")
            % {"id": job.pk, "status": job.get_status_display().lower()},
        )
        return redirect("imports:detail", pk=job.pk)
    fields = importer.fields()
    mapping = (job.options or {}).get(column_mapping.OPTION_KEY)
    if not mapping:
        mapping, error = mapping_views.propose(importer, job)
        if error:
            messages.error(request, error)
            return redirect("imports:detail", pk=job.pk)
    if request.method != "POST":
        return mapping_views.render_mapping(request, job, importer, mapping, column_mapping.check(mapping, fields))
    chosen = column_mapping.with_choices(mapping, fields, request.POST)
    errors = column_mapping.check(chosen, fields)
    if errors:  # nothing is kept: the page shows the person's choices with the reasons
        return mapping_views.render_mapping(request, job, importer, chosen, errors, status=400)
    chosen["confirmed"] = True
    job.options = {**job.options, column_mapping.OPTION_KEY: storable_json(chosen)}
    job.save(update_fields=["options", "updated_at"])
    if import_jobs.start_preview(job) and job.status == ImportStatus.FAILED:
        messages.error(request, in_words(job.message))
    return redirect("imports:detail", pk=job.pk)


@login_required
def import_progress(request, pk: int):
    job, importer = _job_for(request, pk)
    if importer is None:
        return _forbidden(request)
    return render(request, "oms/imports/_progress.html", {"job": job})


@require_POST
@login_required
def import_confirm(request, pk: int):
    job, importer = _job_for(request, pk)
    if importer is None:
        return _forbidden(request)
    if job.status != ImportStatus.PREVIEWED:
        messages.info(
            request,
            _("Import #%(id)s is already %(status)s.") % {"id": job.pk, "status": job.get_status_display().lower()},
        )
    else:
        import_jobs.enqueue(job)
        messages.success(request, _("Import #%(id)s started; this page shows its progress.") % {"id": job.pk})
    return redirect("imports:detail", pk=job.pk)


@login_required
def import_rejected(request, pk: int):
    job, importer = _job_for(request, pk)
    if importer is None:
        return _forbidden(request)
    if not job.errors or not Path(job.file.path).exists():
        messages.info(request, _("This import has no rejected rows to download."))
        return redirect("imports:detail", pk=job.pk)
    response = StreamingHttpResponse(imports.rejected_rows_csv(job, importer), content_type="text/csv; charset=utf-8")
    stem = Path(job.original_filename).stem or "import"
    response["Content-Disposition"] = f'attachment; filename="{stem}-rejected-{job.pk}.csv"'
    return response


@login_required
def import_template(request, kind: str):
    importer = imports.get_importer(kind)
    if importer is None:
        raise Http404
    if not request.user.has_perm(importer.permission):
        return _forbidden(request)
    content = importer.template_csv()
    if not content:
        raise Http404("This format is a channel's own export; it has no template.")
    response = HttpResponse("\ufeff" + content, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{kind}-template.csv"'
    return response
