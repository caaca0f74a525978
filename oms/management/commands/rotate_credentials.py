"""Encrypt every stored credential again with the first of OMS_CREDENTIALS_KEYS (oms/vault.py).

Rotate a key: put the new key first in OMS_CREDENTIALS_KEYS (keep the old one after it), restart, run this,
then drop the old key. Values no key opens are named and left as they are (exit status 1)."""

from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import connection, transaction

from oms.vault import SecretUnreadable, reseal, vault_fields


class Command(BaseCommand):
    help = "Encrypt every stored channel and carrier credential again with the first OMS_CREDENTIALS_KEYS key."

    def handle(self, *args, **options):
        resealed, unreadable = 0, []
        for model in apps.get_models():
            fields = vault_fields(model)
            if not fields:
                continue
            columns = [model._meta.get_field(f).column for f in fields]
            table = model._meta.db_table
            with transaction.atomic():
                rows = list(model.objects.select_for_update().values_list("pk", flat=True))
                for pk in rows:
                    raw = _raw(model, table, columns, pk)
                    try:
                        values = {col: reseal(value) for col, value in raw.items() if value}
                    except SecretUnreadable:
                        unreadable.append(f"{model._meta.label} {pk}")
                        continue
                    if values:
                        _write(model, table, values, pk)
                        resealed += 1
        for name in unreadable:
            self.stderr.write(f"cannot decrypt: {name} (enter its credential again, or keep the old key)")
        self.stdout.write(f"{resealed} row(s) encrypted with the first key; {len(unreadable)} unreadable.")
        if unreadable:
            raise SystemExit(1)


def _raw(model, table, columns, pk) -> dict:
    """The stored texts, not decrypted (the model's fields would decrypt them)."""
    quoted = ", ".join(connection.ops.quote_name(c) for c in columns)
    with connection.cursor() as cursor:
        pk_column = connection.ops.quote_name(model._meta.pk.column)
        cursor.execute(f"SELECT {quoted} FROM {connection.ops.quote_name(table)} WHERE {pk_column} = %s", [pk])  # noqa: S608
        row = cursor.fetchone()
    return dict(zip(columns, row, strict=True))


def _write(model, table, values: dict, pk) -> None:
    sets = ", ".join(f"{connection.ops.quote_name(c)} = %s" for c in values)
    pk_column = connection.ops.quote_name(model._meta.pk.column)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {connection.ops.quote_name(table)} SET {sets} WHERE {pk_column} = %s",  # noqa: S608
            [*values.values(), pk],
        )
