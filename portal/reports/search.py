"""Search across organisations, applications, evidence files and test cases, within what the user may
see.

- Organisations: by name or MPID. A participant finds its own; staff who follow every application find
  every organisation; the REC Code Manager and the BSC PAB find those with an application in their scope.
- Applications: by reference (QA-00012, or 12), MPID, market role code, or organisation name; within
  `application_scope_for`.
- Documents: evidence files by their file name, within the applications the user may see; a file of a
  QAD only for those who read QADs (as `documents.selectors.evidence_visible` decides for downloads).
- Test cases: the catalogue is open to everyone signed in; by identifier or title.

Results come in that order, each kind in its own order. `SearchResults` counts each kind with one query
and reads only the slice a page needs, so a page costs a fixed number of queries whatever the number of
matches.
"""

import re
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, overload
from urllib.parse import quote_plus

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.urls import reverse

from portal.accounts.selectors import user_organisation_ids, user_roles
from portal.core.errors import InvalidInput
from portal.documents.models import EvidenceFile, QadAnswer
from portal.documents.permissions import QAD_STAFF_READERS
from portal.participants.models import Mpid, Organisation
from portal.qualification.models import Application
from portal.qualification.permissions import SEES_ALL, application_scope_for
from portal.testing.models import TestCase, TestCaseVersion

MIN_QUERY_LENGTH = 2
MAX_QUERY_LENGTH = 100
REFERENCE = re.compile(r"^(?:QA-?)?0*(\d{1,18})$", re.IGNORECASE)


class SearchKind:
    ORGANISATION = "organisation"
    APPLICATION = "application"
    DOCUMENT = "document"
    TEST_CASE = "test_case"


KINDS: tuple[str, ...] = (SearchKind.ORGANISATION, SearchKind.APPLICATION, SearchKind.DOCUMENT, SearchKind.TEST_CASE)
KIND_SINGULAR: dict[str, str] = {
    SearchKind.ORGANISATION: "Organisation",
    SearchKind.APPLICATION: "Application",
    SearchKind.DOCUMENT: "Document",
    SearchKind.TEST_CASE: "Test case",
}
KIND_LABELS: dict[str, str] = {
    SearchKind.ORGANISATION: "Organisations",
    SearchKind.APPLICATION: "Applications",
    SearchKind.DOCUMENT: "Documents",
    SearchKind.TEST_CASE: "Test cases",
}


def search_query_clean(value: str | None) -> str:
    """The search text, trimmed; refused (InvalidInput, field `q`) when too short, too long, or holding
    control characters."""
    text = (value or "").strip()
    if any(unicodedata.category(ch) in {"Cc", "Cf", "Cs", "Co"} for ch in text):
        raise InvalidInput(
            "The search text contains characters that are not allowed (such as control characters): remove them.",
            details={"field": "q"},
        )
    text = " ".join(text.split())
    if len(text) < MIN_QUERY_LENGTH and not text.isdigit():  # an application's number may be one digit
        raise InvalidInput(f"Enter at least {MIN_QUERY_LENGTH} characters to search for.", details={"field": "q"})
    if len(text) > MAX_QUERY_LENGTH:
        raise InvalidInput(f"The search text must be {MAX_QUERY_LENGTH} characters or fewer.", details={"field": "q"})
    return text


def search_kind_clean(value: str | None) -> str:
    kind = (value or "").strip()
    if kind and kind not in KINDS:
        raise InvalidInput(
            f"Choose what to search: {', '.join(KINDS)}, or leave it empty for everything.", details={"field": "kind"}
        )
    return kind


@dataclass(frozen=True)
class SearchHit:
    kind: str
    id: int
    title: str
    detail: str
    url: str
    application_id: int | None = None
    when: datetime | None = None

    @property
    def kind_label(self) -> str:
        return KIND_SINGULAR[self.kind]


# --- each kind -------------------------------------------------------------------------------------


def _organisations(user: Any, q: str) -> QuerySet[Organisation]:
    qs = Organisation.objects.all()
    if not user_roles(user) & SEES_ALL:
        visible = application_scope_for(user).values("organisation_id")
        qs = qs.filter(Q(pk__in=visible) | Q(pk__in=list(user_organisation_ids(user))))
    matching_mpids = Mpid.objects.filter(organisation=OuterRef("pk"), code__iexact=q)
    return qs.filter(Q(name__icontains=q) | Exists(matching_mpids)).prefetch_related("mpids").order_by("name", "pk")


def _organisation_hit(organisation: Organisation) -> SearchHit:
    mpids = ", ".join(sorted(m.code for m in organisation.mpids.all()))
    return SearchHit(
        SearchKind.ORGANISATION,
        organisation.pk,
        organisation.name,
        f"MPIDs: {mpids}" if mpids else "No MPIDs",
        f"{reverse('web:application_list')}?q={quote_plus(organisation.name)}",
    )


def _applications(user: Any, q: str) -> QuerySet[Application]:
    condition = Q(organisation__name__icontains=q) | Q(mpid__code__iexact=q) | Q(market_role__code__iexact=q)
    reference = REFERENCE.match(q)
    if reference:
        condition |= Q(pk=int(reference.group(1)))
    return (
        application_scope_for(user)
        .filter(condition)
        .select_related("organisation", "mpid", "market_role", "route")
        .order_by("pk")
    )


