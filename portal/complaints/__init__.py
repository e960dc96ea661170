"""Complaints, as the society's procedure requires: the public page and form, cases with stages and target
dates in UK working days, notes, decisions and letters, seen only by the `complaints` role and administrators."""
