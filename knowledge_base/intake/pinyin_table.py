"""The reading of every Chinese character, for the intake's homophone matching (「受药店」 is
兽药店), as fuzzy toneless syllables (knowledge_base/faq/pinyin.py ``fuzzy``).

Built once at set-up into the cache folder (``python -m knowledge_base.intake.pinyin_table``,
run by scripts/prepare.sh): the API then reads a small JSON table instead of importing
pypinyin (~56 MB in the process).  Without the file (tests, a fresh checkout) the table is
built in process."""
from __future__ import annotations

import json
import sys
from functools import lru_cache
from pathlib import Path

FILE = "intake_pinyin_chars.v2.json"  # v2: ü read as v (faq/pinyin.char_table); a new name, so set-up builds it again


def _path() -> Path:
    from knowledge_base.settings import get_settings

    return get_settings().cache_dir / FILE


def build() -> dict[str, str]:
    from knowledge_base.faq.pinyin import char_table

    return char_table()


@lru_cache(maxsize=1)
def chars() -> dict[str, str]:
    path = _path()
    if path.exists():
        return json.loads(path.read_text(encoding="utf-8"))
    return build()


def read(text: str) -> list[str]:
    """One fuzzy syllable per character; a character without a reading stands for itself."""
    table = chars()
    return [table.get(ch, ch) for ch in text]


def main() -> int:
    path = _path()
    if path.exists() and "--force" not in sys.argv:
        return 0
    path.parent.mkdir(parents=True, exist_ok=True)
    table = build()
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(table, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")
    tmp.replace(path)
    print(f"pinyin table: {len(table)} characters -> {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
