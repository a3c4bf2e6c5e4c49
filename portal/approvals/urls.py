"""The approvals pages and calendar feeds. Included at the site root:
`path("", include("portal.approvals.urls"))`."""

from django.urls import path

from portal.approvals import decision_views, views
from portal.participants.models import ApprovalBody

app_name = "approvals"

urlpatterns = [
    path("pab/meetings/", views.meeting_calendar_page, name="meeting_calendar"),
    path("pab/meetings/new/", views.meeting_create_page, name="meeting_create"),
    path("pab/meetings/generate/", views.meetings_generate_page, name="meetings_generate"),
    path("pab/meetings/<int:meeting_id>/", views.meeting_detail_page, name="meeting_detail"),
    path("pab/meetings/<int:meeting_id>/edit/", views.meeting_edit_page, name="meeting_edit"),
    path("pab/meetings/<int:meeting_id>/cancel/", views.meeting_cancel_page, name="meeting_cancel"),
    path("pab/meetings/<int:meeting_id>/held/", views.meeting_held_page, name="meeting_held"),
    path("applications/<int:application_id>/pab-target/", views.pab_target_page, name="pab_target"),
    path("calendar/feeds/", views.calendar_feeds_page, name="calendar_feeds"),
    path("calendar/feeds/reset/", views.calendar_feed_reset_page, name="calendar_feed_reset"),
    path("calendar/pab.ics", views.pab_ics, name="pab_ics"),
    path("calendar/private/<str:token>.ics", views.user_ics, name="user_ics"),
    # The approval bodies' decisions: each body's queue, and its decision page on each application.
    path("approvals/<slug:body>/", decision_views.approval_queue_page, name="approval_queue"),
    path(
        "pab/meetings/<int:meeting_id>/decisions/<int:application_id>/",
        decision_views.pab_decision_page,
        name="pab_decision",
    ),
    *(
        path(
            f"applications/<int:application_id>/approvals/{body}/",
            decision_views.decision_page,
            {"body": body},
            name=f"decision_{body}",
        )
        for body in ApprovalBody.values
    ),
]

# --- the BSC PAB's summary papers, meeting packs and qualification letters ---------------------------------
from portal.approvals import paper_views  # noqa: E402

urlpatterns += [
    path("pab/meetings/<int:meeting_id>/papers/<int:application_id>/", paper_views.paper_page, name="pab_paper"),
    path(
        "pab/meetings/<int:meeting_id>/papers/<int:application_id>/recommendation/",
        paper_views.recommendation_page,
        name="pab_recommendation",
    ),
    path(
        "pab/meetings/<int:meeting_id>/papers/<int:application_id>/prepare/",
        paper_views.paper_prepare_page,
        name="pab_paper_prepare",
    ),
    path(
        "pab/meetings/<int:meeting_id>/papers/<int:application_id>/versions/<int:version>/pdf/",
        paper_views.paper_pdf,
        name="pab_paper_pdf",
    ),
    path("pab/meetings/<int:meeting_id>/pack/", paper_views.pack_request_page, name="pab_pack_request"),
    path("pab/meetings/<int:meeting_id>/packs/<int:version>/pdf/", paper_views.pack_pdf, name="pab_pack_pdf"),
    path("pab/letters/", paper_views.letter_list_page, name="pab_letters"),
    path("pab/letters/<int:letter_id>/", paper_views.letter_detail_page, name="pab_letter"),
    path("pab/letters/<int:letter_id>/pdf/", paper_views.letter_pdf, name="pab_letter_pdf"),
    path("pab/letters/<int:letter_id>/issue/", paper_views.letter_issue_page, name="pab_letter_issue"),
    path("pab/letters/<int:letter_id>/regenerate/", paper_views.letter_regenerate_page, name="pab_letter_regenerate"),
]
