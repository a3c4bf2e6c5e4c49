from django_tasks import task


@task()
def send_notification_email(notification_id: int) -> None:
    """Thin wrapper: the worker loads the notification and the service sends it."""
    from portal.notifications.services import notification_send_email

    notification_send_email(notification_id=notification_id)


@task()
def send_outbound_email(outbound_email_id: int) -> None:
    """Thin wrapper: the worker loads the e-mail to a distribution list's address and the service sends it."""
    from portal.notifications.services import outbound_email_send

    outbound_email_send(outbound_email_id=outbound_email_id)
