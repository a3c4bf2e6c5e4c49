"""The authorization matrix: who may do what, at every address of the portal and every API operation.

Read a row as: the outcome for each subject of the matrix (see `world.py`), written compactly —
`{outcome: subjects, "*": outcome for every other signed-in subject}`. The anonymous caller is sent to
the sign-in page on the web (`LOGIN`) and answered 401 by the API, unless the row says otherwise.

- `get` is the outcome of a GET; `post` of a POST with an empty form (web pages); an API row's `call`
  is the outcome of its own method with an empty JSON body. An empty body is refused as bad input
  (400, 422) or taken (200, 302, 409…) by whoever may act; everyone else is refused (403, or 404 where
  the object is out of their sight), and a refused call changes nothing and leaves one `authz.denied`
  audit event for each 403.
- Another organisation's objects are not listed: for every address that names an organisation's
  object, Northern's member and director asking for Rival's must get exactly what they get for an
  object that does not exist (404: tenancy, DESIGN.md §3), and change nothing. The test derives those
  cells from the table below.

Outcomes are the status codes, or LOGIN for a redirect to the sign-in page.

The world (`world.py`) has an application of each organisation waiting for the BSC PAB's decision; an
object the world does not hold is addressed by an id that nothing has, so its row reads 404 for those
who may see such objects (MISSING_OBJECTS lists those addresses).
"""

from typing import Any, NamedTuple

from portal.tests.security.world import ANONYMOUS, DIRECTOR, MEMBER, MISSING


class Key(NamedTuple):
    """A sample value taken from the world: `side.ids[name]`."""

    name: str


LOGIN = "login"
# An unsafe call taken (or refused as bad input or as impossible now) by whoever may act: not called.
OK = "ok"
ANON = ANONYMOUS
M, D = MEMBER, DIRECTOR
ANALYST, QSP, TA, PROG, DIPM, REC = (
    "elexon_analyst",
    "qsp",
    "testing_assurance",
    "programme_assurance",
    "dip_manager",
    "rec_code_manager",
)
SEC, CHAIR, PABM, SA, ADMIN = "pab_secretary", "pab_chair", "pab_member", "service_activation", "administrator"
# Groups, for reading.
P = (M, D)
PAB = (SEC, CHAIR, PABM)
CODE_BODIES = (ANALYST, QSP, REC)

# The value of each address parameter: by name, or by "route name.parameter" where one name means
# different things on different addresses. Keys are read from the world's organisation side.
SAMPLES: dict[str, Any] = {
    "application_id": Key("application_id"),
    "organisation_id": Key("organisation_id"),
    "task_code": Key("task_code"),
    "attachment_id": Key("attachment_id"),
    "notification_id": Key("notification_id"),
    "criterion_code": Key("pit_criterion_code"),
    "checkpoint": "pit_entry",
    "requirement": Key("rttm_requirement"),
    "snapshot_id": Key("snapshot_id"),
    "flow_code": Key("flow_code"),
    "code": Key("flow_code"),
    "item_code": Key("readiness_item_code"),
    "execution_id": Key("execution_id"),
    "defect_id": Key("defect_id"),
    "report_id": Key("report_id"),
    "job_id": MISSING,
    "step_code": Key("dip_step_code"),
    "dip_id_id": Key("dip_id_id"),
    "delegate_id": Key("delegate_id"),
    "clarification_id": Key("clarification_id"),
    "signature_id": Key("signature_id"),
    "kind": "final",
    "number": Key("qad_question"),
    "question": Key("qad_question"),
    "meeting_id": Key("meeting_id"),
    "letter_id": MISSING,
    "token": "not-a-feed-token",
    "token_id": MISSING,
    "session_id": MISSING,
    "body": "bsc_pab",
    "identifier": Key("case_identifier"),
    "evidence_id": Key("evidence_id"),
    "item_id": Key("pqs_item_id"),
    "file_format": "pdf",
    "name": "applications",
    "version": 1,
    # Where a name means something else.
    "web:task_action.action": "submit",
    "workoff:item_action.action": "review",
    "documents:clarification_act.action": "answer",
    "documents:qad_section.number": Key("qad_section"),
    "prequalification:item_evidence.evidence_id": Key("evidence_id"),
    "testing:pit_evidence_remove.evidence_id": Key("pit_evidence_id"),
    "testing:pit_evidence_download.evidence_id": Key("pit_evidence_id"),
    "testing:qt_execution_evidence_download.evidence_id": Key("execution_evidence_id"),
    "workoff:evidence_download.evidence_id": Key("workoff_evidence_id"),
    "workoff:item_detail.item_id": Key("workoff_item_id"),
    "workoff:item_edit.item_id": Key("workoff_item_id"),
    "workoff:item_close.item_id": Key("workoff_item_id"),
    "workoff:item_action.item_id": Key("workoff_item_id"),
    "testing:catalogue_scenario_edit.identifier": Key("scenario_identifier"),
    "testing:catalogue_requirement_edit.identifier": Key("requirement_identifier"),
    "approvals:pab_paper_pdf.version": Key("paper_version"),
    "approvals:pab_pack_pdf.version": Key("pack_version"),
    "reports:export.file_format": "csv",
    "reports:portfolio_pdf.report_id": MISSING,
    "activation:check_set.item_code": Key("activation_item_code"),
    "api:handoff_check_set.item_code": Key("activation_item_code"),
    "api:pit_criterion_evidence_remove.evidence_id": Key("pit_evidence_id"),
    "api:pit_evidence_download.evidence_id": Key("pit_evidence_id"),
    "api:qt_execution_evidence_download.evidence_id": Key("execution_evidence_id"),
    "api:workoff_evidence_download.evidence_id": Key("workoff_evidence_id"),
    "api:workoff_item_get.item_id": Key("workoff_item_id"),
    "api:workoff_item_edit.item_id": Key("workoff_item_id"),
    "api:workoff_item_transition.item_id": Key("workoff_item_id"),
    "api:workoff_item_close.item_id": Key("workoff_item_id"),
    "api:qt_catalogue_scenario_get.identifier": Key("scenario_identifier"),
    "api:qt_catalogue_scenario_update.identifier": Key("scenario_identifier"),
    "api:qt_catalogue_requirement_get.identifier": Key("requirement_identifier"),
    "api:qt_catalogue_requirement_update.identifier": Key("requirement_identifier"),
    "api:paper_pdf_download.version": Key("paper_version"),
    "api:pack_pdf_download.version": Key("pack_version"),
}

