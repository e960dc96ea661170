"""Contact Us: a visitor's message reaches a person. Each topic routes to a staff inbox; the sender gets an
acknowledgement with a reference; the office works the enquiries (status, assignee, notes) and replies from the
portal through the outbox."""
