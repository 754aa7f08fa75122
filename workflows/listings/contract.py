"""The listings domain's contract (长期公示的张贴): the workflow type and id, statuses, message
names and the change announced to it. Imported by the API, the worker and the entitlement
activity that announces a change. Pure (no I/O, no workflow classes).

低保办法 Art. 23–24 and 焦民〔2022〕154号 十一 (seed 002: 强化低保对象长期公示 … 保护个人隐私):
the households receiving 低保/特困 are listed on the village's notice board for as long as they
receive it. When a case starts, changes or ends, the listing changes, and the village's board
must be brought up to date: the township (which decides and publishes) is reminded before the
policy's ``listing_update`` period runs out and the county is told when it has."""

from datetime import date
from enum import StrEnum

from pydantic import BaseModel

LISTING_WORKFLOW_TYPE = "ListingPostingWorkflow"

GET_STATE = "get_state"
LISTING_CHANGED = "listing_changed"  # signal: the village's listing changed
RECORD_POSTING = "record_posting"  # update: the updated listing is on the board

POSTING_DEADLINE = "listing_posting"  # the updated listing is posted on the village's board

BASIS = (
    "低保办法第二十三、二十四条；焦民〔2022〕154号 十一：强化低保对象长期公示，保护个人隐私"
    "（期限：地方政策 listing_update）"
)


def listing_workflow_id(village_code: str) -> str:
    """One posting workflow per village: ``listing-<village code>``."""
    return f"listing-{village_code}"


def listing_case_id(village_code: str) -> str:
    """The village listing's read-model id: ``LS<village code>``."""
    return f"LS{village_code}"


class ListingStatus(StrEnum):
    POSTED = "posted"  # the board shows the listing as it is
    UPDATE_DUE = "update_due"  # the listing changed since it was last posted


STATUS_LABELS_ZH: dict[ListingStatus, str] = {
    ListingStatus.POSTED: "公示已更新",
    ListingStatus.UPDATE_DUE: "待张贴更新",
}


class ChangeKind(StrEnum):
    START = "start"  # a household starts receiving 低保/特困
    CHANGE = "change"  # its amount or paid members changed
    END = "end"  # it stops receiving


CHANGE_NAMES_ZH: dict[ChangeKind, str] = {
    ChangeKind.START: "新纳入",
    ChangeKind.CHANGE: "金额或人数变更",
    ChangeKind.END: "停止救助",
}


class ListingChange(BaseModel):
    """A change of the village's listing, announced by the entitlement's read-model write:
    which case, what kind, on which day (Beijing). Signals may repeat (a retried activity): the
    workflow keeps one pending change per case."""

    case_id: str
    kind: ChangeKind
    on: date


class ListingStart(BaseModel):
    """What starts a village's posting workflow from outside it: the workflow's
    ``ListingInput`` without the state a continue-as-new carries (the same JSON)."""

    village_code: str
