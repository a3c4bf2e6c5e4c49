"""The RQ task backend (ADR 0011) against a real Redis: a job is published when its transaction commits,
never when it rolls back; an RQ worker runs the portal's tasks; the e-mail requeue sweep sees the jobs
waiting in Redis. Skipped when Redis does not answer on 127.0.0.1:6379."""

from collections.abc import Iterator
from datetime import timedelta
from typing import Any, cast

import django_rq
import pytest
from django.core import mail
from django.db import transaction
from django.utils import timezone
from rq import SimpleWorker

from portal.core.tasks import OnCommitRQBackend, rq_pending_first_args, uses_rq
from portal.factories import OrganisationFactory, make_member
from portal.notifications.models import EmailStatus, Notification
from portal.notifications.services import email_requeue_stale, notify
from portal.notifications.tasks import send_notification_email
from portal.participants.models import Organisation
from portal.tests.scaleout.cluster import REDIS_HOST, REDIS_PORT

REDIS_DB = 13  # not the scale-out cluster's, so that the two can run at once


def _redis_answers() -> bool:
    import redis

    try:
        return bool(redis.Redis(host=REDIS_HOST, port=REDIS_PORT, db=REDIS_DB, socket_timeout=2).ping())
    except redis.RedisError:
        return False


pytestmark = [
    pytest.mark.skipif(not _redis_answers(), reason="Redis is not reachable at 127.0.0.1:6379"),
    pytest.mark.django_db,
]


@pytest.fixture
def queue(settings: Any) -> Iterator[Any]:
    settings.TASKS = {"default": {"BACKEND": "portal.core.tasks.OnCommitRQBackend", "QUEUES": ["default"]}}
    settings.RQ_QUEUES = {"default": {"URL": f"redis://{REDIS_HOST}:{REDIS_PORT}/{REDIS_DB}"}}
    settings.RQ = {"JOB_CLASS": "django_tasks_rq.Job"}
    rq_queue = django_rq.get_queue("default")
    rq_queue.connection.flushdb()
    yield rq_queue
    rq_queue.connection.flushdb()


def _member() -> Any:
    return make_member(cast(Organisation, OrganisationFactory()), password=None)


def test_the_settings_pick_the_on_commit_backend(queue: Any) -> None:
    assert uses_rq(send_notification_email)
    assert isinstance(send_notification_email.get_backend(), OnCommitRQBackend)


def test_a_job_is_published_when_its_transaction_commits(queue: Any, django_capture_on_commit_callbacks: Any) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        with transaction.atomic():
            result = send_notification_email.enqueue(12345)
            assert queue.count == 0, "nothing reaches Redis before the commit"
        assert queue.count == 0
    assert queue.get_job_ids() == [result.id]
    job = queue.fetch_job(result.id)
    assert job.func_name == "portal.notifications.tasks.send_notification_email"
    assert job.args == [12345]


def test_a_rolled_back_transaction_publishes_nothing(queue: Any, django_capture_on_commit_callbacks: Any) -> None:
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        send_notification_email.enqueue(1)
        raise RuntimeError("the transition failed")
    assert callbacks == []
    assert queue.count == 0


def test_an_rq_worker_runs_the_portals_task(queue: Any, django_capture_on_commit_callbacks: Any) -> None:
    member = _member()
    with django_capture_on_commit_callbacks(execute=True):
        [notification] = notify(recipients=[member], subject="Hello", body="From a worker.")
    assert queue.count == 1
    # SimpleWorker runs the job in this process, inside this test's transaction, with the job class
    # the settings name (as `rqworker` does; it forks for each job instead).
    worker = SimpleWorker([queue], connection=queue.connection, job_class=django_rq.jobs.get_job_class())
    assert worker.work(burst=True)
    assert [message.to for message in mail.outbox] == [[member.email]]
    notification.refresh_from_db()
    assert notification.email_status == EmailStatus.SENT
    assert queue.failed_job_registry.count == 0


def test_the_requeue_sweep_sees_jobs_waiting_in_redis(queue: Any, django_capture_on_commit_callbacks: Any) -> None:
    member = _member()
    with django_capture_on_commit_callbacks(execute=True):
        waiting, lost = notify(recipients=[member, _member()], subject="Hello", body="Waiting.")
    # The second one's job was lost (a Redis that lost its data, a job that expired).
    queue.remove(next(job_id for job_id in queue.get_job_ids() if queue.fetch_job(job_id).args == [lost.pk]))
    Notification.objects.update(created_at=timezone.now() - timedelta(hours=1))
    cutoff = timezone.now() - timedelta(minutes=15)
    assert rq_pending_first_args(send_notification_email, running_since=cutoff) == {waiting.pk}

    with django_capture_on_commit_callbacks(execute=True):
        report = email_requeue_stale(older_than=timedelta(minutes=15))
    assert report.requeued == [f"notification {lost.pk}"], "the one still waiting is left to its job"
    assert sorted(queue.fetch_job(job_id).args[0] for job_id in queue.get_job_ids()) == sorted([waiting.pk, lost.pk])
    waiting.refresh_from_db()
    lost.refresh_from_db()
    assert (waiting.attempts, lost.attempts) == (1, 2), "only the lost one has used another attempt"


def test_redis_refusing_the_job_after_the_commit_is_logged_not_raised(
    queue: Any, settings: Any, django_capture_on_commit_callbacks: Any, caplog: Any
) -> None:
    """The change is saved; its user must not see it as failed. The e-mail's row is still unsent, for
    `requeue_stale_email` (ADR 0011)."""
    settings.RQ_QUEUES = {"default": {"URL": "redis://127.0.0.1:9/0", "SOCKET_CONNECT_TIMEOUT": 1}}
    member = _member()
    with django_capture_on_commit_callbacks(execute=True):
        [notification] = notify(recipients=[member], subject="Hello", body="Redis is down.")
    assert "Error calling" in caplog.text
    notification.refresh_from_db()
    assert notification.email_status == EmailStatus.QUEUED