# Addresses whose object the world does not hold (asked for with an id nothing has): defects and work-off
# items (raised only while Qualification Testing is open), PQS reliance items, task attachments,
# clarifications, qualification letters, import jobs, generated PDFs (papers, packs, letters, reports).
MISSING_OBJECTS = [
    "prequalification:item_edit",
    "prequalification:item_remove",
    "prequalification:item_decide",
    "prequalification:item_evidence",
    "web:attachment_download",
    "testing:qt_defect_detail",
    "testing:qt_defect_edit",
    "testing:qt_defect_status",
    "testing:qt_defect_comment",
    "testing:qt_report_download",
    "testing:import_job",
    "testing:import_job_progress",
    "documents:clarification",
    "documents:clarification_act",
    "workoff:item_detail",
    "workoff:item_edit",
    "workoff:item_close",
    "workoff:item_action",
    "workoff:evidence_download",
    "approvals:pab_paper_pdf",
    "approvals:pab_pack_pdf",
    "approvals:pab_letter",
    "approvals:pab_letter_pdf",
    "approvals:pab_letter_issue",
    "approvals:pab_letter_regenerate",
    "reports:portfolio_pdf",
]

# Each page of the web UI: GET, and POST with an empty form.
WEB: dict[str, dict[str, Any]] = {
    # health
    "health:live": {"get": {200: ANON, "*": 200}, "post": {405: ANON, "*": 405}},
    "health:ready": {"get": {200: ANON, "*": 200}, "post": {405: ANON, "*": 405}},
    # web
    "web:home": {"get": {"*": 200}, "post": {405: ANON, "*": 405}},
    "web:work_queue": {"get": {"*": 200}, "post": {405: ANON, "*": 405}},
    "web:process": {"get": {"*": 200}, "post": {405: ANON, "*": 405}},
    "web:application_list": {"get": {"*": 200}, "post": {405: ANON, "*": 405}},
    "web:application_create": {"get": {200: P, "*": 403}, "post": {OK: P, "*": 403}},
    "web:application_detail": {"get": {"*": 200}, "post": {405: ANON, "*": 405}},
    "web:application_withdraw": {"get": {200: P, "*": 403}, "post": {OK: P, "*": 403}},
    "web:application_non_completion": {
        "get": {
            200: (
                ANALYST,
                REC,
                ADMIN,
            ),
            "*": 403,
        },
        "post": {
            OK: (
                ANALYST,
                REC,
                ADMIN,
            ),
            "*": 403,
        },
    },
    "web:task_detail": {"get": {"*": 200}, "post": {405: ANON, "*": 405}},
    "web:attachment_download": {"get": {"*": 404}, "post": {405: ANON, "*": 405}},
    # The action is in the address, but whether it may be taken depends on the task's state: whoever may
    # take no action on the task at all is refused first (`can_act_on_task`); the service decides the rest.
    "web:task_action": {"get": {405: ANON, "*": 405}, "post": {OK: (P, PROG), "*": 403}},
    "web:inbox": {"get": {"*": 200}, "post": {405: ANON, "*": 405}},
    # Every signed-in user marks their own notifications read (another's is 404, as a missing one).
    "web:notification_read_all": {"get": {405: ANON, "*": 405}, "post": {"*": OK}},
    "web:notification_read": {"get": {405: ANON, "*": 405}, "post": {"*": OK}},
    # Your account: every signed-in user, on their own sessions and tokens only (another's id is 404).
    "web:account": {"get": {"*": 200}, "post": {405: ANON, "*": 405}},
    "web:account_sessions_end_others": {"get": {405: ANON, "*": 405}, "post": {"*": OK}},
    "web:account_session_end": {"get": {405: ANON, "*": 405}, "post": {"*": 404}},
    "web:account_token_create": {"get": {"*": 200}, "post": {"*": OK}},
    "web:account_token_revoke": {"get": {405: ANON, "*": 405}, "post": {"*": 404}},
    # prequalification
    "prequalification:pqs": {"get": {"*": 200}, "post": {405: ANON, "*": 405}},
    "prequalification:pqs_edit": {"get": {302: P, "*": 403}, "post": {OK: P, "*": 403}},
    "prequalification:pqs_check": {"get": {302: P, "*": 403}, "post": {405: ANON, "*": 405}},
    "prequalification:pqs_submit": {"get": {405: ANON, "*": 405}, "post": {OK: P, "*": 403}},
    "prequalification:item_add": {"get": {302: P, "*": 403}, "post": {OK: P, "*": 403}},
    # The role is asked before the item is looked up (the world holds none).
    "prequalification:item_edit": {"get": {404: P, "*": 403}, "post": {404: P, "*": 403}},
    "prequalification:item_remove": {"get": {404: P, "*": 403}, "post": {404: P, "*": 403}},
    "prequalification:item_decide": {"get": {404: CODE_BODIES, "*": 403}, "post": {404: CODE_BODIES, "*": 403}},
    "prequalification:item_evidence": {"get": {"*": 404}, "post": {405: ANON, "*": 405}},
    # testing
    "testing:pit_checklist": {"get": {"*": 200}, "post": {405: ANON, "*": 405}},
    "testing:pit_criterion_record": {"get": {405: ANON, "*": 405}, "post": {OK: P, "*": 403}},
    "testing:pit_evidence_remove": {"get": {405: ANON, "*": 405}, "post": {OK: P, "*": 403}},
    "testing:pit_rttm_upload": {"get": {405: ANON, "*": 405}, "post": {OK: P, "*": 403}},
    "testing:pit_evidence_download": {"get": {"*": 200}, "post": {405: ANON, "*": 405}},
    "testing:catalogue": {"get": {"*": 200}, "post": {405: ANON, "*": 405}},
    "testing:catalogue_export": {"get": {"*": 200}, "post": {405: ANON, "*": 405}},
    "testing:catalogue_import": {
        "get": {
            200: (
                ANALYST,
                QSP,
                TA,
                PROG,
                ADMIN,
            ),
            "*": 403,
        },
        "post": {
            OK: (
                ANALYST,
                QSP,
                TA,
                PROG,
                ADMIN,
            ),
            "*": 403,
        },
    },
    "testing:catalogue_coverage": {"get": {"*": 200}, "post": {405: ANON, "*": 405}},
    "testing:catalogue_case_new": {
        "get": {
            200: (
                ANALYST,
                QSP,
                TA,
                PROG,
                ADMIN,
            ),
            "*": 403,
        },
        "post": {
            OK: (
                ANALYST,
                QSP,
                TA,
                PROG,
                ADMIN,
            ),
            "*": 403,
        },
    },
    "testing:catalogue_case": {"get": {"*": 200}, "post": {405: ANON, "*": 405}},
    "testing:catalogue_case_edit": {
        "get": {
            200: (
                ANALYST,
                QSP,
                TA,
                PROG,
                ADMIN,
            ),
            "*": 403,
        },
        "post": {
            OK: (
                ANALYST,
                QSP,
                TA,
                PROG,
                ADMIN,
            ),
            "*": 403,
        },
    },
    "testing:catalogue_case_retire": {
        "get": {405: ANON, "*": 405},
        "post": {
            OK: (
                ANALYST,
                QSP,
                TA,
                PROG,
                ADMIN,
            ),
            "*": 403,
        },
    },
    "testing:catalogue_case_reinstate": {
        "get": {405: ANON, "*": 405},
        "post": {
            OK: (
                ANALYST,
                QSP,
                TA,
                PROG,
                ADMIN,
            ),
            "*": 403,
        },
    },
    "testing:catalogue_scenarios": {"get": {"*": 200}, "post": {405: ANON, "*": 405}},
    "testing:catalogue_scenario_new": {
        "get": {
            200: (
                ANALYST,
                QSP,
                TA,
                PROG,
                ADMIN,
            ),
            "*": 403,
        },
        "post": {
            OK: (
                ANALYST,
                QSP,
                TA,
                PROG,
                ADMIN,
            ),
            "*": 403,
        },
    },
    "testing:catalogue_scenario_edit": {
        "get": {
            200: (
                ANALYST,
                QSP,
                TA,
                PROG,
                ADMIN,
            ),
            "*": 403,
        },
        "post": {
            OK: (
                ANALYST,
                QSP,
                TA,
                PROG,
                ADMIN,
            ),
            "*": 403,
        },
    },
    "testing:catalogue_requirements": {"get": {"*": 200}, "post": {405: ANON, "*": 405}},
    "testing:catalogue_requirement_new": {
        "get": {
            200: (
                ANALYST,
                QSP,
                TA,
                PROG,
                ADMIN,
            ),
            "*": 403,
        },
        "post": {
            OK: (
                ANALYST,
                QSP,
                TA,
                PROG,
                ADMIN,
            ),
            "*": 403,
        },
    },
    "testing:catalogue_requirement_edit": {
        "get": {
            200: (
                ANALYST,
                QSP,
                TA,
                PROG,
                ADMIN,
            ),
            "*": 403,
        },
        "post": {
            OK: (
                ANALYST,
                QSP,
                TA,
                PROG,
                ADMIN,
            ),
            "*": 403,
        },
    },
    "testing:catalogue_flows": {"get": {"*": 200}, "post": {405: ANON, "*": 405}},
    "testing:catalogue_flow_new": {
        "get": {
            200: (
                ANALYST,
                QSP,
                TA,
                PROG,
                ADMIN,
            ),
            "*": 403,
        },
        "post": {
            OK: (
                ANALYST,
                QSP,
                TA,
                PROG,
                ADMIN,
            ),
            "*": 403,
        },
    },
    "testing:catalogue_flow_edit": {
        "get": {
            200: (
                ANALYST,
                QSP,
                TA,
                PROG,
                ADMIN,
            ),
            "*": 403,
        },
        "post": {
            OK: (
                ANALYST,
                QSP,
                TA,
                PROG,
                ADMIN,
            ),
            "*": 403,
        },
    },
    "testing:rttm": {"get": {"*": 200}, "post": {405: ANON, "*": 405}},
    "testing:rttm_entry": {"get": {405: ANON, "*": 405}, "post": {OK: P, "*": 403}},
    "testing:rttm_capture": {"get": {405: ANON, "*": 405}, "post": {OK: P, "*": 403}},
    "testing:rttm_snapshot": {"get": {"*": 200}, "post": {405: ANON, "*": 405}},
    "testing:rttm_compare": {"get": {"*": 200}, "post": {405: ANON, "*": 405}},
    "testing:rttm_export": {"get": {"*": 200}, "post": {405: ANON, "*": 405}},
    "testing:rttm_import": {"get": {"*": 200}, "post": {OK: P, "*": 403}},
    "testing:qt_overview": {"get": {"*": 200}, "post": {405: ANON, "*": 405}},
    "testing:qt_exit": {"get": {"*": 200}, "post": {405: ANON, "*": 405}},
    "testing:qt_plan": {"get": {"*": 200}, "post": {405: ANON, "*": 405}},
    "testing:qt_plan_edit": {"get": {302: P, "*": 403}, "post": {OK: P, "*": 403}},
    "testing:qt_plan_submit": {"get": {405: ANON, "*": 405}, "post": {OK: P, "*": 403}},
    "testing:qt_plan_review": {"get": {405: ANON, "*": 405}, "post": {OK: TA, "*": 403}},
    "testing:qt_opt_out_add": {"get": {405: ANON, "*": 405}, "post": {OK: P, "*": 403}},
    "testing:qt_opt_out_remove": {"get": {405: ANON, "*": 405}, "post": {OK: P, "*": 403}},
    "testing:qt_set": {"get": {"*": 200}, "post": {405: ANON, "*": 405}},
    "testing:qt_execution_plan": {"get": {405: ANON, "*": 405}, "post": {OK: P, "*": 403}},
    "testing:qt_schedule": {"get": {"*": 200}, "post": {405: ANON, "*": 405}},
    "testing:qt_readiness": {"get": {"*": 200}, "post": {405: ANON, "*": 405}},
    "testing:qt_readiness_record": {"get": {405: ANON, "*": 405}, "post": {OK: P, "*": 403}},
    "testing:qt_readiness_submit": {"get": {405: ANON, "*": 405}, "post": {OK: P, "*": 403}},
    "testing:qt_readiness_review": {"get": {405: ANON, "*": 405}, "post": {OK: TA, "*": 403}},
    "testing:qt_executions": {"get": {"*": 200}, "post": {405: ANON, "*": 405}},
    "testing:qt_execution_record": {"get": {"*": 200}, "post": {OK: P, "*": 403}},
    "testing:qt_execution_detail": {"get": {"*": 200}, "post": {405: ANON, "*": 405}},
    "testing:qt_execution_evidence": {"get": {405: ANON, "*": 405}, "post": {OK: P, "*": 403}},
    "testing:qt_execution_review": {"get": {405: ANON, "*": 405}, "post": {OK: TA, "*": 403}},
    "testing:qt_execution_evidence_download": {"get": {"*": 200}, "post": {405: ANON, "*": 405}},
    "testing:qt_results_import": {"get": {405: ANON, "*": 405}, "post": {OK: P, "*": 403}},
    "testing:qt_results_export": {"get": {"*": 200}, "post": {405: ANON, "*": 405}},
    "testing:qt_results_template": {"get": {"*": 200}, "post": {405: ANON, "*": 405}},
    "testing:qt_defects": {"get": {"*": 200}, "post": {405: ANON, "*": 405}},
    "testing:qt_defect_raise": {"get": {"*": 200}, "post": {OK: P, "*": 403}},
    "testing:qt_defect_detail": {"get": {"*": 404}, "post": {405: ANON, "*": 405}},
    "testing:qt_defect_edit": {"get": {"*": 404}, "post": {"*": 404}},
    "testing:qt_defect_status": {
        "get": {405: ANON, "*": 405},
        "post": {
            404: (
                P,
                TA,
            ),
            "*": 403,
        },
    },
    "testing:qt_defect_comment": {
        "get": {405: ANON, "*": 405},
        "post": {
            404: (
                P,
                TA,
            ),
            "*": 403,
        },
    },
    # Everyone who may see the application may ask for its test completion report (as the API).
    "testing:qt_report": {"get": {"*": 200}, "post": {"*": OK}},
    "testing:qt_report_status": {"get": {"*": 200}, "post": {405: ANON, "*": 405}},
    "testing:qt_report_download": {"get": {"*": 404}, "post": {405: ANON, "*": 405}},
    "testing:import_job": {"get": {"*": 404}, "post": {405: ANON, "*": 405}},
    "testing:import_job_progress": {"get": {"*": 404}, "post": {405: ANON, "*": 405}},
    # dip
    "dip:onboarding": {"get": {"*": 200}, "post": {405: ANON, "*": 405}},
    "dip:step_set": {"get": {405: ANON, "*": 405}, "post": {OK: P, "*": 403}},
    "dip:dip_id_add": {"get": {405: ANON, "*": 405}, "post": {OK: P, "*": 403}},
    "dip:dip_id_confirm": {"get": {405: ANON, "*": 405}, "post": {OK: DIPM, "*": 403}},
    "dip:dip_id_remove": {"get": {405: ANON, "*": 405}, "post": {OK: P, "*": 403}},
    # documents
    "documents:qad": {
        "get": {
            404: (
                PAB,
                TA,
                PROG,
                SA,
            ),
            "*": 200,
        },
        "post": {405: ANON, "*": 405},
    },
    "documents:initial_qad": {
        "get": {
            404: (
                PAB,
                TA,
                PROG,
                SA,
            ),
            "*": 200,
        },
        "post": {405: ANON, "*": 405},
    },
    "documents:final_qad": {
        "get": {
            404: (
                PAB,
                TA,
                PROG,
                SA,
            ),
            "*": 200,
        },
        "post": {405: ANON, "*": 405},
    },
    "documents:qad_reopen": {
        "get": {
            403: (
                P,
                DIPM,
                ADMIN,
            ),
            200: (
                ANALYST,
                QSP,
                REC,
            ),
            "*": 404,
        },
        "post": {
            403: (
                P,
                DIPM,
                ADMIN,
            ),
            OK: (
                ANALYST,
                QSP,
                REC,
            ),
            "*": 404,
        },
    },
    "documents:qad_sign": {
        "get": {
            404: (
                PAB,
                TA,
                PROG,
                SA,
            ),
            "*": 200,
        },
        "post": {OK: D, 404: (PAB, TA, PROG, SA), "*": 403},
    },
    # "Verify now": everyone who may read the QAD may check its signature again (as the API).
    "documents:qad_signature": {
        "get": {
            404: (
                PAB,
                TA,
                PROG,
                SA,
            ),
            "*": 200,
        },
        "post": {
            404: (
                PAB,
                TA,
                PROG,
                SA,
            ),
            "*": OK,
        },
    },
    "documents:qad_delegates": {"get": {200: P, "*": 404}, "post": {403: M, OK: D, "*": 404}},
    "documents:qad_delegate_revoke": {"get": {405: ANON, "*": 405}, "post": {403: M, OK: D, "*": 404}},
    "documents:qad_start": {
        "get": {405: ANON, "*": 405},
        "post": {
            OK: P,
            403: (
                ANALYST,
                QSP,
                DIPM,
                REC,
                ADMIN,
            ),
            "*": 404,
        },
    },
    "documents:qad_section": {
        "get": {
            404: (
                PAB,
                TA,
                PROG,
                SA,
            ),
            "*": 200,
        },
        "post": {405: ANON, "*": 405},
    },
    "documents:qad_question": {
        "get": {
            404: (
                PAB,
                TA,
                PROG,
                SA,
            ),
            "*": 200,
        },
        "post": {
            404: (
                PAB,
                TA,
                PROG,
                SA,
            ),
            "*": 403,
        },
    },
    "documents:clarification_raise": {
        "get": {405: ANON, "*": 405},
        "post": {
            403: (
                P,
                ADMIN,
            ),
            OK: (
                ANALYST,
                QSP,
                DIPM,
                REC,
            ),
            "*": 404,
        },
    },
    "documents:qad_check": {
        "get": {"*": 404},
        "post": {OK: P, 403: (ANALYST, QSP, DIPM, REC, ADMIN), "*": 404},
    },
    "documents:qad_versions": {
        "get": {
            404: (
                PAB,
                TA,
                PROG,
                SA,
            ),
            "*": 200,
        },
        "post": {405: ANON, "*": 405},
    },
    "documents:qad_version": {
        "get": {
            404: (
                PAB,
                TA,
                PROG,
                SA,
            ),
            "*": 200,
        },
        "post": {405: ANON, "*": 405},
    },
    "documents:qad_compare": {
        "get": {
            404: (
                PAB,
                TA,
                PROG,
                SA,
            ),
            "*": 200,
        },
        "post": {405: ANON, "*": 405},
    },
    "documents:qad_clarifications": {
        "get": {
            404: (
                PAB,
                TA,
                PROG,
                SA,
            ),
            "*": 200,
        },
        "post": {405: ANON, "*": 405},
    },
    "documents:clarification": {"get": {"*": 404}, "post": {405: ANON, "*": 405}},
    # Answering (the sample action) is the participant's: QAD readers in other roles are refused before the
    # clarification is looked up (the world holds none); those who do not read QADs get 404.
    "documents:clarification_act": {
        "get": {405: ANON, "*": 405},
        "post": {404: (P, PAB, TA, PROG, SA), "*": 403},
    },
    "documents:evidence_download": {"get": {"*": 200}, "post": {405: ANON, "*": 405}},
    # workoff
    "workoff:item_list": {"get": {"*": 200}, "post": {405: ANON, "*": 405}},
    "workoff:plan": {"get": {"*": 200}, "post": {405: ANON, "*": 405}},
    "workoff:item_propose": {"get": {200: P, "*": 403}, "post": {OK: P, "*": 403}},
    "workoff:item_detail": {"get": {"*": 404}, "post": {405: ANON, "*": 405}},
    # The party is asked before the item is looked up (the world holds none); "review" is Testing Assurance's.
    "workoff:item_edit": {"get": {404: P, "*": 403}, "post": {404: P, "*": 403}},
    "workoff:item_close": {"get": {405: ANON, "*": 405}, "post": {404: P, "*": 403}},
    "workoff:item_action": {"get": {405: ANON, "*": 405}, "post": {404: TA, "*": 403}},
    "workoff:evidence_download": {"get": {"*": 404}, "post": {405: ANON, "*": 405}},
    # approvals
    "approvals:meeting_calendar": {"get": {"*": 200}, "post": {405: ANON, "*": 405}},
    "approvals:meeting_create": {
        "get": {
            200: (
                SEC,
                ADMIN,
            ),
            "*": 403,
        },
        "post": {
            OK: (
                SEC,
                ADMIN,
            ),
            "*": 403,
        },
    },
    "approvals:meetings_generate": {
        "get": {405: ANON, "*": 405},
        "post": {
            OK: (
                SEC,
                ADMIN,
            ),
            "*": 403,
        },
    },
    "approvals:meeting_detail": {"get": {"*": 200}, "post": {405: ANON, "*": 405}},
    "approvals:meeting_edit": {
        "get": {
            200: (
                SEC,
                ADMIN,
            ),
            "*": 403,
        },
        "post": {
            OK: (
                SEC,
                ADMIN,
            ),
            "*": 403,
        },
    },
    "approvals:meeting_cancel": {
        "get": {
            200: (
                SEC,
                ADMIN,
            ),
            "*": 403,
        },
        "post": {
            OK: (
                SEC,
                ADMIN,
            ),
            "*": 403,
        },
    },
    "approvals:meeting_held": {
        "get": {405: ANON, "*": 405},
        "post": {
            OK: (
                SEC,
                ADMIN,
            ),
            "*": 403,
        },
    },
    "approvals:pab_target": {"get": {"*": 200}, "post": {OK: (ANALYST, QSP), "*": 403}},
    "approvals:calendar_feeds": {"get": {"*": 200}, "post": {405: ANON, "*": 405}},
    # Every signed-in user has a calendar feed of their own to reset.
    "approvals:calendar_feed_reset": {"get": {405: ANON, "*": 405}, "post": {"*": OK}},
    "approvals:pab_ics": {"get": {200: ANON, "*": 200}, "post": {405: ANON, "*": 405}},
    "approvals:user_ics": {"get": {404: ANON, "*": 404}, "post": {405: ANON, "*": 405}},
    "approvals:approval_queue": {"get": {"*": 200}, "post": {405: ANON, "*": 405}},
    # A decision is refused to everyone outside the body before the form and before the authenticator code.
    "approvals:pab_decision": {"get": {"*": 200}, "post": {OK: (SEC, CHAIR), "*": 403}},
    "approvals:decision_dip_manager": {"get": {"*": 200}, "post": {OK: DIPM, "*": 403}},
    "approvals:decision_bsc_pab": {"get": {"*": 200}, "post": {OK: (SEC, CHAIR), "*": 403}},
    "approvals:decision_rec_code_manager": {"get": {"*": 200}, "post": {OK: REC, "*": 403}},
    "approvals:pab_paper": {
        "get": {
            200: (
                PAB,
                ANALYST,
                QSP,
                ADMIN,
            ),
            "*": 404,
        },
        "post": {405: ANON, "*": 405},
    },
    "approvals:pab_recommendation": {
        "get": {405: ANON, "*": 405},
        "post": {OK: (ANALYST, QSP), 403: (PAB, ADMIN), "*": 404},
    },
    "approvals:pab_paper_prepare": {
        "get": {405: ANON, "*": 405},
        "post": {
            OK: (
                ANALYST,
                QSP,
            ),
            403: (
                PAB,
                ADMIN,
            ),
            "*": 404,
        },
    },
    "approvals:pab_paper_pdf": {"get": {"*": 404}, "post": {405: ANON, "*": 405}},
    "approvals:pab_pack_request": {
        "get": {405: ANON, "*": 405},
        "post": {
            OK: (
                ANALYST,
                SEC,
            ),
            403: (
                QSP,
                CHAIR,
                PABM,
                ADMIN,
            ),
            "*": 404,
        },
    },
    "approvals:pab_pack_pdf": {"get": {"*": 404}, "post": {405: ANON, "*": 405}},
    "approvals:pab_letters": {
        "get": {
            404: (
                TA,
                PROG,
                DIPM,
                REC,
            ),
            "*": 200,
        },
        "post": {405: ANON, "*": 405},
    },
    "approvals:pab_letter": {"get": {"*": 404}, "post": {405: ANON, "*": 405}},
    "approvals:pab_letter_pdf": {"get": {"*": 404}, "post": {405: ANON, "*": 405}},
    # By role before the letter is looked up (the world holds none), as the API.
    "approvals:pab_letter_issue": {"get": {405: ANON, "*": 405}, "post": {404: CHAIR, "*": 403}},
    "approvals:pab_letter_regenerate": {"get": {405: ANON, "*": 405}, "post": {404: (SEC, CHAIR), "*": 403}},
    # registry
    "registry:register": {"get": {200: ANON, "*": 200}, "post": {405: ANON, "*": 405}},
    "registry:history": {"get": {200: ANON, "*": 200}, "post": {405: ANON, "*": 405}},
    "registry:csv": {"get": {200: ANON, "*": 200}, "post": {405: ANON, "*": 405}},
    "registry:json": {"get": {200: ANON, "*": 200}, "post": {405: ANON, "*": 405}},
    # activation
    "activation:queue": {"get": {"*": 200}, "post": {405: ANON, "*": 405}},
    "activation:handoff": {"get": {"*": 200}, "post": {405: ANON, "*": 405}},
    "activation:start": {"get": {405: ANON, "*": 405}, "post": {OK: SA, "*": 403}},
    "activation:check_set": {"get": {405: ANON, "*": 405}, "post": {OK: SA, "*": 403}},
    "activation:go_live": {"get": {405: ANON, "*": 405}, "post": {OK: SA, "*": 403}},
    "activation:input_add": {
        "get": {405: ANON, "*": 405},
        "post": {
            OK: (
                ANALYST,
                QSP,
                DIPM,
                REC,
            ),
            "*": 403,
        },
    },
    "activation:complete": {"get": {405: ANON, "*": 405}, "post": {OK: SA, "*": 403}},
    # reports
    "reports:dashboard": {"get": {"*": 200}, "post": {405: ANON, "*": 405}},
    "reports:pipeline": {"get": {"*": 200}, "post": {405: ANON, "*": 405}},
    "reports:portfolio_timeline": {"get": {"*": 200}, "post": {405: ANON, "*": 405}},
    # Every signed-in user may ask for a portfolio report: it holds only the applications they may see.
    "reports:portfolio": {"get": {"*": 200}, "post": {"*": OK}},
    "reports:portfolio_pdf": {"get": {"*": 404}, "post": {405: ANON, "*": 405}},
    "reports:application_timeline": {"get": {"*": 200}, "post": {405: ANON, "*": 405}},
    "reports:search": {"get": {"*": 200}, "post": {405: ANON, "*": 405}},
    "reports:downloads": {"get": {"*": 200}, "post": {405: ANON, "*": 405}},
    "reports:export": {"get": {"*": 200}, "post": {405: ANON, "*": 405}},
}