def _application_hit(application: Application) -> SearchHit:
    return SearchHit(
        SearchKind.APPLICATION,
        application.pk,
        f"{application.reference} {application.organisation.name}",
        f"{application.mpid.code}, {application.market_role.name}, {application.route.name}: "
        f"{application.get_status_display()}",
        reverse("web:application_detail", args=[application.pk]),
        application_id=application.pk,
    )


def _documents(user: Any, q: str) -> QuerySet[EvidenceFile]:
    qs = EvidenceFile.objects.filter(application__in=application_scope_for(user).values("pk"))
    if not user_roles(user) & QAD_STAFF_READERS:
        # A file of a QAD only for those who read QADs: the participant itself, and the QAD's readers.
        answers = QadAnswer.evidence.through.objects.filter(evidencefile_id=OuterRef("pk"))
        of_qad = Q(purpose__startswith="qad:") | Exists(answers)
        qs = qs.filter(Q(organisation_id__in=list(user_organisation_ids(user))) | ~of_qad)
    return (
        qs.filter(original_name__icontains=q)
        .select_related("application__organisation", "application__mpid", "application__market_role")
        .order_by("-uploaded_at", "-pk")
    )


def _document_hit(evidence: EvidenceFile) -> SearchHit:
    application = evidence.application
    return SearchHit(
        SearchKind.DOCUMENT,
        evidence.pk,
        evidence.original_name,
        f"Evidence of {application.reference} ({application.organisation.name}, {application.mpid.code}, "
        f"{application.market_role.code}), {evidence.file_type.upper()}",
        reverse("documents:evidence_download", args=[evidence.pk]),
        application_id=application.pk,
        when=evidence.uploaded_at,
    )


def _test_cases(q: str) -> QuerySet[TestCase]:
    titled = TestCaseVersion.objects.filter(case=OuterRef("pk"), is_current=True, title__icontains=q)
    current = TestCaseVersion.objects.filter(is_current=True)
    return (
        TestCase.objects.filter(Q(identifier__icontains=q) | Exists(titled))
        .select_related("scenario")
        .prefetch_related(Prefetch("versions", queryset=current, to_attr="current_versions"))
        .order_by("identifier")
    )


def _test_case_hit(case: TestCase) -> SearchHit:
    versions = getattr(case, "current_versions", [])
    title = versions[0].title if versions else ""
    retired = "" if case.is_active else " (retired)"
    return SearchHit(
        SearchKind.TEST_CASE,
        case.pk,
        f"{case.identifier} {title}".strip(),
        f"Scenario {case.scenario.identifier}: {case.scenario.title}{retired}",
        reverse("testing:catalogue_case", args=[case.identifier]),
    )


# --- the results, paged across kinds --------------------------------------------------------------


@dataclass(frozen=True)
class _Source:
    kind: str
    queryset: QuerySet[Any]
    present: Callable[[Any], SearchHit]


class SearchResults:
    """Every hit of every kind, in order, read lazily: `count()` counts each kind once, and a slice
    reads only the rows it covers. Works with Django's Paginator and the API's LimitOffset."""

    def __init__(self, query: str, sources: list[_Source]) -> None:
        self.query = query
        self._sources = sources
        self._counts: dict[str, int] | None = None

    @property
    def counts(self) -> dict[str, int]:
        if self._counts is None:
            self._counts = {source.kind: source.queryset.count() for source in self._sources}
        return self._counts

    def count(self) -> int:
        return sum(self.counts.values())

    def __len__(self) -> int:
        return self.count()

    def all(self) -> "SearchResults":
        return self

    def __iter__(self) -> Iterator[SearchHit]:
        return iter(self[0 : self.count()])

    @overload
    def __getitem__(self, index: int) -> SearchHit: ...

    @overload
    def __getitem__(self, index: slice) -> list[SearchHit]: ...

    def __getitem__(self, index: int | slice) -> SearchHit | list[SearchHit]:
        if isinstance(index, int):
            found = self[index : index + 1] if index >= 0 else []
            if not found:
                raise IndexError("No such search result.")
            return found[0]
        start, stop, _ = index.indices(self.count())
        hits: list[SearchHit] = []
        offset = 0
        for source in self._sources:
            size = self.counts[source.kind]
            lo, hi = max(start - offset, 0), min(stop - offset, size)
            if lo < hi:
                hits += [source.present(item) for item in source.queryset[lo:hi]]
            offset += size
            if offset >= stop:
                break
        return hits


def search(*, user: Any, q: str, kind: str = "") -> SearchResults:
    """Search within the user's scope; `q` as `search_query_clean` answers it (cleaned here again)."""
    q = search_query_clean(q)
    kind = search_kind_clean(kind)
    sources = [
        _Source(SearchKind.ORGANISATION, _organisations(user, q), _organisation_hit),
        _Source(SearchKind.APPLICATION, _applications(user, q), _application_hit),
        _Source(SearchKind.DOCUMENT, _documents(user, q), _document_hit),
        _Source(SearchKind.TEST_CASE, _test_cases(q), _test_case_hit),
    ]
    return SearchResults(q, [s for s in sources if not kind or s.kind == kind])
