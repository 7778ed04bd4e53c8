"""Text handling for the FAQ: cleaning a caller's question before anything reads it,
the lexical tokens BM25 uses, and BM25 itself.

- ``clean_question``: personal numbers (居民身份证号, phone numbers) are taken out
  first (``knowledge_base.privacy.strip_personal``: a number says nothing about the
  question and only moves the embedding), then NFKC, lower-case ASCII, one space.
- ``lex_tokens``: character unigrams and bigrams of each run of Chinese characters,
  ASCII words whole.  No word segmenter: BM25 on character n-grams matches Chinese
  as well as on words here, survives typos, and keeps jieba's ~70 MB dictionary out
  of the API process.
"""
from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter

import numpy as np

from knowledge_base.hanzi import simplified
from knowledge_base.privacy import PERSONAL_RE, normalise_digits, strip_personal

_CJK = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_RUNS = re.compile(rf"[{_CJK}]+|[a-z0-9]+")
_SPACES = re.compile(r"\s+")
# the words that announce a personal number (「我身份证号是…」「电话：…」) go with it
_LABEL = re.compile(r"(?:我的?|本人)?(?:身份证号码|身份证号|身份证|证件号码?|手机号码|手机号|手机|电话号码|电话|联系电话|联系方式)"
                    r"(?:是|为|：|:)?\s*$")
# characters that carry no subject: particles, pronouns, question words
STOP_CHARS = set("的了吗呢啊吧呀嘛么哦呗啦嘞哈咧我你您他她它们这那个是在就都也和与及或还想要请问下一")


def _drop_labels(text: str) -> str:
    norm = normalise_digits(text)
    out, last = [], 0
    for m in PERSONAL_RE.finditer(norm):
        head = norm[last : m.start()]
        out.append(_LABEL.sub("", head.rstrip(" ，,")))
        last = m.end()
    out.append(norm[last:])
    return " ".join(p.strip(" ，,") for p in out if p.strip(" ，,"))


def clean_question(text: str) -> str:
    """The question as retrieval sees it (personal numbers and the words announcing
    them out, NFKC, simplified characters, one space)."""
    text = text or ""
    if PERSONAL_RE.search(normalise_digits(text)):
        text = _drop_labels(text)
    text = strip_personal(text)
    text = simplified(unicodedata.normalize("NFKC", text)).lower()
    return _SPACES.sub(" ", text).strip()


def compact(text: str) -> str:
    """Without spaces and punctuation (for substring matching of names)."""
    return "".join(ch for ch in text if ch.isalnum())


def lex_tokens(text: str) -> list[str]:
    """BM25 tokens: Chinese unigrams (not stop characters) and bigrams, ASCII words."""
    out: list[str] = []
    for run in _RUNS.findall(unicodedata.normalize("NFKC", text).lower()):
        if run.isascii():
            out.append(run)
            continue
        out.extend(ch for ch in run if ch not in STOP_CHARS)
        out.extend(run[i : i + 2] for i in range(len(run) - 1))
    return out


def bigrams(text: str) -> set[str]:
    """Chinese bigrams of a text that are not two stop characters."""
    out = set()
    for run in _RUNS.findall(unicodedata.normalize("NFKC", text).lower()):
        if run.isascii():
            out.add(run)
            continue
        for i in range(len(run) - 1):
            bg = run[i : i + 2]
            if not (bg[0] in STOP_CHARS and bg[1] in STOP_CHARS):
                out.add(bg)
    return out


class BM25:
    """Okapi BM25 with postings (every query scores every entry in well under 1 ms)."""

    def __init__(self, docs: list[list[str]], k1: float = 1.2, b: float = 0.75):
        self.n = len(docs)
        lens = np.array([len(d) for d in docs], dtype=np.float32)
        avg = float(lens.mean()) if self.n else 1.0
        df: Counter = Counter()
        for d in docs:
            df.update(set(d))
        self.idf = {t: math.log(1 + (self.n - f + 0.5) / (f + 0.5)) for t, f in df.items()}
        post: dict[str, tuple[list[int], list[float]]] = {}
        for i, d in enumerate(docs):
            norm = k1 * (1 - b + b * lens[i] / max(avg, 1e-9))
            for t, tf in Counter(d).items():
                w = self.idf[t] * tf * (k1 + 1) / (tf + norm)
                ids, ws = post.setdefault(t, ([], []))
                ids.append(i)
                ws.append(w)
        self.postings = {t: (np.array(i, dtype=np.int32), np.array(w, dtype=np.float32))
                         for t, (i, w) in post.items()}

    def scores(self, tokens: list[str]) -> np.ndarray:
        s = np.zeros(self.n, dtype=np.float32)
        for t in set(tokens):
            p = self.postings.get(t)
            if p is not None:
                s[p[0]] += p[1]
        return s
