from django.apps import AppConfig


class TestingConfig(AppConfig):
    name = "portal.testing"
    label = "testing"
    verbose_name = "Testing: PIT and RTTM"
