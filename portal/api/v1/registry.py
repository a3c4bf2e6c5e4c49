"""The public register: the REC Party Register and the register of MHHS qualification. Mounted at `/v1`.

Public: no token needed (the same entries as `/register/`, `/register.csv` and `/register.json`). It
shows what the register shows and nothing more: no application, no user, not the text of conditions."""

import datetime as dt

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema
from ninja.pagination import paginate

from portal.api.errors import ErrorOut
from portal.api.pagination import LimitOffset
from portal.registry import selectors
from portal.registry.models import EntryStatus, Register, RegisterEntry

router = Router(tags=["register"])


class RegisterFilters(Schema):
    history: bool = Field(False, description="Every entry ever recorded, newest first (else only the current entries).")
    # "register" is an attribute of every schema class (abc's), hence the alias.
    register_: Register | None = Field(None, alias="register", description="Only this register.")
    market_role: str | None = Field(None, max_length=10, description="Only this market role (its code, e.g. SUP).")
    status: EntryStatus | None = Field(None, description="Only entries with this status.")


class RegisterEntryOut(Schema):
    id: int
    register_: Register = Field(
        alias="register", description="rec_party: the REC Party Register; mhhs: MHHS qualification."
    )
    organisation: str = Field(description="The organisation's name when the entry was recorded.")
    mpid: str = Field(description="The Market Participant ID.")
    market_role: str = Field(description="The market role's code, e.g. SUP.")
    market_role_name: str
    status: EntryStatus = Field(
        description="rec_approved: approved by the REC Code Manager (REC Party Register); qualified: MHHS "
        "Qualified; active: Service Activation complete; withdrawn: no longer qualified."
    )
    with_conditions: bool = Field(description="The approval was given with conditions.")
    effective_date: dt.date = Field(description="The date of the change, in the UK.")
    recorded_at: dt.datetime
    is_current: bool = Field(description="False once a later entry for the same MPID and role replaced it.")
    superseded_at: dt.datetime | None
    previous_id: int | None = Field(description="The entry it replaced.")

    @staticmethod
    def resolve_organisation(entry: RegisterEntry) -> str:
        return entry.organisation_name

    @staticmethod
    def resolve_mpid(entry: RegisterEntry) -> str:
        return entry.mpid_code

    @staticmethod
    def resolve_market_role(entry: RegisterEntry) -> str:
        return entry.market_role_code

    @staticmethod
    def resolve_with_conditions(entry: RegisterEntry) -> bool:
        return bool(entry.conditions)


@router.get("/register", response={200: list[RegisterEntryOut], 422: ErrorOut}, auth=None, by_alias=True)
@paginate(LimitOffset)
def register_list(request: HttpRequest, filters: Query[RegisterFilters]) -> object:
    """The register of qualified participants (public, no token needed): the current entry of each
    MPID and market role on each register, or with `history` every entry ever recorded."""
    return selectors.register_entries(
        history=filters.history,
        register=filters.register_ or "",
        market_role=filters.market_role or "",
        status=filters.status or "",
    )
