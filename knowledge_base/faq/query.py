"""Querying a built FAQ index (``build.py`` writes it; nothing here builds).

One search:
1. **understand** the question (``understand.py``): personal numbers out, typos and
   homophones corrected, the permit(s) named, the place, the topic's probabilities,
   refusal cues;
2. **retrieve**: e5 cosine of the question with every indexed wording (FAISS inner
   product; an entry scores its best wording) and BM25 over character n-grams;
3. **rank** every entry by (``method="hybrid"``, the one served)::

       score = dense + alpha·bm25/max(bm25) + tau·P(entry's topic | question)
               + mu·evidence(entry's item named in the question; −1 for one said after 除了)
               + eta·[entry's item pointed at by an activity only (药店, 网吧)]
               + gamma·[general entry and no item named]
               + 0.1·[general entry, a reform term named and no item nor trade]
               - 0.1·[provincial item of another province]

   with the weights fitted on the blind calibration set (``calibrate.py``);
   ``dense`` and ``bm25`` rank by that signal alone (the benchmark's baselines);
4. **gate** ``answered`` (see ``Gate``; README "What decides answered");
5. **compose** each hit's answer: the direct sentence first, regional when a region is
   named or passed, then details, the region's note and the source; a short text.
"""
from __future__ import annotations

import json
import threading
from collections import OrderedDict
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

import numpy as np

from knowledge_base.faq.answers import compose
from knowledge_base.faq.entries import TOPIC_LABELS, TOPICS, FaqEntry
from knowledge_base.faq.text import BM25, bigrams, lex_tokens
from knowledge_base.faq.understand import Understander, Understanding
from knowledge_base.hanzi import simplified

Method = Literal["hybrid", "dense", "bm25"]
PROVINCE_PENALTY = 0.1
ALTERNATIVES_FROM = 30  # the hits after the first are chosen among this many best
# a third hit of another permit this far below the first gives way to the first's permit under the
# next likeliest topic (_next_topic): of the misses at three, 1,153 of 2,240 had the first hit's permit
# right under another topic.  Over every development set and the held-out fresh31 and fresh52 (68,340
# questions) hit@3 0.967 -> 0.972 (about 350 questions; 25 sets higher, 29 the same, 4 lower, fresh30 most:
# 0.974 -> 0.969), hit@1 the same by construction;
# fresh31 0.968 -> 0.975, fresh52 0.964 -> 0.968.  0.04 gave 0.971, 0.10 (simulated) 0.9727 against 0.9731
FAR_BEHIND = 0.06
REGION_ONLY_PENALTY = 0.02
OUT_OF_PLACE = -1e3  # another region's (or province's) own entry: out of the ranking (_fixed)
# the wordings' FAISS index is an HNSW graph (build.write_dense_index): the 128 nearest wordings of a
# question are found among ~1/3 of the vectors, 0.5 ms instead of 1.1 ms after the encoder has
# evicted them from the cache (recall of those 128 against exact search 0.99, of the first ten
# 1.00; development sets' hit@1 the same or better, README: FAQ); this many candidates per search
HNSW_EF_SEARCH = 128
# a question naming a term of the reform (一业一证, 一照通行, 证照联办) and no permit nor trade is
# answered by a general entry: 「一业一证综合许可证多久能拿到」 got 银行开户's time limit, the only
# entry worded 多久能拿到 (dev sets fresh5–fresh12: 11 such questions, each answered with a permit
# nobody named)
REFORM_BONUS = 0.1
# a trade the catalog knows to need no permit named (花店, 五金店, 卖手机), no permit nor a trade that
# points at one, and what it needs asked (topic scope): a general entry answers, and the API adds the
# rules engine's verdict (「开个花店要不要许可证」 got the fireworks permit's scope: its template wording
# 我开店要不要办烟花证 shares 花; development sets: 6 such questions right, 1 lost, fresh31 1 lost)
TRADE_BONUS = 0.1
# the list of every permit asked for (「开奶茶店要办哪些证」「一共几个证」「还要办啥」), only an activity
# pointing at permits and no permit named, topic scope: a general entry answers (which permits, the
# rules engine's bundle), not the scope of the one permit the activity points at.  Callers' labellers
# lean the other way on such questions: of the development sets' scope questions with only an activity,
# those asking for the list are filed 276 under no permit to 51 under the pointed permit, the others
# 204 to 2,015.  Development sets without fresh31 (39,338
# questions): 78 first hits gained, 9 lost; held-out fresh31 hit@1 0.906 -> 0.908, hit@3 0.962 -> 0.963.
# 0.1 at first (TRADE_BONUS's value); 0.2 since fresh42 (「开个宠物医院都需要啥证」 still got the clinic
# permit's scope by 0.02): development sets (44,348 questions) 6 first hits gained, none lost, 2 of them on
# the held-out fresh31 (hit@1 0.913 -> 0.915); 0.3 gave the same six.  Topic scope or general since fresh56
# (「开个宾馆总共要办几个证」 read as general got the hotel permit's general entry): such questions with
# only an activity were filed 27 under no permit, 2 under a permit
LIST_BONUS = 0.2
# the licence said with the permits in general (「法人换了，执照和许可证能一起变更吗」「执照加许可一块办要
# 几天」), no other permit named: the general entries answer (the reform's change, time and fee entries),
# not the licence's own.  Of the development sets' questions so read, 133 were filed under no permit and 9
# under the licence.  Over every development set and the held-out fresh31 and fresh52 (68,340 questions),
# with the list's topic widened to general (above) and 生产许可证's trade (understand.py): 80 first hits
# gained, 7 lost (fresh31 0.917 -> 0.918, fresh52 0.904 -> 0.906); 0.2 gave the same first hits
TOGETHER_BONUS = 0.1
# a term of the reform named (一业一证, 一照通行) and a topic asked other than its own (「行业综合许可证
# 丢了咋补办」「一照通行在哪个窗口」): the general entries of that topic are named too, and the topic
# decides among them (dev sets fresh5–fresh13: 33 such questions answered with the term's
# what-is-it entry); only when the topic classifier is this sure
SPREAD_P = 0.5

