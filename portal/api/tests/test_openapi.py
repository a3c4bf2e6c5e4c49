import pytest
from django.test import Client

pytestmark = pytest.mark.django_db

ENDPOINTS = {
    ("get", "/api/v1/activation/handoffs"),
    ("get", "/api/v1/applications/{application_id}/activation"),
    ("get", "/api/v1/pab/letters"),
    ("get", "/api/v1/pab/letters/{letter_id}"),
    ("get", "/api/v1/pab/letters/{letter_id}/pdf"),
    ("get", "/api/v1/pab/meetings/{meeting_id}/agenda"),
    ("get", "/api/v1/pab/meetings/{meeting_id}/packs"),
    ("get", "/api/v1/pab/meetings/{meeting_id}/packs/{version}/pdf"),
    ("get", "/api/v1/pab/meetings/{meeting_id}/papers/{application_id}"),
    ("get", "/api/v1/pab/meetings/{meeting_id}/papers/{application_id}/versions/{version}/pdf"),
    ("post", "/api/v1/applications/{application_id}/activation/checks/{item_code}"),
    ("post", "/api/v1/applications/{application_id}/activation/complete"),
    ("post", "/api/v1/applications/{application_id}/activation/inputs"),
    ("post", "/api/v1/applications/{application_id}/activation/start"),
    ("post", "/api/v1/pab/letters/{letter_id}/issue"),
    ("post", "/api/v1/pab/letters/{letter_id}/regenerate"),
    ("post", "/api/v1/pab/meetings/{meeting_id}/packs"),
    ("post", "/api/v1/pab/meetings/{meeting_id}/papers/{application_id}/prepare"),
    ("post", "/api/v1/pab/meetings/{meeting_id}/papers/{application_id}/recommendation"),
    ("put", "/api/v1/applications/{application_id}/activation/go-live"),
    ("get", "/api/v1/register"),
    ("get", "/api/v1/reports/pipeline"),
    ("get", "/api/v1/reports/pipeline/applications"),
    ("get", "/api/v1/applications/{application_id}/timeline"),
    ("get", "/api/v1/search"),
    ("get", "/api/v1/approvals/{body}/queue"),
    ("get", "/api/v1/applications/{application_id}/decisions"),
    ("get", "/api/v1/applications/{application_id}/approvals/{body}"),
    ("post", "/api/v1/applications/{application_id}/approvals/{body}/decisions"),
    ("delete", "/api/v1/applications/{application_id}/dip/ids/{dip_id_id}"),
    ("delete", "/api/v1/applications/{application_id}/pit/criteria/{criterion_code}/evidence/{evidence_id}"),
    ("delete", "/api/v1/applications/{application_id}/pqs/items/{item_id}"),
    ("delete", "/api/v1/applications/{application_id}/qt/plan/opt-outs/{flow_code}"),
    ("delete", "/api/v1/me/tokens/{token_id}"),
    ("delete", "/api/v1/me/sessions/{session_id}"),
    ("delete", "/api/v1/qad/signing-delegates/{delegate_id}"),
    ("get", "/api/v1/applications"),
    ("get", "/api/v1/applications/{application_id}"),
    ("get", "/api/v1/applications/{application_id}/deadlines"),
    ("get", "/api/v1/applications/{application_id}/dip"),
    ("get", "/api/v1/applications/{application_id}/pab-target"),
    ("get", "/api/v1/applications/{application_id}/pit"),
    ("get", "/api/v1/applications/{application_id}/pit/evidence/{evidence_id}"),
    ("get", "/api/v1/applications/{application_id}/pit/rttm"),
    ("get", "/api/v1/applications/{application_id}/pqs"),
    ("get", "/api/v1/applications/{application_id}/pqs/items"),
    ("get", "/api/v1/applications/{application_id}/pqs/items/{item_id}"),
    ("get", "/api/v1/applications/{application_id}/qt/completion-reports"),
    ("get", "/api/v1/applications/{application_id}/qt/completion-reports/{report_id}"),
    ("get", "/api/v1/applications/{application_id}/qt/completion-reports/{report_id}/{file_format}"),
    ("get", "/api/v1/applications/{application_id}/qt/defects"),
    ("get", "/api/v1/applications/{application_id}/qt/defects/{defect_id}"),
    ("get", "/api/v1/applications/{application_id}/qt/execution-plan"),
    ("get", "/api/v1/applications/{application_id}/qt/executions"),
    ("get", "/api/v1/applications/{application_id}/qt/executions/{execution_id}"),
    ("get", "/api/v1/applications/{application_id}/qt/executions/{execution_id}/evidence/{evidence_id}"),
    ("get", "/api/v1/applications/{application_id}/qt/exit-checklist"),
    ("get", "/api/v1/applications/{application_id}/qt/plan"),
    ("get", "/api/v1/applications/{application_id}/qt/readiness"),
    ("get", "/api/v1/applications/{application_id}/qt/results.xlsx"),
    ("get", "/api/v1/applications/{application_id}/qt/set"),
    ("get", "/api/v1/applications/{application_id}/qt/set/summary"),
    ("get", "/api/v1/applications/{application_id}/rttm"),
    ("get", "/api/v1/applications/{application_id}/rttm/compare"),
    ("get", "/api/v1/applications/{application_id}/rttm/export"),
    ("get", "/api/v1/applications/{application_id}/rttm/snapshots"),
    ("get", "/api/v1/applications/{application_id}/rttm/snapshots/{snapshot_id}"),
    ("get", "/api/v1/applications/{application_id}/tasks/{task_code}"),
    ("get", "/api/v1/applications/{application_id}/workoff"),
    ("get", "/api/v1/applications/{application_id}/workoff/coverable"),
    ("get", "/api/v1/applications/{application_id}/workoff/evidence/{evidence_id}"),
    ("get", "/api/v1/applications/{application_id}/workoff/items/{item_id}"),
    ("get", "/api/v1/imports/{job_id}"),
    ("get", "/api/v1/me"),
    ("get", "/api/v1/me/calendar-feed"),
    ("get", "/api/v1/me/tokens"),
    ("get", "/api/v1/me/sessions"),
    ("get", "/api/v1/notifications"),
    ("get", "/api/v1/pab/meetings"),
    ("get", "/api/v1/pab/meetings/{meeting_id}"),
    ("get", "/api/v1/pab/meetings/{meeting_id}/applications"),
    ("get", "/api/v1/pab/rule"),
    ("get", "/api/v1/pqs/waves"),
    ("get", "/api/v1/qad/applications/{application_id}"),
    ("get", "/api/v1/qad/applications/{application_id}/signatures"),
    ("get", "/api/v1/qad/applications/{application_id}/{kind}"),
    ("get", "/api/v1/qad/applications/{application_id}/{kind}/clarifications"),
    ("get", "/api/v1/qad/applications/{application_id}/{kind}/diff"),
    ("get", "/api/v1/qad/applications/{application_id}/{kind}/versions"),
    ("get", "/api/v1/qad/applications/{application_id}/{kind}/versions/{version}"),
    ("get", "/api/v1/qad/clarifications/{clarification_id}"),
    ("get", "/api/v1/qad/declaration"),
    ("get", "/api/v1/qad/organisations/{organisation_id}/signing-delegates"),
    ("get", "/api/v1/qad/signatures/{signature_id}"),
    ("get", "/api/v1/qad/template"),
    ("get", "/api/v1/qt/catalogue/cases"),
    ("get", "/api/v1/qt/catalogue/cases/{identifier}"),
    ("get", "/api/v1/qt/catalogue/cases/{identifier}/diff"),
    ("get", "/api/v1/qt/catalogue/cases/{identifier}/versions/{version}"),
    ("get", "/api/v1/qt/catalogue/coverage"),
    ("get", "/api/v1/qt/catalogue/dip-flows"),
    ("get", "/api/v1/qt/catalogue/dip-flows/{code}"),
    ("get", "/api/v1/qt/catalogue/export"),
    ("get", "/api/v1/qt/catalogue/requirements"),
    ("get", "/api/v1/qt/catalogue/requirements/{identifier}"),
    ("get", "/api/v1/qt/catalogue/scenarios"),
    ("get", "/api/v1/qt/catalogue/scenarios/{identifier}"),
    ("get", "/api/v1/reference/approval-matrix"),
    ("get", "/api/v1/reference/market-roles"),
    ("get", "/api/v1/reference/routes"),
    ("get", "/api/v1/work-queue"),
    ("get", "/api/v1/workoff/items"),
    ("post", "/api/v1/applications"),
    ("post", "/api/v1/applications/{application_id}/dip/ids"),
    ("post", "/api/v1/applications/{application_id}/dip/ids/{dip_id_id}/confirm"),
    ("post", "/api/v1/applications/{application_id}/dip/steps/{step_code}"),
    ("post", "/api/v1/applications/{application_id}/non-completion"),
    ("post", "/api/v1/applications/{application_id}/pab-target"),
    ("post", "/api/v1/applications/{application_id}/pit/criteria/{criterion_code}"),
    ("post", "/api/v1/applications/{application_id}/pit/criteria/{criterion_code}/upload"),
    ("post", "/api/v1/applications/{application_id}/pit/rttm/{checkpoint}"),
    ("post", "/api/v1/applications/{application_id}/pqs/items"),
    ("post", "/api/v1/applications/{application_id}/pqs/items/{item_id}/decision"),
    ("post", "/api/v1/applications/{application_id}/pqs/items/{item_id}/evidence"),
    ("post", "/api/v1/applications/{application_id}/qt/completion-reports"),
    ("post", "/api/v1/applications/{application_id}/qt/defects"),
    ("post", "/api/v1/applications/{application_id}/qt/defects/{defect_id}/comments"),
    ("post", "/api/v1/applications/{application_id}/qt/defects/{defect_id}/status"),
    ("post", "/api/v1/applications/{application_id}/qt/execution-plan"),
    ("post", "/api/v1/applications/{application_id}/qt/executions"),
    ("post", "/api/v1/applications/{application_id}/qt/executions/upload"),
    ("post", "/api/v1/applications/{application_id}/qt/executions/{execution_id}/evidence"),
    ("post", "/api/v1/applications/{application_id}/qt/executions/{execution_id}/review"),
    ("post", "/api/v1/applications/{application_id}/qt/plan/opt-outs"),
    ("post", "/api/v1/applications/{application_id}/qt/plan/review"),
    ("post", "/api/v1/applications/{application_id}/qt/plan/submit"),
    ("post", "/api/v1/applications/{application_id}/qt/readiness/items/{item_code}"),
    ("post", "/api/v1/applications/{application_id}/qt/readiness/review"),
    ("post", "/api/v1/applications/{application_id}/qt/readiness/submit"),
    ("post", "/api/v1/applications/{application_id}/rttm/snapshots"),
    ("post", "/api/v1/applications/{application_id}/tasks/{task_code}/transitions"),
    ("post", "/api/v1/applications/{application_id}/tasks/{task_code}/transitions/upload"),
    ("post", "/api/v1/applications/{application_id}/withdraw"),
    ("post", "/api/v1/applications/{application_id}/workoff/items"),
    ("post", "/api/v1/applications/{application_id}/workoff/items/{item_id}/close"),
    ("post", "/api/v1/applications/{application_id}/workoff/items/{item_id}/transitions"),
    ("post", "/api/v1/imports"),
    ("post", "/api/v1/me/calendar-feed/reset"),
    ("post", "/api/v1/me/tokens"),
    ("post", "/api/v1/me/sessions/end-others"),
    ("post", "/api/v1/pab/meetings"),
    ("post", "/api/v1/pab/meetings/generate"),
    ("post", "/api/v1/pab/meetings/{meeting_id}/cancel"),
    ("post", "/api/v1/pab/meetings/{meeting_id}/held"),
    ("post", "/api/v1/qad/applications/{application_id}/final/reopen"),
    ("post", "/api/v1/qad/applications/{application_id}/sign"),
    ("post", "/api/v1/qad/applications/{application_id}/{kind}/answers"),
    ("post", "/api/v1/qad/applications/{application_id}/{kind}/answers/{question}/evidence"),
    ("post", "/api/v1/qad/applications/{application_id}/{kind}/clarifications"),
    ("post", "/api/v1/qad/applications/{application_id}/{kind}/submit"),
    ("post", "/api/v1/qad/applications/{application_id}/{kind}/versions"),
    ("post", "/api/v1/qad/clarifications/{clarification_id}/answer"),
    ("post", "/api/v1/qad/clarifications/{clarification_id}/close"),
    ("post", "/api/v1/qad/clarifications/{clarification_id}/reply"),
    ("post", "/api/v1/qad/organisations/{organisation_id}/signing-delegates"),
    ("post", "/api/v1/qad/signatures/{signature_id}/verify"),
    ("post", "/api/v1/qt/catalogue/cases"),
    ("post", "/api/v1/qt/catalogue/cases/{identifier}/reinstate"),
    ("post", "/api/v1/qt/catalogue/cases/{identifier}/retire"),
    ("post", "/api/v1/qt/catalogue/cases/{identifier}/versions"),
    ("post", "/api/v1/qt/catalogue/dip-flows"),
    ("post", "/api/v1/qt/catalogue/requirements"),
    ("post", "/api/v1/qt/catalogue/scenarios"),
    ("put", "/api/v1/applications/{application_id}/pqs"),
    ("put", "/api/v1/applications/{application_id}/pqs/items/{item_id}"),
    ("put", "/api/v1/applications/{application_id}/qt/defects/{defect_id}"),
    ("put", "/api/v1/applications/{application_id}/qt/plan"),
    ("put", "/api/v1/applications/{application_id}/rttm"),
    ("put", "/api/v1/applications/{application_id}/workoff/items/{item_id}"),
    ("put", "/api/v1/pab/meetings/{meeting_id}"),
    ("put", "/api/v1/qt/catalogue/dip-flows/{code}"),
    ("put", "/api/v1/qt/catalogue/requirements/{identifier}"),
    ("put", "/api/v1/qt/catalogue/scenarios/{identifier}"),
}


