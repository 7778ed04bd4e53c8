"""Printable documents, rendered with jinja2 (autoescaped) as HTML and — through
WeasyPrint with a CJK font (fonts-wqy-microhei) — as PDF:

* ``application``        the merged application (一表申请书), every value with its source;
* ``receipt``            the receipt (受理回执) with the QR codes;
* ``rongque``            the 容缺 list: materials allowed to follow, with their deadline;
* ``commitment-<code>``  a 告知承诺书 for an item chosen for commitment.

Documents are rendered from a view already shaped for its reader (the applicant's own,
the masked tracking link, a department's part), so a document never shows more than
the reader may see."""
from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from api.exceptions import NotFound
from knowledge_base.forms.acceptance import commitment_letter
from knowledge_base.forms.merge import GROUP_TITLES

STATIC = Path(__file__).resolve().parent.parent / "static" / "office"
NAMES = re.compile(r"^(application|receipt|rongque|commitment-[a-z][a-z0-9_]{1,79})$")


class DocumentService:
    def __init__(self, catalog, settings):
        self.catalog = catalog
        self.settings = settings
        self.env = Environment(loader=FileSystemLoader(str(Path(__file__).parent / "templates")),
                               autoescape=select_autoescape(["html"]))

    def available(self, view: dict) -> list[str]:
        docs = view.get("documents") or {}
        return [k.replace("commitment:", "commitment-") for k in docs]

    def render_html(self, name: str, view: dict, *, track_url: str | None = None, for_pdf: bool = False) -> str:
        if not NAMES.match(name or "") or name not in self.available(view):
            raise NotFound("没有这份文书。", "No such document.")
        css = STATIC.joinpath("doc.css").as_uri() if for_pdf else "/static/office/doc.css"
        ctx = {"app": view, "css": css, "now": datetime.now().strftime("%Y年%m月%d日"), "role": view.get("role")}
        if name == "application":
            return self.env.get_template("application.html").render(**ctx, sections=self._sections(view))
        if name == "receipt":
            from api.applications.views import qr_svg

            public = view.get("public_url")
            ctx["public_qr"] = Markup(qr_svg(public).decode()) if public else None
            ctx["track_qr"] = Markup(qr_svg(track_url).decode()) if track_url else None
            ctx["track_url"] = track_url
            return self.env.get_template("receipt.html").render(**ctx)
        if name == "rongque":
            return self.env.get_template("rongque.html").render(**ctx)
        code = name.removeprefix("commitment-")
        if code not in self.catalog.items:
            raise NotFound("没有这份文书。", "No such document.")
        values = {f["key"]: f["value"] for f in self._fields(view)}
        letter = commitment_letter(self.catalog, code, (view.get("profile") or {}).get("region") or view.get("region"),
                                   applicant=values.get("legal_rep_name") or (view.get("applicant") or {}).get("name"),
                                   business=values.get("applicant_name") or (view.get("business") or {}).get("name"),
                                   address=values.get("site_address") or (view.get("business") or {}).get("address"))
        return self.env.get_template("commitment.html").render(**ctx, letter=letter)

    def render_pdf(self, name: str, view: dict, *, track_url: str | None = None) -> bytes:
        from weasyprint import HTML

        html = self.render_html(name, view, track_url=track_url, for_pdf=True)
        return HTML(string=html, base_url=str(STATIC)).write_pdf()

    @staticmethod
    def _fields(view: dict) -> list[dict]:
        if "form" in view:
            return (view.get("form") or {}).get("fields", [])
        return view.get("fields", [])  # a department's minimised view

    def _sections(self, view: dict) -> list[dict]:
        fields = self._fields(view)
        out = []
        for group, title in GROUP_TITLES.items():
            fs = [f for f in fields if f["group"] == group]
            if fs:
                out.append({"title": title, "fields": fs})
        return out
