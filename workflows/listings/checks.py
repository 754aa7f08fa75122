"""Pure checks of the listing's posting step: each raises a ``jiuzhu.refusals`` refusal before
anything is written (validator) and again under the lock (handler)."""

from datetime import date

from jiuzhu.contract import Role
from jiuzhu.refusals import forbidden, invalid, wrong_state
from workflows.listings.models import ListingState, RecordPosting

POSTERS = (Role.VILLAGE_ASSISTANT, Role.TOWNSHIP_OFFICER)


def check_posting(state: ListingState, cmd: RecordPosting, today: date) -> None:
    """The village's assistant or the township records that the updated listing is on the
    board (the township publishes it: 低保办法 Art. 23), dated between the first change still
    to post and today; with nothing to post the step is refused."""
    if cmd.actor.role not in POSTERS:
        raise forbidden("长期公示由村（居）协理员或乡镇（街道）张贴更新")
    if not cmd.actor.covers(state.village_code):
        raise forbidden(f"{state.village_code}不在{cmd.actor.area_code}的管辖范围内")
    if not state.pending:
        raise wrong_state("长期公示没有待张贴的更新")
    first = min(c.on for c in state.pending)
    if cmd.posted_on > today:
        raise invalid("posted_on", f"张贴日期{cmd.posted_on}晚于今天")
    if cmd.posted_on < first:
        raise invalid("posted_on", f"张贴日期{cmd.posted_on}早于公示内容变更之日{first}")
