"""Chinese script handling shared by the FAQ and the intake: traditional characters read
as simplified, so that 「開間茶餐廳」 and 「开间茶餐厅」 are the same words to every
lexicon (the catalog and the aliases are written in simplified characters)."""
from __future__ import annotations

# zhconv's zh-hans table turns Cantonese 嗰 (那) into 𠮶: kept as typed
_KEEP_AFTER_SIMPLIFIED = str.maketrans({"𠮶": "嗰"})


def simplified(text: str) -> str:
    """Traditional characters as simplified (開網吧要什麽證 → 开网吧要什么证); simplified
    text comes back unchanged."""
    import zhconv  # its table (16 ms) loads on first use; FaqIndex.load warms it in the API

    if text.isascii():
        return text
    return zhconv.convert(text, "zh-hans").translate(_KEEP_AFTER_SIMPLIFIED)
