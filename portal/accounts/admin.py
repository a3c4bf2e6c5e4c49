"""Users in the admin. The e-mail address is the login (`username` mirrors it and is not shown); staff
roles are the groups ticked here; participant roles come from membership of an organisation, shown
below the user and edited on either side. Every change is written to the audit log."""

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.db.models import QuerySet
from django.http import HttpRequest

from portal.accounts.models import ApiToken, User
from portal.accounts.services import api_token_revoke
from portal.audit.admin import AuditedModelAdmin, ReadOnlyModelAdmin
from portal.participants.models import Membership

ROLES_HELP = (
    "Staff roles. Participant roles are not groups: a user is a participant member through membership "
    "of an organisation, and a participant director when that membership is marked Company Director."
)


class _EmailIsUsername:
    """The login is the e-mail address; `username` is kept equal to it for tools that expect one."""

    instance: User

    def _post_clean(self) -> None:
        super()._post_clean()  # type: ignore[misc]
        self.instance.username = (self.instance.email or "").lower()


class PortalUserCreationForm(_EmailIsUsername, AdminUserCreationForm):
    class Meta:
        model = User
        fields = ("email", "full_name", "job_title")


class PortalUserChangeForm(_EmailIsUsername, UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"


class UserMembershipInline(admin.TabularInline):
    model = Membership
    fk_name = "user"
    extra = 0
    fields = ("organisation", "is_director")
    verbose_name = "organisation membership"
    verbose_name_plural = "organisation memberships (participant roles)"


@admin.register(User)
class UserAdmin(AuditedModelAdmin, DjangoUserAdmin):
    description = "People who sign in. The e-mail address is the login. " + ROLES_HELP
    form = PortalUserChangeForm
    add_form = PortalUserCreationForm
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Person", {"fields": ("full_name", "job_title")}),
        ("Staff roles", {"fields": ("groups",), "description": ROLES_HELP}),
        (
            "Access",
            {
                "fields": ("is_active", "is_staff", "is_superuser", "user_permissions"),
                "description": "Staff status lets a user into this admin; a superuser is an administrator.",
            },
        ),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("email", "full_name", "job_title", "usable_password", "password1", "password2"),
            },
        ),
    )
    inlines = (UserMembershipInline,)
    list_display = ("email", "full_name", "job_title", "staff_roles", "organisations", "is_active", "is_superuser")
    list_filter = ("is_active", "is_superuser", "groups", "memberships__is_director")
    search_fields = ("email", "full_name", "memberships__organisation__name")
    ordering = ("email",)
    filter_horizontal = ("user_permissions",)
    readonly_fields = ("last_login", "date_joined")

    def get_queryset(self, request: HttpRequest) -> QuerySet[User]:
        return super().get_queryset(request).prefetch_related("groups", "memberships__organisation")

    def get_inlines(self, request: HttpRequest, obj: Any) -> Any:
        return self.inlines if obj is not None else ()

    def formfield_for_manytomany(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "groups":
            kwargs["widget"] = forms.CheckboxSelectMultiple
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    @admin.display(description="Staff roles")
    def staff_roles(self, obj: User) -> str:
        return ", ".join(sorted(g.name for g in obj.groups.all()))

    @admin.display(description="Organisations")
    def organisations(self, obj: User) -> str:
        return ", ".join(
            f"{m.organisation.name}{' (director)' if m.is_director else ''}" for m in obj.memberships.all()
        )

    def audit_snapshot(self, obj: Any) -> dict[str, Any]:
        snapshot = super().audit_snapshot(obj)
        snapshot.pop("last_login", None)
        return {
            **snapshot,
            "groups": sorted(obj.groups.values_list("name", flat=True)),
            "memberships": sorted(
                [name, director] for name, director in obj.memberships.values_list("organisation__name", "is_director")
            ),
        }


@admin.register(ApiToken)
class ApiTokenAdmin(ReadOnlyModelAdmin):
    description = (
        "Bearer tokens for the HTTP API. Only a hash of each secret is stored; tokens are created with "
        "`manage.py create_api_token`, which shows the secret once."
    )
    list_display = ("name", "user", "key_prefix", "created_at", "last_used_at", "revoked_at")
    list_filter = ("revoked_at",)
    search_fields = ("name", "user__email", "key_prefix")
    exclude = ("key_hash",)
    actions = ("revoke",)

    @admin.action(description="Revoke the selected API tokens")
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> None:
        revoked = 0
        for token in queryset.filter(revoked_at__isnull=True):
            api_token_revoke(actor=request.user, token_id=token.pk)
            revoked += 1
        self.message_user(request, f"{revoked} API token(s) revoked.", messages.SUCCESS)
