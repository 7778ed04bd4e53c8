"""Applications: drafts pre-filled from every source, submissions that are stored
before we answer and idempotent without leaking, one row per item and department
(一键分办) with its status, an audit log of every change, supplements after 需补正,
and the views each reader may see (the applicant's own, the masked tracking link,
a department's minimised part, the public 一码展示)."""
from __future__ import annotations

import hashlib
import json
import logging
import secrets
import uuid
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, defer

from api.applications import access
from api.applications.access import ANONYMOUS, Principal, aware, now
from api.applications.models import (ApplicationCreate, Applicant, DomainInvalid, DraftCreate, DraftSubmit, Transition, check_id_number,
                                     check_uscc, check_values)
from api.applications.tables import ApplicationRow, AuditRow, DraftRow, ItemRow, SupplementRow
from api.exceptions import Conflict, InvalidInput, NotFound, TooManyRequests, Unauthorized
from knowledge_base.forms.acceptance import commitment_options, rongque_list
from knowledge_base.forms.held import apply_held
from knowledge_base.forms.merge import merge_form
from knowledge_base.forms.normalise import Invalid, normalise_name, normalise_phone
from knowledge_base.forms.prefill import Prefill, history_values, identity_values, licence_values
from knowledge_base.privacy import mask_id, mask_phone, mask_text
from knowledge_base.registry.licences import BUSINESS_LICENCE

__all__ = ["ApplicationService", "ApplicationRow", "STATUS_LABELS"]
log = logging.getLogger("daoban.applications")

STATUS_LABELS = {"pending": "待受理", "accepted": "已受理", "correction": "需补正", "approved": "准予", "rejected": "不予"}
OVERALL_LABELS = {"submitted": "已提交，等待受理", "processing": "办理中", "correction": "需要补正材料", "completed": "已办结"}
TRANSITIONS = {
    "pending": {"accepted", "correction", "rejected"},
    "accepted": {"correction", "approved", "rejected"},
    "correction": {"rejected"},  # back to 已受理 only by the applicant's supplement
    "approved": set(),
    "rejected": set(),
}
FINAL = {"approved", "rejected"}
PERSON_FIELDS = {"legal_rep_name", "contact_name"}


def fingerprint(req: ApplicationCreate, extra: dict | None = None) -> str:
    body = req.model_dump(exclude={"idempotency_key"})
    if extra:
        body["_"] = extra
    return hashlib.sha256(json.dumps(body, sort_keys=True, ensure_ascii=False, default=str).encode()).hexdigest()


def domain(fn):
    """Run a check whose rule no schema states; its failure is a 422 with one field named."""
    try:
        return fn()
    except DomainInvalid as exc:
        zh = exc.problem.split(" / ")[0]
        en = exc.problem.split(" / ")[-1]
        raise InvalidInput(f"填写的内容有误：{zh}。请修改后再提交。", f"Invalid input in {exc.field}: {en}",
                           {"field": exc.field, "problem": exc.problem}) from None


def overall(statuses: list[str]) -> str:
    if statuses and all(s in FINAL for s in statuses):
        return "completed"
    if "correction" in statuses:
        return "correction"
    if any(s != "pending" for s in statuses):
        return "processing"
    return "submitted"


def _json(obj):
    return json.loads(json.dumps(obj, ensure_ascii=False, default=str))


def mask_field_value(field: dict):
    v = field.get("value")
    if not isinstance(v, str):
        return v
    if field.get("type") == "id_number":
        return mask_id(v)
    if field.get("type") == "phone":
        return mask_phone(v)
    return mask_text(v)


def mask_applicant(a: dict | None) -> dict | None:
    if not a:
        return a
    return {**a, "id_number": mask_id(a.get("id_number")), "phone": mask_phone(a.get("phone"))}


