"""The legal basis printed on each written notice: exactly the documents and articles that apply
to the notice's kind and programme, each document once (issue 13 item 8).

The table is ``(notice kind, programme) → citations``. Article numbers are taken only from the
project's sources — DOMAIN.md (低保办法 Art. 10, 19, 20–21, 29, 31–33, 38; 特困办法 Art. 16–17,
20–27) and the seed documents (豫政办〔2022〕103号 二(一)3–4, 二(二)2–3, seed 000). Where no
source gives the article (《社会救助暂行办法》, the temporary-assistance documents, 《刚性支出困难
家庭认定办法》, 特困办法 publicity and acceptance), the document alone is cited.

Rules that shape the table:

- A programme's own rules only: a 低保 notice never cites the 特困 or 临时救助 rules and the
  other way round (低保边缘/刚性支出 cite 豫政办〔2022〕103号, whose 二(二)2 refers their
  procedure to the 低保 and 临时救助 rules — seed 000).
- The right to administrative review or suit (《行政复议法》第二十条, 《行政诉讼法》第四十六条;
  低保办法 Art. 38) is cited on adverse decisions only — refusals, reductions, suspensions,
  terminations, an ended review — never on an approval, a publicity list or a request for
  documents.
- 《社会救助暂行办法》 (国务院令第649号), the general procedure, is cited for the programmes it
  governs (低保, 特困, 临时救助).

Pure: no I/O, imports nothing of Jiuzhu but other ``rules`` modules.
"""

from collections.abc import Iterable, Mapping
from enum import StrEnum
from types import MappingProxyType

from pydantic import BaseModel, ConfigDict

from rules.programmes import Programme

__all__ = [
    "ADVERSE_KINDS",
    "LEGAL_BASIS",
    "NATIONAL_TITLES",
    "Citation",
    "NoticeKind",
    "citation_lines",
    "legal_basis",
    "local_documents",
]


class NoticeKind(StrEnum):
    """Every kind of written notice Jiuzhu issues (``kind`` of the notice models)."""

    MISSING_DOCUMENTS = "missing_documents"
    APPROVAL = "approval"
    REFUSAL = "refusal"
    REDUCTION = "reduction"
    SUSPENSION = "suspension"
    TERMINATION = "termination"
    EDGE_RECOGNITION = "edge_recognition"
    PUBLICITY = "publicity"
    REVIEW_TERMINATED = "review_terminated"
    TEMPORARY_REFUSAL = "temporary_refusal"


class Citation(BaseModel):
    """One document, with its number where it has one, and the articles cited (none: the
    document as a whole)."""

    model_config = ConfigDict(frozen=True)

    title: str
    number: str | None = None
    articles: tuple[str, ...] = ()

    @property
    def text_zh(self) -> str:
        """``《最低生活保障审核确认办法》（民发〔2021〕57号）第二十条、第三十一条``."""
        number = f"（{self.number}）" if self.number else ""
        return f"《{self.title}》{number}{'、'.join(self.articles)}"


# --- the documents ----------------------------------------------------------------------------
_RELIEF = Citation(title="社会救助暂行办法", number="国务院令第649号")
_TEMPORARY = Citation(title="关于进一步加强和改进临时救助工作的意见", number="民发〔2018〕23号")
_TEMPORARY_SC = Citation(title="国务院关于全面建立临时救助制度的通知", number="国发〔2014〕47号")
_RIGID = Citation(title="刚性支出困难家庭认定办法")
_REVIEW_LAW = Citation(title="中华人民共和国行政复议法", articles=("第二十条",))
_LAWSUIT_LAW = Citation(title="中华人民共和国行政诉讼法", articles=("第四十六条",))


def _dibao(*articles: str) -> Citation:
    return Citation(title="最低生活保障审核确认办法", number="民发〔2021〕57号", articles=articles)


def _tekun(*articles: str) -> Citation:
    return Citation(title="特困人员认定办法", number="民发〔2021〕43号", articles=articles)


def _henan(*sections: str) -> Citation:
    return Citation(
        title="河南省人民政府办公厅关于加强低收入人口动态监测和救助帮扶工作"
        "巩固脱贫攻坚兜底保障成果的实施意见",
        number="豫政办〔2022〕103号",
        articles=sections,
    )


