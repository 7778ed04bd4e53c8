from __future__ import annotations

import re
from typing import Annotated, Any, Union

from pydantic import BaseModel, ConfigDict, Field, field_validator

from knowledge_base.forms.normalise import Invalid, clean, normalise_id_number, normalise_name, normalise_phone
from knowledge_base.rules.profile import Profile

_MARKUP = re.compile(r"<\s*/?\s*[a-zA-Z!][^>]*>|javascript:|on\w+\s*=", re.I)
CODE = r"^[a-z][a-z0-9_]{1,79}$"


def reject_markup(value: str, field: str) -> str:
    if _MARKUP.search(value):
        raise ValueError(f"{field} 不能包含网页代码或脚本(如 <script>)，请只填写文字 / markup is not allowed")
    if any(ord(c) < 32 and c not in "\t\n\r" for c in value):
        raise ValueError(f"{field} 含有不可见的控制字符 / control characters are not allowed")
    return value.strip()


class DomainInvalid(ValueError):
    """A rule no schema states (checksums, names after normalisation, markup): answered 422
    ``invalid_input`` with ``detail = {"field", "problem"}`` by the service."""

    def __init__(self, field: str, problem: str):
        super().__init__(problem)
        self.field = field
        self.problem = problem


def _check(fn, value, field: str):
    try:
        return fn(value)
    except (Invalid, ValueError) as exc:
        raise DomainInvalid(field, str(exc)) from None


def check_id_number(v: str | None) -> str | None:
    if v is None or not str(v).strip():
        return None
    from stdnum.cn import ric

    v = normalise_id_number(v)
    if not ric.is_valid(v):
        raise ValueError("身份证号码校验不通过，请核对18位号码（最后一位可能是X）/ invalid resident ID number")
    return ric.compact(v)


def check_uscc(v: str | None) -> str | None:
    if v is None or not str(v).strip():
        return None
    from stdnum.cn import uscc

    v = re.sub(r"\s", "", clean(v)).upper()
    if not uscc.is_valid(v):
        raise ValueError("统一社会信用代码校验不通过，请核对18位代码 / invalid unified social credit code")
    return uscc.compact(v)


def _name(v: str) -> str:
    reject_markup(v, "姓名")
    return normalise_name(v)


class Applicant(BaseModel):
    """The person applying.  The schema states lengths; the rules are checked after
    normalisation by :func:`clean_applicant` (NFKC, full-width and Arabic-Indic digits to
    ASCII, invisible characters removed; a name of only invisible characters refused)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=50, description="申请人(经办人)姓名")
    phone: str = Field(min_length=5, max_length=30, description="手机号或带区号的固定电话(全角、阿拉伯-印度数字可)")
    id_number: str | None = Field(default=None, max_length=40, description="居民身份证号码，按 GB 11643 校验")
    uscc: str | None = Field(default=None, max_length=40, description="统一社会信用代码，按 GB 32100 校验")


def clean_applicant(a: Applicant) -> Applicant:
    return Applicant.model_construct(
        name=_check(_name, a.name, "applicant.name"),
        phone=_check(normalise_phone, a.phone, "applicant.phone"),
        id_number=_check(check_id_number, a.id_number, "applicant.id_number"),
        uscc=_check(check_uscc, a.uscc, "applicant.uscc"),
    )


FormValue = Union[str, float, int, bool, None]
ItemCode = Annotated[str, Field(pattern=CODE, max_length=80)]


def check_values(v: dict[str, Any], prefix: str = "form_values") -> dict[str, Any]:
    clean_values = {}
    for key, value in v.items():
        if not re.fullmatch(r"[a-z][a-z0-9_]{0,40}", key):
            raise DomainInvalid(prefix, f"表单字段名不合法：{key[:40]} / invalid field key")
        if isinstance(value, str):
            if len(value) > 500:
                raise DomainInvalid(f"{prefix}.{key}", f"字段 {key} 内容太长(最多500字) / value too long")
            value = _check(lambda x: reject_markup(x, f"字段 {key}"), value, f"{prefix}.{key}")
        elif value is not None and not isinstance(value, (int, float, bool)):
            raise DomainInvalid(f"{prefix}.{key}", f"字段 {key} 只能填文字、数字或是/否 / value must be text, number or boolean")
        clean_values[key] = value
    return clean_values


class ApplicationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    profile: Profile
    applicant: Applicant
    form_values: dict[str, FormValue] = Field(default_factory=dict, max_length=200)
    commitments: list[ItemCode] = Field(default_factory=list, max_length=50, description="选择以告知承诺方式办理的事项代码")
    idempotency_key: str | None = Field(default=None, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")
    channel: str = Field(default="web", pattern=r"^(web|wechat|hotline|bot|window)$")

    def cleaned(self) -> "ApplicationCreate":
        """The request with the applicant and the values normalised and checked (DomainInvalid)."""
        return self.model_copy(update={"applicant": clean_applicant(self.applicant), "form_values": check_values(self.form_values),
                                       "commitments": list(dict.fromkeys(self.commitments))})


class DraftCreate(BaseModel):
    """What the chat hands over when it shows the merged form."""

    model_config = ConfigDict(extra="forbid")

    profile: Profile
    values: dict[str, FormValue] = Field(default_factory=dict, max_length=200)
    channel: str = Field(default="web", pattern=r"^(web|wechat|hotline|bot|window)$")


class SignIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id_number: str = Field(min_length=1, max_length=40)
    password: str = Field(min_length=1, max_length=200)


class DraftSubmit(BaseModel):
    model_config = ConfigDict(extra="forbid")

    values: dict[str, FormValue] = Field(default_factory=dict, max_length=200)
    commitments: list[ItemCode] = Field(default_factory=list, max_length=50)
    uscc: str | None = Field(default=None, max_length=40, description="为哪个已有主体办理(统一社会信用代码)；不填为新办")
    phone: str | None = Field(default=None, max_length=30, description="联系电话(默认用实名认证的手机号)")


class Transition(BaseModel):
    """A department moves one of its items: accepted (已受理), correction (需补正, every
    missing material at once), approved (准予), rejected (不予, with a reason)."""

    model_config = ConfigDict(extra="forbid")

    to: str = Field(pattern=r"^(accepted|correction|approved|rejected)$")
    reason: str | None = Field(default=None, max_length=500)
    missing: list[str] = Field(default_factory=list, max_length=30, description="需补正的材料(材料代码)，一次列全")
    note: str | None = Field(default=None, max_length=500, description="补正说明(可选)")
    expected: str | None = Field(default=None, pattern=r"^(pending|accepted|correction|approved|rejected)$",
                                 description="办理人看到的当前状态；与实际不符时不改(防止两人同时操作)")

    @field_validator("reason", "note")
    @classmethod
    def _text(cls, v: str | None) -> str | None:
        return reject_markup(v, "说明") if v else v


class Login(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: str = Field(min_length=1, max_length=80)
    password: str = Field(min_length=1, max_length=200)
