"""E-mail that is never lost: an outbox written in the action's own transaction, and a sender worker."""
