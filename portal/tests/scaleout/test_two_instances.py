"""Scale-out (P-10): two app instances and two task workers share one PostgreSQL database, one Redis and
one S3-compatible object store, and nothing a request needs is on an instance's own disk.

The cluster (portal/tests/scaleout/cluster.py) runs the production settings: gunicorn on two loopback
ports, `rqworker` twice, the RQ task backend and the Redis cache on a Redis database of its own, evidence
in a bucket of moto's S3 server (a real HTTP S3 API in its own process), and a PostgreSQL database made
for the test (a copy of the migrated test database) and dropped afterwards.

It runs in the PostgreSQL pass of `make test` when Redis answers on 127.0.0.1:6379; otherwise it is
skipped, saying why.
"""

import hashlib
import os
import re
import socket
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connections

from portal.tests.scaleout.cluster import BUCKET, Browser, Cluster, pdf_bytes, redis_reachable, wait_for


def _why_not() -> str | None:
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        return "DATABASE_URL does not point at PostgreSQL (the scale-out test runs in the PostgreSQL pass)"
    host = re.sub(r"^.*@", "", url.split("/")[2]) if "@" in url else url.split("/")[2]
    name, _, port = host.partition(":")
    try:
        socket.create_connection((name or "127.0.0.1", int(port or 5432)), timeout=2).close()
    except OSError:
        return f"PostgreSQL is not reachable at {host}"
    if not redis_reachable():
        return "Redis is not reachable at 127.0.0.1:6379"
    return None


# `django_db` has pytest-django create the migrated test database, which the cluster's database is
# copied from (the copy is taken before any test of the module opens a connection to it).
pytestmark = [pytest.mark.skipif(bool(_why_not()), reason=_why_not() or ""), pytest.mark.django_db]

BATCH = 24
ROLLED_BACK = 5


@pytest.fixture(scope="module")
def cluster(django_db_setup: None, django_db_blocker: Any) -> Iterator[Cluster]:
    with django_db_blocker.unblock():
        template = connections["default"].settings_dict["NAME"]
        connections.close_all()  # a database being copied must have no other session
    with Cluster(os.environ["DATABASE_URL"], template=template) as running:
        yield running
    print("\nScale-out cluster, seconds:", {name: round(value, 1) for name, value in running.timings.items()})


@pytest.fixture(scope="module")
def member(cluster: Cluster) -> Browser:
    """The participant user, signed in through the real sign-in form of instance A."""
    browser = Browser()
    response = browser.sign_in(cluster.instances["a"], cluster.seed_data["email"], cluster.seed_data["password"])
    assert response.status_code == 302, (response.status_code, response.text[:1000], cluster.logs())
    assert response.headers["Location"] == "/"
    assert "__Host-sessionid" in browser.cookies
    return browser


def test_a_session_started_on_one_instance_continues_on_the_other(cluster: Cluster, member: Browser) -> None:
    a, b = cluster.instances["a"], cluster.instances["b"]
    application = f"/applications/{cluster.seed_data['application_id']}/"
    for base in (b, a, b):
        response = member.get(base, application)
        assert response.status_code == 200, (base, response.status_code, response.text[:500])
        assert "SCAL" in response.text
    # Without the cookie the same page asks for a sign-in, on either instance.
    response = Browser().get(b, application)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/accounts/login/")


def test_evidence_uploaded_through_one_instance_downloads_through_the_other(cluster: Cluster, member: Browser) -> None:
    a, b = cluster.instances["a"], cluster.instances["b"]
    pqs = f"/applications/{cluster.seed_data['application_id']}/pqs/"
    content = pdf_bytes(300_000)
    token = member.form_token(b, f"{pqs}items/new/")  # the form from B, sent to A
    fields = {
        "csrfmiddlewaretoken": token,
        "title": "Vendor flow management",
        "relied_on": "yes",
        "scope": "test_cases",
        "identifiers": "QTC-SUP-001",
        "provider_kind": "software_vendor",
        "provider_name": "Example Billing Systems Ltd",
        "artefacts": "Vendor test completion report",
        "rationale": "Tested end to end by the vendor.",
    }
    response = member.post(a, f"{pqs}items/new/", fields, files={"files": ("vendor report.pdf", content)})
    assert response.status_code == 302, (response.status_code, response.text[-3000:], cluster.logs())

    overview = member.get(b, pqs).text
    match = re.search(rf"{re.escape(pqs)}items/(\d+)/evidence/(\d+)/", overview)
    assert match, "the evidence link is on the PQS page"
    download = match.group(0)
    response = member.get(b, download)
    assert response.status_code == 200, (response.status_code, cluster.logs())
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert hashlib.sha256(response.content).hexdigest() == hashlib.sha256(content).hexdigest()

    # The file is one private object in the bucket, and nowhere on the instances' disk.
    objects = cluster.s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])
    assert len(objects) == 1
    body = cluster.s3.get_object(Bucket=BUCKET, Key=objects[0]["Key"])["Body"].read()
    assert body == content
    grants = cluster.s3.get_object_acl(Bucket=BUCKET, Key=objects[0]["Key"])["Grants"]
    assert all("URI" not in grant["Grantee"] for grant in grants), "no grant to AllUsers or AuthenticatedUsers"
    media = cluster.workdir / "var" / "media"
    assert not media.exists() or not any(media.rglob("*")), "no evidence written to local disk"

    # The download stays behind the portal's own authorisation on either instance.
    assert Browser().get(a, download).status_code == 302


