"""The membership roll: members, their history, CSV import, staff pages and member self-service."""
