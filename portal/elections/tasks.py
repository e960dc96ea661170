"""The periodic election job (run by the app every 5 minutes, see `create_app`): it freezes rolls, closes
voting and sends scheduled reminders even when no one visits an election page. Every step is idempotent and
safe across workers, so each app worker may run it, and `portal election remind` may run at the same time."""

from __future__ import annotations

import logging
from typing import Any

from portal.elections.links import Links
from portal.elections.reminders import run_due

log = logging.getLogger("portal.elections")

#: How often the job looks at the clock. Reminders are due by the day, so a few minutes late is fine.
INTERVAL_SECONDS = 300.0
ERROR_PAUSE_SECONDS = 60.0


def run_once(app: Any) -> dict[str, int]:
    state = app.state
    done = run_due(state.db, now=state.clock(), key=state.settings.key_bytes(), links=Links.for_app(app))
    if done["updated"] or done["reminders"]:
        log.info("elections: %(updated)s election(s) brought up to date, %(reminders)s reminder(s)", done)
    return done
