"""What the hostile-input tests share: an empty storage directory per test (to prove that nothing was
written), a participant at the start of an application, a staff member who keeps the catalogue, and a
snapshot of everything a refused request must leave as it was."""

from pathlib import Path
from typing import Any

import pytest

from portal.accounts.roles import Role
from portal.accounts.services import api_token_create


@pytest.fixture(autouse=True)
def storage_dir(settings: Any, tmp_path: Path) -> Path:
    media = tmp_path / "media"
    media.mkdir()
    settings.MEDIA_ROOT = str(media)
    return media


def stored_files(root: Path) -> list[Path]:
    return sorted(path for path in root.rglob("*") if path.is_file())


def snapshot(root: Path) -> dict[str, Any]:
    """Rows and files a refused upload or import must not add to."""
    from portal.audit.models import AuditEvent
    from portal.documents.models import EvidenceFile
    from portal.notifications.models import Notification
    from portal.qualification.models import Attachment, TaskEntry
    from portal.testing.models import ImportJob

    return {
        "evidence": EvidenceFile.objects.count(),
        "attachments": Attachment.objects.count(),
        "entries": TaskEntry.objects.count(),
        "imports": ImportJob.objects.count(),
        "notifications": Notification.objects.count(),
        # Tokens made for the test are set-up, not the change under test.
        "audit": AuditEvent.objects.exclude(action__startswith="api_token.").exclude(action="authz.denied").count(),
        "files": [str(path) for path in stored_files(root)],
    }


@pytest.fixture
def bearer():
    """`bearer(user)`: the Authorization header of one API token of that user (the same within a test)."""
    made: dict[int, dict[str, str]] = {}

    def make(user: Any) -> dict[str, str]:
        if user.pk not in made:
            _, secret = api_token_create(actor=user, user=user, name="hostile")
            made[user.pk] = {"Authorization": f"Bearer {secret}"}
        return made[user.pk]

    return make


@pytest.fixture
def catalogue_keeper(staff: Any) -> Any:
    return staff(Role.TESTING_ASSURANCE)