@pytest.fixture
def document():
    response = Client().get("/api/openapi.json")
    assert response.status_code == 200
    return response.json()


def test_document_describes_the_api(document):
    assert document["openapi"].startswith("3.")
    assert document["info"]["title"] == "MHHS Qualification Portal API"
    assert document["info"]["version"] == "1"


def test_document_lists_every_endpoint(document):
    listed = {(method, path) for path, operations in document["paths"].items() for method in operations}
    assert listed == ENDPOINTS


# The public register of qualified participants is readable without signing in.
PUBLIC_OPERATIONS = {"register_list"}


def test_every_operation_is_named_authenticated_and_documents_its_errors(document):
    operations = [op for ops in document["paths"].values() for op in ops.values()]
    ids = [op["operationId"] for op in operations]
    assert len(ids) == len(set(ids))
    assert "application_list" in ids
    schemes = set(document["components"]["securitySchemes"])
    assert schemes == {"BearerTokenAuth", "SessionAuth"}
    for operation in operations:
        if operation["operationId"] in PUBLIC_OPERATIONS:
            # Public by design: no sign-in, so no security requirement and no 401.
            assert not operation.get("security") and "401" not in operation["responses"]
            continue
        assert {name for requirement in operation["security"] for name in requirement} == schemes
        assert "401" in operation["responses"]
    assert set(document["components"]["schemas"]["ErrorOut"]["properties"]) == {"code", "message", "details"}


