"""Joining the society: the public Membership Options page, applications, their review, the first fee."""
