"""Accounts, passwords, sessions, roles, route guards, second factor and the audit log."""