# Each operation of the API, called with its own method (in the comment).
API: dict[str, Any] = {
    "me": {"*": 200},  # GET
    "token_list": {"*": 200},  # GET
    # Not gated: every signed-in user may create a token of their own (staff and directors need two-factor).
    "token_create": {"*": OK},  # POST
    "token_revoke": {"*": 404},  # DELETE
    "session_list": {"*": 200},  # GET
    "session_end": {"*": 404},  # DELETE
    "session_end_others": {"*": OK},  # POST
    "application_list": {"*": 200},  # GET
    "application_create": {OK: P, "*": 403},  # POST
    "application_get": {"*": 200},  # GET
    "application_withdraw": {OK: P, "*": 403},  # POST
    "application_mark_non_completion": {OK: (ANALYST, REC, ADMIN), "*": 403},  # POST
    "task_get": {"*": 200},  # GET
    "task_transition": {OK: (P, PROG), "*": 403},  # POST
    "task_transition_upload": {OK: (P, PROG), "*": 403},  # POST
    "work_queue": {"*": 200},  # GET
    "route_list": {"*": 200},  # GET
    "market_role_list": {"*": 200},  # GET
    "approval_matrix": {"*": 200},  # GET
    "notification_list": {"*": 200},  # GET
    "pqs_wave_list": {"*": 200},  # GET
    "pqs_get": {"*": 200},  # GET
    "pqs_put": {OK: P, "*": 403},  # PUT
    "pqs_item_list": {"*": 200},  # GET
    "pqs_item_create": {OK: P, "*": 403},  # POST
    "pqs_item_get": {"*": 404},  # GET
    "pqs_item_update": {OK: P, "*": 403},  # PUT
    "pqs_item_delete": {404: P, "*": 403},  # DELETE
    "pqs_item_evidence_upload": {OK: P, "*": 403},  # POST
    "pqs_item_decide": {OK: CODE_BODIES, "*": 403},  # POST
    "pit_checklist_get": {"*": 200},  # GET
    "pit_criterion_record": {OK: P, "*": 403},  # POST
    "pit_criterion_record_upload": {OK: P, "*": 403},  # POST
    "pit_criterion_evidence_remove": {OK: P, "*": 403},  # DELETE
    "pit_rttm_list": {"*": 200},  # GET
    "pit_rttm_upload": {OK: P, "*": 403},  # POST
    "pit_evidence_download": {"*": 200},  # GET
    "dip_onboarding_get": {"*": 200},  # GET
    "dip_step_set": {OK: P, "*": 403},  # POST
    "dip_id_add": {OK: P, "*": 403},  # POST
    "dip_id_remove": {OK: P, "*": 403},  # DELETE
    "dip_id_confirm": {OK: DIPM, "*": 403},  # POST
    "qad_template_get": {"*": 200},  # GET
    "qad_declaration_get": {"*": 200},  # GET
    "qad_overview": {
        404: (
            PAB,
            TA,
            PROG,
            SA,
        ),
        "*": 200,
    },  # GET
    "qad_sign": {OK: D, 404: (PAB, TA, PROG, SA), "*": 403},  # POST
    "signature_list": {
        404: (
            PAB,
            TA,
            PROG,
            SA,
        ),
        "*": 200,
    },  # GET
    "qad_current_get": {
        404: (
            PAB,
            TA,
            PROG,
            SA,
        ),
        "*": 200,
    },  # GET
    "qad_version_start": {
        OK: P,
        403: (
            ANALYST,
            QSP,
            DIPM,
            REC,
            ADMIN,
        ),
        "*": 404,
    },  # POST
    "qad_version_list": {
        404: (
            PAB,
            TA,
            PROG,
            SA,
        ),
        "*": 200,
    },  # GET
    "qad_answers_save": {OK: P, 403: (ANALYST, QSP, DIPM, REC, ADMIN), "*": 404},  # POST
    "qad_evidence_upload": {OK: P, 403: (ANALYST, QSP, DIPM, REC, ADMIN), "*": 404},  # POST
    "qad_submit": {OK: P, 403: (ANALYST, QSP, DIPM, REC, ADMIN), "*": 404},  # POST
    "qad_version_get": {
        404: (
            PAB,
            TA,
            PROG,
            SA,
        ),
        "*": 200,
    },  # GET
    "qad_diff": {"*": 422},  # GET
    "clarification_list": {
        404: (
            PAB,
            TA,
            PROG,
            SA,
        ),
        "*": 200,
    },  # GET
    "clarification_raise": {OK: (ANALYST, QSP, DIPM, REC), 403: (P, ADMIN), "*": 404},  # POST
    "clarification_get": {"*": 404},  # GET
    # Gated by role alone (the clarification names the application): the world holds no clarification.
    "clarification_answer": {404: P, "*": 403},  # POST
    "clarification_reply": {404: (ANALYST, QSP, DIPM, REC), "*": 403},  # POST
    "clarification_close": {404: (ANALYST, QSP, DIPM, REC), "*": 403},  # POST
    "signature_get": {
        404: (
            PAB,
            TA,
            PROG,
            SA,
        ),
        "*": 200,
    },  # GET
    # Everyone who may read the QAD may check its signature again (no body).
    "signature_verify": {
        404: (
            PAB,
            TA,
            PROG,
            SA,
        ),
        "*": OK,
    },  # POST
    "qad_final_reopen": {OK: CODE_BODIES, 403: (P, DIPM, ADMIN), "*": 404},  # POST
    "signing_delegate_list": {200: P, "*": 404},  # GET
    "signing_delegate_grant": {OK: D, 403: M, "*": 404},  # POST
    "signing_delegate_revoke": {403: M, OK: D, "*": 404},  # DELETE
    "qt_catalogue_case_list": {"*": 200},  # GET
    "qt_catalogue_case_create": {OK: (ANALYST, QSP, TA, PROG, ADMIN), "*": 403},  # POST
    "qt_catalogue_case_get": {"*": 200},  # GET
    "qt_catalogue_case_publish": {OK: (ANALYST, QSP, TA, PROG, ADMIN), "*": 403},  # POST
    "qt_catalogue_case_version_get": {"*": 200},  # GET
    "qt_catalogue_case_diff": {"*": 422},  # GET
    "qt_catalogue_case_retire": {OK: (ANALYST, QSP, TA, PROG, ADMIN), "*": 403},  # POST
    "qt_catalogue_case_reinstate": {
        OK: (
            ANALYST,
            QSP,
            TA,
            PROG,
            ADMIN,
        ),
        "*": 403,
    },  # POST
    "qt_catalogue_scenario_list": {"*": 200},  # GET
    "qt_catalogue_scenario_create": {OK: (ANALYST, QSP, TA, PROG, ADMIN), "*": 403},  # POST
    "qt_catalogue_scenario_get": {"*": 200},  # GET
    "qt_catalogue_scenario_update": {OK: (ANALYST, QSP, TA, PROG, ADMIN), "*": 403},  # PUT
    "qt_catalogue_requirement_list": {"*": 200},  # GET
    "qt_catalogue_requirement_create": {OK: (ANALYST, QSP, TA, PROG, ADMIN), "*": 403},  # POST
    "qt_catalogue_requirement_get": {"*": 200},  # GET
    "qt_catalogue_requirement_update": {OK: (ANALYST, QSP, TA, PROG, ADMIN), "*": 403},  # PUT
    "qt_catalogue_dip_flow_list": {"*": 200},  # GET
    "qt_catalogue_dip_flow_create": {OK: (ANALYST, QSP, TA, PROG, ADMIN), "*": 403},  # POST
    "qt_catalogue_dip_flow_get": {"*": 200},  # GET
    "qt_catalogue_dip_flow_update": {OK: (ANALYST, QSP, TA, PROG, ADMIN), "*": 403},  # PUT
    "qt_catalogue_coverage": {"*": 200},  # GET
    "qt_catalogue_export": {"*": 200},  # GET
    "rttm_get": {"*": 200},  # GET
    "rttm_update": {OK: P, "*": 403},  # PUT
    "rttm_snapshot_list": {"*": 200},  # GET
    "rttm_snapshot_capture": {OK: P, "*": 403},  # POST
    "rttm_snapshot_get": {"*": 200},  # GET
    "rttm_snapshot_compare": {"*": 422},  # GET
    "rttm_export": {"*": 200},  # GET
    "qt_plan_get": {"*": 200},  # GET
    "qt_plan_update": {OK: P, "*": 403},  # PUT
    "qt_opt_out_add": {OK: P, "*": 403},  # POST
    "qt_opt_out_remove": {OK: P, "*": 403},  # DELETE
    "qt_plan_submit": {OK: P, "*": 403},  # POST
    "qt_plan_review": {OK: TA, "*": 403},  # POST
    "qt_set_list": {"*": 200},  # GET
    "qt_set_summary": {"*": 200},  # GET
    "qt_execution_plan_get": {"*": 200},  # GET
    "qt_execution_plan_set": {OK: P, "*": 403},  # POST
    "qt_readiness_get": {"*": 200},  # GET
    "qt_readiness_record": {OK: P, "*": 403},  # POST
    "qt_readiness_submit": {OK: P, "*": 403},  # POST
    "qt_readiness_review": {OK: TA, "*": 403},  # POST
    "qt_exit_checklist_get": {"*": 200},  # GET
    "qt_execution_list": {"*": 200},  # GET
    "qt_execution_record": {OK: P, "*": 403},  # POST
    "qt_execution_record_upload": {OK: P, "*": 403},  # POST
    "qt_execution_get": {"*": 200},  # GET
    "qt_execution_evidence_add": {OK: P, "*": 403},  # POST
    "qt_execution_review": {OK: TA, "*": 403},  # POST
    "qt_execution_evidence_download": {"*": 200},  # GET
    "qt_results_export": {"*": 200},  # GET
    "qt_defect_list": {"*": 200},  # GET
    "qt_defect_raise": {OK: P, "*": 403},  # POST
    "qt_defect_get": {"*": 404},  # GET
    "qt_defect_update": {OK: P, "*": 403},  # PUT
    "qt_defect_status_change": {OK: (P, TA), "*": 403},  # POST
    "qt_defect_comment": {OK: (P, TA), "*": 403},  # POST
    "qt_completion_report_list": {"*": 200},  # GET
    # No body, and everyone who may see the application may ask for a report (409 while one is made).
    "qt_completion_report_request": {"*": OK},  # POST
    "qt_completion_report_get": {"*": 200},  # GET
    "qt_completion_report_download": {"*": 404},  # GET
    "workoff_plan_get": {"*": 200},  # GET
    "workoff_coverable_list": {"*": 200},  # GET
    "workoff_item_propose": {OK: P, "*": 403},  # POST
    "workoff_item_get": {"*": 404},  # GET
    "workoff_item_edit": {OK: P, "*": 403},  # PUT
    "workoff_item_transition": {OK: (P, TA, CODE_BODIES), "*": 403},  # POST
    "workoff_item_close": {404: P, "*": 403},  # POST
    "workoff_evidence_download": {"*": 404},  # GET
    "workoff_item_list": {"*": 200},  # GET
    "pab_meeting_list": {"*": 200},  # GET
    "pab_meeting_create": {OK: (SEC, ADMIN), "*": 403},  # POST
    "pab_meeting_get": {"*": 200},  # GET
    "pab_meeting_application_list": {"*": 200},  # GET
    "pab_meeting_update": {OK: (SEC, ADMIN), "*": 403},  # PUT
    "pab_meeting_cancel": {OK: (SEC, ADMIN), "*": 403},  # POST
    "pab_meeting_mark_held": {
        OK: (
            SEC,
            ADMIN,
        ),
        "*": 403,
    },  # POST
    "pab_meetings_generate": {
        OK: (
            SEC,
            ADMIN,
        ),
        "*": 403,
    },  # POST
    "pab_meeting_rule_get": {"*": 200},  # GET
    "application_pab_target_get": {"*": 200},  # GET
    "application_pab_target_set": {OK: (ANALYST, QSP), "*": 403},  # POST
    "application_deadline_list": {"*": 200},  # GET
    "calendar_feed_get": {"*": 200},  # GET
    # No body, and every signed-in user has a calendar feed of their own to reset.
    "calendar_feed_reset": {"*": OK},  # POST
    "approval_queue_get": {"*": 200},  # GET
    "application_decision_list": {"*": 200},  # GET
    "approval_view_get": {"*": 200},  # GET
    "approval_decision_create": {OK: (SEC, CHAIR), "*": 403},  # POST
    "pab_agenda_get": {"*": 200},  # GET
    "pab_paper_get": {
        200: (
            PAB,
            ANALYST,
            QSP,
            ADMIN,
        ),
        "*": 404,
    },  # GET
    "pab_recommendation_record": {OK: (ANALYST, QSP), 403: (PAB, ADMIN), "*": 404},  # POST
    "pab_paper_prepare": {
        OK: (
            ANALYST,
            QSP,
        ),
        403: (
            PAB,
            ADMIN,
        ),
        "*": 404,
    },  # POST
    "paper_pdf_download": {"*": 404},  # GET
    "pab_pack_list": {
        200: (
            PAB,
            ANALYST,
            QSP,
            ADMIN,
        ),
        "*": 404,
    },  # GET
    "pab_pack_request": {
        OK: (
            ANALYST,
            SEC,
        ),
        403: (
            QSP,
            CHAIR,
            PABM,
            ADMIN,
        ),
        "*": 404,
    },  # POST
    "pack_pdf_download": {"*": 422},  # GET
    "qualification_letter_list": {"*": 200},  # GET
    "qualification_letter_get": {"*": 404},  # GET
    "qualification_letter_pdf_download": {"*": 404},  # GET
    # Gated by role alone (the letter names the application): the world holds no letter.
    "qualification_letter_issue": {404: CHAIR, "*": 403},  # POST
    "qualification_letter_regenerate": {404: (SEC, CHAIR), "*": 403},  # POST
    # Not gated: who may import depends on the body (its kind, and for RTTM and results the application).
    "import_job_queue": {"*": OK},  # POST
    "import_job_status": {"*": 404},  # GET
    "register_list": {200: ANON, "*": 200},  # GET
    "handoff_list": {"*": 200},  # GET
    "handoff_get": {"*": 200},  # GET
    "handoff_start": {OK: SA, "*": 403},  # POST
    "handoff_check_set": {OK: SA, "*": 403},  # POST
    "handoff_go_live_set": {OK: SA, "*": 403},  # PUT
    "handoff_input_add": {OK: (ANALYST, QSP, DIPM, REC), "*": 403},  # POST
    "handoff_complete": {OK: SA, "*": 403},  # POST
    "pipeline_summary": {"*": 200},  # GET
    "pipeline_application_list": {"*": 200},  # GET
    "application_timeline_get": {"*": 200},  # GET
    "search_list": {"*": 422},  # GET
}