class ApplicationService:
    def __init__(self, engine: Engine, intake, *, settings=None, identity=None, registry=None, accounts=None):
        from knowledge_base.settings import Settings

        self.engine = engine
        self.intake = intake
        self.catalog = intake.catalog
        self.settings = settings or Settings()
        self.identity = identity
        self.registry = registry
        self.accounts = accounts
        self.guard = access.SignInGuard()

    @classmethod
    def from_settings(cls, engine: Engine, intake, settings) -> "ApplicationService":
        """With the configured identity provider, licence registry and department accounts."""
        from api.departments.accounts import Accounts
        from knowledge_base.registry import make_identity_provider, make_licence_registry

        accounts_file = settings.department_accounts or settings.demo_dir / "departments.yaml"
        return cls(engine, intake, settings=settings, identity=make_identity_provider(settings),
                   registry=make_licence_registry(settings), accounts=Accounts.load(accounts_file))

    def close(self):
        pass  # the engine belongs to the app (api.main)

    # ------------------------------------------------------------------ links
    def url(self, path: str) -> str:
        """Every link and QR code: the configured public base URL, never the request's Host."""
        return self.settings.public_base_url.rstrip("/") + path

    # ------------------------------------------------------------------ who is asking
    def principal(self, token: str | None) -> Principal:
        if not token:
            return ANONYMOUS
        with Session(self.engine) as s:
            row = access.lookup(s, token)
        if row is None:
            return ANONYMOUS
        if row.kind in ("applicant", "track"):
            return Principal(row.kind, application_id=row.application_id, token=token)
        if row.kind == "identity":
            return Principal("identity", subject=row.subject, draft_id=row.draft_id, token=token)
        if row.kind == "department" and self.accounts is not None:
            acc = self.accounts.get(row.subject)
            if acc is not None:
                return Principal("department", subject=acc.username, region=acc.region,
                                 department_key=acc.department_key, department=acc.department, token=token)
        return ANONYMOUS

    def _deny(self, p: Principal):
        if p.kind == "anonymous":
            raise Unauthorized("请先登录，或使用申请时给您的查询链接。", "Credentials required.")
        raise NotFound("没有找到这份申请，或您无权查看。", "Application not found.")

    def _role(self, p: Principal, row: ApplicationRow, items: list[ItemRow]) -> str | None:
        if p.kind == "applicant" and p.application_id == row.id:
            return "owner"
        if p.kind == "identity" and row.subject and p.subject == row.subject:
            return "owner"
        if p.kind == "track" and p.application_id == row.id:
            return "track"
        if p.kind == "department" and any(it.region == p.region and it.department_key == p.department_key for it in items):
            return "department"
        return None

    def _load(self, s: Session, app_id: str, p: Principal, *, payload: bool = True):
        opts = [] if payload else [defer(ApplicationRow.payload)]  # a status change needs no payload
        row = s.get(ApplicationRow, app_id, options=opts) if app_id and len(app_id) <= 64 else None
        if row is None:
            self._deny(p)
        items = list(s.scalars(select(ItemRow).where(ItemRow.application_id == app_id).order_by(ItemRow.id)))
        role = self._role(p, row, items)
        if role is None:
            self._deny(p)
        return row, items, role

    # ------------------------------------------------------------------ building an application
    def _licences_for(self, identity, uscc: str | None) -> tuple[list, object | None]:
        """The chosen business's licences and its 营业执照 — only for a business the signed-in
        person represents (the registry is never asked on an anonymous request's word)."""
        if not identity or not self.registry:
            return [], None
        mine = self.registry.by_person(identity.id_number)
        if not uscc:
            return [], None
        lics = [lic for lic in mine if lic.uscc == uscc]
        bl = next((lic for lic in lics if lic.code == BUSINESS_LICENCE), None)
        return lics, bl

    def businesses(self, identity) -> list[dict]:
        if not identity or not self.registry:
            return []
        out = []
        for lic in self.registry.by_person(identity.id_number):
            if lic.code == BUSINESS_LICENCE:
                out.append({"uscc": lic.uscc, "name": lic.holder, "domicile": lic.domicile, "region": lic.region,
                            "entity_type": lic.entity_type})
        return out

    def _auto_uscc(self, identity, profile: dict) -> str | None:
        """Which of the person's businesses this is: the one named like the shop, or the only one
        when the profile says it is not a new business."""
        biz = self.businesses(identity)
        name = (profile.get("name") or "").strip()
        for b in biz:
            if name and (name in b["name"] or b["name"] in name):
                return b["uscc"]
        if len(biz) == 1 and profile.get("new_business") is False:
            return biz[0]["uscc"]
        return None

    def _history(self, subject: str | None) -> list[dict]:
        if not subject:
            return []
        with Session(self.engine) as s:
            rows = s.scalars(select(ApplicationRow).where(ApplicationRow.subject == subject)
                             .order_by(ApplicationRow.created_at.desc()).limit(5))
            return [r.payload.get("form", {}) for r in rows]

    def build(self, profile, values: dict, *, identity=None, uscc: str | None = None, today: date | None = None) -> dict:
        """Bundle (held licences out), merged form pre-filled from every source, 告知承诺 options, 容缺 list."""
        resolved = self.intake.resolve(profile)
        bundle = resolved["bundle"]
        prof = profile.model_dump()
        licences, bl = self._licences_for(identity, uscc)
        if licences:
            bundle = apply_held(bundle, licences, today)
        else:
            bundle = dict(bundle, held=list(bundle.get("held") or []))
        entity = prof.get("entity_type") or (bl.entity_type if bl else None)
        prefill = [Prefill("registry", licence_values(bl)),
                   Prefill("identity", identity_values(identity, entity_type=entity, has_licence=bl is not None)),
                   Prefill("history", history_values(self._history(identity.subject if identity else None)))]
        codes = [it["code"] for it in bundle["startup_steps"]] + [it["code"] for it in bundle["items"]]
        form = merge_form(self.catalog, codes, profile, values, prefill)
        form["bundle_final"] = bundle["final"]
        form["profile"] = prof
        shared = {"business_license"} if bl is not None else set()
        return {
            "bundle": bundle,
            "questions": resolved["questions"],
            "form": form,
            "commitment_options": commitment_options(self.catalog, bundle),
            "rongque": rongque_list(self.catalog, bundle, submitted_on=today, days=self.settings.rongque_days, shared=shared),
            "licence": bl.public() if bl else None,
        }

    def _check_typed(self, form: dict) -> None:
        """Typed values are checked after normalisation, by the field's type."""
        problems = []
        for f in form["fields"]:
            if f["source"] != "applicant" or not isinstance(f["value"], str):
                continue
            try:
                if f["type"] == "phone":
                    f["value"] = normalise_phone(f["value"])
                elif f["type"] == "id_number":
                    f["value"] = check_id_number(f["value"])
                elif f["type"] == "uscc":
                    f["value"] = check_uscc(f["value"])
                elif f["key"] in PERSON_FIELDS:
                    f["value"] = normalise_name(f["value"], f["label"])
            except (Invalid, ValueError) as exc:
                problems.append({"field": f"form_values.{f['key']}", "problem": f"{f['label']}：{str(exc).split(' / ')[0]}"})
        if problems:
            raise InvalidInput("填写的内容有误：" + "；".join(p["problem"] for p in problems[:3]) + "。请修改后再提交。",
                               "Invalid form values.", {**problems[0], "more": problems[1:]})

    @staticmethod
    def _dispatch(bundle: dict, form: dict, catalog) -> list[dict]:
        """一键分办: each department gets its items, the form fields and the materials they need."""
        parts: dict[str, dict] = {}
        for it in bundle["startup_steps"] + bundle["items"]:
            part = parts.setdefault(it["department_key"], {"department_key": it["department_key"], "department": it["department"],
                                                           "items": [], "fields": [], "materials": []})
            part["items"].append(it["code"])
            item = catalog.items.get(it["code"])
            for m in item.materials if item else []:
                if m.key not in [x["key"] for x in part["materials"]]:
                    part["materials"].append({"key": m.key, "name": m.name})
        for f in form["fields"]:
            for code in f["required_by"]:
                for part in parts.values():
                    if code in part["items"] and f["key"] not in part["fields"]:
                        part["fields"].append(f["key"])
        return list(parts.values())

    # ------------------------------------------------------------------ submit
    def create(self, req: ApplicationCreate, *, identity=None, uscc: str | None = None, draft_id: str | None = None) -> tuple[dict, bool]:
        """Returns (the applicant's own view with a fresh token, created).  The same
        Idempotency-Key with the same body returns the stored application; with another
        body it is a 409 that shows nothing of the first."""
        req = domain(req.cleaned)
        fp = fingerprint(req, {"subject": identity.subject if identity else None, "uscc": uscc})
        if req.idempotency_key:
            replay = self._replay(req.idempotency_key, fp)
            if replay is not None:
                return replay, False
        if not req.profile.activities:
            raise InvalidInput("还不知道您要经营什么，无法提交申请。请先完成导办问答。", "The profile has no activity yet.")
        if req.profile.region is None:
            raise InvalidInput("请先选择办理地区(中山、阳江、睢县、晋中、同心)。", "The profile has no region.")
        built = self.build(req.profile, req.form_values, identity=identity, uscc=uscc)
        bundle, form = built["bundle"], built["form"]
        self._check_typed(form)
        eligible = {o["code"] for o in built["commitment_options"] if o["eligible"]}
        wrong = [c for c in req.commitments if c not in eligible]
        if wrong:
            raise InvalidInput(f"这些事项不能选择告知承诺：{'、'.join(w[:40] for w in wrong)}。", "Items not eligible for commitment.",
                               {"eligible": sorted(eligible)})
        app_id = str(uuid.uuid4())
        created_at = now()
        applicant = req.applicant.model_dump()
        if identity is not None:
            applicant["verified"] = True
        payload = {
            "id": app_id,
            "channel": req.channel,
            "applicant": applicant,
            "profile": req.profile.model_dump(),
            "bundle": bundle,
            "open_questions": built["questions"],
            "form": form,
            "dispatch": self._dispatch(bundle, form, self.catalog),
            "commitments": list(req.commitments),
            "rongque": built["rongque"],
            "licence": built["licence"],
        }
        token = access.new_token()
        public_code = secrets.token_urlsafe(16)
        row = ApplicationRow(
            id=app_id, idempotency_key=req.idempotency_key, created_at=created_at, status="submitted", channel=req.channel,
            region=req.profile.region, payload=_json(payload), request_hash=fp, subject=identity.subject if identity else None,
            public_code=public_code, updated_at=created_at, **self._names(payload),
        )
        try:
            with Session(self.engine) as s, s.begin():
                s.add(row)
                s.flush()
                for it in bundle["startup_steps"] + bundle["items"]:
                    s.add(ItemRow(application_id=app_id, code=it["code"], name=it["name"], region=req.profile.region,
                                  department_key=it["department_key"], department=it["department"], status="pending",
                                  requested=[], commitment=it["code"] in req.commitments, version=1, updated_at=created_at))
                s.add(AuditRow(application_id=app_id, item_code=None, actor="applicant", action="submitted", from_status=None,
                               to_status="pending", detail={"items": len(bundle["items"]) + len(bundle["startup_steps"])},
                               request_key=None, at=created_at))
                access.issue(s, "applicant", application_id=app_id, token=token)
                access.issue(s, "track", application_id=app_id, token=access.track_token_for(token))
                if draft_id:
                    s.execute(update(DraftRow).where(DraftRow.id == draft_id).values(application_id=app_id))
        except IntegrityError:  # a concurrent retry with the same key won the race
            replay = self._replay(req.idempotency_key or "", fp) if req.idempotency_key else None
            if replay is not None:
                return replay, False
            raise
        log.info("application %s submitted: region=%s items=%d", app_id, req.profile.region, len(bundle["items"]))
        return self.get(app_id, Principal("applicant", application_id=app_id, token=token), fresh_token=token), True

    @staticmethod
    def _names(payload: dict) -> dict:
        values = {f["key"]: f["value"] for f in (payload.get("form") or {}).get("fields", [])}
        prof = payload.get("profile") or {}
        name = values.get("applicant_name") or prof.get("name")
        address = values.get("site_address") or prof.get("address")
        return {"business": mask_text(str(name))[:200] if name else None, "address": mask_text(str(address))[:300] if address else None}

    def _replay(self, key: str, fp: str) -> dict | None:
        with Session(self.engine) as s:
            row = s.scalar(select(ApplicationRow).where(ApplicationRow.idempotency_key == key))
            if row is None:
                return None
            if row.request_hash != fp:
                raise Conflict("这个 Idempotency-Key 已经用于另一份不同内容的申请。重新提交请换一个新的 Key。",
                               "This Idempotency-Key was used for a different request.")
            app_id = row.id
        with Session(self.engine) as s, s.begin():
            token = access.issue(s, "applicant", application_id=app_id)
            access.issue(s, "track", application_id=app_id, token=access.track_token_for(token))
        return self.get(app_id, Principal("applicant", application_id=app_id, token=token), fresh_token=token)

    # ------------------------------------------------------------------ reading
    def get(self, app_id: str, p: Principal, *, fresh_token: str | None = None) -> dict:
        with Session(self.engine) as s:
            row, items, role = self._load(s, app_id, p)
            audit = list(s.scalars(select(AuditRow).where(AuditRow.application_id == app_id).order_by(AuditRow.id)))
            sups = s.execute(select(SupplementRow.id, SupplementRow.item_code, SupplementRow.material_key, SupplementRow.material,
                                    SupplementRow.kind, SupplementRow.filename, SupplementRow.size, SupplementRow.created_at)
                             .where(SupplementRow.application_id == app_id).order_by(SupplementRow.id)).all()
        view = self._view(row, items, audit, sups, role, p)
        if fresh_token:
            view["token"] = fresh_token
        return view

    def role_of(self, app_id: str, p: Principal) -> str:
        with Session(self.engine) as s:
            _, _, role = self._load(s, app_id, p, payload=False)
        return role

    def _item_out(self, it: ItemRow) -> dict:
        return {"code": it.code, "name": it.name, "department": it.department, "department_key": it.department_key,
                "status": it.status, "status_label": STATUS_LABELS.get(it.status, it.status), "reason": it.reason,
                "requested": it.requested or [], "commitment": it.commitment, "version": it.version,
                "updated_at": aware(it.updated_at).isoformat() if it.updated_at else None}

    @staticmethod
    def _audit_out(a: AuditRow, names: dict | None = None) -> dict:
        return {"at": aware(a.at).isoformat(), "actor": a.actor, "action": a.action, "item": a.item_code,
                "item_name": (names or {}).get(a.item_code or "", a.item_code),
                "from": a.from_status, "from_label": STATUS_LABELS.get(a.from_status or ""),
                "to": a.to_status, "to_label": STATUS_LABELS.get(a.to_status or ""), "detail": a.detail or {}}

    def _view(self, row: ApplicationRow, items, audit, sups, role: str, p: Principal) -> dict:
        data = dict(row.payload)
        data["id"] = row.id
        data["created_at"] = aware(row.created_at).isoformat() if row.created_at else None
        data["status"] = row.status
        data["status_label"] = OVERALL_LABELS.get(row.status, row.status)
        data["public_url"] = self.url(f"/qr/{row.public_code}") if row.public_code else None
        base = f"/api/v1/applications/{row.id}"
        if role == "department":
            return self._department_view(data, items, audit, sups, p, base)
        data["items"] = [self._item_out(it) for it in items]
        names = {it.code: it.name for it in items}
        data["audit"] = [self._audit_out(a, names) for a in audit]
        data["supplements"] = [self._sup_out(x, base) for x in sups]
        data["role"] = role
        if role == "owner":
            if p.kind == "applicant" and p.token:
                data["track_url"] = self.url(f"/track/{access.track_token_for(p.token)}")
            data["documents"] = self._documents(data, base)
            return data
        # the tracking link: everything, personal numbers masked
        data["applicant"] = mask_applicant(data.get("applicant"))
        form = data.get("form") or {}
        data["form"] = {**form, "fields": [{**f, "value": mask_field_value(f)} for f in form.get("fields", [])]}
        if data.get("licence"):
            data["licence"] = {k: v for k, v in data["licence"].items()}
        for a in data["audit"]:
            if isinstance(a["detail"].get("reason"), str):
                a["detail"]["reason"] = mask_text(a["detail"]["reason"])
        data["documents"] = self._documents(data, base)
        return data

    def _sup_out(self, x, base: str) -> dict:
        return {"id": x.id, "item": x.item_code, "material_key": x.material_key, "material": x.material, "kind": x.kind,
                "filename": x.filename, "size": x.size, "at": aware(x.created_at).isoformat(),
                "url": f"{base}/supplements/{x.id}" if x.kind == "upload" else None}

    def _documents(self, data: dict, base: str) -> dict:
        docs = {"application": f"{base}/documents/application", "receipt": f"{base}/documents/receipt"}
        if data.get("rongque"):
            docs["rongque"] = f"{base}/documents/rongque"
        for code in data.get("commitments") or []:
            docs[f"commitment:{code}"] = f"{base}/documents/commitment-{code}"
        return docs

    def _department_view(self, data: dict, items, audit, sups, p: Principal, base: str) -> dict:
        """Data minimisation: only this department's items, the fields and materials they
        need, and personal numbers masked."""
        mine = [it for it in items if it.region == p.region and it.department_key == p.department_key]
        codes = {it.code for it in mine}
        fields = [{**f, "value": mask_field_value(f), "required_by": [c for c in f.get("required_by", []) if c in codes]}
                  for f in (data.get("form") or {}).get("fields", []) if set(f.get("required_by", [])) & codes]
        materials: dict[str, dict] = {}
        for it in mine:
            item = self.catalog.items.get(it.code)
            for m in item.materials if item else []:
                materials.setdefault(m.key, {"key": m.key, "name": m.name, "for_items": []})["for_items"].append(it.code)
        bundle = data.get("bundle") or {}
        form_values = {f["key"]: f["value"] for f in (data.get("form") or {}).get("fields", [])}
        return {
            "id": data["id"],
            "created_at": data["created_at"],
            "region": data.get("profile", {}).get("region"),
            "status": data["status"],
            "status_label": data["status_label"],
            "role": "department",
            "department": p.department,
            "department_key": p.department_key,
            "business": {"name": form_values.get("applicant_name") or data.get("profile", {}).get("name"),
                         "address": form_values.get("site_address") or data.get("profile", {}).get("address")},
            "applicant": mask_applicant({k: v for k, v in (data.get("applicant") or {}).items() if k in ("name", "phone", "id_number", "uscc", "verified")}),
            "items": [self._item_out(it) for it in mine],
            "bundle_items": [it for it in bundle.get("items", []) + bundle.get("startup_steps", []) if it["code"] in codes],
            "fields": fields,
            "materials": list(materials.values()),
            "commitments": [c for c in data.get("commitments") or [] if c in codes],
            "rongque": [r for r in data.get("rongque") or [] if r["item"] in codes],
            "supplements": [self._sup_out(x, base) for x in sups if x.item_code in codes],
            "audit": [self._audit_out(a, {it.code: it.name for it in mine}) for a in audit if a.item_code in codes or a.item_code is None],
            "documents": {"application": f"{base}/documents/application",
                          **{f"commitment:{c}": f"{base}/documents/commitment-{c}" for c in data.get("commitments") or [] if c in codes}},
        }

    # ------------------------------------------------------------------ the tracking link and the public QR page
    def by_track_token(self, token: str) -> dict:
        p = self.principal(token)
        if p.kind != "track":
            raise NotFound("这个查询链接无效或已失效。", "Unknown tracking link.")
        view = self.get(p.application_id, p)
        view["track_token"] = token
        return view

    def public(self, code: str) -> dict:
        """一码展示: the business and its licences' status — nothing personal."""
        if not code or len(code) > 43:
            raise NotFound("没有这个二维码对应的经营主体。", "Unknown code.")
        with Session(self.engine) as s:
            row = s.scalar(select(ApplicationRow).where(ApplicationRow.public_code == code))
            if row is None:
                raise NotFound("没有这个二维码对应的经营主体。", "Unknown code.")
            items = list(s.scalars(select(ItemRow).where(ItemRow.application_id == row.id).order_by(ItemRow.id)))
        data = row.payload
        values = {f["key"]: f["value"] for f in (data.get("form") or {}).get("fields", [])}
        profile = data.get("profile") or {}
        bundle = data.get("bundle") or {}
        return {
            "business": mask_text(str(values.get("applicant_name") or profile.get("name") or "（名称待定）")),
            "address": mask_text(str(values.get("site_address") or profile.get("address") or "")) or None,
            "region_name": bundle.get("region_name"),
            "scope": values.get("business_scope"),
            "licences": [{"name": it.name, "status": it.status, "status_label": STATUS_LABELS.get(it.status, it.status),
                          "department": it.department} for it in items],
            "held": [{"name": h["name"], "text": h["text"]} for h in bundle.get("held") or []],
            "updated_at": aware(row.updated_at or row.created_at).date().isoformat(),
            "url": self.url(f"/qr/{code}"),
        }

    # ------------------------------------------------------------------ drafts (the apply page)
    def create_draft(self, req: DraftCreate) -> dict:
        req = req.model_copy(update={"values": domain(lambda: check_values(req.values, "values"))})
        token = access.new_token()
        draft_id = str(uuid.uuid4())
        created = now()
        expires = created + timedelta(hours=self.settings.draft_ttl_hours)
        with Session(self.engine) as s, s.begin():
            s.add(DraftRow(id=draft_id, token_hash=access.token_hash(token), created_at=created, expires_at=expires,
                           channel=req.channel, profile=_json(req.profile.model_dump()), values=_json(req.values)))
        return {"draft_id": draft_id, "token": token, "apply_url": self.url(f"/apply/{token}"), "expires_at": expires.isoformat()}

    def _draft(self, s: Session, token: str) -> DraftRow:
        row = s.scalar(select(DraftRow).where(DraftRow.token_hash == access.token_hash(token or ""))) if token and len(token) <= 200 else None
        if row is None or aware(row.expires_at) < now():
            raise NotFound("这个申请链接无效或已过期，请回到导办对话重新生成。", "Unknown or expired draft.")
        return row

    def _draft_identity(self, draft: DraftRow, p: Principal):
        if p.kind == "identity" and p.draft_id == draft.id and self.identity is not None:
            return self.identity.get(p.subject)
        return None

    def draft_view(self, token: str, p: Principal, uscc: str | None = None) -> dict:
        from knowledge_base.rules.profile import Profile

        with Session(self.engine) as s:
            draft = self._draft(s, token)
            s.expunge(draft)
        identity = self._draft_identity(draft, p)
        profile = Profile.model_validate(draft.profile)
        businesses = self.businesses(identity)
        if uscc == "new":
            uscc = None
        elif uscc is None:
            uscc = self._auto_uscc(identity, draft.profile)
        elif uscc not in {b["uscc"] for b in businesses}:
            uscc = None
        built = self.build(profile, draft.values, identity=identity, uscc=uscc)
        return {
            "draft_id": draft.id,
            "channel": draft.channel,
            "signed_in": identity is not None,
            "identity": {"name": identity.name, "id_number": mask_id(identity.id_number), "phone": mask_phone(identity.phone),
                         "provider": identity.provider} if identity else None,
            "businesses": businesses,
            "uscc": uscc,
            "submitted": draft.application_id is not None,
            "application_id": draft.application_id if identity is not None else None,
            **built,
        }

    def draft_signin(self, token: str, id_number: str, password: str) -> dict:
        with Session(self.engine) as s:
            draft = self._draft(s, token)
        self.check_guard("identity", id_number)
        ident = self.identity.authenticate(id_number, password) if self.identity else None
        if ident is None:
            self.guard.failed("identity", id_number)
            raise Unauthorized("身份证号或密码不对，请核对后再试。", "Sign-in failed.")
        self.guard.succeeded("identity", id_number)
        with Session(self.engine) as s, s.begin():
            session = access.issue(s, "identity", draft_id=draft.id, subject=ident.subject, hours=self.settings.applicant_session_hours)
        return {"session": session, "name": ident.name, "expires_in_s": self.settings.applicant_session_hours * 3600}

    def check_guard(self, kind: str, who: str) -> None:
        wait = self.guard.check(kind, who)
        if wait is not None:
            raise TooManyRequests(f"密码错误次数太多，请{int(wait // 60) + 1}分钟后再试。", "Too many failed sign-ins.",
                                  {"retry_after_s": int(wait)})

    def draft_submit(self, token: str, p: Principal, req: DraftSubmit, idempotency_key: str | None = None) -> tuple[dict, bool]:
        from knowledge_base.rules.profile import Profile

        with Session(self.engine) as s:
            draft = self._draft(s, token)
            s.expunge(draft)
        identity = self._draft_identity(draft, p)
        if identity is None:
            raise Unauthorized("请先完成实名登录再提交。", "Sign in with the identity provider first.")
        want = domain(lambda: check_uscc(req.uscc))
        uscc = want if want in {b["uscc"] for b in self.businesses(identity)} else None
        if want and uscc is None:
            raise InvalidInput("这个统一社会信用代码不是您名下的经营主体。", "Not a business of the signed-in person.")
        applicant = Applicant(name=identity.name, phone=req.phone or identity.phone, id_number=identity.id_number, uscc=uscc)
        create = ApplicationCreate(profile=Profile.model_validate(draft.profile), applicant=applicant, form_values=req.values,
                                   commitments=req.commitments, channel=draft.channel,
                                   idempotency_key=idempotency_key or f"draft:{draft.id}")
        return self.create(create, identity=identity, uscc=uscc, draft_id=draft.id)

    # ------------------------------------------------------------------ status changes
    def _materials_of(self, code: str) -> dict[str, str]:
        item = self.catalog.items.get(code)
        mats = {m.key: m.name for m in item.materials} if item else {}
        mats.setdefault("commitment_letter", "告知承诺书")
        return mats

    def transition(self, app_id: str, code: str, p: Principal, t: Transition, request_key: str | None = None) -> dict:
        if p.kind != "department":
            self._deny(p)
        rkey = f"{p.subject}:{request_key}" if request_key else None
        with Session(self.engine) as s:
            row, items, role = self._load(s, app_id, p, payload=False)
            item = next((it for it in items if it.code == code and it.region == p.region and it.department_key == p.department_key), None)
            if item is None:
                raise NotFound("这份申请里没有本部门的这个事项。", "No such item for this department.")
            if rkey and s.scalar(select(AuditRow.id).where(AuditRow.application_id == app_id, AuditRow.request_key == rkey)):
                return self._item_out(item)  # a retry of a change already made
            requested = []
            if t.to == "correction":
                mats = self._materials_of(code)
                unknown = [k for k in t.missing if k not in mats]
                if not t.missing or unknown:
                    raise InvalidInput("需补正时请一次列出所有缺少的材料（从本事项的材料清单中选）。",
                                       "List every missing material of this item at once.", {"materials": mats, "unknown": unknown})
                requested = [{"key": k, "name": mats[k]} for k in dict.fromkeys(t.missing)]
            if t.to == "rejected" and not (t.reason or "").strip():
                raise InvalidInput("不予许可(不予受理)必须写明理由。", "A reason is required.")
            same = item.status == t.to and (t.to != "correction" or item.requested == requested) and (
                t.to != "rejected" or item.reason == t.reason)
            if same:
                return self._item_out(item)  # already so (a retry without a key): no second audit row
            if t.expected and item.status != t.expected:
                raise Conflict(f"这个事项的状态已经变为「{STATUS_LABELS[item.status]}」，请刷新后再操作。", "Status changed meanwhile.",
                               {"status": item.status})
            if t.to == "correction" and s.scalar(select(AuditRow.id).where(
                    AuditRow.application_id == app_id, AuditRow.item_code == code, AuditRow.to_status == "correction").limit(1)):
                raise Conflict("这个事项已经一次性告知过需要补正的材料（行政许可法第三十二条），不能再要求补正；"
                               "材料仍不符合的，请作出不予决定并写明理由。", "Correction was already requested once for this item.")
            if t.to not in TRANSITIONS.get(item.status, set()):
                raise Conflict(f"「{STATUS_LABELS[item.status]}」的事项不能改为「{STATUS_LABELS[t.to]}」。", "Transition not allowed.",
                               {"status": item.status, "allowed": sorted(TRANSITIONS.get(item.status, set()))})
            at = now()
            reason = t.reason if t.to in ("rejected", "approved") else (t.note if t.to == "correction" else None)
            detail: dict[str, Any] = {}
            if reason:
                detail["reason"] = reason
            if requested:
                detail["missing"] = requested
            version, old, item_id = item.version, item.status, item.id
            statuses = [t.to if it.id == item_id else it.status for it in items]
            s.rollback()  # end the read; the write below checks the version it read
            try:
                with s.begin():
                    done = s.execute(update(ItemRow).where(ItemRow.id == item_id, ItemRow.version == version).values(
                        status=t.to, reason=reason, requested=requested, version=version + 1, updated_at=at)).rowcount
                    if done != 1:
                        raise Conflict("这个事项刚被别人改过，请刷新后再操作。", "Concurrent change.")
                    s.add(AuditRow(application_id=app_id, item_code=code, actor=p.actor, action=f"to_{t.to}", from_status=old,
                                   to_status=t.to, detail=detail, request_key=rkey, at=at))
                    s.execute(update(ApplicationRow).where(ApplicationRow.id == app_id).values(status=overall(statuses), updated_at=at))
            except IntegrityError:  # the same request_key raced in: it was applied once
                s.rollback()
            fresh = s.get(ItemRow, item_id, populate_existing=True)
            log.info("application %s item %s: %s -> %s by %s", app_id, code, old, t.to, p.subject)
            return self._item_out(fresh)

    def supply(self, app_id: str, code: str, p: Principal, entries: list[dict], request_key: str | None = None) -> dict:
        """The applicant supplies what 需补正 asked for — exactly those materials, all at once.
        ``entries``: [{"key", "kind": "upload"|"confirm", "filename"?, "content_type"?, "content"?, "note"?}]."""
        with Session(self.engine) as s:
            row, items, role = self._load(s, app_id, p, payload=False)
            if role not in ("owner", "track"):
                self._deny(p)
            item = next((it for it in items if it.code == code), None)
            if item is None:
                raise NotFound("这份申请里没有这个事项。", "No such item.")
            rkey = f"applicant:{request_key}" if request_key else None
            if rkey and s.scalar(select(AuditRow.id).where(AuditRow.application_id == app_id, AuditRow.request_key == rkey)):
                return self._item_out(item)
            if item.status != "correction":
                raise Conflict(f"这个事项现在是「{STATUS_LABELS.get(item.status, item.status)}」，不需要补正材料。", "Nothing to supply.")
            asked = {m["key"]: m["name"] for m in item.requested or []}
            given = {e["key"] for e in entries}
            extra, missing = sorted(given - set(asked)), [asked[k] for k in asked if k not in given]
            if extra:
                raise InvalidInput("只需要补交部门要求补正的材料，其他材料不用再交。", "Only the requested materials.", {"not_requested": extra})
            if missing:
                raise InvalidInput(f"还差这些材料：{'、'.join(missing)}。请一次补齐后提交。", "Every requested material at once.",
                                   {"missing": missing})
            for e in entries:
                if e["kind"] == "upload" and not e.get("content"):
                    raise InvalidInput(f"「{asked[e['key']]}」的文件是空的。", "Empty file.")
                if e.get("content") and len(e["content"]) > self.settings.upload_max_bytes:
                    raise InvalidInput(f"「{asked[e['key']]}」的文件太大(最多{self.settings.upload_max_bytes // 1_000_000}MB)。", "File too large.")
            at = now()
            version, item_id = item.version, item.id
            statuses = ["accepted" if it.id == item_id else it.status for it in items]
            s.rollback()
            try:
                with s.begin():
                    done = s.execute(update(ItemRow).where(ItemRow.id == item_id, ItemRow.version == version, ItemRow.status == "correction")
                                     .values(status="accepted", requested=[], version=version + 1, updated_at=at)).rowcount
                    if done != 1:
                        raise Conflict("这个事项刚有变化，请刷新后再提交。", "Concurrent change.")
                    for e in entries:
                        content = e.get("content")
                        s.add(SupplementRow(application_id=app_id, item_code=code, material_key=e["key"], material=asked[e["key"]],
                                            kind=e["kind"], filename=(e.get("filename") or "")[:200] or None,
                                            content_type=(e.get("content_type") or "")[:100] or None, size=len(content or b""),
                                            sha256=hashlib.sha256(content).hexdigest() if content else None, content=content,
                                            note=mask_text(e.get("note") or "") or None, created_at=at))
                    s.add(AuditRow(application_id=app_id, item_code=code, actor="applicant", action="supplemented",
                                   from_status="correction", to_status="accepted",
                                   detail={"materials": [{"key": k, "name": asked[k]} for k in asked]}, request_key=rkey, at=at))
                    s.execute(update(ApplicationRow).where(ApplicationRow.id == app_id).values(status=overall(statuses), updated_at=at))
            except IntegrityError:
                s.rollback()
            fresh = s.get(ItemRow, item_id, populate_existing=True)
            return self._item_out(fresh)

    def supplement_file(self, app_id: str, sid: int, p: Principal) -> SupplementRow:
        with Session(self.engine) as s:
            row, items, role = self._load(s, app_id, p, payload=False)
            sup = s.get(SupplementRow, sid)
            if sup is None or sup.application_id != app_id or sup.kind != "upload":
                raise NotFound("没有这份材料。", "No such file.")
            if role == "department" and not any(it.code == sup.item_code and it.department_key == p.department_key for it in items):
                raise NotFound("没有这份材料。", "No such file.")
            s.expunge(sup)
            return sup

    # ------------------------------------------------------------------ department inbox
    def inbox(self, p: Principal, status: str | None = None, limit: int = 200) -> list[dict]:
        if p.kind != "department":
            self._deny(p)
        q = select(ItemRow, ApplicationRow.created_at, ApplicationRow.business, ApplicationRow.address).join(
            ApplicationRow, ApplicationRow.id == ItemRow.application_id).where(
            ItemRow.region == p.region, ItemRow.department_key == p.department_key)
        if status:
            q = q.where(ItemRow.status == status)
        q = q.order_by(ApplicationRow.created_at.desc(), ItemRow.id).limit(limit * 5)
        out: dict[str, dict] = {}
        with Session(self.engine) as s:
            for it, created_at, business, address in s.execute(q):
                entry = out.get(it.application_id)
                if entry is None:
                    if len(out) >= limit:
                        break
                    entry = out[it.application_id] = {"id": it.application_id, "created_at": aware(created_at).isoformat(),
                                                      "business": business or "（名称待定）", "address": address or "", "items": []}
                entry["items"].append(self._item_out(it))
        return list(out.values())
