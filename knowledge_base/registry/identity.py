"""The identity provider: a signed-in person with the name, 身份证号 and phone the
provider has verified.  ``LocalIdentityStore`` (demo identities in a YAML file, each
with a scrypt password hash) is the default; a real deployment plugs in the
provincial 统一身份认证 behind the same two methods."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import yaml

from knowledge_base.forms.normalise import normalise_id_number
from knowledge_base.registry.passwords import DUMMY_HASH, verify_password


@dataclass(frozen=True)
class Identity:
    subject: str  # stable, provider-scoped id (never the 身份证号 itself)
    name: str
    id_number: str
    phone: str
    provider: str = "local"
    verified: bool = True

    def public(self) -> dict:
        return {"subject": self.subject, "name": self.name, "id_number": self.id_number, "phone": self.phone,
                "provider": self.provider, "verified": self.verified}


class IdentityProvider(Protocol):
    name: str

    def authenticate(self, id_number: str, secret: str) -> Identity | None:
        """The identity if the credentials are right, else None."""

    def get(self, subject: str) -> Identity | None:
        """The identity a subject id names (for a session already signed in)."""


def subject_for(provider: str, id_number: str) -> str:
    return f"{provider}:" + hashlib.sha256(f"daoban-subject:{id_number}".encode()).hexdigest()[:24]


class LocalIdentityStore:
    """Demo identities: ``identities: [{name, id_number, phone, password_hash}]``."""

    name = "local"

    def __init__(self, path: Path):
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
        self._by_id: dict[str, tuple[Identity, str]] = {}
        self._by_subject: dict[str, Identity] = {}
        for rec in raw.get("identities", []):
            idn = normalise_id_number(str(rec["id_number"]))
            ident = Identity(subject_for(self.name, idn), rec["name"], idn, str(rec["phone"]), self.name)
            self._by_id[idn] = (ident, rec["password_hash"])
            self._by_subject[ident.subject] = ident

    def authenticate(self, id_number: str, secret: str) -> Identity | None:
        found = self._by_id.get(normalise_id_number(id_number or ""))
        ok = verify_password(secret or "", found[1] if found else DUMMY_HASH)
        return found[0] if found and ok else None

    def get(self, subject: str) -> Identity | None:
        return self._by_subject.get(subject)

    def __len__(self) -> int:
        return len(self._by_id)
