"""Calibration and evaluation on labelled question sets.

Calibration reads ONLY the question sets written blind, the way callers ask, by someone
who never saw the entries: ``benchmarks/data/faq_blind_calib.yaml`` and, since their one blind
run, ``benchmarks/data/faq_blind_report.yaml``, ``faq_blind_fresh4.yaml`` and ``faq_blind_fresh37.yaml``
(``CALIBRATION_SETS``; the last fits the gate only, ``GATE_ONLY_SETS``; never copied into wordings or aliases): ``in_scope: [{q, item, topic, alt?}]``, ``out_of_scope: [{q, why}]``.
A hit is correct when its (item_code, topic) is (item, topic) or one of ``alt`` (or, for a question
naming 河南 or 睢县, the 河南 variant of the item labelled: ``PROVINCIAL_VARIANTS``).

1. **Ranking weights** (alpha, tau, mu, eta, gamma of ``query.py``) by grid search: most
   in-scope questions with a correct first hit (ties: more correct in the top 3, then
   the smaller weights), over the calibration sets' in-scope questions (not ``GATE_ONLY_SETS``') and those of
   ``WEIGHT_ONLY_SETS`` (three later sets the topic classifier never learned from).  For the e5
   model the weights in ``data/faq/ranking_weights.yaml`` are used instead (``PINNED_WEIGHTS``); the
   fit still runs and the report says what it would pick and how the pinned weights score.
2. **The answered gate** (``query.Gate``): among the scope classifier's two thresholds
   (``SCOPE_ANCHORED``, ``SCOPE_OTHER``; on cross-fitted probabilities, ``scope.crossfit``)
   and the thresholds per tier (on the confidence dense + kappa·P(topic), kappa from
   ``KAPPAS``) that refuse at least ``TARGET_REJECTION`` of the out-of-scope questions (and
   ``ROBUST_REJECTION`` without the refusal cues), the ones answering most in-scope
   questions correctly, averaged over the setting and its neighbours (``pick_gate_plateau``;
   ties: its own count, more refused, the milder scope thresholds, the smaller kappa); each
   confidence threshold is then placed halfway to the next lower observed value (a margin for
   unseen wordings).
The same for the ``dense`` and ``bm25`` baselines (one threshold each).

The regression set ``data/faq/eval.yaml`` (entry ids) and the final blind set
(``benchmarks/bench_faq.py --final``, run once) are read by ``evaluate`` only; the later
sets (each run once blind, development sets since) train the topic classifier
(``TOPIC_SETS``), except the ranking weights' own (``WEIGHT_ONLY_SETS``), fresh31 and fresh52 (the held-out
measures, which nothing learns from); the calibration sets and ``CLASSIFIER_SETS`` (the topic classifier's
sets but the final sets run since 2026-12-05, ``TOPIC_ONLY_SETS``) train the scope classifier (``SCOPE_SETS``).
"""
from __future__ import annotations

import functools
import itertools
import re
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml

from knowledge_base.settings import ROOT

def blind_set(name: str) -> Path:
    """The file of the set written blind called ``name`` (``benchmarks/data/faq_blind_<name>.yaml``)."""
    return ROOT / "benchmarks" / "data" / f"faq_blind_{name}.yaml"


