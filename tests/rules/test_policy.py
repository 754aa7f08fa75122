"""Policy layers: files, merging, effective dating (DOMAIN §9)."""

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from pydantic import ValidationError

from jiuzhu.policy_files import PolicyFileError, default_policies_dir, load_policy_files
from rules.disability import DisabilityCategory, meets_criteria
from rules.household import CareTier, Hukou
from rules.periods import PeriodUnit, calendar_days, months, working_days
from rules.policy import (
    PARAMETER_FIELDS,
    NoPolicyInForce,
    PaymentFrequency,
    Policy,
    PolicyConflict,
    PolicyInvalid,
    PolicyLayer,
    check_layers,
    layers_for,
    merge_layers,
    resolve_policy,
)
from rules.programmes import Programme

MONEY = {
    "dibao_standard_urban": "700",
    "dibao_standard_rural": "550",
    "tekun_standard_urban": "910",
    "tekun_standard_rural": "715",
    "tekun_care_full_loss": "700",
    "tekun_care_partial_loss": "350",
    "tekun_care_self_care": "100",
    "per_capita_disposable_income_last_year": "31552",
    "prepayment_cap": "1000",
    "temporary_township_approval_limit": "2000",
}


def layer(area: str, effective: date, **fields: object) -> PolicyLayer:
    return PolicyLayer.model_validate(
        {
            "area_code": area,
            "effective_from": effective,
            "version_id": f"{area}@{effective.isoformat()}",
            "source": "test",
            **fields,
        }
    )


NATIONAL = layer("CN", date(2021, 7, 1), name="全国")


# The repository's policy files ---------------------------------------------------------------


def test_repository_files_load_and_are_consistent(layers: list[PolicyLayer]) -> None:
    assert {x.version_id for x in layers} == {
        "CN@2021-07-01",
        "41@2025-01-01",
        "4108@2025-01-01",
        "21@2025-01-01",
        "14@2022-07-19",
        "53@2020-02-25",
        "419901@2026-01-01",
        "419901@2027-01-01",
    }
    assert all(x.source.startswith("policies/") for x in layers)
    assert check_layers(layers) == []


def test_demo_county_2026(layers: list[PolicyLayer]) -> None:
    policy = resolve_policy(layers, "419901001001", date(2026, 3, 2))
    assert policy.version_id == "CN@2021-07-01+41@2025-01-01+419901@2026-01-01"
    assert policy.area_code == "419901001001"
    assert policy.effective_from == date(2026, 1, 1)
    assert policy.name == "演示县社会救助政策（2026年）"
    assert policy.dibao_standard(Hukou.URBAN) == Decimal("700.00")
    assert policy.dibao_standard(Hukou.RURAL) == Decimal("550.00")
    assert policy.tekun_standard(Hukou.URBAN) == Decimal("910.00")
    assert policy.tekun_standard(Hukou.RURAL) == Decimal("715.00")
    assert policy.tekun_care_supplement(CareTier.FULL_LOSS) == Decimal("700.00")
    assert policy.prepayment_cap == Decimal("1000.00")
    # Inherited from Henan and national layers.
    assert policy.per_capita_disposable_income_last_year == Decimal("31552.00")
    assert policy.edge_multiplier == Decimal("1.5")
    assert policy.overall_deadline() == working_days(30)
    assert policy.overall_deadline(special=True) == working_days(45)
    assert policy.decision_period(Programme.DIBAO) == working_days(10)
    assert policy.decision_period(Programme.TEKUN) == working_days(15)
    assert policy.publicity == calendar_days(7)
    assert policy.review_period(can_work=True) == months(6)
    assert policy.review_period(can_work=False) == months(12)
    assert policy.reminder_lead == working_days(1)
    assert policy.prepayment_justification == working_days(10)
    assert policy.administrative_review_period == calendar_days(60)
    assert policy.lawsuit_period == months(6)
    assert "policies/419901@2026-01-01.yaml" in policy.sources


