"""Routing helpers."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from starlette.datastructures import URLPath
from starlette.routing import BaseRoute, Mount, NoMatchFound, Route


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


class RouteIndex:
    """Named routes looked up by name at once. Starlette's `url_path_for` tries every route in turn and catches a
    `NoMatchFound` from each that is not it; with a few hundred routes that walk cost as much as rendering the
    page (a ballot page asks for a dozen links). The index is built once from the app's routes, which do not
    change after `create_app`; a name it does not hold raises `NoMatchFound`, as Starlette's does."""

    def __init__(self, routes: Sequence[BaseRoute]) -> None:
        #: Full name -> (the mounts' path prefix, the route, its own name within its mount).
        self.routes: dict[str, tuple[str, Route | Mount, str]] = {}
        self._add(routes, prefix="", namespace=None)

    def _add(self, routes: Sequence[BaseRoute], *, prefix: str, namespace: str | None) -> None:
        for route in routes:
            name: str | None = getattr(route, "name", None)
            full = f"{namespace}:{name}" if namespace and name else name
            if isinstance(route, Mount) and route.routes and "{" not in route.path:
                self._add(route.routes, prefix=prefix + route.path, namespace=full)
            elif isinstance(route, Route | Mount) and name is not None and full is not None:
                # The first route of a name wins, as in Starlette's walk.
                self.routes.setdefault(full, (prefix, route, name))

    def url_path_for(self, name: str, /, **path_params: Any) -> URLPath:
        found = self.routes.get(name)
        if found is None:
            raise NoMatchFound(name, path_params)
        prefix, route, own_name = found
        url = route.url_path_for(own_name, **path_params)
        return URLPath(path=prefix + str(url), protocol=url.protocol) if prefix else url
