"""One engine for every channel: describe (free text), resolve (profile), form."""
from __future__ import annotations

from api.catalog.service import check_region
from api.exceptions import InvalidInput
from knowledge_base.catalog.loader import Catalog
from knowledge_base.forms.merge import merge_form
from knowledge_base.intake.describe import Describer
from knowledge_base.intake.lexicon import build_lexicon
from knowledge_base.rules.engine import Engine
from knowledge_base.rules.profile import Profile


class IntakeService:
    def __init__(self, catalog: Catalog):
        self.catalog = catalog
        self.engine = Engine(catalog)
        self.lexicon = build_lexicon(catalog)
        self.describer = Describer(self.lexicon)

    def _check(self, profile: Profile) -> Profile:
        unknown = [a for a in profile.activities if a not in self.catalog.industries]
        if unknown:
            raise InvalidInput(
                f"不认识的经营项目代码：{'、'.join(u[:40] for u in unknown)}。",
                f"Unknown activity keys: {', '.join(u[:40] for u in unknown)}.",
                {"allowed": sorted(self.catalog.industries)},
            )
        return profile

    def describe(self, text: str, region: str | None = None, base: Profile | None = None) -> dict:
        region = check_region(region)
        parsed = self.describer.parse(text, region)
        profile = (base or Profile()).merged(parsed.profile) if base else parsed.profile
        result = self.engine.resolve(self._check(profile))
        result["understood"] = parsed.found
        return result

    def resolve(self, profile: Profile) -> dict:
        return self.engine.resolve(self._check(profile))

    def form(self, profile: Profile, values: dict | None = None, resolved: dict | None = None) -> dict:
        """The merged form for the profile's bundle (``resolved``: a resolve() result the
        caller already has, so the bundle is not computed twice)."""
        profile = self._check(profile)
        bundle = (resolved or self.engine.resolve(profile))["bundle"]
        codes = [it["code"] for it in bundle["startup_steps"]] + [it["code"] for it in bundle["items"]]
        form = merge_form(self.catalog, codes, profile, values)
        form["bundle_final"] = bundle["final"]
        form["profile"] = profile.model_dump()  # so a widget can submit the form with what it was built from
        return form
