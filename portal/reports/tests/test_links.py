"""The application page links to its timeline, and the applications list and the work queue to their
downloads, which answer with the list as CSV."""

import pytest

pytestmark = pytest.mark.django_db


def test_the_pages_link_to_the_timeline_and_the_downloads(client, member, make_application, staff):
    application = make_application()
    client.force_login(member)
    detail = client.get(f"/applications/{application.pk}/").content.decode()
    assert f"/applications/{application.pk}/timeline/" in detail
    listing = client.get("/applications/").content.decode()
    assert "/downloads/applications.csv" in listing and "/downloads/applications.xlsx" in listing
    csv = client.get("/downloads/applications.csv")
    assert csv.status_code == 200
    assert application.reference in b"".join(csv.streaming_content).decode("utf-8-sig")
    queue = client.get("/work-queue/").content.decode()
    assert "/downloads/work-queue.csv" in queue and "/downloads/work-queue.xlsx" in queue
