"""Pinyin-aware correction of typos and homophones against the names the FAQ knows
(消访 → 消防, 健康正 → 健康证, 营业执找 → 营业执照, 食平经营许可 → 食品经营许可).

Built once per index (``build_tables``, needs ``pypinyin``); at query time only the
stored tables are read (no pypinyin import, a few MB).

A window of the question is replaced by a known word when
- both have the same length and the same toneless, *fuzzy* syllables (z/zh, c/ch,
  s/sh, n/l and -n/-ng are not told apart: callers type by ear and dialect); a
  window's characters are read with their most common reading, the known word in
  context (行 in 特行证 is xing);
- they share all but one character (two for words of six or more);
- the window is neither a known word nor a common Chinese word that sounds the same
  (使用 is not 适用: jieba's dictionary, read at build time, lists the homophones
  that are words of their own);
- a two-character window does not cut a common two-character word at its edge
  (「种子不发芽」 is not 补发: 发芽 is a word; also from jieba's dictionary), and the
  character it would replace is not a particle or pronoun (「卖要不要」 is not 卖药);
- no window holds a question word (怎, 咋, 啥, 吗, 呢, 么: 「登记怎么办」 is not 登记证么办).
Places, names and the callers' plain words (aliases.yaml: plain_words) are protected by the caller.
Longer corrections win; corrections never overlap.
"""
from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from pathlib import Path

from knowledge_base.faq.text import STOP_CHARS

_INITIALS = (("zh", "z"), ("ch", "c"), ("sh", "s"))
# question words: never part of a typo of a name, in a window of any length (STOP_CHARS guard two-character
# windows only: 「营业执找」 corrects a window that holds none of them)
QUESTION_CHARS = frozenset("怎咋啥吗呢么")


def fuzzy(syllable: str) -> str:
    s = re.sub(r"[^a-zü]", "", syllable.lower()).replace("ü", "v")
    for long, short in _INITIALS:
        if s.startswith(long):
            s = short + s[len(long):]
            break
    if s.startswith("l"):
        s = "n" + s[1:]
    if s.endswith("ng") and len(s) > 2:
        s = s[:-1]
    return s


def _is_cjk(ch: str) -> bool:
    return "\u3400" <= ch <= "\u9fff" or "\uf900" <= ch <= "\ufaff"


def char_table() -> dict[str, str]:
    """``{char: "syl"}``: the most common reading, as a fuzzy syllable, of every character
    pypinyin knows (also the intake's homophone table, knowledge_base/intake/pinyin_table.py)."""
    from pypinyin.pinyin_dict import pinyin_dict

    import unicodedata

    chars: dict[str, str] = {}
    for cp, readings in pinyin_dict.items():
        ch = chr(cp)
        if not _is_cjk(ch):
            continue
        first = readings.split(",")[0]
        # ü keeps its dots (旅 lǚ is nv, as the words read it: 旅形社 → 旅行社), the tone marks go
        plain = unicodedata.normalize("NFD", first).replace("u\u0308", "v")
        f = fuzzy("".join(c for c in plain if not unicodedata.combining(c)))
        if f:
            chars[ch] = f
    return chars


def build_tables(words) -> dict:
    """``{"chars": {char: "syl"}, "words": {word: "syl syl ..."}, "common": [...]}`` (fuzzy
    syllables): the most common reading of every character pypinyin knows; each word
    read in context; the common words that sound like one of the words."""
    from pypinyin import Style, lazy_pinyin

    chars = char_table()
    out_words: dict[str, str] = {}
    for w in sorted(set(words)):
        if len(w) < 2 or len(w) > 10 or not all(_is_cjk(c) for c in w):
            continue
        read = lazy_pinyin(w, style=Style.NORMAL, errors="ignore")
        if len(read) != len(w):
            continue
        out_words[w] = " ".join(fuzzy(s) for s in read)
    return {"chars": chars, "words": out_words, "common": _common_homophones(out_words, chars),
            "pairs": _common_pairs()}


def _common_pairs(min_freq: int = 20) -> list[str]:
    """Two-character words of jieba's dictionary (frequency ≥ ``min_freq``): a two-character
    window whose edge makes such a word with the character beside it cuts across words
    (「种子不发芽」: 不发 is not 补发, 发芽 is a word).  At 50 the development sets' questions lost 25
    words to such cuts (灯饰店 read 灯食店, 整咸鱼 整箱鱼, 分装卖 分专卖: tobacco's 专卖, 回执找不到
    回执照); at 20 one real typo is kept as typed (食平), at 5 three."""
    import jieba

    dict_path = Path(jieba.get_dict_file().name) if hasattr(jieba, "get_dict_file") else None
    path = dict_path or Path(jieba.__file__).parent / "dict.txt"
    out = []
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            parts = line.split()
            if len(parts) >= 2 and len(parts[0]) == 2 and parts[1].isdigit() and int(parts[1]) >= min_freq \
                    and all(_is_cjk(c) for c in parts[0]):
                out.append(parts[0])
    return sorted(out)


