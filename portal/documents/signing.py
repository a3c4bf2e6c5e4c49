"""The sealed manifest a Director's signature binds, and checking it again later.

The manifest of a Final QAD version names the application and the version, the declaration signed,
and for every answer the SHA-256 of its text and the recorded SHA-256 of each evidence file attached
to it. It is kept as canonical JSON (sorted keys, no spaces, UTF-8), and the signature records the
SHA-256 of that text: the seal. Verifying recomputes the manifest from the data as stored now, and
compares it with the sealed one, question by question.
"""

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from portal.documents.models import Declaration, DirectorSignature, EvidenceFile, QadAnswer, QadSubmission
from portal.documents.workflow import QadKind, SubmissionStatus

MANIFEST_FORMAT = "mhhs-qad-signature/1"
READ_CHUNK = 1024 * 1024

DEFAULT_DECLARATION_TEXT = (
    "I confirm that I am authorised to sign this Qualification Assessment Document on behalf of the "
    "applying organisation. To the best of my knowledge and belief, having made appropriate enquiries, "
    "the answers and the evidence in this version of the Final QAD are complete and accurate, and they "
    "describe the systems, processes and testing the organisation will use to operate in this market "
    "role under the MHHS arrangements.\n\n"
    "I understand that the Code Bodies and the DIP Manager rely on this document to decide whether to "
    "approve the organisation's MHHS Qualification; that the organisation must tell them of any "
    "material change to the information in it; and that my signature applies to this exact version "
    "only, so that any later change to its answers or evidence voids it."
)


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _answers(submission: QadSubmission) -> list[QadAnswer]:
    return list(
        QadAnswer.objects.filter(submission=submission)
        .select_related("question")
        .prefetch_related("evidence")
        .order_by("question__order", "id")
    )


def _answer_entries(submission: QadSubmission) -> list[dict[str, Any]]:
    return [
        {
            "question": answer.question.number,
            "answer_sha256": sha256_text(answer.text),
            "evidence": [
                {"id": e.pk, "name": e.original_name, "size": e.size, "sha256": e.sha256}
                for e in sorted(answer.evidence.all(), key=lambda e: e.pk)
            ],
        }
        for answer in _answers(submission)
    ]


def content_digest(submission: QadSubmission) -> str:
    """The SHA-256 of a version's answers and evidence, as the manifest lists them."""
    return sha256_text(canonical(_answer_entries(submission)))


def manifest_build(submission: QadSubmission, declaration: Declaration) -> dict[str, Any]:
    """The manifest of one version, from the data as stored now."""
    application = submission.application
    return {
        "format": MANIFEST_FORMAT,
        "application": {
            "id": application.pk,
            "reference": application.reference,
            "organisation_id": application.organisation_id,
            "mpid": application.mpid.code,
            "market_role": application.market_role.code,
        },
        "qad": {
            "kind": submission.kind,
            "submission_id": submission.pk,
            "version": submission.version,
            "template_version": submission.template.version,
        },
        "declaration": {"version": declaration.version, "sha256": sha256_text(declaration.text)},
        "answers": _answer_entries(submission),
    }


def manifest_seal(manifest: dict[str, Any]) -> tuple[str, str]:
    """The canonical text of a manifest and its SHA-256."""
    text = canonical(manifest)
    return text, sha256_text(text)


@dataclass(frozen=True)
class SignatureCheck:
    """The result of checking a signature's sealed manifest against the data as stored now."""

    ok: bool
    problems: list[str] = field(default_factory=list)
    recorded_sha256: str = ""
    current_sha256: str = ""
    answers_checked: int = 0
    files_checked: int = 0


def _file_digest(evidence: EvidenceFile) -> str | None:
    try:
        with evidence.file.open("rb") as handle:
            digest = hashlib.sha256()
            while chunk := handle.read(READ_CHUNK):
                digest.update(chunk)
            return digest.hexdigest()
    except (FileNotFoundError, OSError, ValueError):
        return None


def _compare_answers(sealed: list[dict[str, Any]], current: list[dict[str, Any]], problems: list[str]) -> None:
    before = {a["question"]: a for a in sealed}
    after = {a["question"]: a for a in current}
    for number in before.keys() - after.keys():
        problems.append(f"The answer to question {number} has been removed.")
    for number in after.keys() - before.keys():
        problems.append(f"An answer to question {number} has been added.")
    for number in sorted(before.keys() & after.keys()):
        old, new = before[number], after[number]
        if old["answer_sha256"] != new["answer_sha256"]:
            problems.append(f"The answer to question {number} has changed.")
        old_files = {f["id"]: f for f in old["evidence"]}
        new_files = {f["id"]: f for f in new["evidence"]}
        for file_id in old_files.keys() - new_files.keys():
            problems.append(f"Evidence “{old_files[file_id]['name']}” on question {number} has been removed.")
        for file_id in new_files.keys() - old_files.keys():
            problems.append(f"Evidence “{new_files[file_id]['name']}” has been added to question {number}.")
        for file_id in old_files.keys() & new_files.keys():
            if old_files[file_id] != new_files[file_id]:
                problems.append(
                    f"The record of evidence “{old_files[file_id]['name']}” on question {number} has changed."
                )


def signature_check(signature: DirectorSignature, *, check_files: bool = True) -> SignatureCheck:
    """Does the sealed manifest still match the data? With `check_files`, the stored content of every
    evidence file is hashed again and compared with its recorded SHA-256 as well."""
    problems: list[str] = []
    if sha256_text(signature.manifest) != signature.manifest_sha256:
        problems.append("The stored manifest no longer matches its recorded SHA-256: the record has been altered.")
    try:
        sealed = json.loads(signature.manifest)
    except json.JSONDecodeError:
        sealed = {}
        problems.append("The stored manifest cannot be read.")
    submission = signature.submission
    latest = (
        QadSubmission.objects.filter(application_id=signature.application_id, kind=QadKind.FINAL)
        .order_by("-version")
        .first()
    )
    if latest is not None and latest.pk != submission.pk:
        problems.append(
            f"Version {latest.version} of the Final QAD has been started since version {submission.version} was signed."
        )
    if submission.status != SubmissionStatus.SUBMITTED:
        problems.append(
            f"Version {submission.version} is {submission.get_status_display().lower()}, "
            "no longer the submitted version."
        )
    current = manifest_build(submission, signature.declaration)
    _, current_sha = manifest_seal(current)
    if isinstance(sealed, dict):
        for key in ("application", "qad", "declaration"):
            if sealed.get(key) != current.get(key):
                problems.append(f"The {key} recorded in the manifest no longer matches.")
        _compare_answers(list(sealed.get("answers") or []), current["answers"], problems)
    files_checked = 0
    if check_files:
        seen: set[int] = set()
        for answer in _answers(submission):
            for evidence in answer.evidence.all():
                if evidence.pk in seen:
                    continue
                seen.add(evidence.pk)
                files_checked += 1
                digest = _file_digest(evidence)
                if digest is None:
                    problems.append(f"Evidence “{evidence.original_name}” is missing from storage.")
                elif digest != evidence.sha256:
                    problems.append(
                        f"The stored content of evidence “{evidence.original_name}” no longer matches its SHA-256."
                    )
    if not problems and current_sha != signature.manifest_sha256:
        problems.append("The manifest recomputed from the data does not match the sealed one.")
    return SignatureCheck(
        ok=not problems,
        problems=problems,
        recorded_sha256=signature.manifest_sha256,
        current_sha256=current_sha,
        answers_checked=len(current["answers"]),
        files_checked=files_checked,
    )
