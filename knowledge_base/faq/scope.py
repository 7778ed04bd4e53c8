"""Is this a question about a permit at all?  The learned half of the gate.

Refusal cues (``data/faq/out_of_scope.yaml``) name what callers ask beside the permits
(complaints, exams, jobs …), but every new set of callers brings forms no list has seen
(a lost diploma, a hotel guest's receipt, whether a pharmacy is hiring).  This classifier
learns the difference from examples instead: every question written blind the way callers
ask (``calibrate.SCOPE_SETS``: their in-scope questions against their out-of-scope ones)
and every entry's own question (in scope).  Characters 1–3-grams of the question as the
caller typed it (personal numbers out, lower case), logistic regression (``ngram.py``).

The gate (``query.Gate``) refuses when P(in scope) is below a threshold: a low one when the
question names the top hit's permit, a higher one otherwise.  The thresholds are fitted by
``calibrate.py`` on *cross-fitted* probabilities: each calibration set's questions are
scored by a classifier trained without that set, so the fit sees what an unseen question
gets, not a remembered one.
"""
from __future__ import annotations

from pathlib import Path

from knowledge_base.faq.ngram import NgramClassifier
from knowledge_base.faq.text import clean_question

LABELS = ("out", "in")


def scope_text(question: str) -> str:
    """What the classifier reads: the question as typed, personal numbers out, lower case."""
    return clean_question(question).lower()


def _questions(path: Path) -> tuple[list[str], list[str]]:
    from knowledge_base.faq.calibrate import load_blind  # (build and calibration time only)

    labelled = load_blind(path)
    return [q for q, _ in labelled.in_scope], labelled.out_of_scope


def scope_examples(entries, paths, *, exclude: Path | None = None) -> list[tuple[str, str]]:
    """(text, "in"/"out"): each entry's question, and the questions of every set in ``paths``
    but ``exclude`` (and none that ``exclude`` also holds: two sets may share a question)."""
    held: set[str] = set()
    if exclude is not None and Path(exclude).exists():
        held = {scope_text(q) for part in _questions(exclude) for q in part}
    out = [(scope_text(e.question), "in") for e in entries]
    for path in paths:
        if exclude is not None and Path(path) == Path(exclude) or not Path(path).exists():
            continue
        ins, oos = _questions(path)
        out += [(scope_text(q), "in") for q in ins]
        out += [(scope_text(q), "out") for q in oos]
    return [x for x in out if x[0] not in held]


def train_scope(entries, paths, *, exclude: Path | None = None, cache_dir: Path | None = None,
                warm: NgramClassifier | None = None) -> NgramClassifier:
    return NgramClassifier.train(scope_examples(entries, paths, exclude=exclude), list(LABELS), cache_dir=cache_dir,
                                 warm=warm)


def p_in(classifier: NgramClassifier, cleaned: str) -> float:
    """P(in scope) of a question already through ``clean_question`` (as the understander has it)."""
    return classifier.proba(cleaned.lower())["in"]


def crossfit(entries, fit_paths, all_paths, *, cache_dir: Path | None = None) -> dict[str, float]:
    """P(in scope) of every question of ``fit_paths``, each set's scored by a classifier
    trained on ``all_paths`` without it (what the calibration may read)."""
    out: dict[str, float] = {}
    for path in fit_paths:
        if not Path(path).exists():
            continue
        model = train_scope(entries, all_paths, exclude=path, cache_dir=cache_dir)
        ins, oos = _questions(path)
        for q in (*ins, *oos):
            out[q] = p_in(model, clean_question(q))
    return out
