from django.apps import AppConfig


class PrequalificationConfig(AppConfig):
    name = "portal.prequalification"
    label = "prequalification"
    verbose_name = "Pre-qualification and placing reliance"
