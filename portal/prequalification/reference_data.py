"""The waves shipped by default. Their real number, capacity and dates are set by the Code Bodies, so
an administrator edits them in the admin; loading only adds the waves that are missing."""

from typing import Any

from django.apps import apps as global_apps

DEFAULT_WAVES: tuple[tuple[str, str, str], ...] = (
    ("wave-1", "Wave 1", "The first Qualification Testing wave."),
    ("wave-2", "Wave 2", "The second Qualification Testing wave."),
    ("wave-3", "Wave 3", "The third Qualification Testing wave."),
    ("wave-4", "Wave 4", "The fourth Qualification Testing wave."),
)


def waves_load(apps: Any = global_apps) -> int:
    """Add the default waves that do not exist yet; returns how many were added."""
    Wave = apps.get_model("prequalification", "Wave")
    created = 0
    for order, (code, name, description) in enumerate(DEFAULT_WAVES):
        _, made = Wave.objects.get_or_create(
            code=code, defaults={"name": name, "description": description, "order": order}
        )
        created += int(made)
    return created
