"""Accounts, passwords, sessions, roles, access rules, second factor and the audit log."""
