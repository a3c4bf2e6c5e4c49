import uuid
from pathlib import PurePosixPath

from django.conf import settings
from django.db import models
from django.db.models import Q

from portal.documents.workflow import (
    TASK_FOR_KIND,
    AssessingBody,
    ClarificationAction,
    ClarificationStatus,
    QadKind,
    QadTheme,
    RequirementArea,
    ReviewHolder,
    SignatureStatus,
    SignedAs,
    SubmissionStatus,
    TemplateStatus,
)


def evidence_path(instance: "EvidenceFile", filename: str) -> str:
    # Server-generated and never reused: the participant's file name is kept only as data.
    suffix = PurePosixPath(filename).suffix.lower()[:10]
    key = uuid.uuid4().hex
    return f"evidence/{key[:2]}/{key}{suffix}"


class EvidenceFile(models.Model):
    """One uploaded evidence file. Stored once under a server-generated name, never overwritten;
    its SHA-256 is recorded at upload so that a sealed manifest can bind it."""

    organisation = models.ForeignKey("participants.Organisation", on_delete=models.PROTECT, related_name="+")
    application = models.ForeignKey(
        "qualification.Application", on_delete=models.PROTECT, related_name="evidence_files"
    )
    file = models.FileField(upload_to=evidence_path, max_length=200)
    original_name = models.CharField(max_length=200)
    file_type = models.CharField(max_length=10)
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64, db_index=True)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)
    purpose = models.CharField(max_length=60, blank=True, help_text="What the file evidences, e.g. pit:criterion:3")

    class Meta:
        ordering = ["-uploaded_at", "-id"]
        constraints = [models.CheckConstraint(condition=Q(size__gt=0), name="evidence_file_not_empty")]
        indexes = [models.Index(fields=["application", "purpose"], name="evidence_app_purpose_idx")]

    def __str__(self) -> str:
        return self.original_name


# --- the QAD template ------------------------------------------------------------------------------
# Value lists in declaration order (never a set), so constraints and migrations are the same in every process.
_TEMPLATE_STATUSES = [s.value for s in TemplateStatus]
_SUBMISSION_STATUSES = [s.value for s in SubmissionStatus]
_CLARIFICATION_STATUSES = [s.value for s in ClarificationStatus]
_SIGNATURE_STATUSES = [s.value for s in SignatureStatus]


