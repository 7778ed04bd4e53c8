from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from knowledge_base.rules.profile import Profile


class DescribeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=2000, description="申请人用中文描述的经营情况")
    region: str | None = Field(default=None, max_length=40)
    profile: Profile | None = Field(default=None, description="已知的情况；文本中的新信息会覆盖它")

    @field_validator("text")
    @classmethod
    def _not_blank(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("text is blank / 描述内容为空")
        return v


class ResolveRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    profile: Profile


class FormRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    profile: Profile
    values: dict[str, Any] = Field(default_factory=dict)


from knowledge_base.rules.bundle import IntakeResult as IntakeResponse  # noqa: E402  (typed: /docs shows it)