CALIBRATION_SET = blind_set("calib")
# the blind report set, run once blind (issue 11) and a development set since, calibrates too:
# both were written the way callers ask; more questions, steadier thresholds
REPORT_SET = blind_set("report")
# the fourth fresh set, the final one of the last stop (run once blind), calibrates too: the weights'
# grid search on 633 questions moved with each small change (hit@1 ties across far-apart weights);
# on 1,018 it holds still.  It never trains the topic classifier (κ and τ stay fitted on unseen text)
FRESH4_SET = blind_set("fresh4")
# fresh37 (2,235 + 287, run once blind 2026-12-05) fits the gate too, instead of joining TOPIC_SETS:
# on 1,018 in-scope and 274 out-of-scope questions the gate's kappa moved between 0.02 and 0.06 with
# changes that touch a handful of questions (a four-word hint, the join of a set to the topic
# classifier), and a held-out answer count moved with it; on 3,253 + 561 it has more to hold on to.
# Not the ranking weights (GATE_ONLY_SETS), steadier on their 3,788 (not steady enough: PINNED_WEIGHTS): fitted with fresh37 too,
# gamma went 0.01 -> 0.04 and the held-out fresh31 lost 6 at three (0.965 -> 0.959)
FRESH37_SET = blind_set("fresh37")
# fresh38 (1,827 + 278, run once blind 2026-12-05) joined nothing at first: on the held-out fresh31 (hit@1,
# answered and right, hit@3, rejection 0.908 / 0.906 / 0.965 / 0.995 without it) it gave 0.908 /
# 0.907 / 0.959 / 0.990 fitting the gate too, 0.910 / 0.908 / 0.959 / 0.990 in TOPIC_SETS (tau 0.15
# -> 0.11) and 0.896 / 0.894 / 0.955 / 0.980 in WEIGHT_ONLY_SETS (alpha 0.10, tau 0.25)
# fresh39 (1,803 + 299), fresh40 (2,360 + 330), fresh41 (2,033 + 261), fresh42 (1,941 + 267), fresh43
# (1,761 + 257), fresh44 (2,040 + 271), fresh45 (1,584 + 267), fresh46 (1,657 + 262), fresh47 (1,744 + 295),
# fresh48 (1,782 + 282), fresh49 (1,645 + 273), fresh50 (1,563 + 280), fresh51 (1,743 + 280), fresh53 (1,686 +
# 276), fresh54 (1,675 + 273), fresh55 (1,625 + 269) and fresh56 (1,853 + 293), each run once blind 2026-12-05 or
# 2026-12-06, joined nothing either (no join tried) until, with fresh38, they joined the topic classifier
# (TOPIC_ONLY_SETS, below); fresh57 (1,957 + 268), fresh58 (1,726 + 275), fresh59 (1,729 + 280), fresh60
# (2,099 + 268), fresh61 (1,826 + 264), fresh62 (1,674 + 298), fresh63 (1,618 + 283) and fresh64 (1,958 + 267),
# each run once blind 2026-12-06 or 2026-12-07, join nothing (no join tried); not fresh52 (1,634 + 279),
# written as a final set, seven of its questions printed by mistake before its run: like fresh31, nothing
# learns from it
GATE_ONLY_SETS = (FRESH37_SET,)
CALIBRATION_SETS = (CALIBRATION_SET, REPORT_SET, FRESH4_SET, *GATE_ONLY_SETS)
# the later sets written blind, each run once blind and a development set since, teach the topic
# classifier how callers ask (build.topic_examples); kept apart from the calibration sets, so the
# gate's κ·P(topic) is fitted on questions the classifier has not seen.  A final set joins after its
# one blind run, measured on fresh31, which nothing learns from; each join's figures are in its commit
# message and the README (fresh23–28 joined at once: the held-out fresh28 went hit@1 0.916 -> 0.926,
# topic 0.942 -> 0.956: most misses were a right item under the wrong topic, and each writer files
# questions their own way)
CLASSIFIER_SETS = tuple(map(blind_set, ("fresh", "fresh2", "fresh3", "fresh5", "fresh6", "fresh7", "fresh8", "fresh9", "fresh10", "fresh11", "fresh12", "fresh13", "fresh14", "fresh15", "fresh16", "fresh17", "fresh19", "fresh20", "fresh23", "fresh24", "fresh25", "fresh26", "fresh27", "fresh28", "fresh29", "fresh30", "fresh32", "fresh33", "fresh34", "fresh35", "fresh36")))
# the final sets run once since (fresh38 to fresh51 and fresh53 to fresh56, 2026-12-05 and 2026-12-06)
# teach the topic classifier too since 2026-12-06, not the scope classifier.  With the weights pinned
# (ranking_weights.yaml) joining no longer refits them (fresh38 alone, before the pin: τ 0.15 -> 0.11,
# fresh31 hit@3 0.965 -> 0.959).  Joined, the held-out fresh31 went hit@1 0.918 -> 0.926, hit@3 0.975
# -> 0.977, topic 0.946 -> 0.957, rejection 0.995 the same; fresh52 0.906 -> 0.914, 0.968 -> 0.971,
# topic 0.937 -> 0.946, rejection 0.971 the same; over the nine sets the topic classifier does not learn
# (8,693 + 1,732) hit@1 0.920 -> 0.925, hit@3 0.973 -> 0.976, rejection 0.9885 the same, calib the one
# lower (0.965 -> 0.957, two questions), the gate refitted to kappa 0.06.  Joining the scope classifier too cost a refusal on
# each (0.995 -> 0.990, 0.971 -> 0.968) for no hit more, so they stay out of it
TOPIC_ONLY_SETS = tuple(map(blind_set, (*(f"fresh{i}" for i in range(38, 52)), "fresh53", "fresh54", "fresh55", "fresh56")))
TOPIC_SETS = CLASSIFIER_SETS + TOPIC_ONLY_SETS
# fresh18, fresh21 and fresh22 (final sets run once 2026-12-03) are read as development sets by
# bench_faq.py; the classifiers do not learn from them, only the ranking weights do.  Measured with
# fresh18 in the scope classifier's sets: its anchored refusal was fitted at 0.10 instead of 0.15
# and the development rejection fell 0.9980 → 0.9957, hit@1 0.9639 → 0.9631
# the ranking weights are fitted on these too (in-scope questions only; never the gate): sets the
# topic classifier has not learned from, so τ·P(topic) is weighed on text it has not seen.  On
# 1,018 questions alone the weights' grid moved with each small change (a lexicon edit took τ 0.11 →
# 0.08, η 0.04 → 0.08 and hit@1 on the development sets 0.9639 → 0.9617, on fresh18 0.927 → 0.924);
# on 2,776 the fit has more to hold on to; fresh22 joined after its blind run (3,788 questions: the weights
# stayed alpha 0.04, tau 0.15, mu 0.08, eta 0.04, gamma 0 → 0.01, development hit@1 0.9571 → 0.9575)
WEIGHT_ONLY_SETS = tuple(map(blind_set, ("fresh18", "fresh21", "fresh22")))
# what the scope classifier learns from (scope.py): the calibration sets and CLASSIFIER_SETS; never the
# benchmark's final set, nor fresh18/21/22 (the weights' own), TOPIC_ONLY_SETS, fresh31 and fresh52 (the
# held-out measures)
SCOPE_SETS = CALIBRATION_SETS + CLASSIFIER_SETS  # disjoint: a test holds them apart
REGRESSION_SET = "faq/eval.yaml"  # under data_dir
# the ranking weights for the e5 model, pinned (under data_dir).  The grid's plateau flips between
# neighbours on a handful of its 3,788 questions: a lexicon edit of two names and two activity words
# (普货许可, 花炮) took tau 0.15 -> 0.11, and over 64,862 development questions tau 0.11 put 92 first
# hits wrong and 43 right against 0.15.  Each such edit then measured the flip, not itself.  The
# weights change only when someone refits them (``cli pin-weights``) and commits the file
PINNED_WEIGHTS = "faq/ranking_weights.yaml"
TARGET_REJECTION = 0.98  # the goal is 0.97 on unseen questions: a margin
# the learned gate alone (the scope classifier, cross-fitted, and the thresholds; refusal cues
# aside) must refuse this share: cue lists never cover every out-of-scope subject, so the gate may
# not lean on them.  It was 0.90 before the scope classifier: the thresholds alone could not do
# more without refusing many right answers; with it, 0.97 costs 3 of 1,018 (0.947 → 0.944)
ROBUST_REJECTION = 0.97
TIERS = ("anchored", "activity", "free")
# bump when query.Gate, the ranking or the topic classifier's fit changes (12: its tolerance, build.TOPIC_TOL):
# a stored calibration is then refitted
GATE_VERSION = 12
GRID = {
    "alpha": (0.0, 0.02, 0.04, 0.07, 0.1),
    "tau": (0.0, 0.02, 0.04, 0.06, 0.08, 0.11, 0.15, 0.2, 0.25),
    "mu": (0.0, 0.02, 0.04, 0.06, 0.08, 0.11, 0.15, 0.2),
    "eta": (0.5, 0.75, 1.0),  # times mu: an activity (药店) is evidence for its permit, never more than its name
    "gamma": (0.0, 0.01, 0.02, 0.04),
}
# the last tier's floor on the share of the question's character pairs the base holds.  Never 0: a
# question none of whose pairs the base holds (「勾股定理是啥」, fresh43's, answered at 0.00) is about
# something else.  0.05 refuses no right answer of any development set (the lowest answered right
# had 0.08, a dialect 「俺在睢县周堂镇，年根底下想摆个烟花摊，中不中」)
COVERAGES = (0.05, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8)
# weight of the topic classifier's probability for the top hit's topic in the gate's confidence
# (a question that asks a permit topic plainly is more likely one the base answers)
KAPPAS = (0.0, 0.02, 0.04, 0.06)
# the scope classifier's thresholds on P(in scope) (scope.py): when the question names the top
# hit's subject, and otherwise
SCOPE_ANCHORED = (0.0, 0.05, 0.1, 0.15)
SCOPE_OTHER = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5)


