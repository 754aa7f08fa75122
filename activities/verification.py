"""Data verification (信息核对, 低保办法 Art. 17–18): one activity per source, each source behind
the ``VerificationSource`` adapter interface. The embedded adapter answers from tables an admin
loads (``PUT /admin/verification/{source}``); a real adapter (a provincial data-sharing platform)
implements the same protocol.

A source that is down raises ``SourceUnavailable``: the activity fails and Temporal retries it
with backoff, so the case waits without being lost; the deadline for starting verification
reminds and escalates meanwhile. What the sources find is folded into the household for the
means test (``apply_findings``); each disagreement with the declaration is kept as a
``Discrepancy`` so it can be told to the applicant, who may object with evidence (re-check)."""

from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Protocol

from pydantic import BaseModel
from sqlalchemy import Engine
from sqlmodel import Session, col, select
from temporalio import activity
from temporalio.exceptions import ApplicationError

from jiuzhu.db.models_application import VerificationRecordRow, VerificationSourceState
from rules.household import (
    Asset,
    AssetKind,
    Household,
    Income,
    IncomeKind,
)
from rules.money import ZERO, to_cents
from workflows.application_models import (
    Discrepancy,
    Finding,
    FindingCategory,
    SourceResult,
    SourceStatus,
)

# The national list of sources (低保办法 Art. 17): name → Chinese label.
SOURCES: dict[str, str] = {
    "registration": "公安户籍",
    "tax": "税务",
    "social_insurance": "人力资源社会保障",
    "real_estate": "不动产登记",
    "business_registration": "市场主体登记",
    "housing_fund": "住房公积金",
    "vehicles": "车辆登记",
    "deposits": "银行存款",
    "insurance": "商业保险",
    "securities": "证券",
    "internet_finance": "互联网金融",
}

STATUS_KINDS = ("deceased", "not_registered", "other")
INCOME_KINDS = tuple(k.value for k in IncomeKind)
ASSET_KINDS = tuple(k.value for k in AssetKind)


def valid_kind(category: FindingCategory, kind: str) -> bool:
    if category is FindingCategory.INCOME:
        return kind in INCOME_KINDS
    if category is FindingCategory.ASSET:
        return kind in ASSET_KINDS
    return kind in STATUS_KINDS


class SourceUnavailable(Exception):
    """A source did not answer; the activity is retried."""


class SourceQuery(BaseModel):
    id_numbers: list[str]
    attempt: int = 1


class VerificationSource(Protocol):
    """The adapter interface every verification source implements."""

    name: str
    label_zh: str

    def check(self, query: SourceQuery) -> list[Finding]:
        """What the source holds about these people; ``SourceUnavailable`` if it cannot say."""
        ...


class TableSource:
    """The embedded adapter: a source answered from ``verification_record`` rows; its
    ``verification_source`` row may mark it unavailable (an outage) or make the first N attempts
    of every check fail (a flaky source)."""

    def __init__(self, engine: Engine, name: str, label_zh: str) -> None:
        self.engine = engine
        self.name = name
        self.label_zh = label_zh

    def check(self, query: SourceQuery) -> list[Finding]:
        with Session(self.engine) as session:
            state = session.get(VerificationSourceState, self.name)
            if state is not None and not state.available:
                raise SourceUnavailable(f"{self.label_zh}数据源暂不可用")
            if state is not None and query.attempt <= state.fail_first_attempts:
                raise SourceUnavailable(f"{self.label_zh}数据源暂不可用（第{query.attempt}次）")
            rows = session.exec(
                select(VerificationRecordRow).where(
                    VerificationRecordRow.source == self.name,
                    col(VerificationRecordRow.id_number).in_(query.id_numbers),
                )
            ).all()
        return [
            Finding(
                source=self.name,
                id_number=r.id_number,
                category=FindingCategory(r.category),
                kind=r.kind,
                amount=r.amount,
                note=r.note,
            )
            for r in rows
        ]


def embedded_sources(engine: Engine) -> dict[str, VerificationSource]:
    return {name: TableSource(engine, name, label) for name, label in SOURCES.items()}


class SourcesRequest(BaseModel):
    area_code: str


class SourceRequest(BaseModel):
    case_id: str
    source: str
    id_numbers: list[str]


