"""What the government already knows about an applicant, behind two interfaces:

* :mod:`identity` — the identity provider (统一身份认证): who signed in, with the name,
  身份证号 and phone it has verified;
* :mod:`licences` — the electronic-licence registry (电子证照库): licences a business
  already holds (营业执照 and permits), with their validity.

Each has a local store (YAML under ``data/demo/``) as the default; a deployment names
another implementation by import path in ``Settings.identity_provider`` /
``Settings.licence_registry`` (``"package.module:Class"``, built with the settings).
"""
from __future__ import annotations

import importlib


def load_class(spec: str):
    """``package.module:Class`` → the class."""
    module, _, name = spec.partition(":")
    if not module or not name:
        raise ValueError(f"expected 'package.module:Class', got {spec!r}")
    return getattr(importlib.import_module(module), name)


def make_identity_provider(settings):
    from knowledge_base.registry.identity import LocalIdentityStore

    spec = settings.identity_provider
    if spec in ("", "local"):
        return LocalIdentityStore(settings.demo_dir / "identities.yaml")
    return load_class(spec)(settings)


def make_licence_registry(settings):
    from knowledge_base.registry.licences import LocalLicenceRegistry

    spec = settings.licence_registry
    if spec in ("", "local"):
        return LocalLicenceRegistry(settings.demo_dir / "licences.yaml")
    return load_class(spec)(settings)
