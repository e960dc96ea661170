"""The public register of accredited practitioners and the Find a Therapist directory (issue 17, points 4-6)."""
