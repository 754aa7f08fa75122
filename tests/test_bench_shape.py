"""The application benchmark's bare workflow asks of Temporal what an approved application does
(``bench/applications.py``): the same local and regular activities, patch markers,
search-attribute upserts, timers fired inside the fast-forward, updates and child. A change to
the approve path that adds or removes one fails here, so the benchmark's ratio keeps comparing
like with like."""

from bench.applications import main


async def test_bare_workflow_has_the_shape_of_an_approved_application() -> None:
    result = await main(n=1, concurrency=1, warmup=0, rounds=1)
    shapes = result["shapes"]
    assert shapes["applications"] == shapes["bare"], shapes
    assert shapes["applications"]["timers_fired"] == 2, shapes
