"""Where an election stands in the returning officer's work, as six steps (Set-up → Nominations → Voting →
Count → Review → Publish), and the one thing to do next. Computed from the stored times and marks at each
request, like `Election.state`; the election's page draws it as a stepper with the next action as its button."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from portal.elections.models import Election
from portal.elections.results import results_stage

#: The steps, in order: key → label.
STEPS: dict[str, str] = {
    "setup": "Set-up",
    "nominations": "Nominations",
    "voting": "Voting",
    "count": "Count",
    "review": "Review",
    "publish": "Publish",
}


@dataclass(frozen=True)
class Action:
    """The next thing to do: a link (GET) or a button that posts (`post=True`) to the route `route`.
    `officer_only` actions are not offered to scrutineers."""

    label: str
    route: str
    post: bool = False
    officer_only: bool = True
    #: A nomination's id, for the route of one nomination.
    nomination_id: int | None = None


@dataclass(frozen=True)
class Progress:
    current: str
    #: What the current step is waiting for, in a word the page turns into a sentence.
    situation: str
    action: Action | None

    @property
    def steps(self) -> list[tuple[str, str, str]]:
        """(key, label, "done" | "current" | "todo") for each step; all done once published."""
        keys = list(STEPS)
        at = keys.index(self.current)
        finished = self.situation == "published"
        return [
            (key, label, "done" if i < at or finished else ("current" if i == at else "todo"))
            for i, (key, label) in enumerate(STEPS.items())
        ]


def progress(
    election: Election, now: datetime, *, not_ready: str | None, waiting_nomination: int | None
) -> Progress:
    """`not_ready` is the trustees' reason voting cannot open yet (None when they are ready);
    `waiting_nomination` the id of a nomination that waits for the returning officer's decision."""
    state = election.state(now)
    trustees = Action("Name the trustees and make the election key", "elections:trustees")
    if state == "draft":
        if not election.contests:
            return Progress("setup", "no_posts", Action("Add a post", "elections:contest_new"))
        return Progress("setup", "draft", trustees if election.public_key is None else None)
    if state == "nominations":
        if waiting_nomination is not None:
            decide = Action(
                "Decide the nominations waiting for you",
                "elections:nomination",
                nomination_id=waiting_nomination,
            )
            return Progress("nominations", "decide", decide)
        return Progress("nominations", "nominations", trustees if election.public_key is None else None)
    if state == "between" and election.roll_frozen_at is None:
        if not_ready:
            return Progress("voting", "not_ready", Action("Get the trustees ready", "elections:trustees"))
        return Progress("voting", "between", Action("Open voting now", "elections:open_voting", post=True))
    if state in ("between", "voting"):
        return Progress(
            "voting", "voting", Action("See the turnout", "elections:turnout", officer_only=False)
        )
    stage = results_stage(election, now)
    if stage == "closing":
        return Progress(
            "count", "closing", Action("Give the trustees' shares to open the ballot box", "elections:close")
        )
    if stage == "sealed":
        return Progress("count", "sealed", Action("Count the votes", "elections:results_count", post=True))
    if stage == "counted":
        review = Action("Review the count and publish", "elections:results", officer_only=False)
        return Progress("review", "counted", review)
    return Progress(
        "publish", "published", Action("See the published results", "elections:results", officer_only=False)
    )