@dataclass
class Labelled:
    name: str
    in_scope: list[tuple[str, frozenset]]  # (question, {(item_code, topic), ...})
    out_of_scope: list[str]


YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when the wheel has it (a build reads the sets ~70 times)


@functools.lru_cache(maxsize=64)
def _read_set(path: str, mtime_ns: int, size: int) -> dict:
    return yaml.load(Path(path).read_text(encoding="utf-8"), Loader=YAML_LOADER) or {}


def read_set(path: Path) -> dict:
    """A question set's YAML as it is now (cached and shared between callers: read it, never
    change it; a file changed on disk is read again)."""
    st = Path(path).stat()
    return _read_set(str(path), st.st_mtime_ns, st.st_size)


# How writers mark a question about no one item (the reform, a whole bundle): YAML null, or the word
# (fresh27's and fresh28's writers wrote ``item: none``, as their sets' descriptions say).
NO_ITEM = frozenset({"none", "null", "-", ""})


def _item(code) -> str | None:
    """A label's item code; None for a question about no one item."""
    return None if code is None or str(code).strip().lower() in NO_ITEM else str(code).strip()


def _alternative(a, topic: str, path: Path, q: str) -> tuple[str | None, str]:
    """An ``alt`` of a labelled question: ``[item, topic]``, or an item code alone (null for a
    general entry), which keeps the question's topic (how fresh15's and fresh16's writers gave them)."""
    if a is None or isinstance(a, str):
        return _item(a), topic
    if isinstance(a, (list, tuple)) and len(a) == 2:
        return _item(a[0]), a[1]
    raise ValueError(f"{path}: alt {a!r} of {q!r} is neither [item, topic] nor an item code")


# The contract lists the food workshop registration once, as 广东's (food_workshop_registration); a
# writer given only the contract labels a 睢县 workshop with it, where the catalog (not the contract)
# has 河南's own item.  A question that names 河南 or 睢县 (its county, its city 商丘) is answered
# right by the 河南 item too.  Nothing else is mapped: 宁夏's registration is in the contract.
PROVINCIAL_VARIANTS = {"food_workshop_registration": (re.compile("睢县|河南|商丘"), "ha_food_workshop_registration")}


