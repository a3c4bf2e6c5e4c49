"""The approvals pages and calendar feeds. Included at the site root:
`path("", include("portal.approvals.urls"))`."""

from django.urls import path

from portal.approvals import views

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
]
