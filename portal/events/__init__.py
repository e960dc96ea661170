"""Events: conferences and meetings, tickets, workshops, questions, registrations, waitlists, payments."""
