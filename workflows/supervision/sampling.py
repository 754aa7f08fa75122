"""The spot-check draw (抽查), a pure rule: reproducible from its seed and population alone.

焦民〔2022〕154号 第五条: the county samples the townships' 审核确认 decisions — refusals
(申请未通过) included — at no less than 30 %, and those enjoying assistance who are near
relatives of assistance staff or village cadres at no less than 60 % (policy
``spot_check_rate`` / ``spot_check_rate_relatives``).

The population is split into two strata, registered relatives (``relatives_flag``) and the
rest. In each stratum every case is ranked by ``SHA-256("<seed>:<case id>")`` and the first
``ceil(rate × size)`` are taken — so each stratum meets its rate (never below it), the draw is
the same on any machine and in any language, and an auditor with the recorded seed and
population can redraw it. ``population_digest`` (SHA-256 of the sorted case ids) shows the
population was not changed after the draw."""

import hashlib
import math
from decimal import Decimal

from pydantic import BaseModel

from activities.supervision.models import SampledDecision


class Stratum(BaseModel):
    name: str  # relatives | others
    rate: Decimal
    population: int
    sampled: int

    @property
    def share(self) -> Decimal:
        return Decimal(self.sampled) / Decimal(self.population) if self.population else Decimal(0)


class Draw(BaseModel):
    seed: int
    population_digest: str
    sampled: list[str]  # case ids, relatives stratum first, each stratum in rank order
    strata: list[Stratum]


def rank_key(seed: int, case_id: str) -> str:
    return hashlib.sha256(f"{seed}:{case_id}".encode()).hexdigest()


def sample_size(population: int, rate: Decimal) -> int:
    """At least ``rate`` of the stratum, rounded up (a stratum of one case is always checked)."""
    return min(population, math.ceil(Decimal(population) * rate))


def population_digest(case_ids: list[str]) -> str:
    return hashlib.sha256("\n".join(sorted(case_ids)).encode()).hexdigest()


def draw(
    decisions: list[SampledDecision], seed: int, rate: Decimal, rate_relatives: Decimal
) -> Draw:
    """Draw the month's sample (see the module docstring)."""
    strata: list[Stratum] = []
    sampled: list[str] = []
    for name, stratum_rate, members in (
        ("relatives", rate_relatives, [d for d in decisions if d.relatives_flag]),
        ("others", rate, [d for d in decisions if not d.relatives_flag]),
    ):
        ranked = sorted(members, key=lambda d: (rank_key(seed, d.case_id), d.case_id))
        n = sample_size(len(ranked), stratum_rate)
        sampled += [d.case_id for d in ranked[:n]]
        strata.append(Stratum(name=name, rate=stratum_rate, population=len(ranked), sampled=n))
    return Draw(
        seed=seed,
        population_digest=population_digest([d.case_id for d in decisions]),
        sampled=sampled,
        strata=strata,
    )
