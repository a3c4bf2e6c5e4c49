"""The role groups of the portal.

Staff roles are Django groups (one per value below, created by a data migration). The two participant
roles are not groups: they come from the user's membership of an organisation, because a participant
user acts only for the organisation they belong to.
"""

from django.db import models


class Role(models.TextChoices):
    PARTICIPANT_MEMBER = "participant_member", "Participant member"
    PARTICIPANT_DIRECTOR = "participant_director", "Participant director"
    ELEXON_ANALYST = "elexon_analyst", "Elexon qualification analyst"
    QSP = "qsp", "Qualification Service Provider"
    TESTING_ASSURANCE = "testing_assurance", "Testing Assurance"
    PROGRAMME_ASSURANCE = "programme_assurance", "MHHS Programme assurance"
    DIP_MANAGER = "dip_manager", "DIP Manager"
    REC_CODE_MANAGER = "rec_code_manager", "REC Code Manager"
    PAB_SECRETARY = "pab_secretary", "PAB secretary"
    PAB_CHAIR = "pab_chair", "PAB chair"
    PAB_MEMBER = "pab_member", "PAB member"
    SERVICE_ACTIVATION = "service_activation", "Service Activation"
    ADMINISTRATOR = "administrator", "Administrator"


PARTICIPANT_ROLES = frozenset({Role.PARTICIPANT_MEMBER, Role.PARTICIPANT_DIRECTOR})
STAFF_ROLES = frozenset(set(Role) - PARTICIPANT_ROLES)

# The Code Bodies review QADs and pre-qualification submissions, and agree work-off plans.
CODE_BODY_ROLES = frozenset({Role.ELEXON_ANALYST, Role.QSP, Role.REC_CODE_MANAGER})

# Who must sign in with a second factor (an authenticator app): every staff role, because they assure,
# approve or administer, and every Company Director, because a director signs the Final QAD.
MFA_ROLES = frozenset(STAFF_ROLES | {Role.PARTICIPANT_DIRECTOR})
