"""Search across organisations, applications, evidence files and test cases, within what the user may
see; bad input refused with a clear message."""

import pytest

from portal.accounts.roles import Role
from portal.documents.models import EvidenceFile
from portal.reports.search import SearchKind, search
from portal.testing.models import TestCase

pytestmark = pytest.mark.django_db


def kinds_and_ids(results):
    return [(hit.kind, hit.id) for hit in results[0 : results.count()]]


def test_finds_each_kind_by_its_names(build, analyst, org):
    applications = build(2)
    application = applications[0]
    mpid = application.mpid.code
    by_name = search(user=analyst, q=org.name[:8])
    assert (SearchKind.ORGANISATION, org.pk) in kinds_and_ids(by_name)
    assert (SearchKind.ORGANISATION, org.pk) in kinds_and_ids(search(user=analyst, q=mpid.lower()))
    for reference in (application.reference, str(application.pk), f"qa{application.pk:05d}"):
        assert (SearchKind.APPLICATION, application.pk) in kinds_and_ids(search(user=analyst, q=reference))
    evidence = EvidenceFile.objects.get(application=application)
    assert kinds_and_ids(search(user=analyst, q=f"results-{mpid}", kind="document")) == [
        (SearchKind.DOCUMENT, evidence.pk)
    ]
    case = TestCase.objects.order_by("identifier").first()
    assert case is not None
    found = search(user=analyst, q=case.identifier, kind="test_case")
    assert (SearchKind.TEST_CASE, case.pk) in kinds_and_ids(found)
    hit = next(h for h in found[0:10] if h.id == case.pk)
    assert hit.url == f"/qt/catalogue/cases/{case.identifier}/"


def test_a_participant_never_finds_another_organisations_things(build, member, other_member, other_org, org):
    build(1)
    theirs = build(1, organisation=other_org, actor=other_member)[0]
    assert search(user=member, q=other_org.name).count() == 0
    assert search(user=member, q=theirs.mpid.code).count() == 0
    assert search(user=member, q=theirs.reference).count() == 0
    assert search(user=member, q="pit-results", kind="document").count() == 1
    # Staff who follow every application find both.
    assert search(user=other_member, q="pit-results").count() == 1
    assert (SearchKind.ORGANISATION, org.pk) not in kinds_and_ids(search(user=other_member, q=org.name))


def test_qad_evidence_is_found_only_by_those_who_read_qads(build, staff, member):
    application = build(1, market_role="SUP")[0]
    EvidenceFile.objects.filter(application=application).update(purpose="qad:answer:4.5.1")
    assert search(user=member, q="pit-results").count() == 1
    assert search(user=staff(Role.ELEXON_ANALYST), q="pit-results").count() == 1
    assert search(user=staff(Role.PAB_CHAIR), q="pit-results").count() == 0


def test_the_page_searches_pages_and_downloads(build, analyst, signed_in):
    build(25)
    client = signed_in(analyst)
    first = client.get("/search/", {"q": "pit-results"})
    assert first.status_code == 200
    assert first.context["page"].paginator.count == 25 and len(first.context["page"].object_list) == 20
    second = client.get("/search/", {"q": "pit-results", "page": 2})
    assert len(second.context["page"].object_list) == 5
    assert "25 documents" not in first.content.decode()  # one kind: no per-kind links
    assert "25 results for “pit-results”" in first.content.decode()


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("x" * 101, "The search text must be 100 characters or fewer."),
        ("ab\x00cd", "Null characters are not allowed"),
        ("ab\x1bcd", "characters that are not allowed"),
        ("ab\u202ecd", "characters that are not allowed"),
        (" a ", "Enter at least 2 characters"),
    ],
)
def test_bad_input_is_refused_with_a_clear_message(analyst, signed_in, query, message):
    response = signed_in(analyst).get("/search/", {"q": query})
    assert response.status_code == 400
    text = response.content.decode()
    assert "There is a problem" in text and message in text


def test_an_unknown_kind_is_refused(analyst, signed_in):
    response = signed_in(analyst).get("/search/", {"q": "aurora", "kind": "users"})
    assert response.status_code == 400
    assert "Choose what to search from the list" in response.content.decode()


def test_the_empty_page_explains_what_can_be_found(analyst, signed_in):
    response = signed_in(analyst).get("/search/")
    assert response.status_code == 200 and "You find only what you may see" in response.content.decode()
