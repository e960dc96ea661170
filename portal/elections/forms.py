"""Reading the elections' forms into the service's plain values: `(value or None, errors)`, never raising on
what a person typed."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from portal.elections.models import BALLOT_ORDERS, METHODS, STV_RULES, Election
from portal.elections.service import ContestSetup, ElectionSetup, contest_problems, setup_problems
from portal.members.models import STATUSES
from portal.web.forms import FormReader, whole_number
from portal.web.templating import local_time

TIMES = (
    ("nominations_open_at", "when nominations open"),
    ("nominations_close_at", "when nominations close"),
    ("withdrawal_deadline_at", "the withdrawal deadline"),
    ("voting_open_at", "when voting opens"),
    ("voting_close_at", "when voting closes"),
)


def _local_input(value: datetime) -> str:
    """A stored time as a `datetime-local` field shows it: UK time, to the minute."""
    return local_time(value, "%Y-%m-%dT%H:%M")


def election_values(election: Election) -> dict[str, Any]:
    values: dict[str, Any] = {name: _local_input(getattr(election, name)) for name, _ in TIMES}
    values.update(
        title=election.title,
        description=election.description,
        statuses=election.statuses,
        categories=election.categories,
        accreditations=election.accreditations,
        ballot_order=election.ballot_order,
        statement_word_limit=election.statement_word_limit,
        reminder_days=election.reminder_days,
        stv_rule=election.stv_rule,
        results_public=election.results_public,
    )
    return values


def read_setup(
    form: Mapping[str, Any] | None, *, categories: Mapping[str, str], accreditations: Mapping[str, str]
) -> tuple[ElectionSetup | None, dict[str, Any], dict[str, str]]:
    reader = FormReader(form)
    title = reader.text("title", label="a title")
    description = reader.text("description", label="a description", required=False, max_length=5000)
    times = {name: reader.local_datetime(name, label=label) for name, label in TIMES}
    statuses = reader.choices("statuses", list(STATUSES))
    chosen_categories = reader.choices("categories", list(categories))
    chosen_levels = reader.choices("accreditations", list(accreditations))
    order = reader.choice("ballot_order", BALLOT_ORDERS, label="how candidates are ordered on the ballot")
    limit = reader.integer("statement_word_limit", label="the word limit", minimum=1)
    # Optional in the form (ERS97 when absent), so older forms and scripts that do not send it still work.
    stv_rule = reader.choice("stv_rule", STV_RULES, label="how ranked posts are counted", required=False)
    results_public = reader.checkbox("results_public")
    days_raw = reader.text("reminder_days", label="the reminder days", required=False, max_length=50)
    days: list[int] = []
    for part in days_raw.replace(" ", "").split(","):
        if not part:
            continue
        day = whole_number(part, maximum=366)
        if day is None:
            reader.error(
                "reminder_days", "Enter reminder days as whole numbers separated by commas, like 3,1."
            )
            break
        days.append(day)
    if not statuses:
        reader.error("statuses", "Choose at least one membership status.")
    if not reader.ok:
        return None, reader.data, reader.errors
    setup = ElectionSetup(
        title=title,
        description=description,
        statuses=tuple(statuses),
        categories=tuple(chosen_categories),
        accreditations=tuple(chosen_levels),
        ballot_order=order,
        statement_word_limit=limit or 0,
        reminder_days=tuple(days),
        stv_rule=stv_rule or "ers97",
        results_public=results_public,
        **{name: value for name, value in times.items() if value is not None},
    )
    problems = setup_problems(setup)
    return (None if problems else setup), reader.data, problems


def read_contest(
    form: Mapping[str, Any] | None,
) -> tuple[ContestSetup | None, dict[str, Any], dict[str, str]]:
    reader = FormReader(form)
    title = reader.text("title", label="the name of the post")
    description = reader.text("description", label="a description", required=False, max_length=2000)
    seats = reader.integer("seats", label="the number of seats", minimum=1)
    method = reader.choice("method", METHODS, label="how this post is voted on")
    ron = reader.checkbox("ron")
    officer = reader.checkbox("officer")
    position = reader.integer("position", label="the place in the counting order", minimum=0, required=False)
    if not reader.ok:
        return None, reader.data, reader.errors
    setup = ContestSetup(
        title=title,
        description=description,
        seats=seats or 1,
        method=method,
        ron=ron,
        officer=officer,
        position=position or 0,
    )
    problems = contest_problems(setup)
    return (None if problems else setup), reader.data, problems