def test_effective_dating_of_the_demo_county(layers: list[PolicyLayer]) -> None:
    before = resolve_policy(layers, "419901", date(2026, 12, 31))
    after = resolve_policy(layers, "419901", date(2027, 1, 1))
    assert before.dibao_standard_urban == Decimal("700.00")
    assert after.dibao_standard_urban == Decimal("740.00")
    assert after.version_id == "CN@2021-07-01+41@2025-01-01+419901@2027-01-01"
    # Before the county's first layer, Henan's provincial figures apply.
    henan = resolve_policy(layers, "419901", date(2025, 6, 1))
    assert henan.version_id == "CN@2021-07-01+41@2025-01-01"
    assert henan.dibao_standard_urban == Decimal("640.00")


def test_jiaozuo_delegates_decisions_and_pays_by_the_tenth(layers: list[PolicyLayer]) -> None:
    policy = resolve_policy(layers, "410882100201", date(2026, 3, 2))
    assert policy.version_id == "CN@2021-07-01+41@2025-01-01+4108@2025-01-01"
    assert policy.decision_delegated_to_township
    assert policy.overall_deadline() == working_days(20)
    assert (policy.payment_data_day, policy.payment_funds_day, policy.payment_credit_day) == (
        5,
        8,
        10,
    )
    assert policy.spot_check_share(relative_of_staff=False) == Decimal("0.30")
    assert policy.spot_check_share(relative_of_staff=True) == Decimal("0.60")
    # Jiaozuo does not set care standards: Henan's apply.
    assert policy.tekun_care_partial_loss == Decimal("300.00")


def test_yunnan_withdrawal_period_six_to_twelve_months(layers: list[PolicyLayer]) -> None:
    yunnan = resolve_policy(layers, "530124100201", date(2026, 3, 2))
    assert yunnan.withdrawal_period == months(6)
    assert yunnan.withdrawal_period_max == months(12)
    assert yunnan.work_refusal_limit == 3
    assert meets_criteria(
        DisabilityCategory.INTELLECTUAL, 4, yunnan.single_person_dibao_disabilities
    )
    henan = resolve_policy(layers, "419901", date(2026, 3, 2))
    assert henan.withdrawal_period_max == months(6)
    assert not meets_criteria(
        DisabilityCategory.INTELLECTUAL, 4, henan.single_person_dibao_disabilities
    )


def test_shanxi_quarterly_tekun_and_one_off_floor(layers: list[PolicyLayer]) -> None:
    shanxi = resolve_policy(layers, "140121", date(2026, 3, 2))
    assert shanxi.tekun_dispersed_payment_frequency is PaymentFrequency.QUARTERLY
    assert shanxi.temporary_one_off_floor() == shanxi.dibao_standard_rural == Decimal("470.00")
    assert meets_criteria(DisabilityCategory.MENTAL, 3, shanxi.tekun_disabilities)
    assert not meets_criteria(DisabilityCategory.PHYSICAL, 3, shanxi.tekun_disabilities)
    demo = resolve_policy(layers, "419901", date(2026, 3, 2))
    assert demo.temporary_one_off_floor() == Decimal("0.00")


def test_liaoning(layers: list[PolicyLayer]) -> None:
    liaoning = resolve_policy(layers, "210181100201", date(2026, 3, 2))
    assert liaoning.monitoring_after_exit == months(24)
    assert liaoning.dibao_standard_urban == Decimal("780.00")


def test_no_policy_before_the_national_layer(layers: list[PolicyLayer]) -> None:
    with pytest.raises(NoPolicyInForce) as caught:
        resolve_policy(layers, "419901", date(2021, 6, 30))
    assert caught.value.area_code == "419901"
    assert caught.value.on == date(2021, 6, 30)


def test_national_layer_alone_lacks_local_money(layers: list[PolicyLayer]) -> None:
    with pytest.raises(PolicyInvalid) as caught:
        resolve_policy(layers, "CN", date(2026, 3, 2))
    fields = {p.field for p in caught.value.problems}
    assert {"dibao_standard_urban", "prepayment_cap"} <= fields
    assert "dibao_standard_urban" in str(caught.value)


