"""Replay recorded histories of ``TemporaryCaseWorkflow`` with the current workflow code, without
a server: a change that breaks determinism fails here, in CI, before it reaches running cases.

- ``prepayment_justified``: 先行救助 from the reserve fund, justified in time, accepted, closed.
- ``prepayment_recovered``: never justified, reminded, escalated, rejected, recovered in two parts.
- ``special_staged``: 一事一议 referred and approved in three stages paid on their dates.
- ``normal_child_approved``: 支出型 via the application child, approved and paid.

Regenerate with ``JIUZHU_WRITE_HISTORY=1 pytest tests/temporary/test_temporary_prepayment.py
tests/temporary/test_temporary_special.py tests/temporary/test_temporary_normal.py`` only when a
change is deliberately incompatible (and then patch the workflow with ``workflow.patched``)."""

from pathlib import Path

from workflows.temporary.contract import WORKFLOW_TYPE

HISTORIES = Path(__file__).parent / "histories"
REQUIRED = {
    "prepayment_justified": WORKFLOW_TYPE,
    "special_staged": WORKFLOW_TYPE,
}  # checked by test_replay_all
