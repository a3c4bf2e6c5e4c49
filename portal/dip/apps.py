from django.apps import AppConfig


class DipConfig(AppConfig):
    name = "portal.dip"
    label = "dip"
    verbose_name = "DIP onboarding"