def test_two_workers_share_the_queue_and_run_every_job_once(cluster: Cluster, member: Browser) -> None:
    started = time.monotonic()
    result = cluster.seed("notify", str(BATCH), str(ROLLED_BACK))
    committed: list[int] = result["committed"]
    assert len(committed) == BATCH

    wait_for(lambda: len(cluster.mailbox.received) >= BATCH, timeout=60, what=f"{BATCH} e-mails")
    wait_for(lambda: _queue_idle(cluster), timeout=30, what="the queue to empty")
    time.sleep(1)  # room for a duplicate to arrive, were there one
    elapsed = time.monotonic() - started

    received = cluster.mailbox.received
    recipients = Counter(str(message["To"]) for message in received)
    assert len(received) == BATCH, (len(received), recipients.most_common(3))
    assert sorted(recipients) == sorted(f"colleague{i}@scale-out.test" for i in range(BATCH))
    assert len({message["Message-ID"] for message in received}) == BATCH
    assert not any("ghost" in recipient for recipient in recipients), "a rolled-back notification was sent"
    sent = cluster.sql(
        "SELECT count(*) FROM notifications_notification WHERE email_status = 'sent' AND id = ANY(%s)", committed
    )[0][0]
    assert sent == BATCH

    # Both workers took a share, and no job failed or is left.
    by_worker = _finished_by_worker(cluster)
    assert sum(by_worker.values()) == BATCH, by_worker
    assert set(by_worker) == {"w1", "w2"}, by_worker
    assert all(count > 0 for count in by_worker.values()), by_worker
    assert _failed(cluster) == 0, cluster.logs()
    print(f"\n{BATCH} e-mails sent by two workers in {elapsed:.1f} s: {dict(by_worker)}")


def test_signing_out_on_one_instance_ends_the_session_on_both(cluster: Cluster) -> None:
    a, b = cluster.instances["a"], cluster.instances["b"]
    browser = Browser()  # a session of its own, so that the other tests' session stays
    assert browser.sign_in(a, cluster.seed_data["email"], cluster.seed_data["password"]).status_code == 302
    cookie = browser.cookies["__Host-sessionid"]
    token = browser.form_token(b, "/accounts/logout/")
    assert browser.post(b, "/accounts/logout/", {"csrfmiddlewaretoken": token}).status_code == 302
    stale = Browser()
    stale.cookies["__Host-sessionid"] = cookie
    response = stale.get(a, f"/applications/{cluster.seed_data['application_id']}/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/accounts/login/")


def test_sign_in_throttling_counts_across_instances(cluster: Cluster) -> None:
    """Failed sign-ins are counted in the cache; five for one address, spread over both instances, and
    the next is refused on either (allauth's limit per address, docs/security.md). With a cache per
    instance each would have seen too few to refuse."""
    a, b = cluster.instances["a"], cluster.instances["b"]
    refused = "Too many failed login attempts"
    for attempt in range(5):
        response = Browser().sign_in((a, b)[attempt % 2], "nobody@scale-out.test", "not-the-password-123")
        assert response.status_code != 302
        assert refused not in response.text, f"refused after only {attempt} failures"
    for base in (a, b):
        response = Browser().sign_in(base, "nobody@scale-out.test", "not-the-password-123")
        assert refused in response.text
    assert cluster.redis.keys("portal:*"), "the cache is in Redis"


def _queue_idle(cluster: Cluster) -> bool:
    from rq import Queue
    from rq.registry import StartedJobRegistry

    queue = Queue("default", connection=cluster.redis)
    return queue.count == 0 and StartedJobRegistry(queue=queue).count == 0


def _finished_by_worker(cluster: Cluster) -> Counter[str]:
    from rq.job import Job
    from rq.registry import FinishedJobRegistry

    registry = FinishedJobRegistry("default", connection=cluster.redis)
    jobs = Job.fetch_many(registry.get_job_ids(), connection=cluster.redis)
    return Counter(job.worker_name or "?" for job in jobs if job is not None)


def _failed(cluster: Cluster) -> int:
    from rq.registry import FailedJobRegistry

    return FailedJobRegistry("default", connection=cluster.redis).count