def _common_homophones(words: dict[str, str], chars: dict[str, str], min_freq: int = 3) -> list[str]:
    """Words of jieba's dictionary (frequency ≥ ``min_freq``) that read like one of
    ``words`` and differ from it: windows that must not be "corrected"."""
    import jieba

    keys = {(len(w), k) for w, k in words.items()}
    by_len: dict[int, set[str]] = {}
    for w in words:
        by_len.setdefault(len(w), set()).update(w)
    out = set()
    dict_path = Path(jieba.get_dict_file().name) if hasattr(jieba, "get_dict_file") else None
    path = dict_path or Path(jieba.__file__).parent / "dict.txt"
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            parts = line.split()
            if len(parts) < 2:
                continue
            w, freq = parts[0], parts[1]
            n = len(w)
            if n not in by_len or w in words or not freq.isdigit() or int(freq) < min_freq:
                continue
            if not any(ch in by_len[n] for ch in w):
                continue
            read = [chars.get(ch) for ch in w]
            if None in read:
                continue
            if (n, " ".join(read)) in keys:
                out.add(w)
    return sorted(out)


@dataclass(frozen=True)
class Correction:
    start: int
    typed: str
    word: str


class PinyinCorrector:
    MAX_COMBOS = 32

    def __init__(self, tables: dict):
        self.chars: dict[str, tuple[str, ...]] = {c: tuple(s.split(",")) for c, s in tables.get("chars", {}).items()}
        self.known = set(tables.get("words", {})) | set(tables.get("common", []))
        self.pairs = frozenset(tables.get("pairs", ()))
        self.by_key: dict[tuple[int, tuple[str, ...]], list[str]] = {}
        for w, key in tables.get("words", {}).items():
            self.by_key.setdefault((len(w), tuple(key.split())), []).append(w)
            # also as its characters read one by one (a window keeps the word's own 行 in
            # 特中行业, read xin there, while the word reads it hang): 特中行业 → 特种行业
            plain = tuple(self.chars[c][0] if c in self.chars else "" for c in w)
            if all(plain) and plain != tuple(key.split()):
                self.by_key.setdefault((len(w), plain), []).append(w)
        self.lengths = sorted({n for n, _ in self.by_key}, reverse=True)

    def _keys(self, window: str):
        options = [self.chars.get(ch) for ch in window]
        if any(o is None for o in options):
            return
        for n, combo in enumerate(itertools.product(*options)):
            if n >= self.MAX_COMBOS:
                return
            yield combo

    @staticmethod
    def _close(window: str, word: str) -> bool:
        diff = sum(a != b for a, b in zip(window, word))
        return 0 < diff <= max(1, len(word) // 3)

    def find(self, text: str, protected: list[bool] | None = None) -> list[Correction]:
        """``protected``: characters no correction may touch (places and names said right)."""
        taken = list(protected) if protected is not None else [False] * len(text)
        found: list[Correction] = []
        for n in self.lengths:
            for i in range(0, len(text) - n + 1):
                window = text[i : i + n]
                if any(taken[i : i + n]):
                    continue
                if window in self.known:  # a word as it is: nothing inside it is a typo
                    for j in range(i, i + n):
                        taken[j] = True
                    continue
                if not all(_is_cjk(c) for c in window):
                    continue
                if any(c in QUESTION_CHARS for c in window):
                    continue  # 「登记怎么变更」 is not 登记证么, 「游泳怎么换气」 not 游泳证
                if n == 2 and (text[max(0, i - 1) : i + 1] in self.pairs or text[i + 1 : i + 3] in self.pairs):
                    continue  # the window cuts a common word: 「不发芽」, 「不办事」, 「要登记」
                best = None
                for key in self._keys(window):
                    for word in self.by_key.get((n, key), ()):
                        if self._close(window, word) and not (n == 2 and any(
                                a != b and a in STOP_CHARS for a, b in zip(window, word))):
                            same = sum(a == b for a, b in zip(window, word))
                            if best is None or same > best[0]:
                                best = (same, word)
                if best is not None:
                    found.append(Correction(i, window, best[1]))
                    for j in range(i, i + n):
                        taken[j] = True
        return sorted(found, key=lambda c: c.start)

    def correct(self, text: str, protected: list[bool] | None = None) -> tuple[str, list[Correction]]:
        fixes = self.find(text, protected)
        if not fixes:
            return text, []
        out, last = [], 0
        for c in fixes:
            out.append(text[last : c.start])
            out.append(c.word)
            last = c.start + len(c.typed)
        out.append(text[last:])
        return "".join(out), fixes
