"""Routing helpers."""

from __future__ import annotations

from collections.abc import Sequence

from starlette.routing import BaseRoute, Route


def namespaced(namespace: str, routes: Sequence[BaseRoute]) -> list[BaseRoute]:
    """A domain's routes at the root of the site, named `<namespace>:<name>`.

    Starlette's `Mount("")` claims every path it sees (its prefix always matches), so a second root-level domain
    behind it would never be reached. Flattening keeps the `url_for("accounts:login")` names without that trap.
    """
    flat: list[BaseRoute] = []
    for route in routes:
        if not isinstance(route, Route):
            raise TypeError(f"only plain routes can be namespaced, not {route!r}")
        methods = sorted(route.methods - {"HEAD"}) if route.methods else None
        flat.append(Route(route.path, route.endpoint, methods=methods, name=f"{namespace}:{route.name}"))
    return flat