class VerificationActivities:
    def __init__(self, engine: Engine, sources: dict[str, VerificationSource] | None = None):
        self.sources = sources if sources is not None else embedded_sources(engine)

    @activity.defn(name="application_verification_sources")
    def verification_sources(self, req: SourcesRequest) -> list[str]:
        """The sources to ask for a case in ``area_code`` (all configured sources)."""
        return list(self.sources)

    @activity.defn(name="application_check_source")
    def check_source(self, req: SourceRequest) -> SourceResult:
        source = self.sources.get(req.source)
        if source is None:
            return SourceResult(
                source=req.source,
                status=SourceStatus.FAILED,
                error_zh=f"未配置的数据源{req.source}",
                checked_at=datetime.now(UTC),
            )
        attempt = activity.info().attempt
        try:
            findings = source.check(SourceQuery(id_numbers=req.id_numbers, attempt=attempt))
        except SourceUnavailable as exc:
            activity.logger.warning(
                "verification source unavailable",
                extra={"case_id": req.case_id, "source": req.source, "attempt": attempt},
            )
            # Retried by the activity's retry policy: the case waits, it is not lost.
            raise ApplicationError(str(exc), type="SourceUnavailable") from exc
        return SourceResult(
            source=req.source,
            label_zh=source.label_zh,
            status=SourceStatus.OK,
            findings=findings,
            checked_at=datetime.now(UTC),
            attempts=attempt,
        )


def _member_names(household: Household) -> dict[str, str]:
    return {m.id_number: m.name for m in household.members}


def apply_findings(
    household: Household, results: Sequence[SourceResult]
) -> tuple[Household, list[Discrepancy]]:
    """Fold what the sources found into the declared household (低保办法 Art. 13–14, 17):

    - an income a source reports above the member's declared income of that kind replaces it;
    - an asset kind whose reported total exceeds the declared total replaces the declared items;
    - a status (e.g. a member recorded as deceased) is only reported.

    Returns the verified household and every discrepancy (each is told to the applicant)."""
    names = _member_names(household)
    findings = [f for r in results if r.status is SourceStatus.OK for f in r.findings]
    discrepancies: list[Discrepancy] = []

    members = []
    for member in household.members:
        incomes = list(member.incomes)
        found_by_kind: dict[str, tuple[Decimal, str]] = {}
        for f in findings:
            if f.id_number != member.id_number or f.category is not FindingCategory.INCOME:
                continue
            total, sources = found_by_kind.get(f.kind, (ZERO, ""))
            found_by_kind[f.kind] = (total + (f.amount or ZERO), f"{sources}{f.source} ".strip())
        for kind, (found, sources) in sorted(found_by_kind.items()):
            income_kind = IncomeKind(kind)
            declared = sum((i.monthly_amount for i in incomes if i.kind is income_kind), ZERO)
            if found > declared:
                incomes = [i for i in incomes if i.kind is not income_kind]
                incomes.append(
                    Income(
                        kind=income_kind,
                        monthly_amount=to_cents(found),
                        description=f"信息核对（{sources}）",
                    )
                )
                discrepancies.append(
                    Discrepancy(
                        source=sources,
                        id_number=member.id_number,
                        member_name=member.name,
                        category=FindingCategory.INCOME,
                        kind=kind,
                        declared=to_cents(declared),
                        found=to_cents(found),
                        note_zh=f"{member.name}的{kind}类月收入核对为{to_cents(found)}元，"
                        f"申报为{to_cents(declared)}元",
                    )
                )
        members.append(member.model_copy(update={"incomes": incomes}))

    assets = list(household.assets)
    asset_found: dict[str, tuple[Decimal, str]] = {}
    for f in findings:
        if f.category is not FindingCategory.ASSET or f.id_number not in names:
            continue
        total, sources = asset_found.get(f.kind, (ZERO, ""))
        asset_found[f.kind] = (total + (f.amount or ZERO), f"{sources}{f.source} ".strip())
    for kind, (found, sources) in sorted(asset_found.items()):
        asset_kind = AssetKind(kind)
        declared = sum((a.value for a in assets if a.kind is asset_kind), ZERO)
        if found > declared:
            assets = [a for a in assets if a.kind is not asset_kind]
            assets.append(
                Asset(kind=asset_kind, value=to_cents(found), description=f"信息核对（{sources}）")
            )
            discrepancies.append(
                Discrepancy(
                    source=sources,
                    id_number="",
                    member_name=None,
                    category=FindingCategory.ASSET,
                    kind=kind,
                    declared=to_cents(declared),
                    found=to_cents(found),
                    note_zh=f"家庭{kind}类财产核对为{to_cents(found)}元，申报为{to_cents(declared)}元",
                )
            )

    for f in findings:
        if f.category is FindingCategory.STATUS and f.id_number in names:
            discrepancies.append(
                Discrepancy(
                    source=f.source,
                    id_number=f.id_number,
                    member_name=names[f.id_number],
                    category=FindingCategory.STATUS,
                    kind=f.kind,
                    declared=None,
                    found=None,
                    note_zh=f"{names[f.id_number]}：{f.note or f.kind}",
                )
            )
    verified = household.model_copy(update={"members": members, "assets": assets})
    return Household.model_validate(verified.model_dump()), discrepancies
