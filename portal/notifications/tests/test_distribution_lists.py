"""E-mail to people without an account goes through distribution lists that administrators keep: one
e-mail per address, each with its send job in the caller's transaction, and a misconfigured list
never breaks the caller's business. Attachments are files already in the storage, checked before
anything is written."""

import logging
import re
from typing import cast

import pytest
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.test import Client
from django.urls import reverse
from django_tasks_db.models import DBTaskResult

from portal.accounts.models import User
from portal.accounts.roles import Role
from portal.audit.models import AuditEvent
from portal.factories import UserFactory, make_staff
from portal.notifications.models import (
    MAX_LIST_ADDRESSES,
    DistributionList,
    Notification,
    OutboundEmail,
    parse_addresses,
)
from portal.notifications.reference_data import REC_CONTRACT_MANAGER, REC_INDUSTRY_PARTIES, distribution_lists_load
from portal.notifications.services import MailAttachment, email_distribution_list, notify

pytestmark = pytest.mark.django_db

MESSAGE_ID = re.compile(r"^<outbound-(\d+)\.\d{14}@[A-Za-z0-9.-]+>$")


# --- the lists ---------------------------------------------------------------------------------------


def test_the_shipped_lists_are_loaded_by_the_data_migration():
    lists = {d.code: d for d in DistributionList.objects.all()}
    assert set(lists) == {REC_CONTRACT_MANAGER, REC_INDUSTRY_PARTIES}
    assert lists[REC_CONTRACT_MANAGER].name == "REC Contract Manager"
    assert lists[REC_CONTRACT_MANAGER].address_list == ["rec-contract-manager@rec-portal.example"]
    assert lists[REC_INDUSTRY_PARTIES].name == "Relevant industry parties"
    parties = lists[REC_INDUSTRY_PARTIES].address_list
    assert len(parties) == 2 and all(a.endswith(".example") for a in parties)
    assert all(d.is_active for d in lists.values())
    assert distribution_lists_load() == 0  # only what is missing is added


def test_the_shipped_values_can_be_restored():
    DistributionList.objects.filter(code=REC_CONTRACT_MANAGER).update(addresses="someone@else.example")
    distribution_lists_load(reset=True)
    assert DistributionList.objects.get(code=REC_CONTRACT_MANAGER).address_list == [
        "rec-contract-manager@rec-portal.example"
    ]


@pytest.mark.parametrize(
    ("text", "addresses"),
    [
        ("a@one.example\n\n  b@two.example  \n", ["a@one.example", "b@two.example"]),
        ('["a@one.example", "b@two.example"]', ["a@one.example", "b@two.example"]),
        ("a@one.example\nA@ONE.example\n", ["a@one.example"]),
        ("", []),
    ],
)
def test_addresses_are_one_per_line_or_a_json_list(text, addresses):
    assert parse_addresses(text) == addresses


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a@one.example\nnot an address", "Address 2, “not an address”, is not a valid e-mail address."),
        ('["a@one.example", 3]', "must hold only text"),
        ('["a@one.example"', "not valid JSON"),
        ("a@one.example, b@two.example", "is not a valid e-mail address"),
        ("\n".join(f"p{n}@x.example" for n in range(MAX_LIST_ADDRESSES + 1)), "at most"),
    ],
)
def test_bad_addresses_are_refused_with_a_message(text, message):
    with pytest.raises(ValidationError, match=re.escape(message)):
        parse_addresses(text)


def test_an_active_list_needs_an_address():
    with pytest.raises(ValidationError, match="at least one address"):
        DistributionList(code="empty", name="Empty", addresses="", is_active=True).full_clean()
    DistributionList(code="empty", name="Empty", addresses="", is_active=False).full_clean()


@pytest.fixture
def admin_client(client: Client) -> Client:
    client.force_login(cast(User, UserFactory(email="root@portal.test", is_staff=True, is_superuser=True)))
    return client


def test_administrators_keep_the_lists_in_the_admin_and_every_change_is_audited(admin_client):
    listed = DistributionList.objects.get(code=REC_INDUSTRY_PARTIES)
    url = reverse("admin:notifications_distributionlist_change", args=[listed.pk])
    form = {"name": listed.name, "addresses": "ops@supplier.example\nnotices@dno.example", "is_active": "on"}

    response = admin_client.post(url, form)

    assert response.status_code == 302, response.content.decode()[:2000]
    listed.refresh_from_db()
    assert listed.address_list == ["ops@supplier.example", "notices@dno.example"]
    assert listed.code == REC_INDUSTRY_PARTIES  # the code is fixed once the list exists
    event = AuditEvent.objects.get(action="admin.distributionlist.change")
    assert "notices@dno.example" in event.after["addresses"]
    assert "industry-notices@rec-portal.example" in event.before["addresses"]

    refused = admin_client.post(url, {**form, "addresses": "ops@supplier.example\nnobody"})
    assert refused.status_code == 200
    assert "is not a valid e-mail address" in refused.content.decode()
    assert AuditEvent.objects.filter(action="admin.distributionlist.change").count() == 1
    assert admin_client.get(reverse("admin:notifications_distributionlist_delete", args=[listed.pk])).status_code == 403


