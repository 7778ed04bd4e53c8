"""Semantic recognition of trades the lexicon does not list (「汽车贴膜店」「开个托管班」):
the phrase is embedded with the same e5 model as the FAQ and compared with every
activity's name and synonyms.  Building (embedding the catalog's words, cached on
disk) is separate from matching (one query vector against the matrix).

The decision is calibrated (``Thresholds``), never guessed: a strong match with a
clear margin is taken; two close matches become a question («您说的是 A 还是 B？»);
anything weaker stays unknown, so an unknown trade is never told 准入即准营.
"""
from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from knowledge_base.catalog.loader import Catalog

log = logging.getLogger("daoban.intake")


@dataclass(frozen=True)
class Thresholds:
    accept: float  # top score at or above: take the activity (if the margin is clear)
    margin: float  # top minus the best other activity: below it, ask which
    ask: float  # top score at or above (but not accepted): ask among the close ones


@dataclass(frozen=True)
class ActivityHit:
    key: str
    score: float
    word: str  # the catalog word that matched best


@dataclass(frozen=True)
class Match:
    phrase: str
    decision: str  # "accept" | "ask" | "unknown"
    hits: tuple[ActivityHit, ...]

    @property
    def keys(self) -> list[str]:
        return [h.key for h in self.hits]


# e5 scores sit in a narrow band (unrelated trades still score ~0.90: 琴行 ~ 酒行 0.93), so
# the bar is high.  Chosen on tests/data/matcher_calibration.yaml (trade words with the
# activity a clerk would pick, or none); the blind describe sets barely reach the matcher
# once the lexicon covers them (benchmarks/bench_describe.py --calibrate, README).
DEFAULT_THRESHOLDS = Thresholds(accept=0.95, margin=0.015, ask=0.94)


# characters that say "a business" rather than which one (店、馆、中心 …): ignored when comparing
GENERIC = set("店馆厂房室部行铺站所社坊场院园吧厅摊档中心机构班点门市公司工作的个小大新家间")


def _covered(phrase: str, word: str) -> bool:
    """Every meaningful character of the phrase is in the catalog word: 「汗蒸房」~「汗蒸馆」 may be
    taken, 「宠物殡葬店」~「宠物店」 may not (殡葬 is what it is about): that one is asked."""
    return all(ch in word for ch in phrase if ch not in GENERIC)


def _catalog_words(catalog: Catalog) -> tuple[list[str], list[str]]:
    words, keys = [], []
    for ind in catalog.industries.values():
        for word in dict.fromkeys([*ind.name.split("/"), *ind.synonyms]):
            if len(word) >= 2:
                words.append(word)
                keys.append(ind.key)
    return words, keys


class ActivityMatcher:
    def __init__(self, embedder, words: list[str], keys: list[str], vectors: np.ndarray,
                 thresholds: Thresholds = DEFAULT_THRESHOLDS, confirm_only: frozenset[str] = frozenset()):
        self.embedder = embedder
        self.words = words
        self.keys = keys
        self.vectors = vectors
        self.thresholds = thresholds
        # activities never taken on a semantic match alone (准入即准营 ones): the applicant is asked
        self.confirm_only = confirm_only

    # -- building ------------------------------------------------------------
    @classmethod
    def build(cls, catalog: Catalog, embedder, cache_dir: Path | None = None,
              thresholds: Thresholds = DEFAULT_THRESHOLDS) -> "ActivityMatcher":
        words, keys = _catalog_words(catalog)
        digest = hashlib.sha256(json.dumps([getattr(embedder, "name", "?"), words, keys], ensure_ascii=False).encode()).hexdigest()[:16]
        path = cache_dir / f"activity_vectors_{digest}.npy" if cache_dir else None
        if path is not None and path.exists():
            vectors = np.load(path)
        else:
            vectors = np.asarray(embedder.encode(words), dtype=np.float32)
            if path is not None:
                path.parent.mkdir(parents=True, exist_ok=True)
                tmp = path.with_suffix(".tmp.npy")
                np.save(tmp, vectors)
                tmp.replace(path)
        log.info("activity matcher: %d words of %d activities", len(words), len(set(keys)))
        none = frozenset(k for k, ind in catalog.industries.items() if ind.coverage == "none")
        return cls(embedder, words, keys, vectors, thresholds, none)

    # -- querying ------------------------------------------------------------
    def scores(self, phrase: str) -> list[ActivityHit]:
        """Best score per activity, best first."""
        q = np.asarray(self.embedder.encode_query(phrase), dtype=np.float32)
        sims = self.vectors @ q
        best: dict[str, ActivityHit] = {}
        for i in np.argsort(-sims)[:60]:
            key = self.keys[i]
            if key not in best:
                best[key] = ActivityHit(key, float(sims[i]), self.words[i])
        return sorted(best.values(), key=lambda h: -h.score)

    def match(self, phrase: str) -> Match:
        hits = self.scores(phrase)
        t = self.thresholds
        if not hits or hits[0].score < t.ask:
            return Match(phrase, "unknown", tuple(hits[:3]))
        top = hits[0]
        second = hits[1].score if len(hits) > 1 else -1.0
        if top.score >= t.accept and top.score - second >= t.margin and top.key not in self.confirm_only \
                and _covered(phrase, top.word):
            return Match(phrase, "accept", (top,))
        close = tuple(h for h in hits[:3] if top.score - h.score < 0.03 and h.score >= t.ask - 0.02)
        return Match(phrase, "ask", close if len(close) > 1 else (top,))