def test_area_without_its_own_layers_uses_ancestors(layers: list[PolicyLayer]) -> None:
    policy = resolve_policy(layers, "410882", date(2026, 3, 2))
    assert policy.version_id.endswith("+4108@2025-01-01")


# Merging ---------------------------------------------------------------------------------


def test_merge_overrides_only_what_a_layer_sets() -> None:
    province = layer("41", date(2025, 1, 1), name="省", **MONEY)
    county = layer(
        "419901",
        date(2026, 1, 1),
        dibao_standard_urban="750",
        withdrawal_period_max={"value": 12, "unit": "months"},
    )
    policy = merge_layers([NATIONAL, province, county])
    assert policy.dibao_standard_urban == Decimal("750.00")
    assert policy.dibao_standard_rural == Decimal("550.00")
    assert policy.withdrawal_period_max == months(12)
    assert policy.withdrawal_period == months(6)
    assert policy.name == "省"
    assert policy.version_id == "CN@2021-07-01+41@2025-01-01+419901@2026-01-01"
    assert policy.effective_from == date(2026, 1, 1)


def test_latest_layer_in_force_wins_and_future_layers_are_ignored() -> None:
    old = layer("41", date(2025, 1, 1), **MONEY)
    new = layer("41", date(2026, 1, 1), **{**MONEY, "dibao_standard_urban": "800"})
    future = layer("41", date(2030, 1, 1), **{**MONEY, "dibao_standard_urban": "999"})
    layers = [future, new, NATIONAL, old]
    assert [x.version_id for x in layers_for(layers, "41", date(2026, 6, 1))] == [
        "CN@2021-07-01",
        "41@2026-01-01",
    ]
    assert resolve_policy(layers, "41", date(2025, 12, 31)).dibao_standard_urban == Decimal(
        "700.00"
    )
    assert resolve_policy(layers, "41", date(2026, 1, 1)).dibao_standard_urban == Decimal("800.00")


def test_duplicate_area_and_date_conflict() -> None:
    with pytest.raises(PolicyConflict):
        resolve_policy([NATIONAL, layer("CN", date(2021, 7, 1))], "CN", date(2026, 1, 1))


def test_withdrawal_period_may_not_exceed_its_maximum() -> None:
    county = layer(
        "41", date(2025, 1, 1), withdrawal_period={"value": 9, "unit": "months"}, **MONEY
    )
    with pytest.raises(PolicyInvalid, match="withdrawal_period"):
        merge_layers([NATIONAL, county])


