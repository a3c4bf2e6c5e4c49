from django.apps import AppConfig


class ActivationConfig(AppConfig):
    name = "portal.activation"
    label = "activation"
    verbose_name = "Service Activation hand-off"