# Single documents, and the short list of waves an administrator keeps (a handful of rows).
# Single resources and files, not lists.
NOT_PAGED = {
    "/api/v1/me",
    "/api/v1/me/calendar-feed",
    "/api/v1/pab/rule",
    "/api/v1/qad/template",
    "/api/v1/qad/declaration",
    "/api/v1/pqs/waves",
    "/api/v1/qt/catalogue/export",
    # One summary of the pipeline (counts per stage, per age, per deadline status), not a list.
    "/api/v1/reports/pipeline",
}


def test_lists_document_their_paging(document):
    for method, path in ENDPOINTS:
        operation = document["paths"][path][method]
        if method != "get" or "{" in path or path in NOT_PAGED:
            continue
        params = {p["name"] for p in operation.get("parameters", [])}
        assert {"limit", "offset"} <= params, path
        schema_ref = operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
        paged = document["components"]["schemas"][schema_ref.rsplit("/", 1)[-1]]
        assert {"count", "limit", "offset", "items"} == set(paged["properties"]), path


def test_upload_takes_multipart(document):
    operation = document["paths"]["/api/v1/applications/{application_id}/tasks/{task_code}/transitions/upload"]["post"]
    assert "multipart/form-data" in operation["requestBody"]["content"]


def test_docs_page_loads():
    response = Client().get("/api/docs")
    assert response.status_code == 200
    assert b"/api/openapi.json" in response.content


def test_docs_page_uses_only_the_portals_own_assets():
    """The page must work under the portal's content security policy: scripts and styles from the
    portal itself, no inline script."""
    response = Client().get("/api/docs")
    content = response.content.decode()
    assert "https://" not in content
    assert "/static/ninja/swagger-ui-bundle.js" in content
    assert "<script>" not in content
    assert "script-src 'self'" in response["Content-Security-Policy"]


def test_every_schema_has_its_own_name():
    """The OpenAPI document names each schema by its class name: two classes of the same name in
    different modules would silently share one entry, and one of them would be documented wrongly."""
    import importlib
    import inspect
    import pkgutil

    from ninja import Schema

    import portal.api.v1

    modules = [importlib.import_module("portal.api.schemas")] + [
        importlib.import_module(f"portal.api.v1.{info.name}") for info in pkgutil.iter_modules(portal.api.v1.__path__)
    ]
    seen: dict[str, str] = {}
    for module in modules:
        for name, value in vars(module).items():
            if inspect.isclass(value) and issubclass(value, Schema) and value.__module__ == module.__name__:
                assert name not in seen, f"{name} is defined in both {seen[name]} and {module.__name__}"
                seen[name] = module.__name__