class QadTemplate(models.Model):
    """One version of the QAD template: its sections and questions. Exactly one is active at a
    time; new QAD versions are written against the active one. Loaded from a data file
    (`manage.py load_qad_template`, or the upload form in the admin), never edited in place."""

    version = models.CharField(max_length=20, unique=True, help_text="As published, e.g. 3.2.")
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    status = models.CharField(max_length=10, choices=TemplateStatus.choices, default=TemplateStatus.DRAFT)
    source_sha256 = models.CharField(max_length=64, help_text="SHA-256 of the file the template was loaded from.")
    loaded_at = models.DateTimeField(auto_now_add=True)
    loaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    activated_at = models.DateTimeField(null=True, blank=True)
    retired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-loaded_at", "-id"]
        verbose_name = "QAD template"
        constraints = [
            models.UniqueConstraint(
                fields=["status"],
                condition=Q(status=TemplateStatus.ACTIVE),
                name="qad_template_one_active",
                violation_error_message="Only one QAD template can be active at a time.",
            ),
            models.CheckConstraint(condition=Q(status__in=_TEMPLATE_STATUSES), name="qad_template_status_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.title} v{self.version}"


class QadSection(models.Model):
    template = models.ForeignKey(QadTemplate, on_delete=models.CASCADE, related_name="sections")
    number = models.CharField(max_length=12, help_text="e.g. 4.5")
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    theme = models.CharField(max_length=30, choices=QadTheme.choices)
    requirement_area = models.CharField(max_length=30, choices=RequirementArea.choices)
    order = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["template", "order"]
        verbose_name = "QAD section"
        constraints = [
            models.UniqueConstraint(fields=["template", "number"], name="qad_section_unique_number"),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"


class QadQuestion(models.Model):
    """One question of a template: who assesses it, which role groups answer it, and whether
    evidence must be attached to the answer."""

    template = models.ForeignKey(QadTemplate, on_delete=models.CASCADE, related_name="questions")
    section = models.ForeignKey(QadSection, on_delete=models.CASCADE, related_name="questions")
    number = models.CharField(max_length=16, help_text="e.g. 4.5.2")
    text = models.TextField()
    guidance = models.TextField(blank=True)
    assessed_by = models.JSONField(default=list, help_text="Codes of the bodies that assess the answer.")
    role_groups = models.ManyToManyField("participants.RoleGroup", related_name="+")
    evidence_expected = models.BooleanField(default=False)
    evidence_hint = models.CharField(max_length=300, blank=True, help_text="What evidence the assessors expect.")
    order = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["template", "order"]
        verbose_name = "QAD question"
        constraints = [
            models.UniqueConstraint(fields=["template", "number"], name="qad_question_unique_number"),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.text[:60]}"

    @property
    def assessing_bodies(self) -> list[str]:
        return [str(AssessingBody(code).label) for code in self.assessed_by if code in AssessingBody.values]


# --- submissions -----------------------------------------------------------------------------------


class QadSubmission(models.Model):
    """One version of an application's Initial or Final QAD. A draft is edited; submitting freezes
    it; a later submitted version supersedes it."""

    application = models.ForeignKey(
        "qualification.Application", on_delete=models.PROTECT, related_name="qad_submissions"
    )
    kind = models.CharField(max_length=10, choices=QadKind.choices)
    version = models.PositiveIntegerField()
    template = models.ForeignKey(QadTemplate, on_delete=models.PROTECT, related_name="submissions")
    status = models.CharField(max_length=12, choices=SubmissionStatus.choices, default=SubmissionStatus.DRAFT)
    copied_from = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    updated_at = models.DateTimeField(auto_now=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["application", "kind", "version"]
        verbose_name = "QAD version"
        constraints = [
            models.UniqueConstraint(fields=["application", "kind", "version"], name="qad_submission_unique_version"),
            models.UniqueConstraint(
                fields=["application", "kind"],
                condition=Q(status=SubmissionStatus.DRAFT),
                name="qad_submission_one_draft",
                violation_error_message="There is already a draft of this QAD.",
            ),
            models.CheckConstraint(condition=Q(version__gte=1), name="qad_submission_version_positive"),
            models.CheckConstraint(condition=Q(kind__in=[k.value for k in QadKind]), name="qad_submission_kind_valid"),
            models.CheckConstraint(condition=Q(status__in=_SUBMISSION_STATUSES), name="qad_submission_status_valid"),
            models.CheckConstraint(
                condition=(Q(status=SubmissionStatus.DRAFT) & Q(submitted_at__isnull=True))
                | (~Q(status=SubmissionStatus.DRAFT) & Q(submitted_at__isnull=False)),
                name="qad_submission_submitted_at_iff_frozen",
            ),
        ]

    def __str__(self) -> str:
        return f"{QadKind(self.kind).label} v{self.version}"

    @property
    def is_draft(self) -> bool:
        return self.status == SubmissionStatus.DRAFT

    @property
    def task_code(self) -> str:
        return TASK_FOR_KIND[self.kind]


class QadAnswer(models.Model):
    submission = models.ForeignKey(QadSubmission, on_delete=models.CASCADE, related_name="answers")
    question = models.ForeignKey(QadQuestion, on_delete=models.PROTECT, related_name="answers")
    text = models.TextField(blank=True)
    evidence = models.ManyToManyField(EvidenceFile, blank=True, related_name="qad_answers")
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["submission", "question__order"]
        verbose_name = "QAD answer"
        constraints = [
            models.UniqueConstraint(fields=["submission", "question"], name="qad_answer_one_per_question"),
        ]

    def __str__(self) -> str:
        return f"{self.submission}: {self.question.number}"


class QadReviewHold(models.Model):
    """A change of who holds a submitted version's review: the Code Bodies, the participant (while
    they hold a clarification), or nobody (the review has ended). The review clock is the sum of the
    intervals between these rows."""

    submission = models.ForeignKey(QadSubmission, on_delete=models.CASCADE, related_name="holds")
    holder = models.CharField(max_length=20, choices=ReviewHolder.choices)
    at = models.DateTimeField()
    reason = models.CharField(max_length=200)

    class Meta:
        ordering = ["submission", "at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(holder__in=[h.value for h in ReviewHolder]), name="qad_review_hold_holder_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.submission}: {self.holder} from {self.at:%Y-%m-%d %H:%M}"


# --- clarifications --------------------------------------------------------------------------------


class Clarification(models.Model):
    """A reviewer's question on one question of one submitted version. The organisation, role,
    section and question number follow from where it was raised."""

    submission = models.ForeignKey(QadSubmission, on_delete=models.PROTECT, related_name="clarifications")
    question = models.ForeignKey(QadQuestion, on_delete=models.PROTECT, related_name="clarifications")
    status = models.CharField(max_length=10, choices=ClarificationStatus.choices, default=ClarificationStatus.OPEN)
    raised_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    raised_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["raised_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=_CLARIFICATION_STATUSES), name="qad_clarification_status_valid"
            ),
            models.CheckConstraint(
                condition=(Q(status=ClarificationStatus.CLOSED) & Q(closed_at__isnull=False))
                | (~Q(status=ClarificationStatus.CLOSED) & Q(closed_at__isnull=True)),
                name="qad_clarification_closed_at_iff_closed",
            ),
        ]

    def __str__(self) -> str:
        return f"Clarification {self.pk} on {self.question.number}"

    @property
    def reference(self) -> str:
        return f"CL-{self.pk:05d}" if self.pk else "CL-new"


class ClarificationMessage(models.Model):
    clarification = models.ForeignKey(Clarification, on_delete=models.CASCADE, related_name="messages")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    action = models.CharField(max_length=10, choices=ClarificationAction.choices)
    from_participant = models.BooleanField()
    text = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.action} on {self.clarification}"


# --- Director sign-off -----------------------------------------------------------------------------


class Declaration(models.Model):
    """The text a signer declares when signing the Final QAD. Versioned: a signature records which
    version was declared; only the current one can be signed."""

    version = models.PositiveIntegerField(unique=True)
    text = models.TextField()
    is_current = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_current"], condition=Q(is_current=True), name="qad_declaration_one_current"
            ),
        ]

    def __str__(self) -> str:
        return f"Declaration v{self.version}"


