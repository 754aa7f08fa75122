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
from enum import StrEnum
from typing import Protocol

from pydantic import BaseModel, Field
from sqlalchemy import Engine
from sqlmodel import Session, col, select
from temporalio import activity
from temporalio.exceptions import ApplicationError

from jiuzhu.db.models_application import VerificationRecordRow, VerificationSourceState
from jiuzhu.db.sealing import blind_indexes
from rules.household import (
    Asset,
    AssetKind,
    Household,
    Income,
    IncomeKind,
)
from rules.money import ZERO, to_cents


# --- payloads ----------------------------------------------------------------------------
class FindingCategory(StrEnum):
    INCOME = "income"  # kind = rules.household.IncomeKind, amount monthly yuan
    ASSET = "asset"  # kind = rules.household.AssetKind, amount = value in yuan
    STATUS = "status"  # kind = deceased | not_registered | other, no amount


class Finding(BaseModel):
    """One fact a verification source holds about a person."""

    source: str
    id_number: str
    category: FindingCategory
    kind: str
    amount: Decimal | None = None
    note: str = ""


class SourceStatus(StrEnum):
    OK = "ok"
    FAILED = "failed"  # a permanent error: the case waits for a re-check


class SourceResult(BaseModel):
    source: str
    label_zh: str = ""
    status: SourceStatus
    findings: list[Finding] = Field(default_factory=list)
    checked_at: datetime | None = None
    attempts: int = 1
    error_zh: str | None = None


class Discrepancy(BaseModel):
    """Where a source disagrees with what the household declared (told to the applicant, who
    may object with evidence: 低保办法 Art. 18)."""

    source: str
    id_number: str
    member_name: str | None
    category: FindingCategory
    kind: str
    declared: Decimal | None
    found: Decimal | None
    note_zh: str


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
                    col(VerificationRecordRow.id_number_index).in_(blind_indexes(query.id_numbers)),
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


def check_tables(
    engine: Engine, sources: Sequence[TableSource], query: SourceQuery
) -> dict[str, list[Finding] | SourceUnavailable]:
    """Every table source at once, set-based: one query for the sources' states and one for
    the rows of every source about these people (instead of two per source). Per source: its
    findings, or the ``SourceUnavailable`` it would have raised."""
    names = [s.name for s in sources]
    with Session(engine) as session:
        states = {
            st.name: st
            for st in session.exec(
                select(VerificationSourceState).where(col(VerificationSourceState.name).in_(names))
            ).all()
        }
        rows = session.exec(
            select(VerificationRecordRow)
            .where(
                col(VerificationRecordRow.source).in_(names),
                col(VerificationRecordRow.id_number_index).in_(blind_indexes(query.id_numbers)),
            )
            .order_by(col(VerificationRecordRow.id))
        ).all()
    found: dict[str, list[Finding]] = {name: [] for name in names}
    for r in rows:
        found[r.source].append(
            Finding(
                source=r.source,
                id_number=r.id_number,
                category=FindingCategory(r.category),
                kind=r.kind,
                amount=r.amount,
                note=r.note,
            )
        )
    answers: dict[str, list[Finding] | SourceUnavailable] = {}
    for source in sources:
        state = states.get(source.name)
        if state is not None and not state.available:
            answers[source.name] = SourceUnavailable(f"{source.label_zh}数据源暂不可用")
        elif state is not None and query.attempt <= state.fail_first_attempts:
            answers[source.name] = SourceUnavailable(
                f"{source.label_zh}数据源暂不可用（第{query.attempt}次）"
            )
        else:
            answers[source.name] = found[source.name]
    return answers


def embedded_sources(engine: Engine) -> dict[str, VerificationSource]:
    return {name: TableSource(engine, name, label) for name, label in SOURCES.items()}


class SourcesRequest(BaseModel):
    area_code: str


class SourceRequest(BaseModel):
    case_id: str
    source: str
    id_numbers: list[str]
    tries_before: int = 0  # tries already made by ``check_sources`` (counted in ``attempts``)


