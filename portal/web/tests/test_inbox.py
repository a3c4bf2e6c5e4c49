"""The inbox: newest first, unread marked, marked read in place with htmx or by a plain POST."""

import pytest

from portal.notifications.models import Notification
from portal.notifications.services import notify

pytestmark = pytest.mark.django_db


@pytest.fixture
def notes(member):
    first = notify(recipients=[member], subject="Older message", body="First body", link="/applications/1/")[0]
    second = notify(recipients=[member], subject="Newer message", body="Second body")[0]
    return first, second


def test_inbox_lists_newest_first_with_unread_marked(login, member, notes):
    response = login(member).get("/inbox/")
    assert response.status_code == 200
    html = response.content.decode()
    assert html.index("Newer message") < html.index("Older message")
    assert html.count("app-notification--unread") == 2
    assert "Mark all as read" in html
    assert '2<span class="govuk-visually-hidden"> unread</span>' in html  # the count in the header


def test_mark_as_read_with_htmx_swaps_the_row(login, member, notes):
    first, _ = notes
    response = login(member).post(f"/inbox/{first.pk}/read/", {"page": "1"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith(f'<tr class="govuk-table__row" id="notification-{first.pk}">')
    assert "Read</strong>" in html
    assert "Mark as read" not in html
    assert 'id="inbox-unread-count" hx-swap-oob="true"' in html
    assert "<html" not in html
    first.refresh_from_db()
    assert first.read_at is not None


def test_mark_as_read_without_javascript_redirects_back(login, member, notes):
    first, second = notes
    response = login(member).post(f"/inbox/{first.pk}/read/", {"page": "1"})
    assert response.status_code == 302
    assert response["Location"] == "/inbox/"
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.read_at is not None
    assert second.read_at is None


def test_mark_all_as_read(login, member, notes):
    response = login(member).post("/inbox/read-all/", follow=True)
    assert "Marked 2 notifications as read." in response.content.decode()
    assert not Notification.objects.filter(recipient=member, read_at__isnull=True).exists()


def test_cannot_mark_someone_elses_notification(login, other_member, notes):
    first, _ = notes
    client = login(other_member)
    assert client.post(f"/inbox/{first.pk}/read/", HTTP_HX_REQUEST="true").status_code == 404
    assert client.post(f"/inbox/{first.pk}/read/").status_code == 302
    first.refresh_from_db()
    assert first.read_at is None
    assert "Older message" not in client.get("/inbox/").content.decode()


def test_inbox_actions_take_only_post(login, member, notes):
    first, _ = notes
    client = login(member)
    assert client.get(f"/inbox/{first.pk}/read/").status_code == 405
    assert client.get("/inbox/read-all/").status_code == 405