ADVERSE_KINDS: frozenset[NoticeKind] = frozenset(
    {
        NoticeKind.REFUSAL,
        NoticeKind.REDUCTION,
        NoticeKind.SUSPENSION,
        NoticeKind.TERMINATION,
        NoticeKind.REVIEW_TERMINATED,
        NoticeKind.TEMPORARY_REFUSAL,
    }
)
"""Decisions against the applicant or recipient: these carry the appeal rights."""

_GENERAL_PROCEDURE = frozenset({Programme.DIBAO, Programme.TEKUN, Programme.TEMPORARY})

K = NoticeKind
P = Programme

# The programme's own rules, per notice kind (before the general procedure and appeal laws).
_PROGRAMME_RULES: Mapping[tuple[NoticeKind, Programme], tuple[Citation, ...]] = MappingProxyType(
    {
        # 一次性告知 (低保办法 Art. 10; 特困 and 临时救助: the documents).
        (K.MISSING_DOCUMENTS, P.DIBAO): (_dibao("第十条"),),
        (K.MISSING_DOCUMENTS, P.TEKUN): (_tekun(),),
        (K.MISSING_DOCUMENTS, P.TEMPORARY): (_TEMPORARY, _TEMPORARY_SC),
        (K.MISSING_DOCUMENTS, P.DIBAO_EDGE): (_henan("二（二）2"), _dibao("第十条")),
        (K.MISSING_DOCUMENTS, P.RIGID_EXPENSE): (_RIGID, _henan("二（二）2"), _TEMPORARY),
        # 审核确认 (低保办法 Art. 20, review Art. 31; 特困办法 Art. 16, self-care tier Art. 20).
        (K.APPROVAL, P.DIBAO): (_dibao("第二十条", "第三十一条"),),
        (K.APPROVAL, P.TEKUN): (_tekun("第十六条", "第二十条"),),
        (K.APPROVAL, P.TEMPORARY): (_TEMPORARY, _TEMPORARY_SC),
        (K.APPROVAL, P.DIBAO_EDGE): (_henan("二（一）3", "二（二）2"),),
        (K.APPROVAL, P.RIGID_EXPENSE): (_RIGID, _henan("二（一）4", "二（二）2")),
        # 不予确认 (低保办法 Art. 21, 38; 特困办法 Art. 17; 豫政办〔2022〕103号 二(二)2).
        (K.REFUSAL, P.DIBAO): (_dibao("第二十一条", "第三十八条"),),
        (K.REFUSAL, P.TEKUN): (_tekun("第十七条"),),
        (K.REFUSAL, P.TEMPORARY): (_TEMPORARY, _TEMPORARY_SC),
        (K.REFUSAL, P.DIBAO_EDGE): (_henan("二（二）2"),),
        (K.REFUSAL, P.RIGID_EXPENSE): (_RIGID, _henan("二（二）2")),
        (K.TEMPORARY_REFUSAL, P.TEMPORARY): (_TEMPORARY, _TEMPORARY_SC),
        # 减发/停发/终止 (低保办法 Art. 32, 38; 渐退 Art. 33; 特困办法 Art. 23, 24–27).
        (K.REDUCTION, P.DIBAO): (_dibao("第三十二条", "第三十八条"),),
        (K.REDUCTION, P.TEKUN): (_tekun("第二十三条"),),
        (K.SUSPENSION, P.DIBAO): (_dibao("第三十二条", "第三十八条"),),
        (K.SUSPENSION, P.TEKUN): (_tekun("第二十四条"),),
        (K.TERMINATION, P.DIBAO): (_dibao("第三十二条", "第三十八条"),),
        (K.TERMINATION, P.TEKUN): (_tekun("第二十四条", "第二十五条", "第二十六条", "第二十七条"),),
        (K.TERMINATION, P.DIBAO_EDGE): (_henan("二（二）"),),
        (K.TERMINATION, P.RIGID_EXPENSE): (_RIGID, _henan("二（二）")),
        # 终止审核确认: refusal to cooperate (低保办法 Art. 29, 38).
        (K.REVIEW_TERMINATED, P.DIBAO): (_dibao("第二十九条", "第三十八条"),),
        (K.REVIEW_TERMINATED, P.TEKUN): (_tekun(),),
        (K.REVIEW_TERMINATED, P.TEMPORARY): (_TEMPORARY, _TEMPORARY_SC),
        (K.REVIEW_TERMINATED, P.DIBAO_EDGE): (_henan("二（二）2"), _dibao("第二十九条")),
        (K.REVIEW_TERMINATED, P.RIGID_EXPENSE): (_RIGID, _henan("二（二）2")),
        # 低保边缘/刚性支出 offered after a refusal: recognised within 3 working days of consent.
        (K.EDGE_RECOGNITION, P.DIBAO_EDGE): (_henan("二（二）3"),),
        (K.EDGE_RECOGNITION, P.RIGID_EXPENSE): (_RIGID, _henan("二（二）3")),
        # 公示 (低保办法 Art. 19; 特困 and 临时救助: the documents).
        (K.PUBLICITY, P.DIBAO): (_dibao("第十九条"),),
        (K.PUBLICITY, P.TEKUN): (_tekun(),),
        (K.PUBLICITY, P.TEMPORARY): (_TEMPORARY, _TEMPORARY_SC),
        (K.PUBLICITY, P.DIBAO_EDGE): (_henan("二（二）2"), _dibao("第十九条")),
        (K.PUBLICITY, P.RIGID_EXPENSE): (_RIGID, _henan("二（二）2")),
    }
)


