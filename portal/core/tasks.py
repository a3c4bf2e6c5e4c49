"""The RQ task backend, made to publish a job only when the enqueuing transaction commits.

With the database backend (`django_tasks_db`, the default) a job is a row written in the caller's
transaction: it commits or rolls back with the change that caused it (a transactional outbox, ADR 0003).
A Redis queue is outside the database's transaction, so `django_tasks_rq.RQBackend` as shipped would
publish the job at once, before the commit: a worker could run it before the row it reads is visible,
and a rolled-back change would still send its e-mail. `OnCommitRQBackend` publishes the job from
`transaction.on_commit` instead, so a rolled-back transaction publishes nothing. What that gives up
(the job and the commit are no longer one atomic step) is in ADR 0011, with what closes the gap.

Only the moment of publishing changes: the job id is chosen at once (so the returned `TaskResult`
names the job that will exist after the commit), and the job itself is the one `RQBackend` builds,
with its callbacks and its `Job` class, which the workers need (`rqworker --job-class django_tasks_rq.Job`,
or the `RQ["JOB_CLASS"]` setting, which the settings set).
"""

from datetime import datetime
from typing import Any, TypeVar

import django_rq
from django.db import transaction
from django_tasks import task_backends
from django_tasks.base import TASK_MAX_PRIORITY, Task, TaskResult, TaskResultStatus
from django_tasks.signals import task_enqueued
from django_tasks.utils import get_random_id
from django_tasks_rq.backend import Job, RQBackend, failed_callback, success_callback
from rq.job import Callback, JobStatus
from typing_extensions import ParamSpec

T = TypeVar("T")
P = ParamSpec("P")


class OnCommitRQBackend(RQBackend):
    """`RQBackend`, publishing each job when the database transaction it was enqueued in commits
    (at once when there is none). Option `USING`: the database alias whose transaction counts
    (default "default")."""

    def enqueue(
        self,
        task: Task[P, T],
        args: P.args,  # type: ignore[valid-type]
        kwargs: P.kwargs,  # type: ignore[valid-type]
    ) -> TaskResult[T]:
        self.validate_task(task)
        task_result: TaskResult[T] = TaskResult(
            task=task,
            id=get_random_id(),
            status=TaskResultStatus.READY,
            enqueued_at=None,
            started_at=None,
            last_attempted_at=None,
            finished_at=None,
            args=args,
            kwargs=kwargs,
            backend=self.alias,
            errors=[],
            worker_ids=[],
        )
        using = self.options.get("USING", "default")
        if transaction.get_connection(using).in_atomic_block:
            # After the outermost commit; never after a rollback. `robust`: if Redis cannot take the
            # job then, the error is logged and the committed change is not reported as failed (its
            # e-mails are re-queued by `requeue_stale_email`; ADR 0011).
            transaction.on_commit(lambda: self._publish(task_result), using=using, robust=True)
        else:
            self._publish(task_result)  # no transaction: at once, and a failure reaches the caller
        return task_result

    def _publish(self, task_result: TaskResult[Any]) -> None:
        task = task_result.task
        queue = django_rq.get_queue(task.queue_name, job_class=Job)
        job = queue.create_job(
            task.module_path,
            args=task_result.args,
            kwargs=task_result.kwargs,
            job_id=task_result.id,
            status=JobStatus.SCHEDULED if task.run_after else JobStatus.QUEUED,
            on_failure=Callback(failed_callback),
            on_success=Callback(success_callback),
            meta={"backend_name": self.alias},
        )
        if task.run_after is None:
            job = queue.enqueue_job(job, at_front=task.priority == TASK_MAX_PRIORITY)
        else:
            job = queue.schedule_job(job, task.run_after)
        object.__setattr__(task_result, "enqueued_at", job.enqueued_at)
        task_enqueued.send(type(self), task_result=task_result)


def uses_rq(task: Task[Any, Any]) -> bool:
    """Whether `task` is enqueued on an RQ queue (rather than as a database row)."""
    return isinstance(task_backends[task.backend], RQBackend)


def rq_pending_first_args(task: Task[Any, Any], *, running_since: datetime) -> set[Any]:
    """The first argument of every job of `task` waiting in its RQ queue, scheduled, or running and
    started at or after `running_since` (one running longer belongs, most likely, to a dead worker).
    The RQ counterpart of looking for pending rows of the database backend; it reads every waiting
    job, so it is for occasional sweeps (`requeue_stale_email`), not for requests."""
    queue = django_rq.get_queue(task.queue_name, job_class=Job)
    job_ids = [
        *queue.get_job_ids(),
        *queue.scheduled_job_registry.get_job_ids(),
        *queue.started_job_registry.get_job_ids(),
    ]
    pending: set[Any] = set()
    for job in Job.fetch_many(job_ids, connection=queue.connection):
        if job is None or job.func_name != task.module_path or not job.args:
            continue
        if job.get_status() == JobStatus.STARTED and (job.started_at is None or job.started_at < running_since):
            continue
        pending.add(job.args[0])
    return pending