class SigningDelegate(models.Model):
    """A member of an organisation whom one of its Company Directors has allowed to sign the Final
    QAD, for roles that qualify under the REC alone."""

    organisation = models.ForeignKey("participants.Organisation", on_delete=models.PROTECT, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    granted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    granted_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-granted_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "user"],
                condition=Q(revoked_at__isnull=True),
                name="signing_delegate_one_active",
                violation_error_message="This person is already a signing delegate of the organisation.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} for {self.organisation}"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class DirectorSignature(models.Model):
    """A signature of one exact version of the Final QAD. `manifest` is the sealed manifest (canonical
    JSON: the SHA-256 of every answer and every evidence file of the version); `manifest_sha256` is
    the SHA-256 of that text. A later change voids the signature."""

    application = models.ForeignKey(
        "qualification.Application", on_delete=models.PROTECT, related_name="qad_signatures"
    )
    submission = models.ForeignKey(QadSubmission, on_delete=models.PROTECT, related_name="signatures")
    signer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    signed_as = models.CharField(max_length=10, choices=SignedAs.choices)
    declaration = models.ForeignKey(Declaration, on_delete=models.PROTECT, related_name="signatures")
    manifest = models.TextField()
    manifest_sha256 = models.CharField(max_length=64)
    signed_at = models.DateTimeField()
    status = models.CharField(max_length=10, choices=SignatureStatus.choices, default=SignatureStatus.VALID)
    voided_at = models.DateTimeField(null=True, blank=True)
    void_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["-signed_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["application"],
                condition=Q(status=SignatureStatus.VALID),
                name="qad_signature_one_valid",
                violation_error_message="The Final QAD of this application is already signed.",
            ),
            models.CheckConstraint(condition=Q(status__in=_SIGNATURE_STATUSES), name="qad_signature_status_valid"),
            models.CheckConstraint(
                condition=(Q(status=SignatureStatus.VOIDED) & Q(voided_at__isnull=False))
                | (~Q(status=SignatureStatus.VOIDED) & Q(voided_at__isnull=True)),
                name="qad_signature_voided_at_iff_voided",
            ),
        ]

    def __str__(self) -> str:
        return f"Signature {self.pk} of {self.submission}"

    @property
    def is_valid(self) -> bool:
        return self.status == SignatureStatus.VALID