# A programme's documents, cited whole where the table has no row for a notice (e.g. a change
# of a 低保边缘 household's recognition): never another programme's rules.
_PROGRAMME_DOCUMENTS: Mapping[Programme, tuple[Citation, ...]] = MappingProxyType(
    {
        P.DIBAO: (_dibao(),),
        P.TEKUN: (_tekun(),),
        P.TEMPORARY: (_TEMPORARY, _TEMPORARY_SC),
        P.DIBAO_EDGE: (_henan(),),
        P.RIGID_EXPENSE: (_RIGID, _henan()),
    }
)


def _compose(kind: NoticeKind, programme: Programme) -> tuple[Citation, ...]:
    own = _PROGRAMME_RULES.get((kind, programme), _PROGRAMME_DOCUMENTS[programme])
    general = (_RELIEF,) if programme in _GENERAL_PROCEDURE else ()
    appeal = (_REVIEW_LAW, _LAWSUIT_LAW) if kind in ADVERSE_KINDS else ()
    return (*general, *own, *appeal)


LEGAL_BASIS: Mapping[tuple[NoticeKind, Programme], tuple[Citation, ...]] = MappingProxyType(
    {(kind, programme): _compose(kind, programme) for kind in NoticeKind for programme in P}
)
"""The whole table: every (kind, programme) → its citations (rows the law names explicitly
from ``_PROGRAMME_RULES``; any other pair cites the programme's own documents whole)."""


def legal_basis(
    kind: NoticeKind | str, programme: Programme, *, withdrawal: bool = False
) -> tuple[Citation, ...]:
    """The citations for a notice of ``kind`` in ``programme``; a 低保 termination with a
    gradual withdrawal period (渐退期) also cites 低保办法 Art. 33."""
    citations = LEGAL_BASIS[(NoticeKind(kind), programme)]
    if withdrawal and NoticeKind(kind) is NoticeKind.TERMINATION and programme is P.DIBAO:
        citations = tuple(
            _dibao("第三十二条", "第三十三条", "第三十八条") if c.title == _dibao().title else c
            for c in citations
        )
    return citations


def citation_lines(citations: Iterable[Citation]) -> str:
    """The citations as one Chinese sentence fragment: documents joined by "；" (articles of
    one document are joined by "、")."""
    return "；".join(c.text_zh for c in citations)


NATIONAL_TITLES: frozenset[str] = frozenset(
    c.title for citations in LEGAL_BASIS.values() for c in citations
)
"""Titles the table cites; a policy layer's document list minus these is the local basis."""


def local_documents(documents: Iterable[str]) -> list[str]:
    """The documents of the policy layers that the table does not already cite (the local
    standard-setting documents, e.g. 演示县人民政府关于调整2026年城乡最低生活保障标准的通知),
    each once; ``"；"``-joined strings are split."""
    out: list[str] = []
    for entry in documents:
        for document in entry.split("；"):
            document = document.strip()
            if not document or any(title in document for title in NATIONAL_TITLES):
                continue
            if document not in out:
                out.append(document)
    return out
