from django.db import models
from django.utils.translation import gettext_lazy as _


class QueueSnapshot(models.Model):
    """A team's queue depth at one minute (apps.floor.snapshots): the floor view's chart of
    the last hour. One row per team and minute, whoever records it first."""

    team = models.ForeignKey(
        "teams.Team", on_delete=models.CASCADE, related_name="+", verbose_name=_("team")
    )
    taken_at = models.DateTimeField(_("taken at"))
    queued = models.PositiveIntegerField(_("queued"))
    reserved = models.PositiveIntegerField(_("reserved"))

    class Meta:
        ordering = ["team", "taken_at"]
        verbose_name = _("queue snapshot")
        verbose_name_plural = _("queue snapshots")
        constraints = [
            models.UniqueConstraint(fields=["team", "taken_at"], name="snapshot_once_a_minute"),
        ]
        indexes = [models.Index(fields=["taken_at"], name="snapshot_taken_at_idx")]

    def __str__(self):
        return f"{self.team_id} at {self.taken_at:%Y-%m-%d %H:%M}: {self.queued}"
