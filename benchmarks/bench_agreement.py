"""How far two people who label callers' questions agree, and the search against each of them.

Every figure in ``bench_faq.py`` counts a hit as right when it is the (item, topic) one writer gave.
A second helper, given only the contract, the seeds and the questions (not the writer's labels nor
the entries), labelled a random 600 in-scope and 100 out-of-scope questions of two sets again
(fresh38, fresh39), and another helper those of two later sets (fresh53, fresh54, whose writers file
far more questions under scope) (``benchmarks/data/faq_second_labels.yaml``).  This prints, per set
and pooled:

- the two labellers' agreement: (item, topic), item alone, topic alone, in/out of scope;
- the served search's hit@1 and hit@3 against the writer, against the second labeller, and against
  either (a hit either of them would file there);
- hit@1 and hit@3 on the questions both file alike (where the label is not in doubt), and on the others.

The four sets teach the topic classifier since 2026-12-06 (``calibrate.TOPIC_ONLY_SETS``), with the
writer's topics: the search's figures on them are optimistic since, the agreement itself is not.  The
figures of ``docs/faq-runs.md`` were measured before.

    .venv/bin/python benchmarks/bench_agreement.py              # the served index (var/faq_index)
    .venv/bin/python benchmarks/bench_agreement.py --sets fresh38
"""
from __future__ import annotations

import argparse
import os
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
SECOND = ROOT / "benchmarks" / "data" / "faq_second_labels.yaml"

Pair = tuple  # (item code or None, topic)


@dataclass
class Tally:
    n: int = 0  # in scope by the writer
    counts: Counter = field(default_factory=Counter)

    def add(self, key: str, ok: bool = True) -> None:
        self.counts[key] += int(ok)

    def __getitem__(self, key: str) -> int:
        return self.counts[key]

    def merge(self, other: "Tally") -> None:
        self.n += other.n
        self.counts.update(other.counts)


def second_labels(path: Path = SECOND) -> dict[str, dict[str, Pair | None]]:
    """set name -> question -> the second label ((item, topic), None when filed out of scope)."""
    from knowledge_base.faq.calibrate import _item, read_set

    raw = read_set(path)
    return {name: {str(r["q"]): (None if r.get("scope") == "out" else (_item(r.get("item")), r["topic"]))
                   for r in rows}
            for name, rows in (raw.get("sets") or {}).items()}


def tally(search, writer, second: dict[str, Pair | None]) -> Tally:
    """``search(q)`` -> the first hits' (item, topic) pairs; ``writer`` the set as load_blind reads it."""
    t = Tally()
    oos = set(writer.out_of_scope)
    for q in oos & set(second):
        t.add("out")
        t.add("out agreed", second[q] is None)
    for q, good in writer.in_scope:
        if q not in second:
            continue
        t.n += 1
        b = second[q]
        got = search(q)
        agreed = b in good
        t.add("agree", agreed)
        t.add("agree item", b is not None and b[0] in {i for i, _ in good})
        t.add("agree topic", b is not None and b[1] in {tp for _, tp in good})
        t.add("second in scope", b is not None)
        first, three = got[:1], got[:3]
        t.add("writer@1", any(g in good for g in first))
        t.add("writer@3", any(g in good for g in three))
        t.add("second@1", b is not None and b in first)
        t.add("either@1", any(g in good or g == b for g in first))
        t.add("either@3", any(g in good or g == b for g in three))
        part = "agreed" if agreed else "disputed"
        t.add(part)
        t.add(f"{part} writer@1", any(g in good for g in first))
        t.add(f"{part} writer@3", any(g in good for g in three))
        if not agreed:
            t.add("disputed second@1", b is not None and b in first)
    return t


def report(name: str, t: Tally) -> list[str]:
    def r(k: str, of: int | None = None) -> str:
        d = t.n if of is None else of
        return f"{t[k] / d:.3f}" if d else "-"

    a, d = t["agreed"], t["disputed"]
    return [
        f"== {name}: {t.n} in scope by the writer, {t['out']} out of scope",
        f"labellers agree: item and topic {r('agree')}, item {r('agree item')}, topic {r('agree topic')}; "
        f"second labeller files in scope {t['second in scope']} of {t.n}, out of scope {t['out agreed']} of {t['out']}",
        f"search hit@1: writer {r('writer@1')}, second labeller {r('second@1')}, either {r('either@1')}; "
        f"hit@3: writer {r('writer@3')}, either {r('either@3')}",
        f"on the {a} both file alike: hit@1 {r('agreed writer@1', a)}, hit@3 {r('agreed writer@3', a)}; "
        f"on the {d} they file apart: hit@1 writer {r('disputed writer@1', d)}, second {r('disputed second@1', d)}",
    ]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sets", default="", help="comma-separated set names (default: every set labelled twice)")
    args = ap.parse_args()

    from knowledge_base.faq.calibrate import blind_set, load_blind
    from knowledge_base.faq.embedders import make_embedder
    from knowledge_base.faq.query import FaqIndex
    from knowledge_base.settings import get_settings

    s = get_settings()
    idx = FaqIndex.load(s.index_dir, make_embedder(s, build=False))

    def search(q: str) -> list[Pair]:
        return [(h.item_code, h.topic) for h in idx.search(q, k=3, use_cache=False).hits]

    seconds = second_labels()
    names = [n for n in args.sets.split(",") if n] or list(seconds)
    pooled = Tally()
    for name in names:
        t = tally(search, load_blind(blind_set(name)), seconds[name])
        print("\n".join(report(name, t)), flush=True)
        pooled.merge(t)
    if len(names) > 1:
        print("\n".join(report("pooled", pooled)))


if __name__ == "__main__":
    main()
