"""The FAQ search index: every wording of every active entry is one vector in a
FAISS inner-product index (max-pooled per entry), plus a jieba BM25 index over
the entries, plus the calibration that decides ``answered``.

On disk (``settings.index_dir``)::

    CURRENT                 name of the live build (replaced atomically)
    builds/<stamp>/         meta.json, vectors.npy, faiss.index, calibration.json

A build reuses the vectors of unchanged wordings from the live build (content
hash per text and per entry), so editing one entry re-embeds only its wordings.
"""
from __future__ import annotations

import hashlib
import json
import math
import os
import re
import shutil
import tempfile
import threading
import time
from collections import Counter, OrderedDict
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Iterable, Literal

import numpy as np

from knowledge_base.faq.entries import FaqEntry, name_variants

Method = Literal["hybrid", "dense", "bm25"]
FORMAT_VERSION = 2
_STOP = set(
    "的 了 吗 呢 啊 吧 呀 嘛 么 我 我们 你 您 他 她 它 请问 请 问下 问一下 一下 这个 那个 这 那 在 是 有 就 都 也 和 与 及 或 还 还是"
    " 想 想要 打算 准备 一个 个 可以 能 会 吧 哦 呗 啦 咋 给 把 被 让 对 上 下 里 中 等 之 其".split()
)
_PUNCT = re.compile(r"[\s\W_]+", re.UNICODE)


# --------------------------------------------------------------------------- tokenizer

_jieba_lock = threading.Lock()
_jieba_words: set[str] = set()


def _jieba():
    import logging

    import jieba

    jieba.setLogLevel(logging.WARNING)
    return jieba


def add_words(words: Iterable[str]) -> None:
    jb = _jieba()
    with _jieba_lock:
        for w in words:
            w = w.strip()
            if 2 <= len(w) <= 12 and w not in _jieba_words and not re.search(r"[\s（）()]", w):
                jb.add_word(w, freq=20000)
                _jieba_words.add(w)


_NOUN_FLAGS = ("n", "nr", "ns", "nt", "nz", "nl", "ng", "j", "vn", "x", "eng")


def content_nouns(text: str) -> list[str]:
    """Noun-like words of a question (what it is about: 护照, 身份证, 烟草证 ...)."""
    import jieba.posseg as pseg

    _jieba()
    out = []
    for w in pseg.lcut(text.lower()):
        word = w.word.strip()
        if len(word) < 2 and w.flag != "n" or not word or _PUNCT.fullmatch(word) or word in _STOP:
            continue
        if w.flag.startswith(_NOUN_FLAGS) or w.flag in _NOUN_FLAGS:
            out.append(word)
    return out


def tokenize(text: str) -> list[str]:
    jb = _jieba()
    out = []
    for tok in jb.lcut_for_search(text.lower()):
        tok = tok.strip()
        if not tok or _PUNCT.fullmatch(tok) or tok in _STOP:
            continue
        out.append(tok)
    return out


_CUES: list[tuple[str, str]] | None = None


def _topic_cues() -> list[tuple[str, str]]:
    global _CUES
    if _CUES is None:
        import yaml

        from knowledge_base.faq.entries import TEMPLATES_DIR

        raw = yaml.safe_load((TEMPLATES_DIR / "topic_cues.yaml").read_text(encoding="utf-8")) or {}
        _CUES = sorted(((c, t) for t, cues in raw.items() for c in cues), key=lambda x: -len(x[0]))
    return _CUES


def topic_prior(q: str) -> dict[str, float]:
    """Which topics the wording of a question points at (longest cue wins a span)."""
    taken = [False] * len(q)
    counts: Counter = Counter()
    for cue, topic in _topic_cues():
        start = q.find(cue)
        while start >= 0:
            end = start + len(cue)
            if not any(taken[start:end]):
                for i in range(start, end):
                    taken[i] = True
                counts[topic] += 1
            start = q.find(cue, end)
    total = sum(counts.values())
    return {t: n / total for t, n in counts.items()} if total else {}


