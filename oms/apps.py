from django.apps import AppConfig
from django.db.models.signals import post_migrate


class OmsConfig(AppConfig):
    name = "oms"
    verbose_name = "OMS"

    def ready(self) -> None:
        from . import roles

        # After every app's migrate: permissions of apps migrated later exist only then.
        post_migrate.connect(roles.sync_roles_after_migrate, dispatch_uid="oms.sync_roles")
        # Spreadsheet importers (oms/imports.py): every app's importers.py registers its own.
        from django.utils.module_loading import autodiscover_modules

        autodiscover_modules("importers")
        # Import jobs a dead worker left: finished by the background sweep (oms/background.py).
        # The import tasks are queued by name (oms.background.send): registered here so eager mode finds them.
        from . import import_jobs, tasks  # noqa: F401

        import_jobs.register_probe()
