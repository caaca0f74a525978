"""Reports own no tables; this model only carries the app's permission."""

from django.db import models


class ReportAccess(models.Model):
    class Meta:
        managed = False
        default_permissions = ()
        permissions = [("view_reports", "Can view reports")]

    def __str__(self) -> str:
        return "reports"
