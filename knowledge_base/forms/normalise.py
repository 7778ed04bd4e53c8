"""Names, phone numbers and 身份证号 as people type them, normalised before they are
checked or stored: NFKC (full-width ＡＢＣ１２３ → ABC123), every Unicode decimal digit
to ASCII (Arabic-Indic ١٣٨…, Devanagari … — NFKC leaves those alone), invisible
characters (zero-width spaces and joiners, bidi controls, Hangul fillers, braille
blank) removed.  A name that is empty after that (made only of invisible characters)
is refused."""
from __future__ import annotations

import re
import unicodedata

# letters that render as nothing (category Lo, so a naive "has a letter" check passes them)
INVISIBLE_LETTERS = {"\u115f", "\u1160", "\u3164", "\uffa0", "\u2800", "\u180e"}
NAME_PUNCT = set("·•．.-'’ （）()")


class Invalid(ValueError):
    """A value that cannot be accepted; the message is plain Chinese (/ English)."""


def ascii_digits(text: str) -> str:
    """Every Unicode decimal digit (category Nd) as its ASCII digit."""
    if text.isascii():
        return text
    out = []
    for ch in text:
        if ch.isdigit() and not ch.isascii():
            try:
                out.append(str(unicodedata.decimal(ch)))
                continue
            except ValueError:
                pass
        out.append(ch)
    return "".join(out)


def _invisible(ch: str) -> bool:
    return ch in INVISIBLE_LETTERS or unicodedata.category(ch) in ("Cf", "Cc", "Co", "Cn", "Cs") and ch not in "\t\n\r"


def clean(text: str) -> str:
    """NFKC, ASCII digits, invisible characters dropped, runs of spaces folded."""
    text = ascii_digits(unicodedata.normalize("NFKC", text or ""))
    text = "".join(ch for ch in text if not _invisible(ch))
    return re.sub(r"\s+", " ", text).strip()


def normalise_name(value: str, label: str = "姓名") -> str:
    v = clean(value)
    if not v or not any(unicodedata.category(ch).startswith("L") for ch in v):
        raise Invalid(f"{label}不能为空，也不能只有看不见的字符 / {label} is empty after removing invisible characters")
    bad = [ch for ch in v if not (unicodedata.category(ch)[0] in "LM" or ch in NAME_PUNCT)]
    if bad:
        raise Invalid(f"{label}只能填文字，不能含数字或符号（{''.join(dict.fromkeys(bad))[:5]}）/ {label} may contain letters only")
    return v


MOBILE = re.compile(r"1[3-9]\d{9}")
FIXED = re.compile(r"0\d{2,3}\d{7,8}")


def normalise_phone(value: str) -> str:
    v = clean(value)
    v = re.sub(r"[\s\-–—()（）]", "", v)
    if v.startswith("+86"):
        v = v[3:]
    elif v.startswith("0086"):
        v = v[4:]
    elif v.startswith("86") and len(v) == 13:
        v = v[2:]
    if not (MOBILE.fullmatch(v) or FIXED.fullmatch(v)):
        raise Invalid("联系电话格式不对：请填11位手机号或带区号的固定电话 / invalid phone number")
    return v


def normalise_id_number(value: str) -> str:
    """身份证号 as stored: ASCII digits, upper-case X, no spaces (not validated here)."""
    return re.sub(r"\s", "", clean(value)).upper()