def _variants(q: str, good: set) -> set:
    out = set(good)
    for item, topic in good:
        said, variant = PROVINCIAL_VARIANTS.get(item, (None, None))
        if said is not None and said.search(q):
            out.add((variant, topic))
    return out


def load_blind(path: Path) -> Labelled:
    raw = read_set(path)
    ins = []
    for r in raw.get("in_scope") or []:
        good = {(_item(r.get("item")), r["topic"])} | {_alternative(a, r["topic"], path, r["q"]) for a in r.get("alt") or []}
        ins.append((str(r["q"]), frozenset(_variants(str(r["q"]), good))))
    oos = [str(r["q"] if isinstance(r, dict) else r) for r in raw.get("out_of_scope") or []]
    return Labelled(Path(path).stem, ins, oos)


def load_regression(path: Path, index, split: str = "test") -> Labelled:
    """``data/faq/eval.yaml`` (labels are entry ids; mapped to (item, topic) of the live entries)."""
    raw = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    part = raw.get(split) or {}
    by_id = {e.id: e for e in index.entries}
    ins = []
    for r in part.get("in_scope") or []:
        good = set()
        for eid in [r["id"], *(r.get("alt") or [])]:
            e = by_id.get(index.resolve(eid))
            if e is not None:
                good.add((e.item_code, e.topic))
        if good:
            ins.append((str(r["q"]), frozenset(good)))
    oos = [str(r["q"] if isinstance(r, dict) else r) for r in part.get("out_of_scope") or []]
    return Labelled(f"eval.yaml:{split}", ins, oos)


def _good_mask(index, goods: list[frozenset]) -> np.ndarray:
    keys = [(e.item_code, e.topic) for e in index.entries]
    return np.array([[k in g for k in keys] for g in goods], dtype=bool)


def _stack(index, sigs, name: str) -> np.ndarray:
    return np.stack([index.components(s)[name] for s in sigs]) if sigs else np.zeros((0, index.n_entries))


def pick_plateau(h1s: np.ndarray, h3s: np.ndarray, axes: list) -> tuple[int, ...]:
    """The grid point at the top of a plateau, not a lone peak: each point is judged by the mean
    of it and its neighbours (one step along each axis) of hit@1 + ½·hit@3; then its own hit@1,
    hit@3, then the smaller weights.  On a thousand questions the best single point moved with
    every small change (one question more or less right tips a tie between far-apart weights).
    Thirty half/half splits of the calibration sets, choosing on one half and scoring the other:
    hit@1 0.9472 (best single point) vs 0.9484 (plateau)."""
    from scipy.ndimage import uniform_filter

    shape = h1s.shape
    smooth = uniform_filter(h1s + 0.5 * h3s, size=3, mode="nearest")
    size = np.array([sum(axes[k][i] for k, i in enumerate(ix)) for ix in np.ndindex(shape)])
    order = np.lexsort((-size, h3s.ravel(), h1s.ravel(), np.round(smooth.ravel(), 6)))
    return tuple(int(i) for i in np.unravel_index(order[-1], shape))


def pick_gate_plateau(meets: np.ndarray, answered: np.ndarray, rej_raw: np.ndarray, rej: np.ndarray,
                      axes: tuple) -> tuple[int, ...]:
    """The gate's setting (scope thresholds, kappa, coverage: ``axes``) among those meeting the
    rejection targets: the most right answers averaged over it and its neighbours that meet them
    too (one step along each axis), then its own right answers, refusals without the cues, all
    refusals, the milder scope thresholds, the smaller kappa, the larger coverage.  Settings a
    question or two apart tie often (coverage 0.0 and 0.3 answered the same 968 of 1,018), and the
    plain maximum took whichever a tie-break named.  Twenty half/half splits of the calibration
    sets, fitting on one half: on the other half 0.9456 answered and right against 0.9447 for the
    plain maximum, on the held-out fresh31 0.8847 against 0.8771, 16 of its answers moving with
    the split against 20 (stop 35's figures, on the rows of build 393a647).  On the four sets with
    fresh37 the plain maximum took scope thresholds 0.1 / 0.4 (fresh31's rejection 0.980), this
    choice 0.15 / 0.5 (0.995)."""
    from scipy.ndimage import uniform_filter

    ok = np.where(meets, answered, 0.0)
    near = uniform_filter(ok, size=3, mode="constant") / np.maximum(
        uniform_filter(meets.astype(float), size=3, mode="constant"), 1e-9)
    def key(ix):
        sa, so, kappa, cov = (axes[d][i] for d, i in enumerate(ix))
        return (bool(meets[ix]), round(float(near[ix]), 6), int(answered[ix]), float(rej_raw[ix]), float(rej[ix]),
                -(sa + so), -kappa, cov)
    return max(np.ndindex(meets.shape), key=key)


WEIGHT_NAMES = ("alpha", "tau", "mu", "eta", "gamma")


