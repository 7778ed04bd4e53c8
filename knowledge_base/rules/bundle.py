"""The typed shapes the engine returns (and the API declares as its response models):
the bundle (一次告知), its items, the questions still worth asking.  The contract
(../shared/contract.md) fixes the names; fields are only ever added."""
from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Coverage = Literal["known", "partial", "unknown"]


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


class BundleItem(_Out):
    code: str
    name: str
    kind: str
    department: str = Field(description="the office that handles it (the applicant's county/district office where known)")
    department_key: str = Field(description="dispatch routing key (market_regulation, health, fire, police …)")
    department_level: Literal["county", "city", "province"] | None = None
    why: list[str] = Field(description="plain reasons: which answer or threshold made it necessary")
    legal_basis: list[str]
    mode: str
    mode_label: str
    time_limit_days: int | None
    time_limit_unit: str
    time_limit_text: str
    promised_days: int | None = None
    conditions: dict[str, list[str]] = {}
    materials: list[str] = []
    validity: str | None = None
    fee: str | None = None
    in_reform: bool = Field(description="listed in the region's own reform document")
    region_note: str | None = None
    inferred: bool = Field(description="some fact was not read in an official text: confirm at the window")
    rules: list[str] = Field(description="names of the rules that fired (knowledge_base/rules)")
    requested: bool | None = Field(default=None, description="start-up steps: the applicant asked for it")


class MergedMaterial(_Out):
    key: str
    name: str
    for_items: list[str]


class NotRequired(_Out):
    code: str
    name: str
    why: str


class HeldLicence(_Out):
    """A licence the applicant already holds (electronic-licence registry, issue 9)."""

    code: str
    name: str
    number: str | None = None
    valid_until: str | None = None
    note: str | None = None


class TimeFigures(_Out):
    parallel_days: int
    sum_days: int
    note: str


class Bundle(_Out):
    region: str | None
    region_name: str | None
    district: str | None = None
    district_name: str | None = None
    final: bool
    items: list[BundleItem] = Field(description="only what the applicant must obtain")
    startup_steps: list[BundleItem] = Field(description="开办 steps: the business licence, plus the ones asked for")
    startup_offered: list[str] = Field(default=[], description="other 开办 steps the region does together (codes)")
    materials: list[MergedMaterial]
    not_required: list[NotRequired]
    advisories: list[str]
    assumed: list[str] = Field(description="facts assumed until asked (interim bundles only)")
    time: TimeFigures
    summary: str
    coverage: Coverage = Field(description="known: every activity known and covered; partial: some permits outside the rules (see to_confirm); unknown: some activity not recognised")
    unrecognized: list[str] = Field(description="words that matched no activity")
    to_confirm: list[str] = Field(default=[], description="what to confirm at the window (partial coverage)")
    handoff: bool = Field(default=False, description="a person must take over (a trade the catalog does not know)")
    held: list[HeldLicence] = Field(default=[], description="licences already held (filled by the application service)")


class QuestionOption(_Out):
    title: str
    payload: str = Field(description="a Rasa intent shortcut the widget sends back verbatim")
    value: Any = Field(description="the plain value for non-Rasa clients")


class Question(_Out):
    type: Literal["question"] = "question"
    key: str = Field(description="the profile key the answer sets")
    text: str
    why: str
    example: str = ""
    consequence: str = Field(default="", description="what each answer would change (for 「不知道」)")
    reask: str = Field(default="", description="the second wording: why it is asked, with an example")
    options: list[QuestionOption]


class IntakeResult(_Out):
    profile: dict[str, Any]
    bundle: Bundle
    questions: list[Question]
    understood: dict[str, Any] | None = Field(default=None, description="facts read from this text")
    ack: str | None = Field(default=None, description="one short line acknowledging what this text added or changed")