class BM25:
    """Okapi BM25 with postings (fast enough for every query on every entry)."""

    def __init__(self, docs: list[list[str]], k1: float = 1.2, b: float = 0.75):
        self.n = len(docs)
        lens = np.array([len(d) for d in docs], dtype=np.float32)
        avg = float(lens.mean()) if self.n else 1.0
        df: Counter = Counter()
        for d in docs:
            df.update(set(d))
        self.idf = {t: math.log(1 + (self.n - f + 0.5) / (f + 0.5)) for t, f in df.items()}
        self.max_idf = math.log(1 + (self.n + 0.5) / 0.5) if self.n else 1.0
        post: dict[str, tuple[list[int], list[float]]] = {}
        for i, d in enumerate(docs):
            norm = k1 * (1 - b + b * lens[i] / avg)
            for t, tf in Counter(d).items():
                w = self.idf[t] * tf * (k1 + 1) / (tf + norm)
                ids, ws = post.setdefault(t, ([], []))
                ids.append(i)
                ws.append(w)
        self.postings = {t: (np.array(i, dtype=np.int32), np.array(w, dtype=np.float32)) for t, (i, w) in post.items()}

    def scores(self, tokens: list[str]) -> np.ndarray:
        s = np.zeros(self.n, dtype=np.float32)
        for t in set(tokens):
            p = self.postings.get(t)
            if p is not None:
                s[p[0]] += p[1]
        return s

    def coverage(self, tokens: list[str]) -> float:
        """idf-weighted share of the question's words the base knows at all."""
        toks = set(tokens)
        if not toks:
            return 0.0
        known = sum(self.idf[t] for t in toks if t in self.idf)
        total = known + sum(self.max_idf for t in toks if t not in self.idf)
        return known / total if total else 0.0


# --------------------------------------------------------------------------- results


@dataclass
class Hit:
    id: str
    question: str
    answer: str
    item_code: str | None
    topic: str
    score: float
    dense: float = 0.0
    lexical: float = 0.0
    matched: str = ""  # the indexed wording closest to the question
    sources: list[str] = field(default_factory=list)
    origin: str = "generated"

    def public(self) -> dict:
        return {"id": self.id, "question": self.question, "answer": self.answer, "item_code": self.item_code,
                "topic": self.topic, "score": round(float(self.score), 4)}


@dataclass
class SearchResult:
    answered: bool
    hits: list[Hit]
    reason: str  # why answered / not answered (for the query log)
    method: str
    features: dict = field(default_factory=dict)


DEFAULT_CALIBRATION = {
    "alpha": 0.05,  # weight of the normalized BM25 score in the hybrid score
    "beta": 0.01,  # weight of the topic-cue prior (topic_cues.yaml) in the hybrid score
    "hybrid": {"score": 0.9, "coverage": 0.5, "margin": 0.0},
    "dense": {"score": 0.9, "coverage": 0.5, "margin": 0.0},
    "bm25": {"score": 5.0, "coverage": 0.0, "margin": 0.0},
    "calibrated": False,
}


# --------------------------------------------------------------------------- index


class _Lru:
    """A small thread-safe least-recently-used map."""

    def __init__(self, size: int):
        self.size = size
        self._data: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key):
        with self._lock:
            value = self._data.get(key)
            if value is not None:
                self._data.move_to_end(key)
            return value

    def put(self, key, value) -> None:
        with self._lock:
            self._data[key] = value
            self._data.move_to_end(key)
            while len(self._data) > self.size:
                self._data.popitem(last=False)


