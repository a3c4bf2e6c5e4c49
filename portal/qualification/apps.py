from django.apps import AppConfig


class QualificationConfig(AppConfig):
    name = "portal.qualification"
    label = "qualification"
    verbose_name = "Qualification"
