"""The QAD template as a data file: reading and checking it, and writing it to the database.

The file is JSON (see `data/qad_template_default.json`):

    {"version": "1.0", "title": "...", "description": "...",
     "sections": [{"number": "4.5", "title": "...", "description": "...",
                   "theme": "sit_qt", "requirement_area": "non_functional",
                   "assessed_by": ["dip_manager"], "role_groups": ["supplier", "ldso", "mem", "data_service"],
                   "questions": [{"number": "4.5.1", "text": "...", "guidance": "...",
                                  "evidence_expected": true, "evidence": "What evidence is expected",
                                  "assessed_by": [...], "role_groups": [...]}]}]}

A question takes its section's `assessed_by` and `role_groups` unless it names its own. Every problem
in a file is reported at once, each with where it is ("section 4.5, question 4.5.2: ..."), so an
administrator can fix the file in one go. `template_store` takes an app registry so that a data
migration can run it against historical models.
"""

import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.apps import apps as global_apps
from django.utils import timezone

from portal.core.errors import InvalidInput
from portal.documents.workflow import AssessingBody, QadTheme, RequirementArea, TemplateStatus

DEFAULT_TEMPLATE_PATH = Path(__file__).resolve().parent / "data" / "qad_template_default.json"
MAX_FILE_BYTES = 2 * 1024 * 1024
VERSION_PATTERN = re.compile(r"^[0-9A-Za-z][0-9A-Za-z.\-]{0,19}$")
NUMBER_PATTERN = re.compile(r"^[0-9]{1,3}(\.[0-9]{1,3}){0,4}$")
MAX_ERRORS = 50

TEMPLATE_KEYS = {"version", "title", "description", "sections"}
SECTION_KEYS = {
    "number",
    "title",
    "description",
    "theme",
    "requirement_area",
    "assessed_by",
    "role_groups",
    "questions",
}
QUESTION_KEYS = {"number", "text", "guidance", "evidence_expected", "evidence", "assessed_by", "role_groups"}


@dataclass(frozen=True)
class QuestionData:
    number: str
    text: str
    guidance: str
    evidence_expected: bool
    evidence_hint: str
    assessed_by: tuple[str, ...]
    role_groups: tuple[str, ...]


@dataclass(frozen=True)
class SectionData:
    number: str
    title: str
    description: str
    theme: str
    requirement_area: str
    questions: tuple[QuestionData, ...]


@dataclass(frozen=True)
class TemplateData:
    version: str
    title: str
    description: str
    sections: tuple[SectionData, ...]
    source_sha256: str

    @property
    def question_count(self) -> int:
        return sum(len(s.questions) for s in self.sections)


@dataclass
class _Problems:
    items: list[str] = field(default_factory=list)

    def add(self, where: str, message: str) -> None:
        if len(self.items) < MAX_ERRORS:
            self.items.append(f"{where}: {message}" if where else message)


def template_parse(raw: bytes | str, *, role_group_codes: set[str]) -> TemplateData:
    """Read and check a template file. Raises InvalidInput listing every problem in
    `details["errors"]` (each naming where it is); nothing is stored by this function."""
    data = raw.encode() if isinstance(raw, str) else raw
    if len(data) > MAX_FILE_BYTES:
        raise _invalid([f"The file is larger than {MAX_FILE_BYTES // (1024 * 1024)} MB."])
    if not data.strip():
        raise _invalid(["The file is empty."])
    try:
        document = json.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise _invalid(["The file is not UTF-8 text."]) from None
    except json.JSONDecodeError as exc:
        raise _invalid([f"The file is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}."]) from None
    problems = _Problems()
    template = _template(document, problems, role_group_codes, hashlib.sha256(data).hexdigest())
    if problems.items or template is None:
        raise _invalid(problems.items or ["The file holds no template."])
    return template


def _invalid(errors: list[str]) -> InvalidInput:
    count = len(errors)
    head = "The QAD template file has a problem" if count == 1 else f"The QAD template file has {count} problems"
    return InvalidInput(f"{head}: {errors[0]}", details={"errors": errors, "field": "file"})


def _text(value: Any, where: str, name: str, problems: _Problems, *, limit: int, required: bool = True) -> str:
    if value is None:
        if required:
            problems.add(where, f"“{name}” is missing.")
        return ""
    if not isinstance(value, str):
        problems.add(where, f"“{name}” must be text.")
        return ""
    value = value.strip()
    if required and not value:
        problems.add(where, f"“{name}” is empty.")
    if len(value) > limit:
        problems.add(where, f"“{name}” is longer than {limit} characters.")
    if any(ord(ch) < 32 and ch not in "\n\t" for ch in value):
        problems.add(where, f"“{name}” contains control characters.")
    return value


