"""manage.py seed_demo [--orders 200] [--reset]: a demo world with orders in every status.

Everything goes through the services (see demo/seed.py), so stock reconciles with its ledger
and every order has a real timeline. Without --reset the command does nothing when orders
already exist. The demo logins have their username as password: never run this against a
database real people use.
"""

import logging
import time

from django.core import mail
from django.core.management.base import BaseCommand, CommandError
from django.test.utils import override_settings

from demo import data
from demo.seed import DemoSeeder, SeedError, customer_notifications_off, reset_demo_data, summary
from oms.celery import app as celery_app
from orders.models import Order


class Command(BaseCommand):
    help = "Create demo users, locations, products, stock, carriers, channels and orders in every status."
    # The command needs no URLs or templates; checks would only slow it down.
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("--orders", type=int, default=200, help="How many orders to create (default 200).")
        parser.add_argument(
            "--reset",
            action="store_true",
            help="Delete all orders, shipments, parcels, customers, inbound messages, stock and the stock ledger "
            "first. Demo databases only.",
        )

    def handle(self, *args, orders: int, reset: bool, **options):
        if orders < 0:
            raise CommandError("--orders must be 0 or more.")
        existing = Order.objects.count()
        if existing and not reset:
            self.stdout.write(
                f"{existing} orders exist already; nothing changed. Use --reset to delete them and seed again."
            )
            return
        started = time.monotonic()
        if reset:
            try:
                reset_demo_data()
            except SeedError as exc:
                raise CommandError(str(exc))
            self.stdout.write("Deleted the existing orders, stock and ledger.")

        # Tasks run in this process while seeding (routing after each order's commit), so the
        # command needs no broker or worker; the setting is put back afterwards.
        previous_eager = celery_app.conf.task_always_eager
        celery_app.conf.task_always_eager = True
        # One "Task ... succeeded" line per order would bury the summary.
        trace_log = logging.getLogger("celery.app.trace")
        previous_level = trace_log.level
        trace_log.setLevel(logging.WARNING)
        outbox_before = len(getattr(mail, "outbox", []))
        try:
            seeder = DemoSeeder(orders=orders, log=self.stdout.write)
            # The demo's history must reach nobody: no customer notices for it, and any e-mail
            # something else sends goes to memory, not to the console or SMTP.
            with (
                customer_notifications_off(),
                override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"),
            ):
                seeder.run()
        except SeedError as exc:
            raise CommandError(str(exc))
        finally:
            celery_app.conf.task_always_eager = previous_eager
            trace_log.setLevel(previous_level)
        elapsed = time.monotonic() - started
        self._report(summary(), elapsed)
        kept = len(getattr(mail, "outbox", [])) - outbox_before
        if kept:
            self.stdout.write(f"{kept} e-mails were kept in memory, not sent.")

    def _report(self, result: dict, elapsed: float) -> None:
        out = self.stdout.write
        out(self.style.SUCCESS(f"Seeded {result['orders']} orders in {elapsed:.1f} s."))
        out("Orders by status:")
        for _value, label, count in result["by_status"]:
            out(f"  {label:<16} {count:>5}")
        holds = ", ".join(f"{reason} {n}" for reason, n in sorted(result["holds"].items())) or "none"
        out(f"  on hold          {result['on_hold']:>5}  ({holds})")
        shipments = ", ".join(f"{status} {n}" for status, n in result["shipments"].items() if n)
        out(f"Shipments: {shipments or 'none'}")
        out(
            f"Pick lists: {result['picklists']}, parcels: {result['parcels']}, "
            f"tracking events: {result['tracking_events']}, stock rows off their ledger: {result['ledger_mismatches']}"
        )
        if result["ledger_mismatches"]:
            out(self.style.ERROR("Stock does not match the ledger: see manage.py reconcile_stock."))
        out("")
        out(self.style.WARNING("DEMO CREDENTIALS: each password is the username. Never use them on a real system."))
        for username, role, _superuser, _first, _last in data.USERS:
            out(f"  {username:<10} / {username:<10} ({role})")
