"""Request/response shapes of the FAQ API (contract: ``GET /api/v1/faq/search``)."""
from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

Topic = Literal["scope", "conditions", "materials", "time_limit", "fee", "validity", "department", "process",
                "commitment", "change", "general"]


class FaqHit(BaseModel):
    id: str
    question: str
    answer: str = Field(description="the direct sentence first, then details, the region's note, the source")
    item_code: str | None
    topic: str
    score: float
    # additions (the contract allows new fields, never renamed ones)
    direct: str | None = Field(None, description="one sentence answering the question as asked")
    short: str | None = Field(None, description="≤ 140 characters to read out or send by SMS")
    topic_label: str | None = None
    item_name: str | None = None
    sources: list[str] = []
    matched: str | None = None
    origin: str | None = None
    inferred: bool | None = None


class Clarify(BaseModel):
    items: list[str] = Field(description="item codes equally likely (the hits show both)")
    text: str = Field(description="the question to ask, e.g. 您问的是「A」还是「B」？")


class FaqSearchResponse(BaseModel):
    answered: bool = Field(description="false: nothing answers well enough; the first hit is NOT the answer")
    hits: list[FaqHit]
    clarify: Clarify | None = Field(None, description="two permits one name fits equally: ask which")
    understood: dict | None = Field(None, description="how the question was read: corrections, items, region, topic")
    reason: str | None = Field(None, description="what decided `answered`")
    message: str | None = None


class FaqEntryOut(BaseModel):
    id: str
    item_code: str | None
    topic: str
    question: str
    paraphrases: list[str]
    answer: str
    sources: list[str]
    inferred: bool
    origin: str
    region: str | None = None
    overrides: str | None = None
    overridden_by: str | None = None
    retired: bool = False


class FaqEntryCreate(BaseModel):
    id: str = Field(pattern=r"^[a-z0-9_]+(\.[a-z0-9_]+)+$", max_length=120,
                    description="stable readable id, e.g. general.gaozhi_chengnuo")
    item_code: str | None = None
    topic: Topic
    question: str = Field(min_length=2, max_length=300)
    answer: str = Field(min_length=2, max_length=5000)
    paraphrases: list[str] = []
    sources: list[str] = []
    inferred: bool = False
    region: str | None = None
    overrides: str | None = None


class FaqEntryPatch(BaseModel):
    item_code: str | None = None
    topic: Topic | None = None
    question: str | None = Field(default=None, min_length=2, max_length=300)
    answer: str | None = Field(default=None, min_length=2, max_length=5000)
    paraphrases: list[str] | None = None
    sources: list[str] | None = None
    inferred: bool | None = None
    region: str | None = None
    overrides: str | None = None
    retired: bool | None = None


class ParaphraseIn(BaseModel):
    text: str = Field(min_length=2, max_length=300)


class QueryLogRow(BaseModel):
    model_config = {"extra": "allow"}
    q: str
