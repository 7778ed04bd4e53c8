"""The electronic-licence registry (电子证照库): licences a business already holds.

A held 营业执照 (code ``business_registration``) fills the 主体 fields of the form;
a held permit whose code is in the bundle is left out of what to apply for and shown
as 「已持有，有效期至…」.  ``LocalLicenceRegistry`` reads ``data/demo/licences.yaml``."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Protocol

import yaml

from knowledge_base.forms.normalise import normalise_id_number

BUSINESS_LICENCE = "business_registration"


@dataclass(frozen=True)
class Licence:
    licence_no: str
    code: str  # catalog item code that issues it (business_registration = 营业执照)
    title: str
    holder: str  # the business's registered name
    uscc: str
    legal_rep: str | None = None
    legal_rep_id: str | None = None
    domicile: str | None = None
    entity_type: str | None = None  # individual | company
    region: str | None = None
    issued_on: date | None = None
    valid_until: date | None = None  # None: 长期有效
    status: str = "valid"  # valid | revoked

    def is_valid(self, today: date | None = None) -> bool:
        today = today or date.today()
        return self.status == "valid" and (self.valid_until is None or self.valid_until >= today)

    def validity_text(self) -> str:
        if self.valid_until is None:
            return "长期有效"
        return f"有效期至{self.valid_until.year}年{self.valid_until.month}月{self.valid_until.day}日"

    def public(self) -> dict:
        """What may be shown to anyone (一码展示): no personal numbers."""
        return {"licence_no": self.licence_no, "code": self.code, "title": self.title, "holder": self.holder,
                "uscc": self.uscc, "valid_until": self.valid_until.isoformat() if self.valid_until else None,
                "validity": self.validity_text(), "status": self.status}


class LicenceRegistry(Protocol):
    def by_person(self, id_number: str) -> list[Licence]:
        """Licences of the businesses this person represents (法定代表人/经营者)."""

    def by_uscc(self, uscc: str) -> list[Licence]:
        """Every licence a business (统一社会信用代码) holds."""


class LocalLicenceRegistry:
    def __init__(self, path: Path):
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
        self.licences: list[Licence] = []
        for rec in raw.get("licences", []):
            rec = dict(rec)
            if rec.get("legal_rep_id"):
                rec["legal_rep_id"] = normalise_id_number(str(rec["legal_rep_id"]))
            for k in ("issued_on", "valid_until"):
                if isinstance(rec.get(k), str):
                    rec[k] = date.fromisoformat(rec[k])
            self.licences.append(Licence(**rec))

    def by_person(self, id_number: str) -> list[Licence]:
        idn = normalise_id_number(id_number or "")
        usccs = {lic.uscc for lic in self.licences if lic.code == BUSINESS_LICENCE and lic.legal_rep_id == idn}
        return [lic for lic in self.licences if lic.uscc in usccs]

    def by_uscc(self, uscc: str) -> list[Licence]:
        return [lic for lic in self.licences if lic.uscc == (uscc or "").upper()]
