"""The shipped configuration of the approvals calendar: the BSC PAB meeting rule and the deadline
rules. Loaded by a data migration (`approvals/0002_default_rules`); administrators then change the rows
in the admin.

The values are defaults, not published facts (see docs/adr/0009): QA&P Appendix C, which sets the QAD
submission timelines, is not published, and neither is the MHHS paper deadline before a BSC PAB
meeting. The BSC PAB has met monthly on a Thursday, mostly the last one of the month; the REC PAB
publishes papers 5 working days before its meetings.
"""

from dataclasses import dataclass
from typing import Any

from django.apps import apps as global_apps


@dataclass(frozen=True)
class DeadlineRuleSpec:
    code: str
    title: str
    description: str
    task_code: str
    milestone: str
    anchor: str
    working_days_before: int
    remind_working_days_before: int = 5


DEADLINE_RULES: tuple[DeadlineRuleSpec, ...] = (
    DeadlineRuleSpec(
        "initial_qad_before_qt",
        "Initial QAD submitted",
        "The Initial QAD reaches the Code Bodies before Qualification Testing starts, so that they can review "
        "it while the participant prepares (QA&P Appendix C; default pending its publication).",
        "initial_qad",
        "submitted",
        "qt_start",
        10,
    ),
    DeadlineRuleSpec(
        "final_qad_submitted_before_pab",
        "Final QAD submitted",
        "The Final QAD reaches the Code Bodies in time for their review, any clarifications and the Director's "
        "signature before the target BSC PAB meeting's paper deadline.",
        "final_qad",
        "submitted",
        "pab_paper_deadline",
        20,
    ),
    DeadlineRuleSpec(
        "final_qad_signed_before_pab",
        "Final QAD signed by a Director",
        "The signed Final QAD is with Elexon in time to write the summary paper for the target BSC PAB meeting.",
        "director_signoff",
        "completed",
        "pab_paper_deadline",
        5,
    ),
)


def approvals_reference_data_load(apps: Any = global_apps, *, reset: bool = False) -> int:
    """Add the shipped meeting rule and deadline rules that are missing (by code); with `reset=True`
    put them back to their shipped values. Returns how many rows were added."""
    PabMeetingRule = apps.get_model("approvals", "PabMeetingRule")
    DeadlineRule = apps.get_model("approvals", "DeadlineRule")
    added = 0
    rule, made = PabMeetingRule.objects.get_or_create(code="bsc_pab")
    added += int(made)
    if reset and not made:
        for field in PabMeetingRule._meta.concrete_fields:
            if field.name not in {"id", "code", "created_at", "updated_at"}:
                setattr(rule, field.attname, field.get_default())
        rule.save()
    for position, spec in enumerate(DEADLINE_RULES, start=1):
        values = {
            "title": spec.title,
            "description": spec.description,
            "task_code": spec.task_code,
            "milestone": spec.milestone,
            "anchor": spec.anchor,
            "working_days_before": spec.working_days_before,
            "remind_working_days_before": spec.remind_working_days_before,
            "order": position * 10,
            "is_active": True,
        }
        if reset:
            _, made = DeadlineRule.objects.update_or_create(code=spec.code, defaults=values)
        else:
            _, made = DeadlineRule.objects.get_or_create(code=spec.code, defaults=values)
        added += int(made)
    return added
