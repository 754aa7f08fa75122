"""The legal basis table (``rules.legal_basis``): per notice kind and programme exactly the
rules that apply, each document once; appeal laws only on adverse decisions."""

import pytest

from rules.legal_basis import (
    ADVERSE_KINDS,
    LEGAL_BASIS,
    NoticeKind,
    citation_lines,
    legal_basis,
    local_documents,
)
from rules.programmes import Programme

DIBAO = "最低生活保障审核确认办法"
TEKUN = "特困人员认定办法"
TEMPORARY = "关于进一步加强和改进临时救助工作的意见"
TEMPORARY_SC = "国务院关于全面建立临时救助制度的通知"
REVIEW = "中华人民共和国行政复议法"
LAWSUIT = "中华人民共和国行政诉讼法"
RELIEF = "社会救助暂行办法"

FOREIGN: dict[Programme, set[str]] = {
    Programme.DIBAO: {TEKUN, TEMPORARY, TEMPORARY_SC},
    Programme.TEKUN: {DIBAO, TEMPORARY, TEMPORARY_SC},
    Programme.TEMPORARY: {DIBAO, TEKUN},
    Programme.DIBAO_EDGE: {TEKUN, TEMPORARY, TEMPORARY_SC},
    Programme.RIGID_EXPENSE: {TEKUN},
}


def test_the_table_covers_every_kind_and_programme() -> None:
    assert set(LEGAL_BASIS) == {(k, p) for k in NoticeKind for p in Programme}


@pytest.mark.parametrize(("kind", "programme"), sorted(LEGAL_BASIS))
def test_each_document_once_no_foreign_rules_appeal_only_on_adverse(
    kind: NoticeKind, programme: Programme
) -> None:
    titles = [c.title for c in legal_basis(kind, programme)]
    assert len(titles) == len(set(titles)), titles
    assert not FOREIGN[programme] & set(titles), titles
    adverse = kind in ADVERSE_KINDS
    assert (REVIEW in titles) is adverse and (LAWSUIT in titles) is adverse, titles


def test_dibao_approval() -> None:
    assert citation_lines(legal_basis(NoticeKind.APPROVAL, Programme.DIBAO)) == (
        "《社会救助暂行办法》（国务院令第649号）；"
        "《最低生活保障审核确认办法》（民发〔2021〕57号）第二十条、第三十一条"
    )


def test_dibao_refusal_carries_the_appeal_laws() -> None:
    assert citation_lines(legal_basis(NoticeKind.REFUSAL, Programme.DIBAO)) == (
        "《社会救助暂行办法》（国务院令第649号）；"
        "《最低生活保障审核确认办法》（民发〔2021〕57号）第二十一条、第三十八条；"
        "《中华人民共和国行政复议法》第二十条；《中华人民共和国行政诉讼法》第四十六条"
    )


def test_tekun_missing_documents_cites_the_tekun_rules_not_dibao_article_10() -> None:
    text = citation_lines(legal_basis(NoticeKind.MISSING_DOCUMENTS, Programme.TEKUN))
    assert (
        text == "《社会救助暂行办法》（国务院令第649号）；《特困人员认定办法》（民发〔2021〕43号）"
    )
    assert "第十条" not in text and DIBAO not in text


def test_dibao_termination_with_withdrawal_cites_article_33() -> None:
    plain = citation_lines(legal_basis(NoticeKind.TERMINATION, Programme.DIBAO))
    withdrawal = citation_lines(
        legal_basis(NoticeKind.TERMINATION, Programme.DIBAO, withdrawal=True)
    )
    assert "第三十三条" not in plain
    assert "第三十二条、第三十三条、第三十八条" in withdrawal


def test_edge_recognition_cites_seed_000() -> None:
    text = citation_lines(legal_basis(NoticeKind.EDGE_RECOGNITION, Programme.DIBAO_EDGE))
    assert "豫政办〔2022〕103号" in text and "二（二）3" in text
    assert RELIEF not in text


def test_local_documents_drop_the_national_ones() -> None:
    layers = (
        "《最低生活保障审核确认办法》；《社会救助暂行办法》（国务院令第649号）；"
        "《特困人员认定办法》（民发〔2021〕43号）；《中华人民共和国行政复议法》第二十条；"
        "演示县人民政府关于调整2026年城乡最低生活保障标准的通知（演示）"
    )
    assert local_documents([layers]) == [
        "演示县人民政府关于调整2026年城乡最低生活保障标准的通知（演示）"
    ]
