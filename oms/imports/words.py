"""What an import job stores in English (its message, its file error, its rows' errors) read in the reader's
language: the job page shows them through ``stored_words`` (``oms.wording.in_words``), which matches them
against the phrases below and those the apps register for their importers (inventory/catalog.py,
orders/intake/words.py). The stored text stays English (the rejected-rows download, the API, the logs)."""

from django.utils.translation import gettext, gettext_noop

from ..wording import known, known_param, known_shape
from .column_mapping import MISSING, NO_FIELD, TWICE, UNIT, unit_shape
from .mapped_rows import COMMA_NUMBER, IN_UNIT, NOT_A_NUMBER

IMPORTED = gettext_noop("Imported: %(counts)s.")
PHRASES = [
    IMPORTED,
    gettext_noop(
        "The import stopped after %(processed)s rows on %(kind)s, logged for the administrator; what was imported "
        "before it is kept."
    ),
    gettext_noop("a database error"),
    gettext_noop("an error (%(name)s)"),
    gettext_noop("Reading the file did not finish (the worker stopped); nothing was imported. Upload it again."),
    gettext_noop(
        "The import stopped after %(processed)s of %(total)s rows: the worker running it stopped (last heard of at "
        "%(at)s). What was imported is kept; upload the file again to import the rest (rows already imported are "
        "skipped as duplicates)."
    ),
    gettext_noop("No importer named %(name)s is installed."),
    gettext_noop("The uploaded file is gone; upload it again."),
    gettext_noop("The file is empty."),
    gettext_noop("The file has no header row."),
    gettext_noop("The file has a header but no rows."),
    gettext_noop("The file cannot be read as CSV: %(error)s"),
    gettext_noop("The file cannot be read (%(error)s)."),
    gettext_noop("The file cannot be read: %(error)s"),
    gettext_noop("Not an XLSX workbook (%(error)s)."),
    gettext_noop("The file could not be checked (a database error, logged); try again."),
    gettext_noop("The file's columns are not the ones that were mapped; upload the file again."),
    gettext_noop("The file has %(rows)s rows; an import takes at most %(most)s. Split it into smaller files."),
    gettext_noop("Missing column(s): %(missing)s. Expected the columns: %(columns)s."),
    gettext_noop("Choose the channel the orders come from."),
]

# "Imported: 3 created, 1 held." — the counts' names (ImportJob.COUNTS) as the job's message writes them.
COUNT_WORDS = {
    "created": gettext_noop("%(n)s created"),
    "updated": gettext_noop("%(n)s updated"),
    "duplicates": gettext_noop("%(n)s duplicates"),
    "held": gettext_noop("%(n)s held"),
    "rejected": gettext_noop("%(n)s rejected"),
}
NOTHING_TO_DO = gettext_noop("nothing to do")


def counts_words(text) -> str:
    """The counts of an ``Imported: …`` message ("3 created, 1 held") in the reader's language."""
    text = str(text)
    if text == NOTHING_TO_DO:
        return gettext(NOTHING_TO_DO)
    shown = []
    for part in text.split(", "):
        n, _sep, key = part.partition(" ")
        if key not in COUNT_WORDS or not n.isdigit():
            return text
        shown.append(gettext(COUNT_WORDS[key]) % {"n": n})
    return gettext(", ").join(shown)


known(*PHRASES)
known_param(IMPORTED, "counts", "oms.imports.words.counts_words")


# The mapping step's checks (oms/imports/column_mapping.py ``check``): the fields named as their labels.
known(NO_FIELD, TWICE, UNIT, MISSING)
known_param(TWICE, "field", "oms.imports.column_mapping.field_words")
known_param(UNIT, "field", "oms.imports.column_mapping.field_words")
known_param(UNIT, "kind", "oms.imports.column_mapping.unit_kind_words")
known_param(MISSING, "missing", "oms.imports.column_mapping.field_words")
known(NOT_A_NUMBER, COMMA_NUMBER, IN_UNIT)
known_shape(IN_UNIT, unit=unit_shape)
