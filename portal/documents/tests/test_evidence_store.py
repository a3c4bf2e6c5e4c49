import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from portal.accounts.roles import Role
from portal.audit.models import AuditEvent
from portal.core.errors import InvalidInput, NotFound
from portal.documents.models import EvidenceFile
from portal.documents.services import evidence_open_for_download, evidence_store

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n"


def test_stored_under_a_server_name_with_its_digest(make_application, member):
    application = make_application()
    evidence = evidence_store(
        actor=member, application=application, upload=SimpleUploadedFile("PIT exit.pdf", PDF), purpose="pit"
    )
    assert evidence.original_name == "PIT exit.pdf"
    assert "PIT exit" not in evidence.file.name
    assert evidence.file.name.startswith("evidence/")
    with evidence.file.open("rb") as stored:
        assert stored.read() == PDF
    assert AuditEvent.objects.filter(action="evidence.upload", target_id=str(evidence.pk)).count() == 1


def test_a_second_upload_of_the_same_name_never_overwrites(make_application, member):
    application = make_application()
    first = evidence_store(actor=member, application=application, upload=SimpleUploadedFile("a.txt", b"one"))
    second = evidence_store(actor=member, application=application, upload=SimpleUploadedFile("a.txt", b"two"))
    assert first.file.name != second.file.name
    with first.file.open("rb") as f:
        assert f.read() == b"one"


def test_a_bad_file_stores_nothing(make_application, member):
    application = make_application()
    events = AuditEvent.objects.count()
    with pytest.raises(InvalidInput):
        evidence_store(actor=member, application=application, upload=SimpleUploadedFile("fake.pdf", b"MZ\x90\x00"))
    assert EvidenceFile.objects.count() == 0
    assert AuditEvent.objects.count() == events


def test_downloads_are_scoped_and_reviewer_downloads_audited(make_application, member, other_member, staff):
    application = make_application()
    evidence = evidence_store(actor=member, application=application, upload=SimpleUploadedFile("a.txt", b"x"))
    with pytest.raises(NotFound):
        evidence_open_for_download(actor=other_member, evidence_id=evidence.pk)
    evidence_open_for_download(actor=member, evidence_id=evidence.pk)
    assert not AuditEvent.objects.filter(action="evidence.download").exists()
    evidence_open_for_download(actor=staff(Role.ELEXON_ANALYST), evidence_id=evidence.pk)
    assert AuditEvent.objects.filter(action="evidence.download", target_id=str(evidence.pk)).count() == 1
