"""Election pages, assembled: members nominate and vote (logged in or through a personal ballot link), the returning
officer sets elections up and runs them, scrutineers watch, and everyone can read the candidates and, after
the close, the ballot trackers. Mounted in app.py as `Mount("/elections", ..., name="elections")`.

Nothing here logs or e-mails a ballot. The receipt is rendered straight from the cast (no redirect), so the
tracker is never put in a URL, a cookie or a row that knows the voter.
"""

from __future__ import annotations

from portal.elections import nomination_routes, officer_routes, results_routes, trustee_routes, voting_routes

#: Mounted in app.py as `Mount("/elections", ..., name="elections")`; no two paths overlap, so the order is free.
routes = (
    voting_routes.routes
    + nomination_routes.routes
    + officer_routes.routes
    + results_routes.routes
    + trustee_routes.routes
)
