"""Bring the report facts up to date, or rebuild them (after an upgrade, a bulk load, a change of TIME_ZONE)."""

import time

from django.core.management.base import BaseCommand

from reports import facts


class Command(BaseCommand):
    help = "Bring the report facts (reports/facts.py) up to date; --rebuild writes every row again."

    def add_arguments(self, parser):
        parser.add_argument("--rebuild", action="store_true", help="Delete every fact row and compute all again.")

    def handle(self, *args, rebuild=False, **options):
        started = time.monotonic()
        if rebuild:
            facts.FactsState.objects.filter(pk=1).delete()
        n = facts.catch_up(force=True)
        took = time.monotonic() - started
        if n is None:
            self.stdout.write("Another refresh of the facts is running; nothing done.")
        else:
            self.stdout.write(f"Facts: {n} orders {'rebuilt' if rebuild else 'refreshed'} in {took:.1f} s.")
