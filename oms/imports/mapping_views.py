"""Helpers of the column-mapping step of the import pages (oms/imports/column_mapping.py): after the upload, the page
shows each file column with sample values and the field it is proposed for (or "not used"), each
measured field's unit and how it is converted; the person changes what is wrong and confirms; then
the dry run (the preview) and the job read the file through the confirmed mapping."""

import logging
from pathlib import Path

from django.shortcuts import render
from django.utils.translation import gettext as _

from .. import imports
from ..encoding import storable_json
from ..models import ImportStatus
from . import column_mapping, mapped_rows
from . import jobs as import_jobs

logger = logging.getLogger(__name__)


def propose(importer, job) -> tuple[dict | None, str]:
    """Propose a mapping for the uploaded file and keep it on the job: (mapping, file error).
    A file that is the importer's own template (every column under its own name, nothing unused)
    is confirmed at once; anything else waits for the person on the mapping page."""
    try:
        mapping = importer.propose_mapping(Path(job.file.path))
    except imports.FileUnusable as exc:
        return None, str(exc)
    except Exception as exc:  # noqa: BLE001 - whatever a broken file does to a parser is the file's fault
        logger.warning("import %s: reading the header failed", job.pk, exc_info=True)
        return None, _("The file cannot be read (%(error)s).") % {"error": f"{exc.__class__.__name__}: {exc}"}
    fields = importer.fields()
    if not any(c["header"].strip() for c in mapping["columns"]):
        return None, _("The file has no header row.")
    mapping["confirmed"] = column_mapping.is_exact(mapping, fields) and not column_mapping.check(mapping, fields)
    # Sample cells may hold a NUL or undecodable bytes: a JSON column takes neither (PostgreSQL refuses).
    job.options = {**job.options, column_mapping.OPTION_KEY: storable_json(mapping)}
    job.save(update_fields=["options", "updated_at"])
    import_jobs.import_job_move(job, ImportStatus.UPLOADED, only_from=[ImportStatus.UPLOADED, ImportStatus.PREVIEWED])
    return mapping, ""


def summary(importer, job) -> dict:
    """The confirmed mapping for the preview and result pages: mapped columns and the unused ones."""
    mapping = (job.options or {}).get(column_mapping.OPTION_KEY) or {}
    by_name = {f.name: f for f in importer.fields()}
    used = []
    for column in mapping.get("columns", []):
        f = by_name.get(column.get("field") or "")
        if f is not None:
            used.append(
                {
                    "header": column["header"],
                    "field": f,
                    "unit": column.get("unit", ""),
                    "conversion": column_mapping.conversion_text(f, column.get("unit", "")),
                }
            )
    return {"used": used, "unused": column_mapping.unused(mapping), "present": bool(mapping)}


def _rows(mapping: dict, fields: list) -> list[dict]:
    by_name = {f.name: f for f in fields}
    rows = []
    for column in mapping.get("columns", []):
        f = by_name.get(column.get("field") or "")
        unit = column.get("unit") or ""
        samples = []
        for value in column.get("samples", []):
            shown = ""
            if f is not None and f.kind in ("measure", "measures") and unit:
                convert = mapped_rows.convert if f.kind == "measure" else mapped_rows.convert_triple
                converted, error = convert(value, f, unit)
                if error:
                    shown = "→ not a number"
                elif f.kind == "measure" and not converted.lstrip("-").isdigit():
                    shown = f"→ not a whole {f.stored_unit}"
                else:
                    shown = f"→ {converted} {f.stored_unit}"
            elif f is not None and f.values:
                resolved = mapped_rows.resolve_value(value, f)
                shown = f"→ {resolved}" if resolved != value else ""
            samples.append({"value": value, "shown": shown})
        rows.append(
            {
                "index": column["index"],
                "header": column["header"].strip() or f"column {column['index'] + 1} (no header)",
                "field": column.get("field") or "",
                "unit": unit,
                "unit_assumed": column.get("unit_assumed", False),
                "samples": samples,
                "conversion": column_mapping.conversion_text(f, unit) if f is not None else "",
            }
        )
    return rows


def render_mapping(request, job, importer, mapping: dict, errors: list[str], *, status=200):
    fields = importer.fields()
    taken = column_mapping.mapped(mapping)
    context = {
        "title": _("Import #%(number)s") % {"number": job.pk},
        "job": job,
        "importer": importer,
        "rows": _rows(mapping, fields),
        "fields": fields,
        "field_rows": [{"field": f, "column": taken.get(f.name)} for f in fields],
        "units": column_mapping.UNITS,
        "has_units": any(f.unit_kind for f in fields),
        "unused": column_mapping.unused(mapping),
        "errors": errors,
        "changing": job.status == ImportStatus.PREVIEWED,
    }
    return render(request, "oms/imports/mapping.html", context, status=status)
