from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "portal.accounts"
    label = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        from allauth.account.decorators import secure_admin_login
        from django.contrib import admin

        from portal.accounts import signals

        signals.connect()
        # The admin has no sign-in form of its own: it sends people to the portal's, which throttles
        # attempts and asks for the second factor.
        admin.site.login = secure_admin_login(admin.site.login)  # type: ignore[method-assign]
