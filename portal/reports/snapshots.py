"""The dashboard's figures, kept between requests when they are costly to work out.

Working out the pipeline (`selectors.pipeline`) reads every application in the user's scope with its
tasks and deadlines: a few milliseconds for one organisation, seconds for every application at national
scale. So the figures are kept in the shared cache, per scope (`application_scope_key`: users who see
the same applications share them) and filters, as a `Pipeline.summary()`, with the day they were worked
out for and the newest change they include (`latest_change_sequence`).

- Kept figures of today that include the newest change are shown as they are.
- After a change, figures that took less than `LIVE_SECONDS` to work out are worked out again in the
  request; costlier ones are shown as they were (the page says when they were worked out) while one
  job works them out again in a worker, and the next request shows the new ones.
- Figures of an earlier day are never shown (a deadline due yesterday is overdue today): they are worked
  out in the request.

A refresh job is queued at most once per `REFRESH_GUARD_SECONDS` for the same figures.
"""

import time
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.core.cache import cache

from portal.audit.selectors import latest_change_sequence
from portal.core.calendar import uk_today
from portal.qualification.permissions import application_scope_key
from portal.reports.selectors import Pipeline, PipelineFilters, pipeline

# Figures cheaper than this to work out are worked out again in the request after every change.
LIVE_SECONDS = 0.25
# How long kept figures stay in the cache at most (they are worked out again the next day anyway).
KEEP_SECONDS = 24 * 60 * 60
REFRESH_GUARD_SECONDS = 120
VERSION = 1


@dataclass(frozen=True)
class Kept:
    pipeline: Pipeline  # a summary
    today: date
    sequence: int  # the newest change the figures include
    seconds: float  # how long they took to work out


def _key(scope: str, filters: PipelineFilters) -> str:
    return f"reports:dashboard:v{VERSION}:{scope}:{filters.route}:{filters.role_group}:{filters.wave}"


def _work_out(user: Any, filters: PipelineFilters, key: str, today: date, sequence: int) -> Kept:
    """`sequence` is read before the figures are: a change made while they are worked out leaves them
    behind it."""
    started = time.perf_counter()
    picture = pipeline(user=user, filters=filters, today=today).summary()
    kept = Kept(picture, today, sequence, time.perf_counter() - started)
    cache.set(key, kept, KEEP_SECONDS)
    return kept


def dashboard_pipeline(*, user: Any, filters: PipelineFilters) -> tuple[Pipeline, bool]:
    """The dashboard's picture for the user and filters, and whether it may be behind the latest
    changes (a newer one is being worked out)."""
    from portal.reports.tasks import refresh_dashboard

    today = uk_today()
    sequence = latest_change_sequence()
    key = _key(application_scope_key(user), filters)
    kept = cache.get(key)
    if not isinstance(kept, Kept) or kept.today != today:
        return _work_out(user, filters, key, today, sequence).pipeline, False
    if kept.sequence == sequence:
        return kept.pipeline, False
    if kept.seconds < LIVE_SECONDS:
        return _work_out(user, filters, key, today, sequence).pipeline, False
    if cache.add(f"{key}:refreshing", True, REFRESH_GUARD_SECONDS):
        refresh_dashboard.enqueue(user.pk, filters.route, filters.role_group, filters.wave)
    return kept.pipeline, True


def dashboard_refresh(*, user_id: int, filters: PipelineFilters) -> None:
    """Work the figures out again for the user's scope and keep them (the worker runs this). A user
    deactivated since asking leaves the figures as they are."""
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        return
    key = _key(application_scope_key(user), filters)
    try:
        _work_out(user, filters, key, uk_today(), latest_change_sequence())
    finally:
        cache.delete(f"{key}:refreshing")
