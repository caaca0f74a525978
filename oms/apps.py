from django.apps import AppConfig
from django.db.models.signals import post_migrate


class OmsConfig(AppConfig):
    name = "oms"
    verbose_name = "OMS"

    def ready(self) -> None:
        from . import roles

        # After every app's migrate: permissions of apps migrated later exist only then.
        post_migrate.connect(roles.sync_roles_after_migrate, dispatch_uid="oms.sync_roles")
        self._forget_tokens_on_change()
        # Spreadsheet importers (oms/imports/): every app's importers.py registers its own.
        from django.utils.module_loading import autodiscover_modules

        autodiscover_modules("importers")
        # Import jobs a dead worker left: finished by the background sweep (oms/background.py).
        # The import tasks are queued by name (oms.background.send): registered here so eager mode finds them.
        from . import tasks  # noqa: F401
        from .imports import jobs as import_jobs

        import_jobs.register_probe()
        # Outbox rows past their retry time: sent by the sweep too (oms/outbox/).
        from . import outbox

        outbox.register_probe()

    @staticmethod
    def _forget_tokens_on_change() -> None:
        """The API keeps token users for a few seconds per process (oms/api.py): a change to a token, a
        user, their groups or permissions made in this process is seen at once."""
        from django.contrib.auth import get_user_model
        from django.contrib.auth.models import Group
        from django.db.models.signals import m2m_changed, post_delete, post_save

        from .api import tokens_forget
        from .models import ApiToken

        user = get_user_model()
        for model in (ApiToken, user, Group):
            post_save.connect(tokens_forget, sender=model, dispatch_uid=f"oms.tokens_forget.save.{model.__name__}")
            post_delete.connect(tokens_forget, sender=model, dispatch_uid=f"oms.tokens_forget.delete.{model.__name__}")
        for through in (user.groups.through, user.user_permissions.through, Group.permissions.through):
            m2m_changed.connect(tokens_forget, sender=through, dispatch_uid=f"oms.tokens_forget.m2m.{through.__name__}")
