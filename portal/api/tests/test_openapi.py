import pytest
from django.test import Client

pytestmark = pytest.mark.django_db

ENDPOINTS = {
    ("delete", "/api/v1/applications/{application_id}/dip/ids/{dip_id_id}"),
    ("delete", "/api/v1/applications/{application_id}/pit/criteria/{criterion_code}/evidence/{evidence_id}"),
    ("delete", "/api/v1/applications/{application_id}/pqs/items/{item_id}"),
    ("delete", "/api/v1/me/tokens/{token_id}"),
    ("delete", "/api/v1/qad/signing-delegates/{delegate_id}"),
    ("get", "/api/v1/applications"),
    ("get", "/api/v1/applications/{application_id}"),
    ("get", "/api/v1/applications/{application_id}/dip"),
    ("get", "/api/v1/applications/{application_id}/pit"),
    ("get", "/api/v1/applications/{application_id}/pit/evidence/{evidence_id}"),
    ("get", "/api/v1/applications/{application_id}/pit/rttm"),
    ("get", "/api/v1/applications/{application_id}/pqs"),
    ("get", "/api/v1/applications/{application_id}/pqs/items"),
    ("get", "/api/v1/applications/{application_id}/pqs/items/{item_id}"),
    ("get", "/api/v1/applications/{application_id}/tasks/{task_code}"),
    ("get", "/api/v1/me"),
    ("get", "/api/v1/me/tokens"),
    ("get", "/api/v1/notifications"),
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
    ("get", "/api/v1/reference/approval-matrix"),
    ("get", "/api/v1/reference/market-roles"),
    ("get", "/api/v1/reference/routes"),
    ("get", "/api/v1/work-queue"),
    ("post", "/api/v1/applications"),
    ("post", "/api/v1/applications/{application_id}/dip/ids"),
    ("post", "/api/v1/applications/{application_id}/dip/ids/{dip_id_id}/confirm"),
    ("post", "/api/v1/applications/{application_id}/dip/steps/{step_code}"),
    ("post", "/api/v1/applications/{application_id}/non-completion"),
    ("post", "/api/v1/applications/{application_id}/pit/criteria/{criterion_code}"),
    ("post", "/api/v1/applications/{application_id}/pit/criteria/{criterion_code}/upload"),
    ("post", "/api/v1/applications/{application_id}/pit/rttm/{checkpoint}"),
    ("post", "/api/v1/applications/{application_id}/pqs/items"),
    ("post", "/api/v1/applications/{application_id}/pqs/items/{item_id}/decision"),
    ("post", "/api/v1/applications/{application_id}/pqs/items/{item_id}/evidence"),
    ("post", "/api/v1/applications/{application_id}/tasks/{task_code}/transitions"),
    ("post", "/api/v1/applications/{application_id}/tasks/{task_code}/transitions/upload"),
    ("post", "/api/v1/applications/{application_id}/withdraw"),
    ("post", "/api/v1/me/tokens"),
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
    ("put", "/api/v1/applications/{application_id}/pqs"),
    ("put", "/api/v1/applications/{application_id}/pqs/items/{item_id}"),
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


def test_every_operation_is_named_authenticated_and_documents_its_errors(document):
    operations = [op for ops in document["paths"].values() for op in ops.values()]
    ids = [op["operationId"] for op in operations]
    assert len(ids) == len(set(ids))
    assert "application_list" in ids
    schemes = set(document["components"]["securitySchemes"])
    assert schemes == {"BearerTokenAuth", "SessionAuth"}
    for operation in operations:
        assert {name for requirement in operation["security"] for name in requirement} == schemes
        assert "401" in operation["responses"]
    assert set(document["components"]["schemas"]["ErrorOut"]["properties"]) == {"code", "message", "details"}


# Single documents, and the short list of waves an administrator keeps (a handful of rows).
NOT_PAGED = {"/api/v1/me", "/api/v1/qad/template", "/api/v1/qad/declaration", "/api/v1/pqs/waves"}


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