def test_check_layers_reports_incomplete_areas() -> None:
    province = layer("41", date(2025, 1, 1), dibao_standard_urban="700")
    problems = check_layers([NATIONAL, province])
    assert len(problems) == 1
    assert problems[0].version_id == "CN@2021-07-01+41@2025-01-01"


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"dibao_standard_urban": "-1"}, "dibao_standard_urban"),
        ({"dibao_standard_urban": "700.001"}, "dibao_standard_urban"),
        ({"dibao_standard_urban": "seven hundred"}, "dibao_standard_urban"),
        ({"spot_check_rate": "1.5"}, "spot_check_rate"),
        ({"edge_multiplier": "0.9"}, "edge_multiplier"),
        ({"publicity": {"value": 7, "unit": "weeks"}}, "publicity"),
        ({"dibao_standards": "700"}, "dibao_standards"),
    ],
)
def test_layer_validation_names_the_field(fields: dict[str, object], field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        layer("41", date(2025, 1, 1), **fields)
    assert field in str(caught.value)


@pytest.mark.parametrize("area", ["", "4", "41a", "cn"])
def test_layer_area_code_must_be_national_or_well_formed(area: str) -> None:
    with pytest.raises(ValidationError, match="area_code"):
        layer(area, date(2025, 1, 1))


def test_layer_fields_mirror_policy_parameters() -> None:
    own = {"area_code", "effective_from", "version_id", "source", "name", "legal_basis"}
    assert set(PolicyLayer.model_fields) - own == set(PARAMETER_FIELDS)
    assert {"version_id", "area_code", "effective_from", "name"} <= set(Policy.model_fields)


def test_policy_round_trips_through_json(demo_policy: Policy) -> None:
    assert Policy.model_validate_json(demo_policy.model_dump_json()) == demo_policy
    assert demo_policy.investigation_start.unit is PeriodUnit.WORKING_DAYS


# Files -----------------------------------------------------------------------------------


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


NATIONAL_FILE = "area_code: CN\neffective_from: 2021-07-01\nname: 全国\n"


@pytest.mark.parametrize(
    ("content", "field", "reason"),
    [
        ('dibao_standard_urban: "abc"', "dibao_standard_urban", "decimal"),
        ("dibao_standard_urban: -5", "dibao_standard_urban", "greater than or equal to 0"),
        ("dibao_standrad_urban: 700", "dibao_standrad_urban", "Extra inputs"),
        ("decision_delegated_to_township: maybe", "decision_delegated_to_township", "bool"),
        ("publicity: {value: -1, unit: calendar_days}", "publicity.value", "greater than"),
        ("source: elsewhere", "source", "loader"),
    ],
)
def test_bad_file_names_file_and_field(
    tmp_path: Path, content: str, field: str, reason: str
) -> None:
    write(tmp_path, "CN@2021-07-01.yaml", NATIONAL_FILE)
    write(
        tmp_path, "41@2025-01-01.yaml", f'area_code: "41"\neffective_from: 2025-01-01\n{content}\n'
    )
    with pytest.raises(PolicyFileError) as caught:
        load_policy_files(tmp_path)
    error = caught.value
    assert error.path.name == "41@2025-01-01.yaml"
    assert error.field == field
    assert reason in error.reason
    assert "41@2025-01-01.yaml" in str(error) and field in str(error)


def test_file_name_must_match_content(tmp_path: Path) -> None:
    write(tmp_path, "41@2025-01-01.yaml", 'area_code: "41"\neffective_from: 2025-02-01\n')
    with pytest.raises(PolicyFileError) as caught:
        load_policy_files(tmp_path, check=False)
    assert caught.value.field == "area_code/effective_from"


def test_file_name_must_follow_the_convention(tmp_path: Path) -> None:
    write(tmp_path, "henan.yaml", 'area_code: "41"\neffective_from: 2025-01-01\n')
    with pytest.raises(PolicyFileError, match=r"henan\.yaml"):
        load_policy_files(tmp_path)


def test_yaml_syntax_error(tmp_path: Path) -> None:
    write(tmp_path, "CN@2021-07-01.yaml", "area_code: [CN\n")
    with pytest.raises(PolicyFileError) as caught:
        load_policy_files(tmp_path)
    assert caught.value.field == "yaml"


def test_incomplete_set_names_the_local_file(tmp_path: Path) -> None:
    write(tmp_path, "CN@2021-07-01.yaml", NATIONAL_FILE)
    write(tmp_path, "41@2025-01-01.yaml", 'area_code: "41"\neffective_from: 2025-01-01\n')
    with pytest.raises(PolicyFileError) as caught:
        load_policy_files(tmp_path)
    assert caught.value.path.name == "41@2025-01-01.yaml"
    assert "not set by any layer" in str(caught.value)
    # Unchecked loading still returns the layers.
    assert len(load_policy_files(tmp_path, check=False)) == 2


def test_unquoted_floats_are_read_as_their_decimal_text(tmp_path: Path) -> None:
    write(
        tmp_path,
        "CN@2021-07-01.yaml",
        NATIONAL_FILE + "spot_check_rate: 0.3\nedge_multiplier: 1.5\n",
    )
    (loaded,) = load_policy_files(tmp_path, check=False)
    assert loaded.spot_check_rate == Decimal("0.3")
    assert loaded.edge_multiplier == Decimal("1.5")
    assert loaded.version_id == "CN@2021-07-01"


def test_default_directory_is_the_repository_policies() -> None:
    assert (default_policies_dir() / "CN@2021-07-01.yaml").is_file()
