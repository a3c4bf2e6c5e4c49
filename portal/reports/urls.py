"""The dashboards, timelines, search, downloads and the portfolio report. Included at the site root."""

from django.urls import path

from portal.reports import views

app_name = "reports"

urlpatterns = [
    path("dashboard/", views.dashboard_page, name="dashboard"),
    path("dashboard/applications/", views.pipeline_page, name="pipeline"),
    path("dashboard/timeline/", views.portfolio_timeline_page, name="portfolio_timeline"),
    path("dashboard/report/", views.portfolio_page, name="portfolio"),
    path("dashboard/report/<int:report_id>/pdf/", views.portfolio_pdf, name="portfolio_pdf"),
    path("applications/<int:application_id>/timeline/", views.application_timeline_page, name="application_timeline"),
    path("search/", views.search_page, name="search"),
    path("downloads/", views.downloads_page, name="downloads"),
    path("downloads/<slug:name>.<slug:file_format>", views.export_download, name="export"),
]