def test_outbound_emails_are_read_only_in_the_admin(admin_client):
    with transaction.atomic():
        (email, *_) = email_distribution_list(code=REC_CONTRACT_MANAGER, subject="Hello", body="Body")
    assert admin_client.get(reverse("admin:notifications_outboundemail_changelist")).status_code == 200
    assert admin_client.get(reverse("admin:notifications_outboundemail_change", args=[email.pk])).status_code == 200
    assert admin_client.get(reverse("admin:notifications_outboundemail_add")).status_code == 403


# --- writing to a list -------------------------------------------------------------------------------


def test_each_address_gets_one_email_and_one_job_with_a_stable_message_id(settings):
    settings.PORTAL_BASE_URL = "https://qualification.example"
    with transaction.atomic():
        created = email_distribution_list(
            code=REC_INDUSTRY_PARTIES, subject="REC Party Register updated", body="Body.", link="/register/"
        )

    parties = DistributionList.objects.get(code=REC_INDUSTRY_PARTIES).address_list
    assert sorted(e.to_address for e in created) == sorted(parties)
    for email in created:
        email.refresh_from_db()
        match = MESSAGE_ID.match(email.message_id)
        assert match and int(match.group(1)) == email.pk
        assert email.message_id.endswith("@qualification.example>")
        assert (email.status, email.attempts, email.list_code) == ("queued", 1, REC_INDUSTRY_PARTIES)
    jobs = DBTaskResult.objects.filter(task_path="portal.notifications.tasks.send_outbound_email")
    assert sorted(job.args_kwargs["args"][0] for job in jobs) == sorted(e.pk for e in created)


def test_the_message_id_domain_can_be_set(settings):
    settings.PORTAL_EMAIL_MESSAGE_ID_DOMAIN = "mail.portal.example"
    (email,) = email_distribution_list(code=REC_CONTRACT_MANAGER, subject="S", body="B")
    assert email.message_id.endswith("@mail.portal.example>")


@pytest.mark.parametrize("problem", ["unknown", "inactive", "empty"])
def test_a_missing_or_inactive_list_sends_nothing_and_warns_but_does_not_fail(caplog, problem):
    code = "no_such_list" if problem == "unknown" else REC_CONTRACT_MANAGER
    if problem == "inactive":
        DistributionList.objects.filter(code=code).update(is_active=False)
    if problem == "empty":
        DistributionList.objects.filter(code=code).update(addresses="")

    with caplog.at_level(logging.WARNING, logger="portal.notifications"):
        assert email_distribution_list(code=code, subject="Register updated", body="Body") == []

    assert not OutboundEmail.objects.exists()
    assert not DBTaskResult.objects.exists()
    assert any(code in r.getMessage() and r.levelno == logging.WARNING for r in caplog.records)


def test_a_rolled_back_caller_takes_the_emails_and_their_jobs_with_it():
    class Abandon(Exception):
        pass

    with pytest.raises(Abandon), transaction.atomic():
        email_distribution_list(code=REC_INDUSTRY_PARTIES, subject="S", body="B")
        assert OutboundEmail.objects.count() == 2
        raise Abandon

    assert not OutboundEmail.objects.exists()
    assert not DBTaskResult.objects.exists()


# --- attachments -------------------------------------------------------------------------------------


@pytest.fixture
def letter_file() -> str:
    return default_storage.save("letters/qualification-letter.pdf", ContentFile(b"%PDF-1.7\nletter\n"))


def test_attachments_are_stored_on_the_notification_and_the_email(letter_file):
    letter = MailAttachment("Qualification letter QA-00001.pdf", "application/pdf", letter_file)
    user = make_staff(Role.SERVICE_ACTIVATION)

    (notification,) = notify(recipients=[user], subject="Letter", body="Attached.", attachments=[letter])
    emails = email_distribution_list(code=REC_CONTRACT_MANAGER, subject="Letter", body="B", attachments=[letter])

    expected = [
        {
            "filename": "Qualification letter QA-00001.pdf",
            "content_type": "application/pdf",
            "storage_name": letter_file,
        }
    ]
    notification.refresh_from_db()
    assert notification.attachments == expected
    assert [e.attachments for e in emails] == [expected]


def test_an_attachment_missing_from_the_storage_is_refused_before_anything_is_written():
    user = make_staff(Role.SERVICE_ACTIVATION)
    missing = MailAttachment("letter.pdf", "application/pdf", "letters/never-saved.pdf")

    with pytest.raises(ValueError, match="not in the storage"):
        notify(recipients=[user], subject="Letter", body="B", attachments=[missing])
    with pytest.raises(ValueError, match="not in the storage"):
        email_distribution_list(code=REC_CONTRACT_MANAGER, subject="Letter", body="B", attachments=[missing])

    assert not Notification.objects.exists() and not OutboundEmail.objects.exists()
    assert not DBTaskResult.objects.exists()


@pytest.mark.parametrize(
    ("filename", "content_type", "storage_name"),
    [
        ("", "application/pdf", "x.pdf"),
        ("../etc/passwd", "application/pdf", "x.pdf"),
        ("a\nb.pdf", "application/pdf", "x.pdf"),
        ("letter.pdf", "pdf", "x.pdf"),
        ("letter.pdf", "application/pdf\r\nX-Evil: 1", "x.pdf"),
        ("letter.pdf", "application/pdf", ""),
    ],
)
def test_an_attachment_must_be_well_formed(filename, content_type, storage_name):
    with pytest.raises(ValueError):
        MailAttachment(filename, content_type, storage_name)
