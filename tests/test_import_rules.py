"""The import rules of docs/architecture.md, held: no rule module imports Starlette, `web/` imports no domain,
and nothing imports upwards. A failure names the module and the import that breaks the rule."""

from __future__ import annotations

import ast
from pathlib import Path

PORTAL = Path(__file__).resolve().parent.parent / "portal"

#: The rooms, bottom first: a room may import its own modules and those of rooms below it, never above.
LAYERS: list[set[str]] = [
    {"__init__", "errors", "settings", "db", "audit", "text"},
    {"web", "search"},
    {"mail", "society"},
    {"accounts"},
    {"members", "contact", "site", "training"},
    {"events", "elections", "complaints", "accreditation"},
    {"checkin", "team", "membership", "home", "register"},
    {"models", "ops", "privacy", "demo", "app", "cli", "migrate"},
]
LEVEL = {room: level for level, rooms in enumerate(LAYERS) for room in rooms}
#: Rooms on one level that must not import each other either.
SIBLINGS_APART = {
    frozenset({"events", "elections"}),
    frozenset({"members", "site"}),
    frozenset({"contact", "site"}),
    frozenset({"training", "site"}),
    frozenset({"training", "contact"}),
}
#: Where Starlette may be imported: the web layer, the app, and each room's routes (the handlers).
STARLETTE_OK = ("web", "app", "cli", "demo")


def _room(module: str) -> str:
    return module.split(".")[1] if module.count(".") >= 1 else "__init__"


def _modules() -> list[tuple[str, Path]]:
    out = []
    for path in sorted(PORTAL.rglob("*.py")):
        rel = path.relative_to(PORTAL.parent).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__":
            parts.pop()
        out.append((".".join(parts), path))
    return out


def _imports(path: Path, *, typing_too: bool = True) -> list[tuple[int, str]]:
    """`(line, module)` of each import; `typing_too=False` leaves out those under `if TYPE_CHECKING:` (names
    for annotations only, not imported when the code runs)."""
    tree = ast.parse(path.read_text())
    skip: set[int] = set()
    if not typing_too:
        for node in ast.walk(tree):
            if isinstance(node, ast.If) and ast.unparse(node.test) in (
                "TYPE_CHECKING",
                "typing.TYPE_CHECKING",
            ):
                skip.update(range(node.lineno, (node.end_lineno or node.lineno) + 1))
    found = []
    for node in ast.walk(tree):
        if getattr(node, "lineno", None) in skip:
            continue
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
            if node.module == "portal":
                found.extend((node.lineno, f"portal.{alias.name}") for alias in node.names)
    return found


def _is_routes(module: str) -> bool:
    return module.rsplit(".", 1)[-1].endswith("routes")


def test_no_rule_module_imports_starlette():
    bad = [
        f"{module}:{line} imports {name}"
        for module, path in _modules()
        for line, name in _imports(path, typing_too=False)
        if name.split(".")[0] == "starlette" and _room(module) not in STARLETTE_OK and not _is_routes(module)
    ]
    assert not bad, "only web/, app, cli and routes modules may import Starlette:\n" + "\n".join(bad)


def test_web_imports_no_domain():
    bad = [
        f"{module}:{line} imports {name}"
        for module, path in _modules()
        if _room(module) == "web"
        for line, name in _imports(path)
        if name.startswith("portal.") and LEVEL.get(_room(name), 99) > LEVEL["web"]
    ]
    assert not bad, "web/ knows no domain:\n" + "\n".join(bad)


def test_nothing_imports_upwards():
    bad = []
    for module, path in _modules():
        room = _room(module)
        level = LEVEL.get(room)
        assert level is not None, f"{module}: a new room? add {room!r} to LAYERS (and docs/architecture.md)"
        for line, name in _imports(path):
            if not name.startswith("portal.") or _room(name) == room:
                continue
            target = _room(name)
            # A room's handlers declare their access with accounts' @page / @api, and may name an account.
            if _is_routes(module) and target == "accounts":
                continue
            if LEVEL[target] > level or frozenset({room, target}) in SIBLINGS_APART:
                bad.append(f"{module}:{line} imports {name}")
    assert not bad, "imports must point down the layers of docs/architecture.md:\n" + "\n".join(bad)


def _portal_errors() -> set[str]:
    import portal.app  # noqa: F401 - every domain, so every subclass is defined
    from portal.errors import PortalError

    names, todo = set(), [PortalError]
    while todo:
        cls = todo.pop()
        names.add(cls.__name__)
        todo.extend(cls.__subclasses__())
    return names - {"NotFound"}  # NotFound(message) takes its message first


def test_every_error_code_is_a_member_of_a_code_enum():
    """`PortalError("free_string", ...)` would fail at run time; this finds it before a path reaches it."""
    errors = _portal_errors()
    assert {"PortalError", "Conflict", "ElectionError", "EventError", "CheckInError"} <= errors
    bad = []
    for module, path in _modules():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
                name = getattr(node.func, "id", None) or getattr(node.func, "attr", "")
                if name in errors and isinstance(node.args[0].value, str):
                    bad.append(f"{module}:{node.lineno} {name}({node.args[0].value!r}, …)")
    assert not bad, "error codes come from a Code enum:\n" + "\n".join(bad)
