"""Submitted applications: stored before we answer, idempotent on retries, and
split per department for dispatch (一键分办)."""
from __future__ import annotations

import json
import uuid
from datetime import datetime, timezone

from sqlalchemy import JSON, DateTime, String, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from api.db import Base
from api.exceptions import InvalidInput, NotFound


class ApplicationRow(Base):
    __tablename__ = "applications"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    idempotency_key: Mapped[str | None] = mapped_column(String(64), unique=True, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    status: Mapped[str] = mapped_column(String(20))
    channel: Mapped[str] = mapped_column(String(20))
    region: Mapped[str | None] = mapped_column(String(20), nullable=True)
    payload: Mapped[dict] = mapped_column(JSON)


class ApplicationService:
    def __init__(self, engine: Engine, intake):
        self.engine = engine
        self.intake = intake

    def close(self):
        pass  # the engine belongs to the app (api.main)

    def create(self, req) -> tuple[dict, bool]:
        """Returns (application, created).  The same idempotency key returns the
        stored application instead of creating a second one."""
        if req.idempotency_key:
            existing = self._by_key(req.idempotency_key)
            if existing:
                return existing, False
        resolved = self.intake.resolve(req.profile)
        bundle = resolved["bundle"]
        if not req.profile.activities:
            raise InvalidInput("还不知道您要经营什么，无法提交申请。请先完成导办问答。", "The profile has no activity yet.")
        if req.profile.region is None:
            raise InvalidInput("请先选择办理地区(中山、阳江、睢县、晋中、同心)。", "The profile has no region.")
        form = self.intake.form(req.profile, req.form_values, resolved)
        app_id = str(uuid.uuid4())
        payload = {
            "id": app_id,
            "status": "submitted",
            "channel": req.channel,
            "applicant": req.applicant.model_dump(),
            "profile": req.profile.model_dump(),
            "bundle": bundle,
            "open_questions": resolved["questions"],
            "form": form,
            "dispatch": self._dispatch(bundle, form),
        }
        created_at = datetime.now(timezone.utc)
        row = ApplicationRow(
            id=app_id, idempotency_key=req.idempotency_key, created_at=created_at,
            status="submitted", channel=req.channel, region=req.profile.region, payload=json.loads(json.dumps(payload, ensure_ascii=False)),
        )
        try:
            with Session(self.engine) as s, s.begin():
                s.add(row)
        except IntegrityError:  # a concurrent retry with the same key won the race
            existing = self._by_key(req.idempotency_key or "")
            if existing:
                return existing, False
            raise
        payload["created_at"] = created_at.isoformat()
        return payload, True

    def _by_key(self, key: str) -> dict | None:
        with Session(self.engine) as s:
            row = s.scalar(select(ApplicationRow).where(ApplicationRow.idempotency_key == key))
            return self._out(row) if row else None

    def get(self, app_id: str) -> dict:
        with Session(self.engine) as s:
            row = s.get(ApplicationRow, app_id)
            if row is None:
                raise NotFound(f"没有找到编号为 {app_id[:40]} 的申请，请核对编号。", f"Application '{app_id[:40]}' not found.")
            return self._out(row)

    @staticmethod
    def _out(row: ApplicationRow) -> dict:
        data = dict(row.payload)
        data["created_at"] = row.created_at.isoformat() if row.created_at else None
        data["status"] = row.status
        return data

    @staticmethod
    def _dispatch(bundle: dict, form: dict) -> list[dict]:
        """一键分办: each department gets its items and the form fields they need."""
        parts: dict[str, dict] = {}
        for it in bundle["startup_steps"] + bundle["items"]:
            part = parts.setdefault(it["department_key"], {"department_key": it["department_key"], "department": it["department"], "items": [], "fields": []})
            part["items"].append(it["code"])
        for f in form["fields"]:
            for code in f["required_by"]:
                for part in parts.values():
                    if code in part["items"] and f["key"] not in part["fields"]:
                        part["fields"].append(f["key"])
        return list(parts.values())