DEFAULT_CALIBRATION = {
    "weights": {"alpha": 0.03, "tau": 0.05, "mu": 0.08, "eta": 0.04, "gamma": 0.02},
    "hybrid": {"anchored": 0.9, "activity": 0.93, "free": 0.95, "coverage": 0.5},
    "dense": {"score": 0.9},
    "bm25": {"score": 8.0},
    "calibrated": False,
}


# --------------------------------------------------------------------------- results


@dataclass
class Hit:
    id: str
    question: str
    answer: str
    item_code: str | None
    topic: str
    score: float
    direct: str = ""
    short: str = ""
    dense: float = 0.0
    lexical: float = 0.0
    matched: str = ""  # the indexed wording closest to the question
    sources: list[str] = field(default_factory=list)
    origin: str = "generated"
    inferred: bool = False
    item_name: str | None = None

    @property
    def topic_label(self) -> str:
        return TOPIC_LABELS.get(self.topic, self.topic)

    def public(self) -> dict:
        """The contract's hit (id, question, answer, item_code, topic, score) and additions."""
        return {"id": self.id, "question": self.question, "answer": self.answer, "item_code": self.item_code,
                "topic": self.topic, "score": round(float(self.score), 4), "direct": self.direct,
                "short": self.short, "topic_label": self.topic_label, "item_name": self.item_name,
                "sources": list(self.sources), "matched": self.matched, "origin": self.origin,
                "inferred": self.inferred}


@dataclass
class Clarify:
    items: list[str]
    text: str

    def public(self) -> dict:
        return {"items": list(self.items), "text": self.text}


@dataclass
class SearchResult:
    answered: bool
    hits: list[Hit]
    reason: str  # why answered / not answered (query log, maintainers)
    method: str
    features: dict = field(default_factory=dict)
    understanding: Understanding | None = None
    clarify: Clarify | None = None


@dataclass
class Signals:
    """Everything a ranking reads for one question (computed once; calibration reuses it)."""

    u: Understanding
    dense: np.ndarray  # per entry: best wording's cosine
    best_text: np.ndarray  # per entry: index of that wording (-1: outside the FAISS top-k)
    lex: np.ndarray  # per entry: BM25
    coverage: float  # share of the question's bigrams the base knows


class _Lru:
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


# --------------------------------------------------------------------------- the gate


