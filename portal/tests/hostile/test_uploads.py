"""Every hostile file of the corpus, sent the ways a participant sends files: evidence with a task
action through the API and through the task page, and (the workbooks) as an import through the API and
the import page. Each is refused with its own message, with no server error, and nothing is stored: no
evidence row, no attachment, no import job, no file in the storage directory, no audit event."""

from html import escape
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from portal.tests.hostile.conftest import snapshot
from portal.tests.hostile.corpus import BY_ID, CORPUS, GOOD, Hostile

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("content_rules_off")]

WORKBOOKS = [entry for entry in CORPUS if entry.name.endswith(".xlsx")]


def _upload(entry: Hostile) -> SimpleUploadedFile:
    return SimpleUploadedFile(entry.name, entry.content(), content_type="application/octet-stream")


def _api_upload(client: Client, headers: dict[str, str], application: Any, upload: Any) -> Any:
    return client.post(
        f"/api/v1/applications/{application.pk}/tasks/pqs/transitions/upload",
        {"action": "submit", "comment": "Our evidence.", "files": [upload]},
        headers=headers,
    )


def test_the_corpus_has_every_class():
    assert len(CORPUS) >= 30
    prefixes = {entry.id.split("-")[0] for entry in CORPUS}
    assert {"zip", "xlsx", "pdf", "polyglot", "elf", "exe", "html", "svg"} <= prefixes


@pytest.mark.parametrize("entry", CORPUS, ids=[entry.id for entry in CORPUS])
def test_api_evidence_upload_refuses_it_and_stores_nothing(
    entry, client, member, make_application, bearer, storage_dir
):
    application = make_application()
    headers = bearer(member)
    before = snapshot(storage_dir)
    response = _api_upload(client, headers, application, _upload(entry))
    assert response.status_code == 422, (entry.id, response.status_code, response.content[:300])
    body = response.json()
    assert body["code"] == "invalid_input"
    assert entry.message in body["message"], body
    assert body["details"].get("rule") == entry.rule
    assert snapshot(storage_dir) == before


@pytest.mark.parametrize("entry", CORPUS, ids=[entry.id for entry in CORPUS])
def test_task_page_upload_refuses_it_with_the_message_and_stores_nothing(entry, member, make_application, storage_dir):
    application = make_application()
    browser = Client()
    browser.force_login(member)
    before = snapshot(storage_dir)
    response = browser.post(
        f"/applications/{application.pk}/tasks/pqs/submit/", {"comment": "Our evidence.", "files": [_upload(entry)]}
    )
    assert response.status_code == 422, (entry.id, response.status_code)
    page = response.content.decode()
    assert "govuk-error-summary" in page
    assert escape(entry.message) in page, entry.id
    assert snapshot(storage_dir) == before


@pytest.mark.parametrize("entry", WORKBOOKS, ids=[entry.id for entry in WORKBOOKS])
def test_api_import_refuses_it_before_queueing_and_stores_nothing(entry, client, catalogue_keeper, bearer, storage_dir):
    headers = bearer(catalogue_keeper)
    before = snapshot(storage_dir)
    response = client.post("/api/v1/imports", {"kind": "catalogue", "file": _upload(entry)}, headers=headers)
    assert response.status_code == 422, (entry.id, response.status_code, response.content[:300])
    assert entry.message in response.json()["message"]
    assert snapshot(storage_dir) == before


@pytest.mark.parametrize("name", sorted(GOOD))
def test_honest_files_of_each_type_are_still_accepted(name, client, member, make_application, bearer, storage_dir):
    application = make_application()
    response = _api_upload(client, bearer(member), application, SimpleUploadedFile(name, GOOD[name]()))
    assert response.status_code == 200, response.content[:300]
    [attachment] = response.json()["entries"][-1]["attachments"]
    assert attachment["name"] == name


def test_a_file_over_the_upload_limit_is_refused_with_the_limit(client, member, make_application, bearer, storage_dir):
    from django.conf import settings

    application = make_application()
    limit = settings.PORTAL_MAX_UPLOAD_BYTES
    before = snapshot(storage_dir)
    big = SimpleUploadedFile("report.pdf", b"%PDF-1.7\n" + bytes(limit) + b"%%EOF\n")
    response = _api_upload(client, bearer(member), application, big)
    assert response.status_code == 422
    assert response.json()["message"] == f"The file report.pdf is larger than {limit // (1024 * 1024)} MB."
    assert snapshot(storage_dir) == before


def test_a_bomb_inside_an_honest_archive_is_refused(client, member, make_application, bearer, storage_dir):
    """A nested archive counts within its parent's budget."""
    from portal.tests.hostile.corpus import _bomb_zeros, zip_of

    application = make_application()
    before = snapshot(storage_dir)
    outer = zip_of({"logs/run.txt": b"passed", "logs/more.zip": _bomb_zeros()})
    response = _api_upload(client, bearer(member), application, SimpleUploadedFile("logs.zip", outer))
    assert response.status_code == 422
    assert "unpacks to more than 200 MB" in response.json()["message"]
    assert snapshot(storage_dir) == before


def test_the_lying_bomb_is_caught_by_reading_not_by_its_headers():
    entry = BY_ID["zip-bomb-lying-headers"]
    import zipfile
    from io import BytesIO

    with zipfile.ZipFile(BytesIO(entry.content())) as archive:
        assert sum(info.file_size for info in archive.infolist()) == 1024
