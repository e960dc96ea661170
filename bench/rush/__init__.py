"""The rush-hour kit: seeding (`world`), people over HTTP (`clients`), the guarantees read back from the
database (`checks`) and the servers and faults (`servers`). Used by `bench/bench_rush.py` and by
`tests/concurrency/test_multiworker.py`."""
