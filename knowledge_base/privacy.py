"""Personal numbers (居民身份证号, 手机号/固话, 统一社会信用代码 is not personal) found in
free text or fields: find them, mask them, or take them out.

One place for the rule so that logs, the FAQ query log, API responses for other
readers and the hotline all mask the same way.  Digits are NFKC-normalised first,
so full-width (１３８…) and other Unicode digits are caught as well.
"""
from __future__ import annotations

import re
import unicodedata

# 18-digit resident ID (last may be X), 15-digit old ID; mainland mobiles (optionally +86);
# fixed lines with an area code.  Boundaries: not inside a longer run of digits.
_ID = r"(?<![0-9])(?:[1-9][0-9]{5}(?:18|19|20)[0-9]{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])[0-9]{3}[0-9Xx]|[1-9][0-9]{14})(?![0-9Xx])"
_MOBILE = r"(?<![0-9])(?:\+?86[- ]?)?1[3-9][0-9](?:[- ]?[0-9]{4}){2}(?![0-9])"
_FIXED = r"(?<![0-9])0[1-9][0-9]{1,2}[- ]?[0-9]{7,8}(?![0-9])"
ID_RE = re.compile(_ID)
PHONE_RE = re.compile(f"{_MOBILE}|{_FIXED}")
PERSONAL_RE = re.compile(f"{_ID}|{_MOBILE}|{_FIXED}")


def normalise_digits(text: str) -> str:
    """NFKC (full-width digits and X become ASCII), then every other Unicode decimal digit
    (Arabic-Indic ١٣٨…, Persian ۱۳۸…, Devanagari …, which NFKC leaves alone) as ASCII."""
    text = unicodedata.normalize("NFKC", text)
    if text.isascii():
        return text
    return "".join(str(unicodedata.decimal(ch)) if ch.isdecimal() and not ch.isascii() else ch for ch in text)


def mask_id(value: str | None) -> str | None:
    """110101********1234 style: region code and last four kept."""
    if not value:
        return value
    v = normalise_digits(value)
    return v[:6] + "*" * (len(v) - 10) + v[-4:] if len(v) > 10 else "*" * len(v)


def mask_phone(value: str | None) -> str | None:
    """138****5678 style: first three and last four kept."""
    if not value:
        return value
    digits = re.sub(r"\D", "", normalise_digits(value))
    if len(digits) == 13 and digits.startswith("861"):
        digits = digits[2:]
    if len(digits) < 7:
        return "*" * len(digits)
    return digits[:3] + "*" * (len(digits) - 7) + digits[-4:]


def mask_name(value: str | None) -> str | None:
    """张** style: the family name kept."""
    if not value:
        return value
    return value[0] + "*" * max(1, len(value) - 1)


def _mask_match(m: re.Match) -> str:
    s = m.group(0)
    return mask_id(s) if ID_RE.fullmatch(s) else mask_phone(s)


def mask_text(text: str) -> str:
    """Every ID or phone number in free text masked (for logs and stored questions)."""
    if not text:
        return text
    norm = normalise_digits(text)
    return PERSONAL_RE.sub(_mask_match, norm) if PERSONAL_RE.search(norm) else text


def strip_personal(text: str) -> str:
    """The text with ID and phone numbers removed (before retrieval: a number says
    nothing about the question and only moves the embedding)."""
    if not text:
        return text
    norm = normalise_digits(text)
    if not PERSONAL_RE.search(norm):
        return text
    return re.sub(r"\s{2,}", " ", PERSONAL_RE.sub(" ", norm)).strip()


def has_personal(text: str) -> bool:
    return bool(text) and bool(PERSONAL_RE.search(normalise_digits(text)))
