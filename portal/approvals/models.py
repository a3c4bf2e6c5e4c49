"""The approvals: BSC PAB meetings and the rule that generates them, the PAB meeting each application
is targeted at (with its history), the deadlines back-scheduled from those dates, the reminders sent
about them, the extra non-working days, each user's private calendar feed; and the decisions of the
approval bodies, with the Board's recommendations, summary papers, meeting packs and qualification
letters.

Cadences, lead times and deadlines are configuration, not code: the real values are partly unknown
(QA&P Appendix C is not published, nor is the PAB paper deadline for MHHS; see docs/adr/0009).
"""

import uuid
from datetime import time

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from portal.core.models import TimeStampedModel
from portal.participants.models import ApprovalBody
from portal.qualification.models import Application, Task
from portal.qualification.workflow import APPROVING_DECISIONS, Decision
from portal.workoff.models import WorkOffItem

# --- working days ------------------------------------------------------------------------------------


class NonWorkingDay(TimeStampedModel):
    """A day that is not a working day although it is not a weekend or a bank holiday in England and
    Wales (the Code Bodies' offices close, say). Bank holidays come from the `holidays` package and
    need no row here."""

    date = models.DateField(unique=True)
    reason = models.CharField(max_length=200, help_text="Why it is not a working day, e.g. “Office closure”.")

    class Meta:
        ordering = ["date"]
        verbose_name = "extra non-working day"

    def __str__(self) -> str:
        return f"{self.date:%d %B %Y}: {self.reason}"


# --- BSC PAB meetings --------------------------------------------------------------------------------


class Weekday(models.IntegerChoices):
    MONDAY = 0, "Monday"
    TUESDAY = 1, "Tuesday"
    WEDNESDAY = 2, "Wednesday"
    THURSDAY = 3, "Thursday"
    FRIDAY = 4, "Friday"


class WeekOfMonth(models.IntegerChoices):
    FIRST = 1, "First"
    SECOND = 2, "Second"
    THIRD = 3, "Third"
    FOURTH = 4, "Fourth"
    LAST = -1, "Last"


BSC_PAB_RULE = "bsc_pab"