class FaqIndex:
    def __init__(self, entries: list[FaqEntry], texts: list[str], text_entry: np.ndarray, vectors: np.ndarray,
                 embedder, calibration: dict | None = None, path: Path | None = None, meta: dict | None = None):
        import faiss

        self.entries = entries
        self.by_id = {e.id: i for i, e in enumerate(entries)}
        self.texts = texts
        self.text_entry = text_entry.astype(np.int64)
        self.vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        self.embedder = embedder
        self.path = path
        self.meta = meta or {}
        self.calibration = json.loads(json.dumps(calibration or DEFAULT_CALIBRATION))
        self.faiss = faiss.IndexFlatIP(self.vectors.shape[1])
        if len(self.vectors):
            self.faiss.add(self.vectors)
        add_words(self._lexicon())
        self.bm25 = BM25([self._doc_tokens(e) for e in entries])
        # everything the base talks about: wordings, answers, item names, activity synonyms
        vocab = set(self.bm25.idf)
        for e in entries:  # curated answers are written in applicants' words; generated ones cite laws
            if e.origin != "generated":
                vocab.update(tokenize(e.answer))
        for w in self._lexicon():
            vocab.add(w.lower())
            vocab.update(tokenize(w))
        self.vocab = vocab
        from knowledge_base.faq.entries import TOPICS

        self._topics = list(TOPICS)
        self.entry_topic = np.array([self._topics.index(e.topic) if e.topic in self._topics else 0
                                     for e in entries], dtype=np.int64)
        self._dense_cache = _Lru(512)

    # ---- lexical side

    def _lexicon(self) -> list[str]:
        out: list[str] = [n for names in self.meta.get("names", {}).values() for n in names]
        out.extend(self.meta.get("lexicon", []))
        return out

    def resolve(self, entry_id: str) -> str:
        """The live id answering for ``entry_id`` (follows curated overrides)."""
        if not hasattr(self, "_redirects"):
            self._redirects = {e["id"]: e["overridden_by"] for e in self.meta.get("all_entries", [])
                               if e.get("overridden_by")}
        seen = set()
        while entry_id in self._redirects and entry_id not in seen:
            seen.add(entry_id)
            entry_id = self._redirects[entry_id]
        return entry_id

    def _provinces(self, q: str, region: str | None) -> set[str]:
        """Provinces the question is about: the region parameter, or places it names."""
        places = self.meta.get("places", {})
        if region and region in places:
            return {places[region]["province"]}
        found = set()
        for info in places.values():
            if info["province"] in q or any(n in q for n in info["names"] if len(n) >= 2):
                found.add(info["province"])
        return found

    def noun_coverage(self, q: str) -> float:
        """Share (idf-weighted) of the question's nouns the base knows; 1.0 without nouns.
        Unknown subjects (护照, 驾照, 社保卡) are what out-of-scope questions have."""
        nouns = content_nouns(q)
        if not nouns:
            return 1.0
        known = total = 0.0
        for w in nouns:
            weight = self.bm25.idf.get(w, self.bm25.max_idf)
            ok = w in self.vocab or all(t in self.vocab for t in (tokenize(w) or [w]))
            total += weight
            known += weight if ok else 0.0
        return known / total if total else 1.0

    @staticmethod
    def _doc_tokens(e: FaqEntry) -> list[str]:
        toks: list[str] = []
        for t in e.texts():
            toks.extend(tokenize(t))
        return toks

    # ---- search

    def _dense_for(self, q: str, use_cache: bool) -> tuple[np.ndarray, np.ndarray]:
        """Dense scores of a query, memoised: the index is immutable, so a repeated
        query (calibration grids, popular questions) skips the encoder and FAISS."""
        hit = self._dense_cache.get(q) if use_cache else None
        if hit is not None:
            return hit
        result = self._dense_scores(np.asarray(self.embedder.encode_query(q), dtype=np.float32))
        if use_cache:
            self._dense_cache.put(q, result)
        return result

    def _dense_scores(self, qv: np.ndarray, k: int = 256) -> tuple[np.ndarray, np.ndarray]:
        """Per entry: max cosine over its wordings among the FAISS top-k (entries
        outside the top-k get the k-th score, a lower bound), and the best wording."""
        n_e = len(self.entries)
        dense = np.zeros(n_e, dtype=np.float32)
        best_text = np.full(n_e, -1, dtype=np.int64)
        if not len(self.vectors):
            return dense, best_text
        k = min(k, len(self.vectors))
        sims, ids = self.faiss.search(qv.reshape(1, -1), k)
        sims, ids = sims[0], ids[0]
        dense[:] = sims[-1]
        ents = self.text_entry[ids]
        # first occurrence of each entry in descending order is its max
        _, first = np.unique(ents, return_index=True)
        dense[ents[first]] = sims[first]
        best_text[ents[first]] = ids[first]
        return dense, best_text

    def search(self, q: str, k: int = 5, *, method: Method = "hybrid", region: str | None = None,
               threshold: float | None = None, use_cache: bool = True) -> SearchResult:
        q = re.sub(r"\s+", " ", (q or "").strip())
        if not q or not self.entries:
            return SearchResult(False, [], "empty", method)
        cal = self.calibration
        params = dict(cal.get(method) or DEFAULT_CALIBRATION[method])
        if threshold is not None:
            params["score"] = float(threshold)
        toks = tokenize(q)
        lex = self.bm25.scores(toks)
        coverage = self.noun_coverage(q)
        if method == "bm25":
            score = lex.copy()
            dense = np.zeros_like(lex)
            best_text = np.full(len(self.entries), -1)
        else:
            dense, best_text = self._dense_for(q, use_cache)
            if method == "hybrid":
                top = float(lex.max()) if lex.size else 0.0
                rel = lex / top if top > 0 else np.zeros_like(lex)
                score = dense + float(cal.get("alpha", 0.05)) * rel
                beta = float(cal.get("beta", 0.0))
                if beta:
                    prior = topic_prior(q)
                    if prior:
                        pv = np.array([prior.get(t, 0.0) for t in self._topics], dtype=np.float32)
                        score = score + beta * pv[self.entry_topic]
            else:
                score = dense.copy()
        provinces = self._provinces(q, region)
        if region or provinces:
            item_prov = self.meta.get("item_provinces", {})
            gamma = float(cal.get("gamma", 0.05))
            for i, e in enumerate(self.entries):
                if region and e.region and e.region != region:
                    score[i] = -1e9
                    continue
                ip = item_prov.get(e.item_code or "")
                if provinces and ip and not set(ip) & provinces:
                    score[i] -= gamma  # an item of another province
        k = max(1, min(int(k), len(self.entries)))
        order = np.argsort(-score, kind="stable")[:k]
        hits = []
        for i in order:
            e = self.entries[int(i)]
            bt = int(best_text[i]) if best_text[i] >= 0 else -1
            hits.append(Hit(
                id=e.id, question=e.question, answer=e.answer, item_code=e.item_code, topic=e.topic,
                score=float(score[i]), dense=float(dense[i]), lexical=float(lex[i]),
                matched=self.texts[bt] if bt >= 0 else "", sources=list(e.sources), origin=e.origin,
            ))
        top_score = hits[0].score
        top_dense = hits[0].dense if method != "bm25" else top_score
        margin = top_score - hits[1].score if len(hits) > 1 else top_score
        gate = top_dense if method != "bm25" else top_score
        feats = {"score": top_score, "dense": top_dense, "coverage": coverage, "margin": margin,
                 "lexical": hits[0].lexical}
        if gate < params["score"]:
            return SearchResult(False, hits, f"score {gate:.3f} < {params['score']:.3f}", method, feats)
        if coverage < params.get("coverage", 0.0) and gate < params.get("bypass", 1e9):
            return SearchResult(False, hits, f"coverage {coverage:.2f} < {params['coverage']:.2f}", method, feats)
        if method != "bm25" and hits[0].lexical < params.get("lexical", 0.0):
            return SearchResult(False, hits, f"no word in common ({hits[0].lexical:.2f})", method, feats)
        if margin < params.get("margin", 0.0):
            return SearchResult(False, hits, f"margin {margin:.3f} < {params['margin']:.3f}", method, feats)
        return SearchResult(True, hits, "ok", method, feats)

    # ---- persistence

    @property
    def n_entries(self) -> int:
        return len(self.entries)

    def save_calibration(self, calibration: dict) -> None:
        self.calibration = calibration
        if self.path is not None:
            _atomic_write_text(self.path / "calibration.json", json.dumps(calibration, indent=2, ensure_ascii=False))

    @classmethod
    def load(cls, index_dir: Path, embedder) -> "FaqIndex":
        build = current_build(index_dir)
        if build is None:
            raise FileNotFoundError(f"no FAQ index built in {index_dir}")
        meta = json.loads((build / "meta.json").read_text(encoding="utf-8"))
        if meta.get("format") != FORMAT_VERSION:
            raise FileNotFoundError(f"FAQ index {build} has an old format; rebuild it")
        if embedder is None:  # lexical-only (BM25 baseline): no model, no vectors
            entries = [FaqEntry.model_validate(e) for e in meta["entries"]]
            cal_path = build / "calibration.json"
            cal = json.loads(cal_path.read_text(encoding="utf-8")) if cal_path.exists() else None
            return cls(entries, meta["texts"], np.array(meta["text_entry"], dtype=np.int64),
                       np.zeros((0, int(meta.get("dim", 384))), dtype=np.float32), None, cal, path=build, meta=meta)
        if meta.get("embedder") != embedder.name:
            raise FileNotFoundError(f"FAQ index {build} was built with {meta.get('embedder')}, not {embedder.name}")
        entries = [FaqEntry.model_validate(e) for e in meta["entries"]]
        vectors = np.load(build / "vectors.npy")
        cal_path = build / "calibration.json"
        cal = json.loads(cal_path.read_text(encoding="utf-8")) if cal_path.exists() else None
        return cls(entries, meta["texts"], np.array(meta["text_entry"], dtype=np.int64), vectors, embedder, cal,
                   path=build, meta=meta)