def _codes(value: Any, where: str, name: str, allowed: set[str], problems: _Problems, kind: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        problems.add(where, f"“{name}” must be a list of codes.")
        return ()
    if not value:
        problems.add(where, f"“{name}” must name at least one {kind}.")
    unknown = [v for v in value if v not in allowed]
    if unknown:
        problems.add(
            where,
            f"“{name}” names unknown {kind} {', '.join(repr(u) for u in unknown)}; use {', '.join(sorted(allowed))}.",
        )
    return tuple(dict.fromkeys(v for v in value if v in allowed))


def _unknown_keys(obj: dict[str, Any], allowed: set[str], where: str, problems: _Problems) -> None:
    extra = sorted(set(obj) - allowed)
    if extra:
        problems.add(where, f"unknown field {', '.join(repr(k) for k in extra)}.")


def _template(document: Any, problems: _Problems, role_groups: set[str], digest: str) -> TemplateData | None:
    if not isinstance(document, dict):
        problems.add("", "The file must hold one JSON object with version, title and sections.")
        return None
    _unknown_keys(document, TEMPLATE_KEYS, "template", problems)
    version = _text(document.get("version"), "template", "version", problems, limit=20)
    if version and not VERSION_PATTERN.match(version):
        problems.add("template", f"“version” {version!r} must be letters, digits, dots or hyphens, like 3.2.")
    title = _text(document.get("title"), "template", "title", problems, limit=200)
    description = _text(document.get("description"), "template", "description", problems, limit=5000, required=False)
    raw_sections = document.get("sections")
    if not isinstance(raw_sections, list) or not raw_sections:
        problems.add("template", "“sections” must be a non-empty list.")
        return None
    sections: list[SectionData] = []
    section_numbers: set[str] = set()
    question_numbers: set[str] = set()
    for index, raw in enumerate(raw_sections, start=1):
        section = _section(raw, index, problems, role_groups, question_numbers)
        if section is None:
            continue
        if section.number in section_numbers:
            problems.add(f"section {section.number}", "the section number is used twice.")
        section_numbers.add(section.number)
        sections.append(section)
    return TemplateData(version, title, description, tuple(sections), digest)


def _section(
    raw: Any, index: int, problems: _Problems, role_groups: set[str], question_numbers: set[str]
) -> SectionData | None:
    where = f"section {index}"
    if not isinstance(raw, dict):
        problems.add(where, "must be an object.")
        return None
    number = _text(raw.get("number"), where, "number", problems, limit=12)
    if number:
        where = f"section {number}"
        if not NUMBER_PATTERN.match(number):
            problems.add(where, "the number must be digits separated by dots, like 4.5.")
    _unknown_keys(raw, SECTION_KEYS, where, problems)
    title = _text(raw.get("title"), where, "title", problems, limit=200)
    description = _text(raw.get("description"), where, "description", problems, limit=5000, required=False)
    theme = raw.get("theme")
    if theme not in QadTheme.values:
        problems.add(where, f"“theme” must be one of {', '.join(QadTheme.values)}.")
    area = raw.get("requirement_area")
    if area not in RequirementArea.values:
        problems.add(where, f"“requirement_area” must be one of {', '.join(RequirementArea.values)}.")
    bodies = _codes(raw.get("assessed_by"), where, "assessed_by", set(AssessingBody.values), problems, "body")
    groups = _codes(raw.get("role_groups"), where, "role_groups", role_groups, problems, "role group")
    raw_questions = raw.get("questions")
    if not isinstance(raw_questions, list) or not raw_questions:
        problems.add(where, "“questions” must be a non-empty list.")
        raw_questions = []
    questions = []
    for q_index, raw_question in enumerate(raw_questions, start=1):
        question = _question(raw_question, where, q_index, number, bodies, groups, problems, role_groups)
        if question is None:
            continue
        if question.number in question_numbers:
            problems.add(f"{where}, question {question.number}", "the question number is used twice.")
        question_numbers.add(question.number)
        questions.append(question)
    return SectionData(number, title, description, str(theme or ""), str(area or ""), tuple(questions))


def _question(
    raw: Any,
    section_where: str,
    index: int,
    section_number: str,
    bodies: tuple[str, ...],
    groups: tuple[str, ...],
    problems: _Problems,
    role_groups: set[str],
) -> QuestionData | None:
    where = f"{section_where}, question {index}"
    if not isinstance(raw, dict):
        problems.add(where, "must be an object.")
        return None
    number = _text(raw.get("number"), where, "number", problems, limit=16)
    if number:
        where = f"{section_where}, question {number}"
        if not NUMBER_PATTERN.match(number):
            problems.add(where, "the number must be digits separated by dots, like 4.5.2.")
        elif section_number and not number.startswith(f"{section_number}."):
            problems.add(where, f"the number must start with its section's number ({section_number}.).")
    _unknown_keys(raw, QUESTION_KEYS, where, problems)
    text = _text(raw.get("text"), where, "text", problems, limit=5000)
    guidance = _text(raw.get("guidance"), where, "guidance", problems, limit=5000, required=False)
    hint = _text(raw.get("evidence"), where, "evidence", problems, limit=300, required=False)
    expected = raw.get("evidence_expected", False)
    if not isinstance(expected, bool):
        problems.add(where, "“evidence_expected” must be true or false.")
        expected = False
    if "assessed_by" in raw:
        bodies = _codes(raw["assessed_by"], where, "assessed_by", set(AssessingBody.values), problems, "body")
    if "role_groups" in raw:
        groups = _codes(raw["role_groups"], where, "role_groups", role_groups, problems, "role group")
    return QuestionData(number, text, guidance, expected, hint, bodies, groups)


def template_store(
    template: TemplateData, *, apps: Any = global_apps, loaded_by_id: int | None = None, activate: bool = True
) -> Any:
    """Write a checked template (new rows only: a template is never edited in place). With
    `activate`, the active template is retired and this one becomes active."""
    QadTemplate = apps.get_model("documents", "QadTemplate")
    QadSection = apps.get_model("documents", "QadSection")
    QadQuestion = apps.get_model("documents", "QadQuestion")
    RoleGroup = apps.get_model("participants", "RoleGroup")
    if QadTemplate.objects.filter(version=template.version).exists():
        raise InvalidInput(
            f"A QAD template version {template.version} is already loaded; give the new file another version.",
            details={"errors": [f"template: version {template.version} is already loaded."], "field": "file"},
        )
    groups = {g.code: g for g in RoleGroup.objects.all()}
    row = QadTemplate.objects.create(
        version=template.version,
        title=template.title,
        description=template.description,
        status=TemplateStatus.DRAFT,
        source_sha256=template.source_sha256,
        loaded_by_id=loaded_by_id,
    )
    order = 0
    for section_order, section in enumerate(template.sections, start=1):
        section_row = QadSection.objects.create(
            template=row,
            number=section.number,
            title=section.title,
            description=section.description,
            theme=section.theme,
            requirement_area=section.requirement_area,
            order=section_order,
        )
        for question in section.questions:
            order += 1
            question_row = QadQuestion.objects.create(
                template=row,
                section=section_row,
                number=question.number,
                text=question.text,
                guidance=question.guidance,
                assessed_by=list(question.assessed_by),
                evidence_expected=question.evidence_expected,
                evidence_hint=question.evidence_hint,
                order=order,
            )
            question_row.role_groups.set([groups[code] for code in question.role_groups])
    if activate:
        template_activate_row(row, apps=apps)
    return row


def template_activate_row(row: Any, *, apps: Any = global_apps) -> None:
    QadTemplate = apps.get_model("documents", "QadTemplate")
    now = timezone.now()
    QadTemplate.objects.filter(status=TemplateStatus.ACTIVE).exclude(pk=row.pk).update(
        status=TemplateStatus.RETIRED, retired_at=now
    )
    row.status = TemplateStatus.ACTIVE
    row.activated_at = now
    row.retired_at = None
    row.save(update_fields=["status", "activated_at", "retired_at"])


def default_template_load(apps: Any = global_apps) -> Any | None:
    """Load the shipped template unless a template is already active (used by the data migration)."""
    QadTemplate = apps.get_model("documents", "QadTemplate")
    RoleGroup = apps.get_model("participants", "RoleGroup")
    if QadTemplate.objects.filter(status=TemplateStatus.ACTIVE).exists():
        return None
    codes = set(RoleGroup.objects.values_list("code", flat=True))
    template = template_parse(DEFAULT_TEMPLATE_PATH.read_bytes(), role_group_codes=codes)
    if QadTemplate.objects.filter(version=template.version).exists():
        return None
    return template_store(template, apps=apps)
