from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SkillsConfig(AppConfig):
    name = "apps.skills"
    verbose_name = _("Skills and the ladder")
    label = "skills"

    def ready(self):
        from django.db.models.signals import post_delete, post_save

        from apps.skills.models import LadderStep, LadderStepSkill
        from apps.teams import config_cache

        # A team's ladder is part of the routing configuration each process keeps.
        for model in (LadderStep, LadderStepSkill):
            uid = f"configuration-{model._meta.label}"
            post_save.connect(config_cache.configuration_changed, sender=model, dispatch_uid=uid)
            post_delete.connect(config_cache.configuration_changed, sender=model, dispatch_uid=uid)
