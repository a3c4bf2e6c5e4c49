from django.urls import path

from portal.web.views import account, applications, inbox, pages, tasks

app_name = "web"

urlpatterns = [
    path("", pages.home, name="home"),
    path("work-queue/", pages.work_queue_page, name="work_queue"),
    path("process/", pages.process, name="process"),
    path("applications/", applications.application_list_page, name="application_list"),
    path("applications/new/", applications.application_create_page, name="application_create"),
    path("applications/<int:application_id>/", applications.application_detail, name="application_detail"),
    path(
        "applications/<int:application_id>/withdraw/",
        applications.application_withdraw_page,
        name="application_withdraw",
    ),
    path(
        "applications/<int:application_id>/non-completion/",
        applications.application_non_completion_page,
        name="application_non_completion",
    ),
    path("applications/<int:application_id>/tasks/<slug:task_code>/", tasks.task_detail, name="task_detail"),
    path(
        "applications/<int:application_id>/tasks/<slug:task_code>/attachments/<int:attachment_id>/",
        tasks.attachment_download,
        name="attachment_download",
    ),
    path(
        "applications/<int:application_id>/tasks/<slug:task_code>/<slug:action>/",
        tasks.task_action,
        name="task_action",
    ),
    path("inbox/", inbox.inbox, name="inbox"),
    path("inbox/read-all/", inbox.notification_read_all, name="notification_read_all"),
    path("inbox/<int:notification_id>/read/", inbox.notification_read, name="notification_read"),
    path("your-account/", account.account, name="account"),
    path("your-account/sessions/end-others/", account.account_sessions_end_others, name="account_sessions_end_others"),
    path("your-account/sessions/<int:session_id>/end/", account.account_session_end, name="account_session_end"),
    path("your-account/tokens/new/", account.account_token_create, name="account_token_create"),
    path("your-account/tokens/<int:token_id>/revoke/", account.account_token_revoke, name="account_token_revoke"),
]
