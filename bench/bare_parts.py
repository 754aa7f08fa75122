"""What the bare workflow is given and what it calls: its input model and its no-op activity.
Kept out of ``bench.bare`` and passed through the sandbox (as the application's models and
activities are), so that a bare case's sandbox does not build a pydantic model and an activity
definition again for every run: the bare workflow stands for Temporal's own cost."""

from datetime import timedelta

from pydantic import BaseModel
from temporalio import activity


class BareInput(BaseModel):
    on_start: int  # local activities before the first update (relatives check, record)
    per_update: list[int]  # local activities inside each of the 4 updates, in order
    background_regular: int  # regular activities after update 2 (asking the sources)
    background_local: int  # local activities when they answer (means test, record)
    first_timer: int  # local activities when the first wake-up fires (the reminder)
    second_timer: int  # local activities when the second fires (deadline, record)
    timer: timedelta  # from the publicity's start to its close


@activity.defn(name="bench_noop")
def bench_noop(n: int) -> int:
    return n