def fit_weights(index, sigs: list, goods: list[frozenset], pinned: dict | None = None) -> tuple[dict, dict]:
    """The grid's plateau (``pick_plateau``) and its report; with ``pinned``, those weights instead,
    the report saying how they score beside what the fit picks (``fit``)."""
    comps = {n: _stack(index, sigs, n).astype(np.float32)
             for n in ("dense", "bm25", "topic", "item", "hint", "general", "fixed")}
    good = _good_mask(index, goods)
    rows = np.arange(len(sigs))
    answerable = good.any(1)

    def count(w: dict) -> tuple[int, int]:
        """First hits right, and right ones in the top three, under weights ``w`` (query.scores' sum)."""
        s = comps["dense"] + w["alpha"] * comps["bm25"] + w["tau"] * comps["topic"] + w["mu"] * comps["item"] \
            + w["eta"] * comps["hint"] + w["gamma"] * comps["general"] + comps["fixed"]
        best_good = np.where(good, s, -np.inf).max(1)  # hit@3: fewer than 3 entries above the best right one
        return int(good[rows, s.argmax(1)].sum()), int(((s > best_good[:, None]).sum(1) < 3)[answerable].sum())

    def at(ix) -> dict:
        a, t, m, r, g = (axes[k][i] for k, i in enumerate(ix))
        return {"alpha": a, "tau": t, "mu": m, "eta": r * m, "gamma": g}  # eta is a multiple of mu

    axes = [GRID[k] for k in WEIGHT_NAMES]
    shape = tuple(len(a) for a in axes)
    h1s, h3s = np.zeros(shape), np.zeros(shape)
    for ix in itertools.product(*(range(n) for n in shape)):
        h1s[ix], h3s[ix] = count(at(ix))
    ix = pick_plateau(h1s, h3s, axes)
    weights = at(ix)
    n = max(1, len(sigs))
    rep = {"hit@1": float(h1s[ix]) / n, "hit@3": float(h3s[ix]) / n, "n": len(sigs),
           "best_hit@1": float(h1s.max()) / n}
    if not pinned:
        return weights, rep
    w = {k: float(pinned[k]) for k in WEIGHT_NAMES}
    h1, h3 = count(w)
    return w, {"pinned": True, "hit@1": h1 / n, "hit@3": h3 / n, "n": len(sigs), "best_hit@1": rep["best_hit@1"],
               "fit": {**rep, "weights": weights}}


def pinned_weights(data_dir: Path | None, embedder_name: str | None) -> dict | None:
    """The pinned ranking weights (``PINNED_WEIGHTS``) when ``embedder_name`` is one they were
    fitted for (the e5 model, on either runtime); None otherwise (the weights are then fitted)."""
    if data_dir is None or not embedder_name:
        return None
    path = Path(data_dir) / PINNED_WEIGHTS
    if not path.exists():
        return None
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if not any(embedder_name.startswith(p) for p in raw.get("embedders") or ()):
        return None
    w = raw.get("weights") or {}
    missing = set(WEIGHT_NAMES) - set(w)
    if missing:
        raise ValueError(f"{path}: weights lack {sorted(missing)}")
    return {k: float(w[k]) for k in WEIGHT_NAMES}


def _rows(index, sigs: list, method: str, weights: dict | None, goods: list[frozenset] | None):
    """Per question: (top entry, its score, dense, coverage, gate tier, refused by a cue, correct,
    P(top hit's topic), P(in scope))."""
    out = []
    for j, sig in enumerate(sigs):
        s = index.scores(sig, method, weights)
        top = int(np.argmax(s))
        e = index.entries[top]
        from knowledge_base.faq.query import Gate

        tier = Gate.tier(sig, e)
        ok = goods is not None and (e.item_code, e.topic) in goods[j]
        tp = sig.u.topics.get(e.topic, 0.0) if sig.u.topics else 0.0
        p_in = 1.0 if sig.u.in_scope is None else float(sig.u.in_scope)
        out.append((top, float(s[top]), float(sig.dense[top]), sig.coverage, tier, bool(sig.u.refusal), ok, tp, p_in))
    return out


