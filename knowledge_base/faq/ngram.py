"""The FAQ's two text classifiers: character n-grams into logistic regression.

- **Topic** (``topics.npz``): which contract topic (scope, materials, fee …) a question
  asks about, whatever the permit.  Trained at index build on every indexed wording (the
  entry's topic is the label), the cue words of ``templates/topic_cues.yaml`` and the
  callers' questions of ``calibrate.TOPIC_SETS``, with the names of permits and places
  masked (``X`` / ``Y``) so that it learns how a topic is asked, not which permit
  (``build.topic_examples``).  Its accuracy is printed by the benchmark.
- **Scope** (``scope.npz``): whether a question asks about obtaining or keeping a permit
  at all, or about something else (a complaint, a job, one's own certificate, another
  government service) — see ``scope.py``.

Features: character 1–3-grams (sublinear tf-idf, L2); model: logistic regression
(scikit-learn at build time only).  The weights are stored with the index and applied at
query time with numpy: no scikit-learn import when searching.
"""
from __future__ import annotations

import hashlib
import json
import math
import os
import tempfile
import zipfile
from collections import Counter
from pathlib import Path

import numpy as np

from knowledge_base.faq.text import compact

NGRAMS = (1, 2, 3)
CACHE_KEEP = 24  # trained models kept under the cache folder (the newest used)


def features(masked: str) -> Counter:
    """Character n-gram counts of a masked question (punctuation and spaces dropped)."""
    s = compact(masked)
    out: Counter = Counter()
    for n in NGRAMS:
        for i in range(len(s) - n + 1):
            out[s[i : i + n]] += 1
    return out


def _mtime(path: Path) -> float:
    """When a cached model was last used; 0 for one another build removed meanwhile (pruned first, a no-op)."""
    try:
        return path.stat().st_mtime
    except FileNotFoundError:
        return 0.0


