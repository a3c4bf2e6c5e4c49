"""Racing one decisive transition from many database connections at once.

Each attempt runs in its own thread, so Django gives it its own connection (and its own transaction);
a `threading.Barrier` releases them together, and each thread closes its connection when it ends. The
tests that use this are transactional (`transaction=True`): the threads must see the data the test
committed, and the test must see what they committed.
"""

import threading
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.db import connection

from portal.core.errors import ApplicationError
from portal.qualification import hooks, journey

ATTEMPTS = 20
JOIN_TIMEOUT = 120.0

postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="Concurrency needs row locks between connections: SQLite has no SELECT … FOR UPDATE (Django drops it) "
    "and serialises writers at the file, so these races run in the PostgreSQL pass only",
)


@dataclass
class RaceResult:
    """What each attempt ended with: its return value, an application error, or anything else raised."""

    successes: list[Any] = field(default_factory=list)
    refusals: list[ApplicationError] = field(default_factory=list)
    crashes: list[BaseException] = field(default_factory=list)
    hung: int = 0


def race(attempts: list[Callable[[], Any]], *, timeout: float = JOIN_TIMEOUT) -> RaceResult:
    """Run every attempt at the same moment, each in its own thread with its own connection."""
    result = RaceResult()
    lock = threading.Lock()
    start = threading.Barrier(len(attempts))

    def run(attempt: Callable[[], Any]) -> None:
        try:
            start.wait(timeout=30)
            value = attempt()
        except ApplicationError as refused:
            with lock:
                result.refusals.append(refused)
        except BaseException as exc:  # reported by the test
            with lock:
                result.crashes.append(exc)
        else:
            with lock:
                result.successes.append(value)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(attempt,), daemon=True) for attempt in attempts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)
    result.hung = sum(1 for thread in threads if thread.is_alive())
    return result


@pytest.fixture
def only_rules_of(monkeypatch: pytest.MonkeyPatch) -> Callable[..., None]:
    """`only_rules_of("final_qad", "director_signoff", helpers="portal.documents.testing_support")`: keep
    the content rules (guards and effects) hooked on those tasks, and the journey helpers of that module
    that satisfy them; set every other task's rules and helpers aside. The walk to the racing step is
    then quick, while the step itself runs with all its rules."""

    def keep(*task_codes: str, helpers: str = "") -> None:
        for name in ("_guards", "_effects"):
            registry = getattr(hooks, name)
            kept = {key: list(value) for key, value in registry.items() if key[0] in task_codes}
            monkeypatch.setattr(hooks, name, defaultdict(list, kept))
        for name in ("_preparers", "_takers"):
            helpers_kept = [h for h in getattr(journey, name) if helpers and h.__module__ == helpers]
            monkeypatch.setattr(journey, name, helpers_kept)

    return keep