def _at_least(values: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """For each threshold, how many values are ≥ it."""
    v = np.sort(values)
    return len(v) - np.searchsorted(v, thresholds, side="left")


def _midpoint(value: float, observed: np.ndarray) -> float:
    lower = observed[observed < value]
    return float((value + lower.max()) / 2) if lower.size else float(value - 1e-4)


def _scope_refused(p_in: np.ndarray, tier: np.ndarray, anchored: float, other: float) -> np.ndarray:
    """Refused by the scope classifier (``query.Gate``): P(in scope) below the threshold of its tier."""
    return p_in < np.where(tier == "anchored", anchored, other)


def _max_false(n_oo: int, target: float) -> int:
    """The most out-of-scope questions answered that still meet ``target`` (as ``1 - F/n`` is
    compared with it); -1 when none does."""
    f = np.arange(n_oo + 1)
    ok = np.flatnonzero(1.0 - f / n_oo >= target)
    return int(ok.max()) if ok.size else -1


def _best_thresholds(per_tier, n_oo: int, max_false: int, max_false_raw: int) -> tuple[int, int, int]:
    """The three tiers' thresholds (indices into each tier's candidates) answering the most right
    answers while at most ``max_false`` out-of-scope questions are answered and at most
    ``max_false_raw`` would be were the cues not there; ties go to fewer of the latter, then of the
    former, then to the first in order.  Along a tier's candidates its right and false answers
    never rise.  So for each pair of the first two tiers' thresholds the last tier's best is the
    lowest that keeps both limits, or a higher one answering as many right (a candidate whose own
    value rounds above it) and fewer false.  The same choice as the search over all three at
    once, without its cube of candidates: a build's calibration spent minutes there when the
    scores spread widely, as the tests' fake embedder's do."""
    (ca, oka, fa, fra), (ch, okh, fh, frh), (cf, okf, ff, frf) = per_tier
    left = max_false - (fa[:, None] + fh[None, :])  # what the last tier may still answer
    left_raw = max_false_raw - (fra[:, None] + frh[None, :])
    # counts never rise along the candidates: the first index at or under a limit
    k = np.maximum(np.searchsorted(-ff, -left, side="left"), np.searchsorted(-frf, -left_raw, side="left"))
    feasible = k < len(cf)
    k = np.where(feasible, k, 0)
    # … then the last with as many right answers, then the first there with its false answers
    last = np.searchsorted(-okf, -okf[k], side="right") - 1
    k = np.maximum(k, np.maximum(np.searchsorted(-ff, -ff[last], side="left"),
                                 np.searchsorted(-frf, -frf[last], side="left")))
    total_ok = oka[:, None] + okh[None, :] + okf[k]
    rej = 1.0 - (fa[:, None] + fh[None, :] + ff[k]) / n_oo
    rej_raw = 1.0 - (fra[:, None] + frh[None, :] + frf[k]) / n_oo
    key = np.where(feasible, total_ok * 1e6 + rej_raw * 1e3 + rej, -1.0)
    i, j = np.unravel_index(np.argmax(key), key.shape)
    return int(i), int(j), int(k[i, j])


def fit_gate(index, method: str, sigs_in: list, goods: list[frozenset], sigs_oos: list,
             weights: dict | None, target: float = TARGET_REJECTION, robust: float = ROBUST_REJECTION
             ) -> tuple[dict, dict]:
    rin = _rows(index, sigs_in, method, weights, goods)
    roo = _rows(index, sigs_oos, method, weights, None)
    n_in, n_oo = max(1, len(rin)), max(1, len(roo))
    if method in ("dense", "bm25"):
        col = 2 if method == "dense" else 1
        v_in = np.array([r[col] for r in rin])
        ok = np.array([r[6] for r in rin])
        v_oo = np.array([r[col] for r in roo])
        cand = np.unique(np.concatenate([v_in, v_oo, [np.inf]]))
        oks = _at_least(v_in[ok.astype(bool)], cand)
        rejs = 1.0 - _at_least(v_oo, cand) / n_oo
        best = max(zip(rejs >= target, oks, rejs, cand), key=lambda x: (bool(x[0]), int(x[1]), float(x[2]), float(x[3])))
        _, answered_ok, rej, t = int(best[0]), int(best[1]), float(best[2]), float(best[3])
        t = _midpoint(t, np.concatenate([v_in, v_oo])) if np.isfinite(t) else 1e9
        return {"score": t}, {"answered_correct": answered_ok / n_in, "rejection": rej}
    # hybrid: the scope classifier's two thresholds (anchored / not), then one threshold per tier
    # (named subject / activity only / neither) on the top hit's confidence (dense + kappa·P(its
    # topic)), and a coverage floor for the last tier
    tier_in = np.array([r[4] for r in rin]); tier_oo = np.array([r[4] for r in roo])
    dense_in = np.array([r[2] for r in rin]); dense_oo = np.array([r[2] for r in roo])
    tp_in = np.array([r[7] for r in rin]); tp_oo = np.array([r[7] for r in roo])
    c_in = np.array([r[3] for r in rin]); c_oo = np.array([r[3] for r in roo])
    f_in = np.array([r[5] for r in rin], dtype=bool); f_oo = np.array([r[5] for r in roo], dtype=bool)
    p_in = np.array([r[8] for r in rin]); p_oo = np.array([r[8] for r in roo])
    ok = np.array([r[6] for r in rin], dtype=bool)
    has_scope = bool(np.any(p_in < 1.0) or np.any(p_oo < 1.0))
    axes = (SCOPE_ANCHORED, SCOPE_OTHER) if has_scope else ((0.0,), (0.0,))
    axes = (*axes, KAPPAS, COVERAGES)
    shape = tuple(len(a) for a in axes)
    meets_g = np.zeros(shape, dtype=bool)
    max_false, max_false_raw = _max_false(n_oo, target), _max_false(n_oo, robust)
    ok_g, raw_g, rej_g = np.zeros(shape), np.zeros(shape), np.zeros(shape)
    thr_g = np.zeros(shape + (3,))
    for ix in np.ndindex(shape):
        sa, so, kappa, cov = (axes[d][i] for d, i in enumerate(ix))
        # refused by the scope classifier (learned: it counts as refusing without the cues too)
        s_in, s_oo = _scope_refused(p_in, tier_in, sa, so), _scope_refused(p_oo, tier_oo, sa, so)
        d_in, d_oo = dense_in + kappa * tp_in, dense_oo + kappa * tp_oo
        per_tier = []
        for tier in TIERS:
            m_in = (tier_in == tier) & ~s_in
            m_oo = (tier_oo == tier) & ~s_oo
            if tier == "free":
                m_in = m_in & (c_in >= cov)
                m_oo = m_oo & (c_oo >= cov)
            # the threshold that answers a given set of right answers and refuses most is the
            # lowest of them: the right answers' values are the only candidates (to 0.001)
            cand = np.unique(np.concatenate([np.floor(d_in[m_in & ok & ~f_in] * 1000) / 1000, [np.inf]]))
            per_tier.append((cand, _at_least(d_in[m_in & ok & ~f_in], cand), _at_least(d_oo[m_oo & ~f_oo], cand),
                             _at_least(d_oo[m_oo], cand)))
        i, j, k = _best_thresholds(per_tier, n_oo, max_false, max_false_raw)
        (ca, oka, fa, fra), (ch, okh, fh, frh), (cf, okf, ff, frf) = per_tier
        rej = 1.0 - (fa[i] + fh[j] + ff[k]) / n_oo
        rej_raw = 1.0 - (fra[i] + frh[j] + frf[k]) / n_oo
        meets_g[ix], ok_g[ix] = (rej >= target) and (rej_raw >= robust), oka[i] + okh[j] + okf[k]
        raw_g[ix], rej_g[ix] = rej_raw, rej
        thr_g[ix] = (ca[i], ch[j], cf[k])
    ix = pick_gate_plateau(meets_g, ok_g, raw_g, rej_g, axes)
    sa, so, kappa, cov = (axes[d][i] for d, i in enumerate(ix))
    total_ok, rej_raw, rej = float(ok_g[ix]), float(raw_g[ix]), float(rej_g[ix])
    ta, th, tf = thr_g[ix]
    obs = np.concatenate([dense_in + kappa * tp_in, dense_oo + kappa * tp_oo])
    ta, th, tf = ((_midpoint(t, obs) if np.isfinite(t) else 1e9) for t in (ta, th, tf))
    params = {"anchored": ta, "activity": th, "free": tf, "coverage": cov, "kappa": kappa}
    if has_scope:
        params["scope"] = {"anchored": sa, "other": so}
    s_in, s_oo = _scope_refused(p_in, tier_in, sa, so), _scope_refused(p_oo, tier_oo, sa, so)
    return (params, {"answered_correct": total_ok / n_in, "rejection": rej, "rejection_without_cues": rej_raw,
                     "refused_by_scope": {"in_scope": int(s_in.sum()), "out_of_scope": int(s_oo.sum())}})


def collect(index, labelled: Labelled, method: str = "hybrid"):
    sigs_in = [index.signals(q, method=method) for q, _ in labelled.in_scope]
    sigs_oos = [index.signals(q, method=method) for q in labelled.out_of_scope]
    return sigs_in, [g for _, g in labelled.in_scope], sigs_oos


def calibrate(index, labelled: Labelled, *, target: float = TARGET_REJECTION,
              scope_p: dict[str, float] | None = None, weight_only: list | None = None,
              weight_in: int | None = None, pinned: dict | None = None) -> dict:
    """Fit the weights and the gates for every method on ``labelled``; return calibration.json's
    content.  ``scope_p``: the questions' cross-fitted P(in scope) (``scope.crossfit``), read in
    place of the served classifier's, which has seen them.  ``weight_only``: more in-scope
    (question, goods) pairs the ranking weights are fitted on, not the gate (``WEIGHT_ONLY_SETS``).
    ``weight_in``: how many of ``labelled``'s in-scope questions, from the first, fit the weights
    (the later ones, ``GATE_ONLY_SETS``', fit the gate only); all when None.  ``pinned``: ranking
    weights to use instead of the fit's (``pinned_weights``); the gate is fitted for them."""
    cal: dict = {"calibrated": True, "embedder": getattr(index.embedder, "name", None), "set": labelled.name,
                 "target_rejection": target, "report": {}}
    sigs_in, goods, sigs_oos = collect(index, labelled, "hybrid")
    if scope_p is not None:
        for sig, q in zip([*sigs_in, *sigs_oos], [*(q for q, _ in labelled.in_scope), *labelled.out_of_scope]):
            if sig.u.in_scope is not None and q in scope_p:
                sig.u.in_scope = scope_p[q]
    extra = weight_only or []  # in-scope (question, goods) that fit the weights only
    n_w = len(sigs_in) if weight_in is None else weight_in  # the rest fit the gate only (GATE_ONLY_SETS)
    weights, rep = fit_weights(index, sigs_in[:n_w] + [index.signals(q, method="hybrid") for q, _ in extra],
                               goods[:n_w] + [g for _, g in extra], pinned)
    cal["weights"] = weights
    cal["report"]["weights"] = rep
    cal["hybrid"], cal["report"]["hybrid"] = fit_gate(index, "hybrid", sigs_in, goods, sigs_oos, weights, target)
    cal["dense"], cal["report"]["dense"] = fit_gate(index, "dense", sigs_in, goods, sigs_oos, None, target)
    b_in, b_goods, b_oos = collect(index, labelled, "bm25")
    cal["bm25"], cal["report"]["bm25"] = fit_gate(index, "bm25", b_in, b_goods, b_oos, None, target)
    return cal


def load_calibration() -> Labelled | None:
    """The calibration sets that exist, as one labelled set."""
    sets = [load_blind(p) for p in CALIBRATION_SETS if p.exists()]
    if not sets:
        return None
    return Labelled("+".join(x.name for x in sets), [q for x in sets for q in x.in_scope],
                    [q for x in sets for q in x.out_of_scope])


def calibration_set_key(data_dir: Path | None = None) -> str | None:
    """What the calibration was fitted on (the sets' content and the gate's rules) and with (the
    weights pinned under ``data_dir``: editing them refits the gate)."""
    if not any(p.exists() for p in CALIBRATION_SETS):
        return None
    import hashlib

    h = hashlib.sha1(b"".join(p.read_bytes() for p in (*SCOPE_SETS, *WEIGHT_ONLY_SETS) if p.exists()))
    h.update(repr((TARGET_REJECTION, ROBUST_REJECTION, GRID, COVERAGES, KAPPAS, SCOPE_ANCHORED, SCOPE_OTHER,
                   TIERS, GATE_VERSION)).encode())
    pinned = Path(data_dir) / PINNED_WEIGHTS if data_dir is not None else None
    if pinned is not None and pinned.exists():
        h.update(pinned.read_bytes())
    return h.hexdigest()[:16]


def calibrate_index(index, data_dir: Path | None = None, *, cache_dir: Path | None = None) -> dict | None:
    """Calibrate on the calibration sets (when they exist).  ``cache_dir``: trained scope
    classifiers kept by their examples (``NgramClassifier.train``)."""
    labelled = load_calibration()
    if labelled is None:
        return None
    scope_p = None
    if getattr(index.understander, "scope", None) is not None:
        from knowledge_base.faq.scope import crossfit

        scope_p = crossfit(index.entries, CALIBRATION_SETS, SCOPE_SETS, cache_dir=cache_dir)
    extra = [q for p in WEIGHT_ONLY_SETS if p.exists() for q in load_blind(p).in_scope]
    # load_calibration reads the sets in CALIBRATION_SETS' order, the gate's own last
    assert not GATE_ONLY_SETS or CALIBRATION_SETS[-len(GATE_ONLY_SETS):] == GATE_ONLY_SETS
    weight_in = sum(len(load_blind(p).in_scope) for p in CALIBRATION_SETS if p not in GATE_ONLY_SETS and p.exists())
    if data_dir is None:
        from knowledge_base.settings import get_settings

        data_dir = get_settings().data_dir
    pinned = pinned_weights(data_dir, getattr(index.embedder, "name", None))
    cal = calibrate(index, labelled, scope_p=scope_p, weight_only=extra, weight_in=weight_in, pinned=pinned)
    cal["set_key"] = calibration_set_key(data_dir)
    return cal


def evaluate(index, labelled: Labelled, method: str = "hybrid", *, use_cache: bool = False) -> dict:
    """hit@1, hit@3, answered-and-correct, out-of-scope rejection, topic accuracy, latency."""
    h1 = h3 = ok = ans = topic_ok = 0
    lat = []
    misses = []
    for q, good in labelled.in_scope:
        t = time.perf_counter()
        r = index.search(q, k=3, method=method, use_cache=use_cache)
        lat.append((time.perf_counter() - t) * 1000)
        keys = [(h.item_code, h.topic) for h in r.hits]
        first = bool(keys) and keys[0] in good
        h1 += first
        h3 += any(k in good for k in keys[:3])
        ans += r.answered
        ok += bool(r.answered and first)
        if r.understanding is not None and r.understanding.topic in {t for _, t in good}:
            topic_ok += 1
        if not (r.answered and first):
            misses.append({"q": q, "want": sorted(map(str, good)), "got": keys[:1], "answered": r.answered,
                           "reason": r.reason, "first_right": first, "top_id": r.hits[0].id if r.hits else None})
    rej = 0
    false_answers = []
    for q in labelled.out_of_scope:
        t = time.perf_counter()
        r = index.search(q, k=3, method=method, use_cache=use_cache)
        lat.append((time.perf_counter() - t) * 1000)
        rej += not r.answered
        if r.answered:
            false_answers.append({"q": q, "got": r.hits[0].id, "reason": r.reason})
    n, m = max(1, len(labelled.in_scope)), max(1, len(labelled.out_of_scope))
    lat_sorted = sorted(lat) or [0.0]
    return {
        "set": labelled.name, "method": method, "n_in_scope": len(labelled.in_scope),
        "n_oos": len(labelled.out_of_scope), "hit@1": h1 / n, "hit@3": h3 / n, "answered_correct": ok / n,
        "answered_rate": ans / n, "oos_rejection": rej / m, "topic_accuracy": topic_ok / n,
        "p50_ms": lat_sorted[len(lat_sorted) // 2],
        "p95_ms": lat_sorted[min(len(lat_sorted) - 1, int(len(lat_sorted) * 0.95))],
        "misses": misses, "false_answers": false_answers,
    }
