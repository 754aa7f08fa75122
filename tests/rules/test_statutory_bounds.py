"""Statutory bounds on policy periods (rules/statutory_bounds.py): every layer, the national one
included, keeps publicity at exactly 7 days (低保办法 Art. 19) and deadlines no longer than the
national measures (低保办法 Art. 15–22, 特困办法); a local layer may only be stricter. A file that
breaks a bound fails loading (and so start-up) naming the file and the parameter."""

from datetime import date
from pathlib import Path

import pytest

from jiuzhu.policy_files import PolicyFileError, default_policies_dir, load_policy_files
from jiuzhu.settings import Settings
from jiuzhu.startup import check_startup
from rules.periods import Period, PeriodUnit
from rules.policy import STATUTORY_BOUNDS, PolicyLayer, StatutoryBound, check_layers

BOUNDS = sorted(STATUTORY_BOUNDS.values(), key=lambda b: b.parameter)


def layer(area: str = "41", /, **fields: object) -> PolicyLayer:
    return PolicyLayer.model_validate(
        {
            "area_code": area,
            "effective_from": date(2025, 1, 1),
            "version_id": f"{area}@2025-01-01",
            "source": "test",
            **fields,
        }
    )


def period(bound: StatutoryBound, value: int, unit: PeriodUnit | None = None) -> dict[str, object]:
    return {bound.parameter: {"value": value, "unit": (unit or bound.unit).value}}


def test_the_table_holds_the_national_figures() -> None:
    figures = {b.parameter: (b.minimum, b.maximum, b.unit) for b in BOUNDS}
    wd, cd = PeriodUnit.WORKING_DAYS, PeriodUnit.CALENDAR_DAYS
    assert figures["publicity"] == (7, 7, cd)
    assert figures["investigation_start"] == (1, 3, wd)
    assert figures["verification_start"] == (1, 3, wd)
    assert figures["dibao_decision"] == (1, 10, wd)
    assert figures["tekun_decision"] == (1, 15, wd)
    assert figures["overall"] == (1, 30, wd)
    assert figures["overall_special"] == (1, 45, wd)
    assert figures["overall_delegated"] == (1, 20, wd)
    assert figures["refusal_notice"] == (1, 3, wd)
    assert all(b.source.startswith("《") or b.source.startswith("民政部") for b in BOUNDS)


@pytest.mark.parametrize("bound", BOUNDS, ids=lambda b: b.parameter)
def test_each_bound_at_its_edge(bound: StatutoryBound) -> None:
    # Allowed at the bound (both ends).
    assert layer(**period(bound, bound.maximum)).statutory_problems() == []
    assert layer(**period(bound, bound.minimum)).statutory_problems() == []
    # Refused one beyond, naming the parameter, the legal bound and its source.
    for beyond in (bound.maximum + 1, bound.minimum - 1):
        problems = layer(**period(bound, beyond)).statutory_problems()
        assert [p.field for p in problems] == [bound.parameter], beyond
        message = problems[0].message
        assert Period(value=bound.maximum, unit=bound.unit).describe_zh() in message
        assert bound.source in message and bound.label_zh in message
    # The same number in another unit is refused.
    other = next(u for u in PeriodUnit if u is not bound.unit)
    problems = layer(**period(bound, bound.maximum, other)).statutory_problems()
    assert [p.field for p in problems] == [bound.parameter]


def test_zero_day_publicity_is_refused_naming_article_19() -> None:
    (problem,) = layer(publicity={"value": 0, "unit": "calendar_days"}).statutory_problems()
    assert problem.field == "publicity"
    assert "公示期" in problem.message and "为7日" in problem.message
    assert "《最低生活保障审核确认办法》（民发〔2021〕57号）第十九条" in problem.message
    assert "0日" in problem.message
    # Longer publicity is not "stricter": the period is fixed.
    (longer,) = layer(publicity={"value": 10, "unit": "calendar_days"}).statutory_problems()
    assert longer.field == "publicity" and "地方不得变更" in longer.message


def test_the_national_layer_is_checked_too() -> None:
    national = layer("CN", overall={"value": 31, "unit": "working_days"})
    (invalid,) = [i for i in check_layers([national]) if i.version_id == national.version_id]
    assert [p.field for p in invalid.problems] == ["overall"]
    assert "第二十二条" in invalid.problems[0].message


def test_every_shipped_policy_file_keeps_the_bounds(layers: list[PolicyLayer]) -> None:
    assert len(layers) == len(list(default_policies_dir().glob("*.yaml")))
    assert all(x.statutory_problems() == [] for x in layers)
    assert check_layers(layers) == []


NATIONAL_FILE = "area_code: CN\neffective_from: 2021-07-01\nname: 全国\n"


@pytest.mark.parametrize(
    ("area", "content", "field"),
    [
        ("CN", "publicity: {value: 0, unit: calendar_days}", "publicity"),
        ("41", "publicity: {value: 6, unit: calendar_days}", "publicity"),
        ("41", "dibao_decision: {value: 11, unit: working_days}", "dibao_decision"),
        ("41", "refusal_notice: {value: 3, unit: calendar_days}", "refusal_notice"),
    ],
)
def test_a_file_breaking_a_bound_names_file_and_parameter(
    tmp_path: Path, area: str, content: str, field: str
) -> None:
    name = "CN@2021-07-01.yaml" if area == "CN" else "41@2025-01-01.yaml"
    national = NATIONAL_FILE + (content + "\n" if area == "CN" else "")
    (tmp_path / "CN@2021-07-01.yaml").write_text(national, encoding="utf-8")
    if area != "CN":
        (tmp_path / name).write_text(
            f'area_code: "41"\neffective_from: 2025-01-01\n{content}\n', encoding="utf-8"
        )
    with pytest.raises(PolicyFileError) as caught:
        load_policy_files(tmp_path, check=False)
    assert caught.value.path.name == name
    assert caught.value.field == field
    assert field in str(caught.value) and name in str(caught.value)


def test_start_up_refuses_a_file_breaking_a_bound(tmp_path: Path, settings: Settings) -> None:
    directory = tmp_path / "policies"
    directory.mkdir()
    for path in default_policies_dir().glob("*.yaml"):
        (directory / path.name).write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    bad = "419901@2026-06-01.yaml"
    (directory / bad).write_text(
        'area_code: "419901"\neffective_from: 2026-06-01\n'
        "investigation_start: {value: 4, unit: working_days}\n",
        encoding="utf-8",
    )
    with pytest.raises(PolicyFileError) as caught:
        check_startup(settings.model_copy(update={"policies_dir": directory}))
    assert caught.value.path.name == bad
    assert caught.value.field == "investigation_start"
    assert "不超过3个工作日" in caught.value.reason and "第十五条" in caught.value.reason
    assert check_startup(settings)  # the shipped files still start
