from django.db import models
from django.utils.translation import gettext_lazy as _


class PeriodicRun(models.Model):
    """When a periodic task last finished, one row per task. Celery beat can die silently
    (``worker -B`` loses it with the worker): readiness and metrics read this to tell a
    sweep that stopped running."""

    SWEEP = "sweep"

    name = models.CharField(max_length=64, primary_key=True)
    finished_at = models.DateTimeField(_("finished at"))

    class Meta:
        verbose_name = _("periodic run")

    def __str__(self):
        return f"{self.name} at {self.finished_at:%Y-%m-%d %H:%M:%S}"
