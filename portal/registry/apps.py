from django.apps import AppConfig


class RegistryConfig(AppConfig):
    name = "portal.registry"
    label = "registry"
    verbose_name = "Public register of qualified participants"

    def ready(self) -> None:
        from portal.registry.effects import register_effects

        register_effects()