# --------------------------------------------------------------------------- build


def _text_key(embedder_name: str, text: str) -> str:
    return hashlib.sha1(f"{embedder_name}\x00{text}".encode("utf-8")).hexdigest()[:20]


def current_build(index_dir: Path) -> Path | None:
    index_dir = Path(index_dir)
    cur = index_dir / "CURRENT"
    if not cur.exists():
        return None
    build = index_dir / "builds" / cur.read_text().strip()
    return build if (build / "meta.json").exists() else None


def _atomic_write_text(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", dir=path.parent)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


@dataclass
class BuildReport:
    path: str
    entries: int
    generated: int
    curated: int
    overridden: int
    texts: int
    embedded: int
    reused: int
    changed_entries: int
    seconds: float

    def as_dict(self) -> dict:
        return asdict(self)


def build_index(entries: list[FaqEntry], embedder, index_dir: Path, *, catalog=None, progress: bool = True,
                calibration: dict | None = None, keep: int = 3, batch_size: int = 64) -> tuple[FaqIndex, BuildReport]:
    """Embed the wordings of the active entries (reusing unchanged vectors), write a
    new build directory, then switch ``CURRENT`` to it atomically."""
    t0 = time.perf_counter()
    index_dir = Path(index_dir)
    (index_dir / "builds").mkdir(parents=True, exist_ok=True)
    all_entries = list(entries)
    active = [e for e in all_entries if e.active]
    texts: list[str] = []
    text_entry: list[int] = []
    for i, e in enumerate(active):
        for t in e.texts():
            texts.append(t)
            text_entry.append(i)

    # reuse vectors of the live build (same embedder) by text hash
    old_vecs: dict[str, np.ndarray] = {}
    old_hashes: dict[str, str] = {}
    prev = current_build(index_dir)
    prev_cal = None
    if prev is not None:
        try:
            meta = json.loads((prev / "meta.json").read_text(encoding="utf-8"))
            if meta.get("embedder") == embedder.name and meta.get("format") == FORMAT_VERSION:
                vecs = np.load(prev / "vectors.npy")
                for key, row in zip(meta["text_keys"], vecs):
                    old_vecs[key] = row
                old_hashes = meta.get("entry_hashes", {})
                if (prev / "calibration.json").exists():
                    prev_cal = json.loads((prev / "calibration.json").read_text(encoding="utf-8"))
        except Exception:  # noqa: BLE001 - a broken previous build only costs re-embedding
            old_vecs = {}
    keys = [_text_key(embedder.name, t) for t in texts]
    todo = [i for i, k in enumerate(keys) if k not in old_vecs]
    dim = int(getattr(embedder, "dim", 384))
    vectors = np.zeros((len(texts), dim), dtype=np.float32)
    for i, k in enumerate(keys):
        if k in old_vecs:
            vectors[i] = old_vecs[k]
    if todo:
        new = _encode_with_progress(embedder, [texts[i] for i in todo], progress, batch_size)
        vectors[todo] = new
    entry_hashes = {e.id: e.content_hash() for e in all_entries}
    changed = sum(1 for e in active if old_hashes.get(e.id) != entry_hashes[e.id])

    names, lexicon = {}, []
    if catalog is not None:
        for code, item in getattr(catalog, "items", {}).items():
            names[code] = name_variants(item, catalog)
        for ind in (getattr(catalog, "industries", {}) or {}).values():
            lexicon.extend([getattr(ind, "name", "") or "", *(getattr(ind, "synonyms", []) or [])])
        lexicon = sorted({w for part in lexicon for w in re.split(r"[/、，,]", part) if w.strip()})
    places = _places(catalog)
    item_prov = {}
    if catalog is not None:
        provs = sorted({p for v in places.values() for p in [v["province"]]})
        for code, item in getattr(catalog, "items", {}).items():
            text = " ".join([item.name, *item.aliases])
            hit = [p for p in provs if p in text]
            if hit:
                item_prov[code] = hit
    meta = {
        "format": FORMAT_VERSION,
        "embedder": embedder.name,
        "dim": dim,
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "entries": [e.model_dump() for e in active],
        "all_entries": [e.model_dump() for e in all_entries if not e.active],
        "entry_hashes": entry_hashes,
        "texts": texts,
        "text_keys": keys,
        "text_entry": text_entry,
        "names": names,
        "lexicon": lexicon,
        "places": places,
        "item_provinces": item_prov,
    }
    stamp = time.strftime("%Y%m%d-%H%M%S") + f"-{os.getpid()}-{int(time.time_ns() % 1_000_000):06d}"
    tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=index_dir / "builds"))
    try:
        np.save(tmp / "vectors.npy", vectors)
        (tmp / "meta.json").write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
        cal = calibration or prev_cal
        if cal is not None:
            (tmp / "calibration.json").write_text(json.dumps(cal, indent=2, ensure_ascii=False), encoding="utf-8")
        final = index_dir / "builds" / stamp
        os.replace(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    _atomic_write_text(index_dir / "CURRENT", stamp + "\n")
    _prune(index_dir, keep)
    idx = FaqIndex(active, texts, np.array(text_entry), vectors, embedder, cal, path=final, meta=meta)
    report = BuildReport(
        path=str(final), entries=len(active),
        generated=sum(1 for e in active if e.origin == "generated"),
        curated=sum(1 for e in active if e.origin != "generated"),
        overridden=sum(1 for e in all_entries if e.overridden_by),
        texts=len(texts), embedded=len(todo), reused=len(texts) - len(todo), changed_entries=changed,
        seconds=round(time.perf_counter() - t0, 2),
    )
    return idx, report


def _short_place(name: str) -> str:
    return re.sub(r"(回族自治区|壮族自治区|维吾尔自治区|自治区|省|市|县|区)$", "", name)


def _places(catalog) -> dict[str, dict]:
    """region code -> {"province": short province name, "names": place names that point at it}."""
    out = {}
    for code, reg in (getattr(catalog, "regions", {}) or {}).items():
        prov = _short_place(reg.province)
        out[code] = {"province": prov, "names": sorted({reg.name, _short_place(reg.name)})}
    return out


def _encode_with_progress(embedder, texts: list[str], progress: bool, batch_size: int) -> np.ndarray:
    if not progress:
        return embedder.encode(texts, batch_size=batch_size)
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    with Progress(TextColumn("[bold]embedding FAQ wordings"), BarColumn(), MofNCompleteColumn(),
                  TimeRemainingColumn(), transient=False) as bar:
        task = bar.add_task("embed", total=len(texts))
        return embedder.encode(texts, batch_size=batch_size, progress=lambda n: bar.advance(task, n))


def _prune(index_dir: Path, keep: int) -> None:
    builds = sorted(p for p in (index_dir / "builds").iterdir() if p.is_dir() and not p.name.startswith("."))
    live = current_build(index_dir)
    for p in builds[:-keep] if keep > 0 else []:
        if live is not None and p.resolve() == live.resolve():
            continue
        shutil.rmtree(p, ignore_errors=True)
    for p in (index_dir / "builds").glob(".tmp-*"):
        if time.time() - p.stat().st_mtime > 3600:
            shutil.rmtree(p, ignore_errors=True)


# --------------------------------------------------------------------------- evaluation & calibration


def load_eval(path: Path) -> dict[str, dict[str, list]]:
    """``{"calibration": {"in_scope": [(q, id, alt_ids)], "out_of_scope": [q]}, "test": {...}}``.

    ``alt`` lists other entries that answer the question equally well (the same
    permit in another region's catalog when the question names no region)."""
    import yaml

    raw = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    out = {}
    for split in ("calibration", "test"):
        part = raw.get(split) or {}
        ins = [(r["q"], r["id"], tuple(r.get("alt") or ())) for r in part.get("in_scope", [])]
        oos = [r["q"] if isinstance(r, dict) else r for r in part.get("out_of_scope", [])]
        out[split] = {"in_scope": ins, "out_of_scope": oos}
    return out


def evaluate(index: FaqIndex, split: dict, method: Method = "hybrid", *, use_cache: bool = False) -> dict:
    ins = [(q, index.resolve(eid), tuple(index.resolve(a) for a in alts)) for q, eid, alts in split["in_scope"]]
    ins = [row for row in ins if row[1] in index.by_id]
    skipped = len(split["in_scope"]) - len(ins)
    h1 = h3 = ans_ok = ans_any = 0
    lat = []
    for q, eid, alts in ins:
        good = {eid, *alts}
        t = time.perf_counter()
        r = index.search(q, k=3, method=method, use_cache=use_cache)
        lat.append((time.perf_counter() - t) * 1000)
        ids = [h.id for h in r.hits]
        h1 += bool(ids and ids[0] in good)
        h3 += bool(good & set(ids[:3]))
        ans_any += r.answered
        ans_ok += bool(r.answered and ids[0] in good)
    rej = 0
    for q in split["out_of_scope"]:
        t = time.perf_counter()
        r = index.search(q, k=3, method=method, use_cache=use_cache)
        lat.append((time.perf_counter() - t) * 1000)
        rej += not r.answered
    n, m = max(1, len(ins)), max(1, len(split["out_of_scope"]))
    lat_sorted = sorted(lat) or [0.0]
    return {
        "method": method, "n_in_scope": len(ins), "n_skipped": skipped, "n_oos": len(split["out_of_scope"]),
        "hit@1": h1 / n, "hit@3": h3 / n, "answered_correct": ans_ok / n, "answered_rate": ans_any / n,
        "oos_rejection": rej / m,
        "p50_ms": lat_sorted[len(lat_sorted) // 2], "p95_ms": lat_sorted[min(len(lat_sorted) - 1, int(len(lat_sorted) * 0.95))],
    }


def _features(index: FaqIndex, split: dict, method: Method) -> tuple[list, list]:
    """(features, correct) for in-scope and features for OOS, with no gating."""
    saved = index.calibration
    index.calibration = {**saved, method: {"score": -1e9, "coverage": 0.0, "margin": -1e9}}
    try:
        ins = []
        for q, eid, alts in split["in_scope"]:
            eid, alts = index.resolve(eid), tuple(index.resolve(a) for a in alts)
            if eid not in index.by_id:
                continue
            r = index.search(q, k=2, method=method)
            ins.append((r.features, r.hits[0].id in {eid, *alts}))
        oos = [index.search(q, k=2, method=method).features for q in split["out_of_scope"]]
    finally:
        index.calibration = saved
    return ins, oos


def calibrate(index: FaqIndex, split: dict, *, target_rejection: float = 0.95,
              alphas: tuple[float, ...] = (0.0, 0.02, 0.04, 0.06, 0.08, 0.1),
              betas: tuple[float, ...] = (0.0, 0.005, 0.01, 0.015, 0.02, 0.03)) -> dict:
    """Choose the hybrid weight and, per method, the gate (score, coverage, margin)
    on the calibration split: among gates rejecting ≥ ``target_rejection`` of the
    out-of-scope questions, the one answering most in-scope questions correctly
    (ties: higher rejection, then wider safety margin)."""
    cal = json.loads(json.dumps(index.calibration or DEFAULT_CALIBRATION))
    # 1. hybrid weight by hit@1 on the calibration in-scope questions
    best_alpha, best_beta, best_h = cal.get("alpha", 0.05), cal.get("beta", 0.0), -1.0
    for a in alphas:
        for bt in betas:
            index.calibration = {**cal, "alpha": a, "beta": bt}
            ins, _ = _features(index, {"in_scope": split["in_scope"], "out_of_scope": []}, "hybrid")
            h = sum(ok for _, ok in ins) / max(1, len(ins))
            if h > best_h + 1e-9:
                best_alpha, best_beta, best_h = a, bt, h
    cal["alpha"], cal["beta"] = best_alpha, best_beta
    index.calibration = cal
    report = {"alpha": best_alpha, "beta": best_beta, "hybrid_hit@1": best_h}
    for method in ("hybrid", "dense", "bm25"):
        ins, oos = _features(index, split, method)
        gate_key = "dense" if method != "bm25" else "score"
        cand_s = sorted({round(f[gate_key], 4) for f, _ in ins} | {round(f[gate_key], 4) for f in oos})
        cand_c = [0.0, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0] if method != "bm25" else [0.0]
        hi_vals = sorted({round(f[gate_key], 4) for f, _ in ins}) if method != "bm25" else []
        cand_b = [1e9] + hi_vals[-40:]
        d_in = np.array([f[gate_key] for f, _ in ins], dtype=np.float64)
        c_in = np.array([f["coverage"] for f, _ in ins], dtype=np.float64)
        g_in = np.array([bool(good) for _, good in ins])
        d_oo = np.array([f[gate_key] for f in oos], dtype=np.float64)
        c_oo = np.array([f["coverage"] for f in oos], dtype=np.float64)
        S = np.array(cand_s, dtype=np.float64)[:, None]
        l_in = np.array([f["lexical"] for f, _ in ins], dtype=np.float64)
        l_oo = np.array([f["lexical"] for f in oos], dtype=np.float64)
        cand_l = [0.0, 0.5, 1.0, 1.5, 2.0] if method != "bm25" else [0.0]
        best = None
        for c in cand_c:
            for b in (cand_b if c > 0 else [1e9]):
                for lx in cand_l:
                    p_in = (d_in[None, :] >= S) & (((c_in >= c) | (d_in >= b)) & (l_in >= lx))[None, :]
                    p_oo = (d_oo[None, :] >= S) & (((c_oo >= c) | (d_oo >= b)) & (l_oo >= lx))[None, :]
                    oks = (p_in & g_in[None, :]).sum(1)
                    rrs = 1.0 - p_oo.sum(1) / max(1, len(oos))
                    for j, sv in enumerate(cand_s):
                        if sv > b:
                            continue
                        # prefer: meets the rejection target, answers most, rejects most, then the
                        # stricter lexical and noun checks and the higher bypass (robust to unseen subjects)
                        key = (bool(rrs[j] >= target_rejection), int(oks[j]), float(rrs[j]), lx, c, b, -sv)
                        if best is None or key > best[0]:
                            best = (key, sv, c, b, lx, int(oks[j]) / max(1, len(ins)), float(rrs[j]))
        _, s, c, b, lx, okr, rr = best
        # place the score gate halfway to the next lower observed value: a safety margin
        lower = [v for v in cand_s if v < s]
        if lower:
            s = (s + lower[-1]) / 2
        cal[method] = {"score": float(s), "coverage": float(c), "bypass": float(b), "lexical": float(lx), "margin": 0.0}
        report[method] = {"answered_correct": okr, "oos_rejection": rr, **cal[method]}
    cal["calibrated"] = True
    cal["embedder"] = index.embedder.name
    cal["report"] = report
    index.calibration = cal
    return cal
