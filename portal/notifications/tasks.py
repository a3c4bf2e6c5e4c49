from django_tasks import task


@task()
def send_notification_email(notification_id: int) -> None:
    """Thin wrapper: the worker loads the notification and the service sends it."""
    from portal.notifications.services import notification_send_email

    notification_send_email(notification_id=notification_id)