class PabMeetingRule(TimeStampedModel):
    """How the Board's meetings fall: monthly, on one weekday of the month (by default the last
    Thursday, as the BSC PAB's published schedule mostly was), with the paper deadline a number of
    working days before. Meetings are generated from it for the months ahead; each meeting is then its
    own row that the PAB secretary may move or cancel."""

    code = models.SlugField(max_length=40, unique=True, default=BSC_PAB_RULE)
    name = models.CharField(max_length=100, default="BSC Performance Assurance Board")
    is_active = models.BooleanField(default=True, help_text="Only an active rule generates meetings.")
    weekday = models.SmallIntegerField(choices=Weekday.choices, default=Weekday.THURSDAY)
    week_of_month = models.SmallIntegerField(
        choices=WeekOfMonth.choices,
        default=WeekOfMonth.LAST,
        help_text="Which of the month's weekdays: e.g. the second or the last Thursday. When that day is not "
        "a working day the meeting falls a week earlier.",
    )
    starts_at = models.TimeField(default=time(10, 0), help_text="UK time.")
    duration_minutes = models.PositiveSmallIntegerField(default=240)
    location = models.CharField(
        max_length=200,
        default="Online (Microsoft Teams)",
        help_text="Shown in the public calendar: no meeting links or passcodes here.",
    )
    paper_deadline_working_days = models.PositiveSmallIntegerField(
        default=5,
        help_text="Papers are due this many working days before each meeting. The MHHS value is not "
        "published; 5 is the REC PAB's published lead time.",
    )
    months_ahead = models.PositiveSmallIntegerField(default=12, help_text="How far ahead meetings are generated.")

    class Meta:
        verbose_name = "PAB meeting rule"
        constraints = [
            models.CheckConstraint(condition=Q(weekday__gte=0, weekday__lte=4), name="pab_rule_weekday_valid"),
            models.CheckConstraint(condition=Q(week_of_month__in=WeekOfMonth.values), name="pab_rule_week_valid"),
            models.CheckConstraint(
                condition=Q(duration_minutes__gte=15, duration_minutes__lte=720), name="pab_rule_duration_valid"
            ),
            models.CheckConstraint(
                condition=Q(paper_deadline_working_days__lte=60), name="pab_rule_paper_deadline_valid"
            ),
            models.CheckConstraint(
                condition=Q(months_ahead__gte=1, months_ahead__lte=24), name="pab_rule_months_ahead_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def description(self) -> str:
        week = WeekOfMonth(self.week_of_month).label.lower()
        return (
            f"Monthly, on the {week} {Weekday(self.weekday).label} at {self.starts_at:%H:%M}; papers due "
            f"{self.paper_deadline_working_days} working days before"
        )


class MeetingStatus(models.TextChoices):
    SCHEDULED = "scheduled", "Scheduled"
    HELD = "held", "Held"
    CANCELLED = "cancelled", "Cancelled"


class PabMeeting(TimeStampedModel):
    """One BSC PAB meeting. Generated from the rule (`rule_month` says for which month) or added by
    the secretary as an extra meeting. Never deleted: a cancelled meeting stays, marked cancelled."""

    date = models.DateField()
    starts_at = models.TimeField(help_text="UK time.")
    duration_minutes = models.PositiveSmallIntegerField(default=240)
    location = models.CharField(max_length=200, help_text="Shown in the public calendar.")
    paper_deadline = models.DateField(help_text="The last day for papers, in the UK.")
    status = models.CharField(max_length=20, choices=MeetingStatus.choices, default=MeetingStatus.SCHEDULED)
    notes = models.TextField(blank=True, help_text="For signed-in users only: never in the public calendar.")
    rule_month = models.DateField(
        null=True, blank=True, help_text="The month (its first day) the rule generated this meeting for."
    )
    set_by_hand = models.BooleanField(
        default=False, help_text="The secretary set its date, time or paper deadline: the generator leaves it be."
    )
    cancelled_reason = models.TextField(blank=True)
    # Goes up whenever the date, time, place or status changes: the SEQUENCE of its calendar event.
    revision = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["date", "starts_at", "id"]
        verbose_name = "PAB meeting"
        constraints = [
            models.CheckConstraint(condition=Q(status__in=MeetingStatus.values), name="pab_meeting_status_valid"),
            models.CheckConstraint(
                condition=Q(paper_deadline__lte=F("date")), name="pab_meeting_paper_deadline_not_after_meeting"
            ),
            models.CheckConstraint(
                condition=Q(duration_minutes__gte=15, duration_minutes__lte=720), name="pab_meeting_duration_valid"
            ),
            models.CheckConstraint(
                condition=(Q(status=MeetingStatus.CANCELLED) & ~Q(cancelled_reason=""))
                | (~Q(status=MeetingStatus.CANCELLED) & Q(cancelled_reason="")),
                name="pab_meeting_cancelled_reason_iff_cancelled",
            ),
            models.UniqueConstraint(
                fields=["rule_month"], condition=Q(rule_month__isnull=False), name="pab_meeting_one_per_rule_month"
            ),
            models.UniqueConstraint(
                fields=["date"],
                condition=~Q(status=MeetingStatus.CANCELLED),
                name="pab_meeting_one_per_day",
                violation_error_message="There is already a BSC PAB meeting on that day.",
            ),
        ]
        indexes = [models.Index(fields=["status", "date"], name="pab_meeting_status_date_idx")]

    def __str__(self) -> str:
        return self.title

    @property
    def title(self) -> str:
        return f"BSC PAB meeting, {self.date:%A} {self.date.day} {self.date:%B %Y}"

    @property
    def is_cancelled(self) -> bool:
        return self.status == MeetingStatus.CANCELLED


class PabTarget(models.Model):
    """The BSC PAB meeting an application is targeted at. Each targeting is a row of its own, kept for
    ever: moving the target adds a row pointing at the one it replaced and marks that one superseded,
    so the history of targets is never overwritten. The database allows one current target per
    application."""

    application = models.ForeignKey(Application, on_delete=models.PROTECT, related_name="pab_targets")
    meeting = models.ForeignKey(PabMeeting, on_delete=models.PROTECT, related_name="targets")
    previous = models.OneToOneField(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="next",
        help_text="The target it replaced.",
    )
    is_current = models.BooleanField(default=True)
    reason = models.TextField(blank=True, help_text="Why the target moved (required when it moves).")
    late_reason = models.TextField(
        blank=True, help_text="Why the meeting was accepted although its paper deadline had passed."
    )
    set_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    set_at = models.DateTimeField()
    superseded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["application", "-set_at", "-id"]
        verbose_name = "PAB target"
        indexes = [
            # A meeting's agenda: its current targets, by application (counted, listed a page at a time).
            models.Index(
                fields=["meeting", "application"], condition=Q(is_current=True), name="pab_target_current_meeting_idx"
            )
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["application"], condition=Q(is_current=True), name="pab_target_one_current_per_application"
            ),
            models.CheckConstraint(
                condition=Q(is_current=True, superseded_at__isnull=True)
                | Q(is_current=False, superseded_at__isnull=False),
                name="pab_target_superseded_iff_not_current",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.application.reference} → {self.meeting.title}"

    @property
    def is_late(self) -> bool:
        return bool(self.late_reason)


# --- deadlines and reminders -------------------------------------------------------------------------


class DeadlineAnchor(models.TextChoices):
    PAB_PAPER_DEADLINE = "pab_paper_deadline", "The target BSC PAB meeting's paper deadline"
    PAB_MEETING = "pab_meeting", "The target BSC PAB meeting"
    QT_START = "qt_start", "The start of Qualification Testing"


class Milestone(models.TextChoices):
    SUBMITTED = "submitted", "Submitted"
    COMPLETED = "completed", "Completed"


class DeadlineRule(TimeStampedModel):
    """“The <task> must be <submitted | completed> N working days before <anchor>.”

    QA&P Appendix C (the QAD submission timelines) is not published, so these are data with sensible
    defaults (a data migration) that the Code Bodies change in the admin. A rule applies to every
    application that has the task and whose anchor date is known: the target meeting's dates once an
    analyst has set one, the QT start from the QT plan (else the PQS, else the preferred wave)."""

    code = models.SlugField(max_length=60, unique=True)
    title = models.CharField(max_length=200, help_text="What must be done, e.g. “Final QAD signed by a Director”.")
    description = models.TextField(blank=True)
    task_code = models.SlugField(max_length=40, help_text="The task, e.g. initial_qad or director_signoff.")
    milestone = models.CharField(
        max_length=20,
        choices=Milestone.choices,
        help_text="Submitted: with the reviewers or done (a task sent back for changes is not). Completed: done.",
    )
    anchor = models.CharField(max_length=30, choices=DeadlineAnchor.choices)
    working_days_before = models.PositiveSmallIntegerField()
    remind_working_days_before = models.PositiveSmallIntegerField(
        default=5, help_text="The first reminder goes out this many working days before the deadline."
    )
    is_active = models.BooleanField(default=True)
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["order", "code"]
        verbose_name = "deadline rule"
        constraints = [
            models.CheckConstraint(condition=Q(milestone__in=Milestone.values), name="deadline_rule_milestone_valid"),
            models.CheckConstraint(condition=Q(anchor__in=DeadlineAnchor.values), name="deadline_rule_anchor_valid"),
            models.CheckConstraint(condition=Q(working_days_before__lte=250), name="deadline_rule_days_valid"),
            models.CheckConstraint(
                condition=Q(remind_working_days_before__lte=60), name="deadline_rule_reminder_days_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.title


class ReminderKind(models.TextChoices):
    DUE_SOON = "due_soon", "Due soon"
    DUE_TODAY = "due_today", "Due today"
    OVERDUE = "overdue", "Overdue"


class DeadlineReminder(models.Model):
    """A reminder sent to one person about one deadline (an application, a rule and its due date). The
    unique constraint is what makes the reminder job safe to run again: each kind of reminder about a
    deadline reaches each person once. A deadline that moves (the target meeting moved) is a new due
    date, and is reminded of afresh."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="deadline_reminders")
    rule = models.ForeignKey(DeadlineRule, on_delete=models.CASCADE, related_name="reminders")
    due_on = models.DateField()
    kind = models.CharField(max_length=20, choices=ReminderKind.choices)
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    sent_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "deadline reminder"
        constraints = [
            models.UniqueConstraint(
                fields=["application", "rule", "due_on", "kind", "recipient"], name="deadline_reminder_once"
            ),
            models.CheckConstraint(condition=Q(kind__in=ReminderKind.values), name="deadline_reminder_kind_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.rule} on {self.application.reference} to {self.recipient}"


# --- calendar feeds ----------------------------------------------------------------------------------


class CalendarFeed(models.Model):
    """A user's private calendar feed. The secret in its address is derived from `nonce` with the
    site's secret key, so a copy of the database alone does not give the addresses away; `token_hash`
    (its SHA-256) finds the feed from the address. Resetting draws a new nonce: the old address stops
    working at once."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_feed")
    nonce = models.CharField(max_length=64)
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    reset_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "calendar feed"

    def __str__(self) -> str:
        return f"Calendar feed of {self.user}"


# --- decisions -----------------------------------------------------------------------------------------


def _generated_path(folder: str, instance: models.Model, filename: str) -> str:
    # Server-generated and never reused: a regenerated document is a new file, the old one stays.
    key = uuid.uuid4().hex
    return f"{folder}/{key[:2]}/{key}.pdf"


def paper_path(instance: "PabPaper", filename: str) -> str:
    return _generated_path("pab/papers", instance, filename)


def pack_path(instance: "PabPack", filename: str) -> str:
    return _generated_path("pab/packs", instance, filename)


def letter_path(instance: "QualificationLetter", filename: str) -> str:
    return _generated_path("pab/letters", instance, filename)


_DECISIONS = [d.value for d in Decision]
_BODIES = [b.value for b in ApprovalBody]


class ApprovalDecision(models.Model):
    """One decision of one approval body on one application: the outcome, why, the conditions (agreed
    work-off items) when approved with conditions, who recorded it and when. A deferral is a decision
    too; the body decides again later, so an application may have several decisions per body. Never
    changed once recorded: the history of decisions is the record."""

    application = models.ForeignKey(Application, on_delete=models.PROTECT, related_name="approval_decisions")
    task = models.ForeignKey(Task, on_delete=models.PROTECT, related_name="approval_decisions")
    body = models.CharField(max_length=30, choices=ApprovalBody.choices)
    outcome = models.CharField(max_length=30, choices=Decision.choices)
    rationale = models.TextField()
    conditions = models.ManyToManyField(WorkOffItem, blank=True, related_name="approval_conditions")
    meeting = models.ForeignKey(
        PabMeeting,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="decisions",
        help_text="The BSC PAB meeting that decided (BSC PAB decisions only).",
    )
    decided_on = models.DateField(help_text="The UK date of the decision (the meeting's date for the BSC PAB).")
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ["application", "recorded_at", "id"]
        verbose_name = "approval decision"
        constraints = [
            models.CheckConstraint(condition=Q(outcome__in=_DECISIONS), name="approval_decision_outcome_valid"),
            models.CheckConstraint(condition=Q(body__in=_BODIES), name="approval_decision_body_valid"),
            models.CheckConstraint(condition=~Q(rationale=""), name="approval_decision_has_rationale"),
            # The Board decides at a meeting; the other bodies decide on a rolling basis.
            models.CheckConstraint(
                condition=(Q(body=ApprovalBody.BSC_PAB) & Q(meeting__isnull=False))
                | (~Q(body=ApprovalBody.BSC_PAB) & Q(meeting__isnull=True)),
                name="approval_decision_meeting_iff_pab",
            ),
        ]
        indexes = [models.Index(fields=["body", "recorded_at"], name="approval_decision_body_idx")]

    def __str__(self) -> str:
        return f"{self.get_body_display()}: {self.get_outcome_display()} on {self.application.reference}"

    @property
    def is_approving(self) -> bool:
        return self.outcome in APPROVING_DECISIONS


# --- the BSC PAB's papers, packs and letters ---------------------------------------------------------------


class GenerationStatus(models.TextChoices):
    QUEUED = "queued", "Being generated"
    READY = "ready", "Ready"
    FAILED = "failed", "Failed"


_GENERATION_STATUSES = [s.value for s in GenerationStatus]


class PabRecommendation(models.Model):
    """The Elexon recommendation to the Board on one application for one meeting, made by an Elexon
    analyst or the QSP. A new recommendation supersedes the previous one for the same meeting; all
    are kept. Whoever recommended may not also record the decision."""

    application = models.ForeignKey(Application, on_delete=models.PROTECT, related_name="pab_recommendations")
    meeting = models.ForeignKey(PabMeeting, on_delete=models.PROTECT, related_name="recommendations")
    outcome = models.CharField(max_length=30, choices=Decision.choices)
    text = models.TextField(help_text="The recommendation and its reasons, as the Board will read it.")
    recommended_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recommended_at = models.DateTimeField()
    is_current = models.BooleanField(default=True)

    class Meta:
        ordering = ["application", "-recommended_at", "-id"]
        verbose_name = "PAB recommendation"
        constraints = [
            models.CheckConstraint(condition=Q(outcome__in=_DECISIONS), name="pab_recommendation_outcome_valid"),
            models.CheckConstraint(condition=~Q(text=""), name="pab_recommendation_has_text"),
            models.UniqueConstraint(
                fields=["application", "meeting"],
                condition=Q(is_current=True),
                name="pab_recommendation_one_current",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_outcome_display()} for {self.application.reference}"


class PabPaper(models.Model):
    """The summary paper on one application for one meeting, generated from the data (qualification
    activities, test results, work-off plans, the recommendation) as a PDF by a background job. A paper
    prepared again is a new version; the older ones are kept. Whoever prepared it may not also record
    the decision. Its body is kept as generated (`content`), so the page, the PDF and the meeting pack
    show the same paper whatever has changed in the data since."""

    application = models.ForeignKey(Application, on_delete=models.PROTECT, related_name="pab_papers")
    meeting = models.ForeignKey(PabMeeting, on_delete=models.PROTECT, related_name="papers")
    version = models.PositiveSmallIntegerField()
    prepared_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    prepared_at = models.DateTimeField()
    status = models.CharField(max_length=10, choices=GenerationStatus.choices, default=GenerationStatus.QUEUED)
    file = models.FileField(upload_to=paper_path, max_length=200, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    size = models.PositiveIntegerField(default=0)
    generated_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)
    content = models.TextField(
        blank=True,
        help_text="The paper's body as generated (HTML): what its PDF, its page and the pack show.",
    )

    class Meta:
        ordering = ["meeting", "application", "-version"]
        verbose_name = "PAB summary paper"
        constraints = [
            models.UniqueConstraint(fields=["application", "meeting", "version"], name="pab_paper_version_unique"),
            models.CheckConstraint(condition=Q(status__in=_GENERATION_STATUSES), name="pab_paper_status_valid"),
            models.CheckConstraint(
                condition=~Q(status=GenerationStatus.READY)
                | (~Q(file="") & ~Q(sha256="") & Q(generated_at__isnull=False)),
                name="pab_paper_ready_has_file",
            ),
        ]

    def __str__(self) -> str:
        return f"Summary paper v{self.version} on {self.application.reference} for {self.meeting.title}"


class PabPack(models.Model):
    """The whole meeting pack as one PDF: the agenda and every current summary paper. Generated by a
    background job when the secretary asks; each generation is a new version and the older ones stay."""

    meeting = models.ForeignKey(PabMeeting, on_delete=models.PROTECT, related_name="packs")
    version = models.PositiveSmallIntegerField()
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField()
    status = models.CharField(max_length=10, choices=GenerationStatus.choices, default=GenerationStatus.QUEUED)
    file = models.FileField(upload_to=pack_path, max_length=200, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    size = models.PositiveIntegerField(default=0)
    page_count = models.PositiveIntegerField(default=0)
    generated_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["meeting", "-version"]
        verbose_name = "PAB meeting pack"
        constraints = [
            models.UniqueConstraint(fields=["meeting", "version"], name="pab_pack_version_unique"),
            models.CheckConstraint(condition=Q(status__in=_GENERATION_STATUSES), name="pab_pack_status_valid"),
            models.CheckConstraint(
                condition=~Q(status=GenerationStatus.READY)
                | (~Q(file="") & ~Q(sha256="") & Q(generated_at__isnull=False)),
                name="pab_pack_ready_has_file",
            ),
        ]

    def __str__(self) -> str:
        return f"Meeting pack v{self.version} for {self.meeting.title}"


class LetterStatus(models.TextChoices):
    DRAFT = "draft", "Waiting for the PAB Chair"
    ISSUED = "issued", "Issued"


class QualificationLetter(models.Model):
    """The qualification letter that follows a BSC PAB approval: generated as a PDF by a background job,
    issued by the PAB Chair, then e-mailed to the participant (and the Service Activation team told)."""

    decision = models.OneToOneField(ApprovalDecision, on_delete=models.PROTECT, related_name="letter")
    application = models.ForeignKey(Application, on_delete=models.PROTECT, related_name="qualification_letters")
    status = models.CharField(max_length=10, choices=LetterStatus.choices, default=LetterStatus.DRAFT)
    generation = models.CharField(max_length=10, choices=GenerationStatus.choices, default=GenerationStatus.QUEUED)
    file = models.FileField(upload_to=letter_path, max_length=200, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    size = models.PositiveIntegerField(default=0)
    generated_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    issued_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = "qualification letter"
        constraints = [
            models.CheckConstraint(condition=Q(status__in=LetterStatus.values), name="letter_status_valid"),
            models.CheckConstraint(condition=Q(generation__in=_GENERATION_STATUSES), name="letter_generation_valid"),
            models.CheckConstraint(
                condition=~Q(generation=GenerationStatus.READY)
                | (~Q(file="") & ~Q(sha256="") & Q(generated_at__isnull=False)),
                name="letter_ready_has_file",
            ),
            # Only a generated letter can be issued, and an issued letter says by whom and when.
            models.CheckConstraint(
                condition=Q(status=LetterStatus.DRAFT, issued_at__isnull=True, issued_by__isnull=True)
                | Q(
                    status=LetterStatus.ISSUED,
                    issued_at__isnull=False,
                    issued_by__isnull=False,
                    generation=GenerationStatus.READY,
                ),
                name="letter_issued_has_issuer",
            ),
        ]

    def __str__(self) -> str:
        return f"Qualification letter for {self.application.reference}"
