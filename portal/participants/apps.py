from django.apps import AppConfig


class ParticipantsConfig(AppConfig):
    name = "portal.participants"
    label = "participants"
    verbose_name = "Participants and reference data"
