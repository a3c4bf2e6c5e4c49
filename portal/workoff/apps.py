from django.apps import AppConfig


class WorkoffConfig(AppConfig):
    name = "portal.workoff"
    label = "workoff"
    verbose_name = "Work-off plans"