class SourcesCheck(BaseModel):
    """One pass over every source configured for a case's area."""

    case_id: str
    area_code: str
    id_numbers: list[str]


class SourcesChecked(BaseModel):
    """The sources asked (in order), the answers of those that answered or failed for good, and
    the sources that were unavailable on this pass (each then retried on its own)."""

    sources: list[str]
    results: list[SourceResult]
    unavailable: list[str]


class VerificationActivities:
    def __init__(self, engine: Engine, sources: dict[str, VerificationSource] | None = None):
        self.sources = sources if sources is not None else embedded_sources(engine)

    @activity.defn(name="application_verification_sources")
    def verification_sources(self, req: SourcesRequest) -> list[str]:
        """The sources to ask for a case in ``area_code`` (all configured sources)."""
        return list(self.sources)

    @activity.defn(name="application_check_sources")
    def check_sources(self, req: SourcesCheck) -> SourcesChecked:
        """Ask every source once (short: a query per source). A source that is down is not
        waited for here: it is listed in ``unavailable`` and the workflow retries it as its own
        ``check_source`` activity, with backoff, until it answers."""
        results: list[SourceResult] = []
        unavailable: list[str] = []
        batched = self._table_answers(req.id_numbers)
        for name in self.sources:
            try:
                if name in batched:
                    results.append(self._answer(req.case_id, name, batched[name], 1))
                else:
                    results.append(self._check(req.case_id, name, req.id_numbers, 1))
            except SourceUnavailable:
                unavailable.append(name)
        return SourcesChecked(sources=list(self.sources), results=results, unavailable=unavailable)

    def _table_answers(self, id_numbers: list[str]) -> dict[str, list[Finding] | SourceUnavailable]:
        """The embedded table sources of one engine answered together (``check_tables``); any
        other adapter is asked on its own."""
        tables = [s for s in self.sources.values() if isinstance(s, TableSource)]
        if not tables or any(t.engine is not tables[0].engine for t in tables):
            return {}
        return check_tables(tables[0].engine, tables, SourceQuery(id_numbers=id_numbers))

    def _answer(
        self, case_id: str, name: str, answer: list[Finding] | SourceUnavailable, attempt: int
    ) -> SourceResult:
        if isinstance(answer, SourceUnavailable):
            activity.logger.warning(
                "verification source unavailable",
                extra={"case_id": case_id, "source": name, "attempt": attempt},
            )
            raise answer
        return SourceResult(
            source=name,
            label_zh=self.sources[name].label_zh,
            status=SourceStatus.OK,
            findings=answer,
            checked_at=datetime.now(UTC),
            attempts=attempt,
        )

    @activity.defn(name="application_check_source")
    def check_source(self, req: SourceRequest) -> SourceResult:
        """One source, retried by the activity's retry policy while it is unavailable: the case
        waits, it is not lost. ``attempts`` counts the tries made before as well."""
        attempt = activity.info().attempt + req.tries_before
        try:
            return self._check(req.case_id, req.source, req.id_numbers, attempt)
        except SourceUnavailable as exc:
            raise ApplicationError(str(exc), type="SourceUnavailable") from exc

    def _check(self, case_id: str, name: str, id_numbers: list[str], attempt: int) -> SourceResult:
        """``SourceUnavailable`` when the source cannot answer now; an unconfigured source is a
        failure for good (the case waits for a re-check)."""
        source = self.sources.get(name)
        if source is None:
            return SourceResult(
                source=name,
                status=SourceStatus.FAILED,
                error_zh=f"未配置的数据源{name}",
                checked_at=datetime.now(UTC),
            )
        try:
            findings = source.check(SourceQuery(id_numbers=id_numbers, attempt=attempt))
        except SourceUnavailable:
            activity.logger.warning(
                "verification source unavailable",
                extra={"case_id": case_id, "source": name, "attempt": attempt},
            )
            raise
        return SourceResult(
            source=name,
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
