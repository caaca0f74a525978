"""A drop folder per channel: ``<INTAKE_DROP_DIR>/<channel-slug>/``. A scheduled task imports
every file found there and moves it to ``processed/`` (every order accepted) or ``failed/``
(some rejected, or the file unusable), with ``<file>.report.json`` beside it."""

import json
import shutil
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from ..models import Channel
from .importer import ImportReport, default_format, import_file

SKIP_SUFFIXES = (".report.json", ".part", ".tmp", ".crdownload")


def drop_dir() -> Path:
    return Path(getattr(settings, "INTAKE_DROP_DIR", Path(settings.BASE_DIR) / "var" / "dropbox"))


def import_drop_folders(*, min_age_seconds: float = 5.0) -> list[dict]:
    """Import the files waiting in every active channel's folder. Files younger than
    ``min_age_seconds`` are left for the next run (a partner may still be writing them)."""
    root = drop_dir()
    done = []
    now = timezone.now().timestamp()
    for channel in Channel.objects.filter(active=True).order_by("slug"):
        folder = root / channel.slug
        if not folder.is_dir():
            continue
        for path in sorted(p for p in folder.iterdir() if p.is_file()):
            if path.name.startswith(".") or path.name.endswith(SKIP_SUFFIXES):
                continue
            if now - path.stat().st_mtime < min_age_seconds:
                continue
            done.append(import_dropped_file(channel=channel, path=path))
    return done


def import_dropped_file(*, channel: Channel, path: Path) -> dict:
    fmt = default_format(channel, path)
    report = ImportReport()
    message = import_file(path=path, fmt=fmt, channel=channel, report=report)
    outcome = "processed" if report.exit_code == 0 else "failed"
    target_dir = path.parent / outcome
    target_dir.mkdir(exist_ok=True)
    target = target_dir / path.name
    if target.exists():
        target = target_dir / f"{path.stem}-{timezone.now():%Y%m%d%H%M%S}{path.suffix}"
    shutil.move(str(path), target)
    summary = {
        "file": path.name,
        "channel": channel.slug,
        "format": fmt,
        "outcome": outcome,
        "inbound_message": message.pk if message else None,
        "imported_at": timezone.now().isoformat(),
        **report.as_dict(),
    }
    Path(str(target) + ".report.json").write_text(json.dumps(summary, ensure_ascii=False, indent=2), encoding="utf-8")
    return summary
