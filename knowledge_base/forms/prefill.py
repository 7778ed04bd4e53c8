"""Where a form value can come from, and what each source knows.

Sources, strongest first (a verified source wins over what was typed in the chat):

* ``registry``  the electronic-licence registry: a held 营业执照 gives the 主体 fields;
* ``identity``  the identity provider: the signed-in person's name, 身份证号, phone;
* ``intake``    the conversation: shop name, address, area, staff, business scope;
* ``history``   the applicant's earlier applications (values typed then);
* ``applicant`` typed or changed on the form (always wins, never "verified").

``registry`` and ``identity`` values are verified; every value stays editable, and a
changed verified value becomes ``applicant`` (unverified)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

SOURCES = ("registry", "identity", "intake", "history", "applicant")
VERIFIED_SOURCES = {"registry", "identity"}
SOURCE_LABELS = {
    "registry": "电子证照库",
    "identity": "实名认证",
    "intake": "对话中您说的",
    "history": "您以前的申请",
    "applicant": "您填写的",
}
ENTITY_LABELS = {"individual": "个体工商户", "company": "企业"}
SUBJECT_FIELDS = ("applicant_name", "uscc", "legal_rep_name", "legal_rep_id", "domicile", "entity_type")


@dataclass
class Prefill:
    source: str
    values: dict[str, Any] = field(default_factory=dict)

    @property
    def verified(self) -> bool:
        return self.source in VERIFIED_SOURCES


def intake_values(catalog, profile: dict) -> dict[str, Any]:
    """Field values the conversation gave (through each field's ``profile_key``)."""
    prof = dict(profile)
    acts = [catalog.industries[a].name for a in prof.get("activities") or [] if a in catalog.industries]
    prof["activities_text"] = "、".join(acts) or None
    out: dict[str, Any] = {}
    for key, spec in catalog.fields.items():
        if spec.profile_key and prof.get(spec.profile_key) not in (None, "", []):
            out[key] = prof[spec.profile_key]
    entity = ENTITY_LABELS.get(prof.get("entity_type") or "")
    if entity:
        out["entity_type"] = entity
    return out


def identity_values(identity, *, entity_type: str | None, has_licence: bool) -> dict[str, Any]:
    """The signed-in person: contact always; 经营者/法定代表人 when no licence says
    otherwise and the business is not a company (a company's 法定代表人 may be someone else)."""
    if identity is None:
        return {}
    out = {"contact_name": identity.name, "contact_phone": identity.phone}
    if not has_licence and entity_type != "company":
        out["legal_rep_name"] = identity.name
        out["legal_rep_id"] = identity.id_number
    return out


def licence_values(licence) -> dict[str, Any]:
    """A held 营业执照 fills the 主体 fields."""
    if licence is None:
        return {}
    out = {"applicant_name": licence.holder, "uscc": licence.uscc, "legal_rep_name": licence.legal_rep,
           "legal_rep_id": licence.legal_rep_id, "domicile": licence.domicile,
           "entity_type": ENTITY_LABELS.get(licence.entity_type or "")}
    return {k: v for k, v in out.items() if v}


def history_values(previous_forms: list[dict]) -> dict[str, Any]:
    """Values from earlier applications (newest first): each field's latest value."""
    out: dict[str, Any] = {}
    for form in previous_forms:
        for f in form.get("fields", []):
            if f.get("value") not in (None, "") and f["key"] not in out and f["key"] not in SUBJECT_FIELDS:
                out[f["key"]] = f["value"]
    return out


def same_value(a: Any, b: Any) -> bool:
    if a is None or b is None:
        return a is b
    if isinstance(a, (int, float)) and not isinstance(a, bool) or isinstance(b, (int, float)) and not isinstance(b, bool):
        try:
            return float(a) == float(b)
        except (TypeError, ValueError):
            return False
    return str(a).strip() == str(b).strip()
