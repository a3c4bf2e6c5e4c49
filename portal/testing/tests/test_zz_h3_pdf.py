import pytest
from portal.testing import reports
from portal.testing.tests.execution_support import record, raise_defect

pytestmark = pytest.mark.django_db


def test_pdf(member, execution_app):
    run = record(member, execution_app, notes="Slow ack.")
    raise_defect(member, execution_app, execution_ids=[run.pk], severity=1, title="Timeout on flow 2")
    data = reports.completion_data(execution_app)
    open("/tmp/h3/report.pdf", "wb").write(reports.completion_report_pdf(data))
    doc = __import__("weasyprint").HTML(string=__import__("django.template.loader", fromlist=["x"]).render_to_string("testing/qt_report_pdf.html", {"data": data, "application": data.application}))
    pngs = doc.render()