class Gate:
    """What decides ``answered`` (thresholds fitted by ``calibrate.py`` on the question sets
    written blind, stored in calibration.json).  The confidence is the top hit's best
    wording's cosine plus ``kappa``·P(its topic) (the topic classifier's probability):

    1. a refusal cue (complaint, compensation, exam, job, emergency, abroad, prices …, or
       another government service when no permit is named) → not answered; so is a question
       the scope classifier (``scope.py``) gives P(about a permit) below ``scope.anchored``
       when it names the top hit's subject, below ``scope.other`` otherwise;
    2. the question names the top hit's subject (*anchored*: its permit, or a term of a
       general entry such as 证照分离) → answered when the confidence ≥ ``anchored``;
    3. it names only an activity (药店, 网吧 …) or a general word (消防, 社保) that points at
       the top hit's permit, with a word of setting up or licensing (开, 办, 证, 许可 …:
       ``licensing_words`` of out_of_scope.yaml) → answered when the confidence ≥ ``activity``;
       without one (「网吧上网一小时多少钱」「药店招店员吗」: a customer's or a worker's
       question) it is judged as the next tier;
    4. otherwise → answered when the confidence ≥ ``free`` and ≥ ``coverage`` of the
       question's character bigrams occur somewhere in the base.
    ``dense``/``bm25`` baselines: their own score ≥ ``score``.
    """

    @staticmethod
    def anchored(sig: Signals, entry: FaqEntry) -> bool:
        """The question names the top hit's subject: its permit (not only an activity) or a
        term of a general entry (证照分离, 健康证 …)."""
        if entry.item_code:
            return sig.u.named and sig.u.items.get(entry.item_code, 0.0) >= 0.75
        return entry.id in sig.u.subjects

    @staticmethod
    def tier(sig: Signals, entry: FaqEntry) -> str:
        if Gate.anchored(sig, entry):
            return "anchored"
        if entry.item_code and sig.u.items.get(entry.item_code, 0.0) > 0 and sig.u.licensing:
            return "activity"  # an activity (药店) or only a general word (消防, 登记证) points at it
        return "free"

    @staticmethod
    def decide(method: str, params: dict, sig: Signals, top: int, entry: FaqEntry, score: float,
               threshold: float | None = None) -> tuple[bool, str]:
        if method == "bm25":
            t = params["score"] if threshold is None else threshold
            return (score >= t, f"bm25 {score:.2f} {'≥' if score >= t else '<'} {t:.2f}")
        d = float(sig.dense[top])
        if method == "dense":
            t = params["score"] if threshold is None else threshold
            return (d >= t, f"dense {d:.3f} {'≥' if d >= t else '<'} {t:.3f}")
        if sig.u.refusal:
            return False, f"out of scope ({sig.u.refusal})"
        tier = Gate.tier(sig, entry)
        scope = params.get("scope")
        if scope and sig.u.in_scope is not None:
            t = scope["anchored"] if tier == "anchored" else scope["other"]
            if sig.u.in_scope < t:
                return False, f"out of scope (P(about a permit) {sig.u.in_scope:.2f} < {t:.2f})"
        kappa = params.get("kappa", 0.0)
        if kappa:  # the confidence: dense + kappa·P(the top hit's topic)
            d += kappa * (sig.u.topics.get(entry.topic, 0.0) if sig.u.topics else 0.0)
        if tier != "free":
            t = params.get(tier, params.get("free")) if threshold is None else threshold
            label = "named subject" if tier == "anchored" else "activity named"
            return (d >= t, f"{label}, {'confidence' if kappa else 'dense'} {d:.3f} {'≥' if d >= t else '<'} {t:.3f}")
        t = params["free"] if threshold is None else threshold
        if d < t:
            return False, f"{'confidence' if kappa else 'dense'} {d:.3f} < {t:.3f}"
        if sig.coverage < params["coverage"]:
            return False, f"coverage {sig.coverage:.2f} < {params['coverage']:.2f}"
        return True, f"{'confidence' if kappa else 'dense'} {d:.3f} ≥ {t:.3f}, coverage {sig.coverage:.2f}"


# --------------------------------------------------------------------------- index


