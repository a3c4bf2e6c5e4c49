"""Background jobs of the approvals app (thin wrappers: the services do the work)."""

from django_tasks import task


@task()
def send_deadline_reminders() -> int:
    """Remind people of deadlines due soon, due today or overdue. Returns how many reminders were sent."""
    from portal.approvals.services import deadline_reminders_send

    return deadline_reminders_send().sent


@task()
def generate_pab_meetings() -> int:
    """Add the BSC PAB meetings of the months ahead. Returns how many were added."""
    from portal.approvals.services import pab_meetings_generate

    return len(pab_meetings_generate(actor=None).created)


# --- the Board's documents: each job renders one PDF; the service records the outcome ----------------------


@task()
def generate_pab_paper(paper_id: int) -> None:
    """Generate a summary paper's body and PDF."""
    from portal.approvals.paper_services import pab_paper_generate

    pab_paper_generate(paper_id=paper_id)


@task()
def generate_pab_pack(pack_id: int) -> None:
    """Render a meeting pack: the cover, the agenda and every ready summary paper, in one PDF."""
    from portal.approvals.paper_services import pab_pack_generate

    pab_pack_generate(pack_id=pack_id)


@task()
def generate_qualification_letter(letter_id: int) -> None:
    """Render a qualification letter's PDF, for the PAB Chair to issue."""
    from portal.approvals.letters import qualification_letter_generate

    qualification_letter_generate(letter_id=letter_id)
