"""Names and numbers as people type them: normalised first, then checked (and masked)."""
from __future__ import annotations

import pytest

from knowledge_base.forms.normalise import Invalid, normalise_id_number, normalise_name, normalise_phone
from knowledge_base.privacy import has_personal, mask_text


@pytest.mark.parametrize("raw", ["13800138000", "１３８００１３８０００", "١٣٨٠٠١٣٨٠٠٠", "۱۳۸۰۰۱۳۸۰۰۰", "+86 138-0013-8000", "138\u200b0013\u200b8000"])
def test_phone_forms_normalise_to_ascii(raw):
    assert normalise_phone(raw) == "13800138000"


@pytest.mark.parametrize("raw", ["12345", "１２３", "138001380001", "电话"])
def test_bad_phones_refused_after_normalising(raw):
    with pytest.raises(Invalid):
        normalise_phone(raw)


@pytest.mark.parametrize("raw", ["\u200b", "\u3164\u3164", "\ufeff\u200d", "\u2800", " \u00a0 "])
def test_invisible_names_refused(raw):
    with pytest.raises(Invalid, match="看不见"):
        normalise_name(raw)


def test_names_cleaned_and_checked():
    assert normalise_name("马\u200b·阿里") == "马·阿里"
    assert normalise_name("Ｌｉ Ｎａ") == "Li Na"
    with pytest.raises(Invalid, match="数字或符号"):
        normalise_name("张三3")
    assert normalise_id_number("４４２０００１９９２０３１５００２ｘ") == "44200019920315002X"


def test_masking_catches_every_digit_script():
    assert mask_text("电话١٣٨٠٠١٣٨٠٠٠") == "电话138****8000"
    assert mask_text("身份证４４２０００１９９２０３１５００２０") == "身份证442000********0020"
    assert has_personal("۱۳۸۰۰۱۳۸۰۰۰") and mask_text("没有号码") == "没有号码"