class FaqIndex:
    def __init__(self, path: Path, meta: dict, entries: list[FaqEntry], dense, embedder,
                 understander: Understander, calibration: dict | None):
        """``dense``: the build's FAISS index over the indexed wordings (``build.write_dense_index``),
        or None (lexical only)."""
        import faiss

        self.path = path
        self.meta = meta
        self.entries = entries
        self.by_id = {e.id: i for i, e in enumerate(entries)}
        self.texts: list[str] = meta["texts"]
        text_entry = np.asarray(meta["text_entry"], dtype=np.int64)
        # FAISS holds the indexed wordings (build.dedupe); faiss id -> text index
        self.text_ids = np.asarray(meta.get("indexed") or range(len(self.texts)), dtype=np.int64)
        self.text_entry = text_entry[self.text_ids]
        self.dim = int(dense.d) if dense is not None else int(meta.get("dim", 384))
        self.n_vectors = int(dense.ntotal) if dense is not None else 0
        self.embedder = embedder
        self.understander = understander
        self.calibration = json.loads(json.dumps(calibration or DEFAULT_CALIBRATION))
        faiss.omp_set_num_threads(1)  # one short query: OpenMP threads only spin (30 ms vs 1 ms on 2 cores)
        self.faiss = dense if self.n_vectors else None
        if self.faiss is not None:
            self.faiss.hnsw.efSearch = HNSW_EF_SEARCH
        # wordings are stored entry by entry: entry i owns texts [starts[i], starts[i + 1])
        self.starts = np.searchsorted(self.text_entry, np.arange(len(entries) + 1))
        self.bm25 = BM25([[t for txt in e.texts() for t in lex_tokens(txt)] for e in entries])
        known: set[str] = set()
        for txt in self.texts:
            known |= bigrams(txt)
        for e in entries:
            if e.origin != "generated":  # curated answers are written in callers' words
                known |= bigrams(e.answer)
        self.known_bigrams = known
        self.entry_topic = np.array([TOPICS.index(e.topic) for e in entries], dtype=np.int64)
        self.entry_item = [e.item_code for e in entries]
        self.is_general = np.array([e.item_code is None for e in entries])
        conditions = set(meta["lexicon"].get("condition_terms", []))
        self.topic_general: dict[str, list[int]] = {}  # topic -> general entries a reform term reaches
        for i, e in enumerate(entries):
            if e.item_code is None and not (e.terms and set(e.terms) <= conditions):  # not 健康证's
                self.topic_general.setdefault(e.topic, []).append(i)
        provs = meta["lexicon"].get("item_provinces", {})
        self.entry_provinces = [set(provs.get(e.item_code or "", [])) for e in entries]
        # vectorised lookups: item -> its entries, entry -> item number
        self.item_entries: dict[str, np.ndarray] = {}
        for i, c in enumerate(self.entry_item):
            if c:
                self.item_entries.setdefault(c, []).append(i)
        self.item_entries = {c: np.asarray(ix, dtype=np.int64) for c, ix in self.item_entries.items()}
        self._region_fixed: dict[str | None, np.ndarray] = {}
        self.regions = meta.get("regions", {})
        self.items = meta.get("items", {})
        self._redirects = {e["id"]: e["overridden_by"] for e in meta.get("inactive", []) if e.get("overridden_by")}
        self._dense_cache = _Lru(1024)
        # entries named by a subject word of several topics (the reform's 一照通行: what it is, how
        # long, how much …; the lexicon's subject_terms): beside a trade the caller names, only the
        # what-is-it one stays named
        subject = understander.subject_terms
        self.family = np.array([any(t.lower() in subject for t in e.terms) and e.topic != "general"
                                for e in entries])
        self.second = {i: j for i, e in enumerate(entries)  # curated pairs (FaqEntry.second)
                       if e.second and (j := self.by_id.get(self.resolve(e.second))) is not None}

    # ---- persistence

    @classmethod
    def open(cls, build: Path, embedder) -> "FaqIndex":
        """Open one build directory (``embedder=None``: lexical only, no vectors)."""
        from knowledge_base.faq.build import FORMAT_VERSION
        from knowledge_base.faq.pinyin import PinyinCorrector
        from knowledge_base.faq.ngram import NgramClassifier

        build = Path(build)
        meta = json.loads((build / "meta.json").read_text(encoding="utf-8"))
        if meta.get("format") != FORMAT_VERSION:
            raise FileNotFoundError(f"FAQ index {build} has an old format; rebuild it")
        if embedder is not None and meta.get("embedder") != embedder.name:
            raise FileNotFoundError(f"FAQ index {build} was built with {meta.get('embedder')}, not {embedder.name}")
        entries = [FaqEntry.model_validate(e) for e in meta.pop("entries")]
        for key in ("text_keys", "entry_hashes"):  # build-time bookkeeping
            meta.pop(key, None)
        dense = None
        if embedder is not None:
            import faiss

            dense = faiss.read_index(str(build / "dense.faiss"))
        tables = json.loads((build / "pinyin.json").read_text(encoding="utf-8"))
        understander = Understander(meta["lexicon"], PinyinCorrector(tables), NgramClassifier.load(build / "topics.npz"),
                                    NgramClassifier.load(build / "scope.npz"))
        cal_path = build / "calibration.json"
        cal = json.loads(cal_path.read_text(encoding="utf-8")) if cal_path.exists() else None
        simplified("開")  # zhconv's table now, not on the first caller's question
        return cls(build, meta, entries, dense, embedder, understander, cal)

    @classmethod
    def load(cls, index_dir: Path, embedder) -> "FaqIndex":
        from knowledge_base.faq.build import current_build

        build = current_build(index_dir)
        if build is None:
            raise FileNotFoundError(f"no FAQ index built in {index_dir}")
        return cls.open(build, embedder)

    def save_calibration(self, calibration: dict) -> None:
        from knowledge_base.faq.build import atomic_write_text

        self.calibration = calibration
        if self.path is not None:
            atomic_write_text(Path(self.path) / "calibration.json", json.dumps(calibration, indent=2, ensure_ascii=False))

    @property
    def n_entries(self) -> int:
        return len(self.entries)

    def resolve(self, entry_id: str) -> str:
        """The live id answering for ``entry_id`` (follows curated overrides)."""
        seen = set()
        while entry_id in self._redirects and entry_id not in seen:
            seen.add(entry_id)
            entry_id = self._redirects[entry_id]
        return entry_id

    # ---- signals

    def _dense(self, text: str, use_cache: bool, exact_items=()) -> tuple[np.ndarray, np.ndarray]:
        """Per entry the best wording's cosine: FAISS top-k wordings (entries outside get the
        k-th score, a lower bound), exact for the entries of the items named in the question."""
        hit = self._dense_cache.get(text) if use_cache else None
        if hit is None:
            n_e = len(self.entries)
            dense = np.zeros(n_e, dtype=np.float32)
            best = np.full(n_e, -1, dtype=np.int64)
            qv = None
            if self.faiss is not None and self.embedder is not None:
                qv = np.asarray(self.embedder.encode_query(text), dtype=np.float32)
                k = min(128, self.n_vectors)
                sims, ids = self.faiss.search(qv.reshape(1, -1), k)
                sims, ids = sims[0], ids[0]
                dense[:] = sims[-1]
                ents = self.text_entry[ids]
                _, first = np.unique(ents, return_index=True)  # first occurrence = each entry's best
                dense[ents[first]] = sims[first]
                best[ents[first]] = ids[first]  # a FAISS id (texts[text_ids[id]] is the wording)
            hit = (dense, best, qv)
            if use_cache:
                self._dense_cache.put(text, hit)
        dense, best, qv = hit
        if qv is not None and exact_items:
            todo = [int(i) for c in exact_items for i in self.item_entries.get(c, ()) if best[i] < 0]
            if todo:
                dense, best = dense.copy(), best.copy()
                for i in todo:
                    a, b = int(self.starts[i]), int(self.starts[i + 1])
                    sims = self.faiss.reconstruct_n(a, b - a) @ qv
                    j = int(np.argmax(sims))
                    dense[i], best[i] = float(sims[j]), a + j
        return dense, best

    def signals(self, q: str, region: str | None = None, *, method: Method = "hybrid",
                use_cache: bool = True) -> Signals:
        u = self.understander(q, region)
        if method == "hybrid":
            u = self._spread(u)
        text = (u.retrieval or u.question) if method == "hybrid" else u.cleaned
        lex = self.bm25.scores(lex_tokens(text))
        if method == "bm25" or self.embedder is None:
            dense, best = np.zeros(len(self.entries), dtype=np.float32), np.full(len(self.entries), -1)
        else:
            dense, best = self._dense(text, use_cache, exact_items=set(u.items))
        grams = bigrams(text)
        coverage = len(grams & self.known_bigrams) / len(grams) if grams else 0.0
        return Signals(u, dense, best, lex, coverage)

    def _spread(self, u: Understanding) -> Understanding:
        """A reform term named with another topic asked: that topic's general entries are the ones
        named; the term's own entries stay candidates (evidence 0, still the gate's subject).
        Returns the understanding the search goes on with (a copy when it changes)."""
        if u.items or not u.topics or not any(v > 0 for v in u.subjects.values()):
            return u
        topic, p = max(u.topics.items(), key=lambda kv: kv[1])
        if p < SPREAD_P or topic == "general":  # 「容缺受理是什么意思」 asks about the term itself
            return u
        if any(self.entries[self.by_id[e]].topic == topic for e, v in u.subjects.items() if v > 0 and e in self.by_id):
            return u
        reached = self.topic_general.get(topic, ())
        if not reached:
            return u
        # the term's own entry stays a candidate, no longer the one named
        subjects = {eid: (0.0 if v > 0 else v) for eid, v in u.subjects.items()}
        subjects.update({self.entries[i].id: 1.0 for i in reached})
        return replace(u, subjects=subjects)

    # ---- ranking

    def components(self, sig: Signals) -> dict[str, np.ndarray]:
        """The hybrid score's parts per entry (calibration fits their weights)."""
        top = float(sig.lex.max()) if sig.lex.size else 0.0
        n = len(self.entries)
        topic_p = np.array([sig.u.topics.get(t, 0.0) for t in TOPICS], dtype=np.float32)[self.entry_topic] \
            if sig.u.topics else np.zeros(n, dtype=np.float32)
        items, subjects = sig.u.items, sig.u.subjects
        item_ev = np.zeros(n, dtype=np.float32)
        hint_ev = np.zeros(n, dtype=np.float32)
        for code, ev in items.items():
            ix = self.item_entries.get(code)
            if ix is not None:
                if code in sig.u.hinted:
                    hint_ev[ix] = 2 * ev  # 1 / number of items the activity points at
                else:
                    item_ev[ix] = ev
        for code in sig.u.excluded - set(items):  # 「除了营业执照还要别的证么」: not that one
            ix = self.item_entries.get(code)
            if ix is not None:
                item_ev[ix] = -1.0
        for eid in subjects:
            if eid in self.by_id:
                j = self.by_id[eid]
                # 「睢县开药店，证照联办咋申请」: the pharmacy's 流程, not the reform's
                item_ev[j] = 0.0 if sig.u.hinted and self.family[j] else subjects[eid]
        general = (self.is_general & (not items)).astype(np.float32)
        fixed = self._fixed(sig.u.region, sig.u.province)
        if subjects and not items:  # the reform itself named (一业一证, 一照通行), no permit, no trade:
            fixed = fixed + REFORM_BONUS * self.is_general  # a general entry answers, not some permit's
        elif sig.u.trades and not items and sig.u.topic == "scope":  # 要不要办, 要啥证: not its name's rules
            fixed = fixed + TRADE_BONUS * self.is_general
        elif sig.u.asks_all and items and set(items) <= sig.u.hinted and sig.u.topic in ("scope", "general"):
            fixed = fixed + LIST_BONUS * self.is_general  # 开奶茶店要办哪些证: the list, not one permit
        elif sig.u.together and set(items) <= self.understander.background:
            fixed = fixed + TOGETHER_BONUS * self.is_general  # 执照和许可证能一起变更吗: the two together
        return {"dense": sig.dense, "bm25": sig.lex / top if top > 0 else np.zeros(n, dtype=np.float32),
                "topic": topic_p, "item": item_ev, "hint": hint_ev, "general": general, "fixed": fixed}

    def _fixed(self, region: str | None, province: str | None = None) -> np.ndarray:
        """Per-entry penalties for a region (cached): another region's own entries out, items
        of another province down; with no place, region-only entries and one province's items
        slightly down (another province's region-only entries out when a province is named)."""
        key = (region, province)
        fixed = self._region_fixed.get(key)
        if fixed is not None:
            return fixed
        fixed = np.zeros(len(self.entries), dtype=np.float32)
        reg_prov = self.understander.region_province or {}
        prov = reg_prov.get(region) if region else province
        for i, e in enumerate(self.entries):
            if region and e.region and e.region != region:
                fixed[i] = OUT_OF_PLACE
                continue
            if not region and e.region:
                if not prov:
                    fixed[i] -= REGION_ONLY_PENALTY
                elif reg_prov.get(e.region) != prov:
                    fixed[i] = OUT_OF_PLACE
                    continue
            if prov and self.entry_provinces[i] and prov not in self.entry_provinces[i]:
                fixed[i] -= PROVINCE_PENALTY
            elif not prov and self.entry_provinces[i]:
                fixed[i] -= REGION_ONLY_PENALTY  # one province's item, no place said
        self._region_fixed[key] = fixed
        return fixed

    def scores(self, sig: Signals, method: Method, weights: dict | None = None) -> np.ndarray:
        if method == "bm25":
            return sig.lex.copy()
        if method == "dense":
            return sig.dense.copy()
        w = weights or self.calibration.get("weights") or DEFAULT_CALIBRATION["weights"]
        c = self.components(sig)
        return (c["dense"] + w["alpha"] * c["bm25"] + w["tau"] * c["topic"] + w["mu"] * c["item"]
                + w.get("eta", w["mu"] / 2) * c["hint"] + w["gamma"] * c["general"] + c["fixed"])

    # ---- search

    def _hit(self, i: int, score: float, sig: Signals) -> Hit:
        e = self.entries[i]
        answer, direct, short = compose(e, regions=self.regions, items=self.items,
                                        region=sig.u.region, district=sig.u.district)
        bt = int(sig.best_text[i])
        item = self.items.get(e.item_code or "")
        return Hit(id=e.id, question=e.question, answer=answer, item_code=e.item_code, topic=e.topic,
                   score=float(score), direct=direct, short=short, dense=float(sig.dense[i]),
                   lexical=float(sig.lex[i]), matched=self.texts[int(self.text_ids[bt])] if bt >= 0 else "",
                   sources=list(e.sources),
                   origin=e.origin, inferred=e.inferred, item_name=item["name"] if item else None)

    def _clarify(self, sig: Signals, order: list[int], score: np.ndarray) -> tuple[Clarify | None, list[int]]:
        """Items one name fits equally (小作坊登记证 with no place named): the two most likely
        are shown first, in order of how many regions list them, and the caller is asked which."""
        amb = sig.u.ambiguous
        if len(amb) < 2 or not order or self.entry_item[order[0]] not in amb:
            return None, order
        topic = self.entries[order[0]].topic
        picks = []
        for code in amb:  # sorted by the share of regions listing the item
            idx = [int(i) for i in self.item_entries.get(code, ())]
            if not idx:
                continue
            same = [i for i in idx if self.entries[i].topic == topic]
            picks.append(max(same or idx, key=lambda i: score[i]))
            if len(picks) == 2:
                break
        if len(picks) < 2:
            return None, order
        items = [self.entry_item[i] for i in picks]
        text = f"您问的是「{self._label(items[0])}」还是「{self._label(items[1])}」？"
        return Clarify(items, text), [*picks, *[i for i in order if i not in picks]]

    def _alternatives(self, sig: Signals, order: list[int], score: np.ndarray) -> list[int]:
        """The second hit is another topic of the first hit's subject, the third another subject:
        when the first three would be one permit's (or all general), the third is the best entry
        of another permit (「营业执照和食品证一起申请…」: the licence, or the food permit?).  A miss
        at three is a wrong permit far more often than a wrong topic (dev sets fresh5–fresh13: 120
        of 134); hit@3 over twelve sets 0.973 → 0.983, hit@1 the same.  An entry the labellers
        split with another (curated ``second``) brings it second: development hit@3 over 15,073
        questions 0.9807 → 0.9814, hit@1 the same, no set lower."""
        order = self._same_subject(sig, order, score)
        if len(order) > 3 and len({self.entry_item[i] for i in order[:3]}) == 1:
            first = self.entry_item[order[0]]
            other = next((i for i in order[3:] if self.entry_item[i] != first), None)
            if other is not None:
                order = [order[0], order[1], other, *[i for i in order[2:] if i != other]]
        pair = self.second.get(order[0])
        if pair is not None and pair not in order[1:3]:
            order = [order[0], pair, *[i for i in order[1:] if i != pair]]
        return self._next_topic(sig, order, score)

    def _next_topic(self, sig: Signals, order: list[int], score: np.ndarray) -> list[int]:
        """A third hit of another permit far behind the first (by more than ``FAR_BEHIND``) gives
        way to the first hit's permit under the likeliest topic not shown yet: the caller most
        likely meant that permit and another of its questions (「开美容院要办卫生许可证吗」: whether,
        or how?), rather than a permit the ranking itself puts well below."""
        if len(order) < 3 or not sig.u.topics:
            return order
        first = order[0]
        code = self.entry_item[first]
        if not code or self.entry_item[order[2]] == code or score[first] - score[order[2]] <= FAR_BEHIND:
            return order
        shown = {self.entries[i].topic for i in order[:3] if self.entry_item[i] == code}
        ix = self.item_entries[code]
        for topic in sorted(sig.u.topics, key=sig.u.topics.get, reverse=True):
            if topic in shown:
                continue
            cand = ix[(self.entry_topic[ix] == TOPICS.index(topic)) & (score[ix] > OUT_OF_PLACE / 2)]  # not another place's
            if len(cand):
                j = int(cand[np.argmax(score[cand])])
                return [order[0], order[1], j, *[i for i in order[2:] if i != j]]
        return order

    def _same_subject(self, sig: Signals, order: list[int], score: np.ndarray) -> list[int]:
        """When the question names (or an activity points at) the first hit's permit, the next
        two hits are that permit's other topics (「要不要」 or 「要什么条件」? the caller meant
        one of them), then the rest by score; when it names none and a general entry comes
        first, the next two are general entries of two other topics (hit@3 on fifteen development
        sets the same or up to +0.003; fresh14, as it was blind, 0.942 → 0.944)."""
        top = self.entry_item[order[0]]
        if not top and not sig.u.items:
            # a question about the reform itself (no permit named, a general entry first): the
            # next two are general entries too, not one permit's 告知承诺 or 流程, each of a topic
            # not shown yet (「证照联办的材料是不是合并成一套了」: what it is, or its materials?)
            general = sorted((int(i) for i in np.flatnonzero(self.is_general) if int(i) != order[0]),
                             key=lambda i: -score[i])
            same = self._other_topics(order[0], general)
        elif top and top in sig.u.items:
            same = self._other_topics(order[0], (i for i in order[1:] if self.entry_item[i] == top))
        else:
            return order
        return [order[0], *same, *[i for i in order[1:] if i not in same]]

    def _other_topics(self, first: int, candidates) -> list[int]:
        """The first two of ``candidates`` (best first) whose topics differ from ``first``'s and
        from each other (two entries of one topic answer the same question)."""
        same, topics = [], {self.entries[first].topic}
        for i in candidates:
            if self.entries[i].topic not in topics:
                same.append(i)
                topics.add(self.entries[i].topic)
                if len(same) == 2:
                    break
        return same

    def _label(self, code: str) -> str:
        return (self.items.get(code) or {}).get("name", code)

    def search(self, q: str, k: int = 5, *, method: Method = "hybrid", region: str | None = None,
               threshold: float | None = None, use_cache: bool = True) -> SearchResult:
        if not (q or "").strip() or not self.entries:
            return SearchResult(False, [], "empty", method)
        sig = self.signals(q, region, method=method, use_cache=use_cache)
        if not sig.u.question:
            return SearchResult(False, [], "empty", method, understanding=sig.u)
        score = self.scores(sig, method)
        k = max(1, min(int(k), len(self.entries)))
        clarify = None
        if method == "hybrid":
            order = [int(i) for i in np.argsort(-score, kind="stable")[: max(k, ALTERNATIVES_FROM)]]
            clarify, order = self._clarify(sig, order, score)
            if clarify is None:
                order = self._alternatives(sig, order, score)
            order = order[:k]
        else:
            order = [int(i) for i in np.argsort(-score, kind="stable")[:k]]
        top = order[0]
        params = self.calibration.get(method) or DEFAULT_CALIBRATION[method]
        answered, reason = Gate.decide(method, params, sig, top, self.entries[top], float(score[top]), threshold)
        hits = [self._hit(i, score[i], sig) for i in order]
        feats = {"score": float(score[top]), "dense": float(sig.dense[top]), "lexical": float(sig.lex[top]),
                 "coverage": sig.coverage, "topic_p": sig.u.topics.get(self.entries[top].topic, 0.0) if sig.u.topics else 0.0,
                 "item_evidence": sig.u.items.get(self.entries[top].item_code or "", 0.0)}
        return SearchResult(answered, hits, reason, method, feats, sig.u, clarify)
