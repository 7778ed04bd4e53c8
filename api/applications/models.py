from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from knowledge_base.rules.profile import Profile

_MARKUP = re.compile(r"<\s*/?\s*[a-zA-Z!][^>]*>|javascript:|on\w+\s*=", re.I)


def reject_markup(value: str, field: str) -> str:
    if _MARKUP.search(value):
        raise ValueError(f"{field} 不能包含网页代码或脚本(如 <script>)，请只填写文字 / markup is not allowed")
    if any(ord(c) < 32 and c not in "\t\n\r" for c in value):
        raise ValueError(f"{field} 含有不可见的控制字符 / control characters are not allowed")
    return value.strip()


class Applicant(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=50, description="申请人(经办人)姓名")
    phone: str = Field(min_length=5, max_length=20)
    id_number: str | None = Field(default=None, max_length=18, description="居民身份证号码，按 GB 11643 校验")
    uscc: str | None = Field(default=None, max_length=18, description="统一社会信用代码，按 GB 32100 校验")

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        return reject_markup(v, "姓名")

    @field_validator("phone")
    @classmethod
    def _phone(cls, v: str) -> str:
        v = v.replace(" ", "").replace("-", "")
        if not re.fullmatch(r"(\+?86)?1[3-9]\d{9}|0\d{2,3}\d{7,8}", v):
            raise ValueError("联系电话格式不对：请填11位手机号或带区号的固定电话 / invalid phone number")
        return v

    @field_validator("id_number")
    @classmethod
    def _id(cls, v: str | None) -> str | None:
        if v is None or v == "":
            return None
        from stdnum.cn import ric

        if not ric.is_valid(v):
            raise ValueError("身份证号码校验不通过，请核对18位号码（最后一位可能是X）/ invalid resident ID number")
        return ric.compact(v)

    @field_validator("uscc")
    @classmethod
    def _uscc(cls, v: str | None) -> str | None:
        if v is None or v == "":
            return None
        from stdnum.cn import uscc

        if not uscc.is_valid(v):
            raise ValueError("统一社会信用代码校验不通过，请核对18位代码 / invalid unified social credit code")
        return uscc.compact(v)


class ApplicationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    profile: Profile
    applicant: Applicant
    form_values: dict[str, Any] = Field(default_factory=dict, max_length=200)
    idempotency_key: str | None = Field(default=None, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")
    channel: str = Field(default="web", pattern=r"^(web|wechat|hotline|bot|window)$")

    @field_validator("form_values")
    @classmethod
    def _values(cls, v: dict[str, Any]) -> dict[str, Any]:
        clean = {}
        for key, value in v.items():
            if not re.fullmatch(r"[a-z][a-z0-9_]{0,40}", key):
                raise ValueError(f"表单字段名不合法：{key[:40]} / invalid field key")
            if isinstance(value, str):
                if len(value) > 500:
                    raise ValueError(f"字段 {key} 内容太长(最多500字) / value too long")
                value = reject_markup(value, f"字段 {key}")
            elif value is not None and not isinstance(value, (int, float, bool)):
                raise ValueError(f"字段 {key} 只能填文字、数字或是/否 / value must be text, number or boolean")
            clean[key] = value
        return clean