class NgramClassifier:
    def __init__(self, labels: list[str], vocab: dict[str, int], idf: np.ndarray, coef: np.ndarray,
                 intercept: np.ndarray):
        self.labels = list(labels)
        # the vocabulary as a sorted array of n-grams and their columns, not a dict: two classifiers'
        # 160,000 n-grams held as Python strings and dict slots took 60 MB of the API process
        grams = sorted(vocab)
        self.grams = np.asarray(grams, dtype=f"<U{max(map(len, grams), default=1)}")
        self.columns = np.asarray([vocab[g] for g in grams], dtype=np.int64)
        self.idf = idf.astype(np.float32)
        self.coef = np.ascontiguousarray(coef.T, dtype=np.float32)  # (n_features, n_labels)
        self.intercept = intercept.astype(np.float32)

    # ---- query time

    @property
    def vocab(self) -> dict[str, int]:
        """n-gram -> column (built on demand: saving, tests)."""
        return dict(zip(self.grams.tolist(), self.columns.tolist()))

    def _vector(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        counts = features(text)
        if not counts or not len(self.grams):
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        keys = np.asarray(list(counts), dtype=str)
        pos = np.minimum(np.searchsorted(self.grams, keys), len(self.grams) - 1)
        known = self.grams[pos] == keys
        if not known.any():
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        cols = self.columns[pos[known]]
        tf = np.fromiter(counts.values(), dtype=np.float64, count=len(counts))[known]
        v = ((1.0 + np.log(tf)) * self.idf[cols]).astype(np.float32)
        return cols, v / float(np.linalg.norm(v))

    def proba(self, text: str) -> dict[str, float]:
        cols, vals = self._vector(text)
        logits = self.intercept + (vals @ self.coef[cols] if len(cols) else 0.0)
        logits = logits - logits.max()
        p = np.exp(logits)
        p /= p.sum()
        return {t: float(x) for t, x in zip(self.labels, p)}

    # ---- persistence

    def save(self, path: Path) -> None:
        np.savez_compressed(path, idf=self.idf, coef=self.coef.T, intercept=self.intercept,
                            grams=self.grams, columns=self.columns,
                            meta=np.frombuffer(json.dumps({"labels": self.labels}, ensure_ascii=False).encode("utf-8"),
                                               dtype=np.uint8))

    @classmethod
    def load(cls, path: Path) -> "NgramClassifier":
        z = np.load(path)
        meta = json.loads(bytes(z["meta"]).decode("utf-8"))
        if "grams" not in z.files:  # a build from before the arrays: the vocabulary as JSON
            return cls(meta["labels"], meta["vocab"], z["idf"], z["coef"], z["intercept"])
        model = cls(meta["labels"], {}, z["idf"], z["coef"], z["intercept"])
        model.grams, model.columns = z["grams"], z["columns"].astype(np.int64)
        return model

    # ---- build time

    @classmethod
    def train(cls, examples: list[tuple[str, str]], labels: list[str], *, c: float = 4.0,
              min_df: int = 1, tol: float = 1e-4, cache_dir: Path | None = None,
              warm: "NgramClassifier | None" = None) -> "NgramClassifier":
        """``examples``: (text, label).  Balanced class weights (generated wordings outnumber
        the few ``general`` ones; in-scope questions outnumber the out-of-scope ones).  ``tol``: the
        solver's tolerance (sklearn's own by default).

        ``cache_dir``: a model trained before on the same examples, labels and settings is read
        from there instead of fitted again (the topic classifier's 197,000 examples take about 45 s;
        every index build fits it, the tests' builds too); a new fit is stored there.

        ``warm``: a model fitted on nearly the same examples (the live build's, before a maintainer's
        edit added or retired a few wordings): the solver starts from its weights, not from zero.  It
        ends at the same optimum, within the tolerance, in a fraction of the time.  Such a fit is not
        stored in the cache: a model read from there is always one fitted from zero, so a build's
        classifiers never depend on the builds before it."""
        path = None
        if cache_dir is not None:
            import sklearn

            key = hashlib.sha256(json.dumps(["ngram-v1", sklearn.__version__, list(labels), c, min_df, tol, NGRAMS, examples],
                                            ensure_ascii=False).encode("utf-8")).hexdigest()[:24]
            path = Path(cache_dir) / f"{key}.npz"
        if path is not None and path.exists():
            try:
                model = cls.load(path)
                os.utime(path)
                return model
            except (OSError, ValueError, KeyError, zipfile.BadZipFile):  # a damaged file: fit again and replace it
                warm = None  # (from zero, as every fit the cache keeps)
        if warm is not None:  # never stored
            return cls._fit(examples, labels, c=c, min_df=min_df, tol=tol, warm=warm)
        model = cls._fit(examples, labels, c=c, min_df=min_df, tol=tol)
        if path is None:
            return model
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".npz", dir=path.parent)
        os.close(fd)
        try:
            model.save(Path(tmp))
            os.replace(tmp, path)  # atomic: two builds at once write the same bytes
        finally:
            Path(tmp).unlink(missing_ok=True)
        for old in sorted(path.parent.glob("*.npz"), key=_mtime)[:-CACHE_KEEP]:
            old.unlink(missing_ok=True)
        return model

    @classmethod
    def _fit(cls, examples: list[tuple[str, str]], labels: list[str], *, c: float, min_df: int,
             tol: float, warm: "NgramClassifier | None" = None) -> "NgramClassifier":
        from sklearn.linear_model import LogisticRegression
        from scipy.sparse import csr_matrix

        counts: Counter = Counter(examples)  # (masked) wordings repeat across permits: train once, weighted
        examples = list(counts)
        weights = np.array([counts[e] for e in examples], dtype=np.float64)
        weights = 1.0 + np.log(weights)
        feats = [features(t) for t, _ in examples]
        df: Counter = Counter()
        for f in feats:
            df.update(f.keys())
        grams = sorted(g for g, n in df.items() if n >= min_df)
        vocab = {g: i for i, g in enumerate(grams)}
        n_docs = len(feats)
        idf = np.array([math.log((1 + n_docs) / (1 + df[g])) + 1.0 for g in grams], dtype=np.float32)
        rows, cols, vals = [], [], []
        for r, f in enumerate(feats):
            items = [(vocab[g], (1.0 + math.log(n)) * idf[vocab[g]]) for g, n in f.items() if g in vocab]
            norm = math.sqrt(sum(v * v for _, v in items)) or 1.0
            for j, v in items:
                rows.append(r)
                cols.append(j)
                vals.append(v / norm)
        x = csr_matrix((vals, (rows, cols)), shape=(n_docs, len(grams)), dtype=np.float32)
        y = [labels.index(t) for _, t in examples]
        present = sorted(set(y))
        from threadpoolctl import threadpool_limits

        model = LogisticRegression(C=c, max_iter=3000, tol=tol, class_weight="balanced")
        if warm is not None and warm.labels == list(labels) and len(present) >= 2:
            # the warm model's weights, column by n-gram (an n-gram new here starts at 0), row by label
            # (binary: sklearn's one row is the second class's, as _fit stores it below)
            label_rows = present if len(present) > 2 else present[1:]
            old = warm.vocab
            shared = [(j, old[g]) for j, g in enumerate(grams) if g in old]
            init = np.zeros((len(label_rows), len(grams)), dtype=np.float64)
            if shared:
                new_cols, old_cols = (np.asarray(col, dtype=np.int64) for col in zip(*shared))
                init[:, new_cols] = warm.coef[old_cols][:, label_rows].T
            model.set_params(warm_start=True)
            model.coef_, model.intercept_ = init, warm.intercept[label_rows].astype(np.float64)
        with threadpool_limits(1):  # a small problem: BLAS threads only contend on 2 cores
            model.fit(x, y, sample_weight=weights)
        coef = np.zeros((len(labels), len(grams)), dtype=np.float32)
        intercept = np.full(len(labels), -30.0, dtype=np.float32)  # a label with no example is never chosen
        if len(present) == 1:
            intercept[present[0]] = 0.0
        else:
            for k, cls_ in enumerate(model.classes_):
                row = k if len(present) > 2 else None
                if row is None:  # binary: sklearn keeps one row, the second class's logit
                    if k == 1:  # (the first class's logit stays 0: the softmax is then sklearn's sigmoid)
                        coef[cls_] = model.coef_[0]
                        intercept[cls_] = model.intercept_[0]
                    else:
                        intercept[cls_] = 0.0
                else:
                    coef[cls_] = model.coef_[k]
                    intercept[cls_] = model.intercept_[k]
        return cls(labels, vocab, idf, coef, intercept)
