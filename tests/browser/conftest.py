"""Browser fixtures are a root plugin (tests/browser_fixtures.py); the kit's helpers are re-exported here for
tests that import them from this module."""

from browser_kit import LiveServer, free_port, start_server, stop_server

__all__ = ["LiveServer", "free_port", "start_server", "stop_server"]
