"""Training: the courses the society runs (each with its upcoming dates, from the events room through a hook)
and the external CPD courses staff list."""
