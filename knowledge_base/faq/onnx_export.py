"""Build step: export the e5 sentence-transformers folder to ONNX once, so that
queries run on ``onnxruntime`` + ``tokenizers`` without importing torch.

    python -m knowledge_base.faq.cli build-onnx        (scripts/prepare.sh runs it)

Writes ``settings.cache_dir / "e5-small-onnx"`` (never committed):

- ``model-fp32.onnx``     the same weights, mean pooling and L2 normalisation in the graph
                          (traced on a *padded* batch: an unpadded trace builds another mask),
                          the word-embedding table cut to the rows of the tokenizer's kept
                          pieces (below): 104k of 250k rows, the other rows can never be read;
                          traced with the eager attention so that onnxruntime's transformer
                          optimiser fuses each layer (Attention, SkipLayerNormalization,
                          BiasGelu, EmbedLayerNormalization: ~270 nodes instead of ~1,570;
                          the SDPA trace's masking ops block the fusion).  With fewer, larger
                          kernels a second intra-op thread pays off (one query: ~8.5 → ~7 ms
                          on 2 cores, benchmarks/bench_faq.py);
- ``model-int8.onnx``     dynamic int8 quantisation of the fused graph's MatMuls and attention
                          (signed 7-bit weights, per channel: see ``_quantize``);
- ``model-int8emb.onnx``  int8 of the word-embedding table (Gather) only, quantised before the
                          fusion (the fused graph has no Gather left to quantise);
- ``tokenizer.json``      the folder's tokenizer with its vocabulary cut to the pieces that
                          can match text in the scripts a Chinese FAQ sees (CJK, ASCII,
                          punctuation, common signs): the full 250k-piece Unigram holds
                          ~280 MB, the cut one ~80 MB.  Piece i of the cut tokenizer is row i
                          of the cut table.  For text in those scripts the pieces are exactly
                          the full tokenizer's (a Unigram only matches pieces that occur in the
                          text) and so is the vector; other scripts become ``<unk>`` pieces.
- ``STAMP``, ``EXPORT_VERSION``  the source folder's stamp and this exporter's version: a changed
                          source model or exporter means a new export (and new index vectors).

The model source stays the sentence-transformers folder built by ``convert_e5.py``.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path

ONNX_DIRNAME = "e5-small-onnx"
VARIANTS: dict[str, str] = {
    "fp32": "model-fp32.onnx",
    "int8": "model-int8.onnx",
    "int8emb": "model-int8emb.onnx",
}
# Unicode blocks kept in the cut tokenizer (inclusive ranges): what Chinese questions and
# answers are written in.  Pieces with any other character (accented Latin, Cyrillic, Arabic,
# emoji …) are left out: ~80 MB instead of ~280.
KEPT_RANGES: tuple[tuple[int, int], ...] = (
    (0x0009, 0x000D), (0x0020, 0x007E),  # ASCII
    (0x00A0, 0x00BF), (0x00D7, 0x00D7), (0x00F7, 0x00F7),  # Latin-1 signs (° · × ÷), not accented letters
    (0x2000, 0x27BF),  # punctuation, letterlike (℃ №), numerals (Ⅱ), arrows, maths, ①, boxes, ▁, symbols
    (0x2E80, 0x2FDF),  # CJK and Kangxi radicals
    (0x3000, 0x33FF),  # CJK symbols and punctuation, kana, bopomofo, enclosed CJK, CJK compatibility
    (0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF),  # CJK ideographs
    (0xFE30, 0xFE4F), (0xFF00, 0xFFEF),  # CJK compatibility forms, half- and full-width forms
)
EXPORT_VERSION = "6"  # bump when the export changes; the source model's stamp names the vectors


def default_onnx_dir(settings) -> Path:
    return Path(settings.cache_dir) / ONNX_DIRNAME


def source_stamp(model_dir: Path) -> str:
    """Identifies the source folder: config, tokenizer and weight file size."""
    model_dir = Path(model_dir)
    h = hashlib.sha1()
    for name in ("config.json", "tokenizer.json"):
        p = model_dir / name
        h.update(p.read_bytes() if p.exists() else b"")
    weights = model_dir / "model.safetensors"
    h.update(str(weights.stat().st_size if weights.exists() else 0).encode())
    return h.hexdigest()[:12]


def is_current(out_dir: Path, model_dir: Path) -> bool:
    out_dir = Path(out_dir)
    stamp, version = out_dir / "STAMP", out_dir / "EXPORT_VERSION"
    return stamp.exists() and stamp.read_text().strip() == source_stamp(model_dir) and version.exists() \
        and version.read_text().strip() == EXPORT_VERSION and all(
            (out_dir / f).exists() for f in [*VARIANTS.values(), "tokenizer.json"])


def _kept(ch: str) -> bool:
    c = ord(ch)
    return any(a <= c <= b for a, b in KEPT_RANGES)


def cut_tokenizer(src: Path, dst_json: Path) -> list[int]:
    """Write the cut tokenizer (piece i = original piece keep[i]); return ``keep``."""
    raw = json.loads(Path(src).read_text(encoding="utf-8"))
    model = raw["model"]
    if model.get("type") != "Unigram":
        raise ValueError(f"expected a Unigram tokenizer in {src}, found {model.get('type')}")
    special = {t["id"] for t in raw.get("added_tokens", [])}
    keep = [i for i, (piece, _) in enumerate(model["vocab"]) if i in special or all(_kept(ch) for ch in piece)]
    new_of_old = {old: new for new, old in enumerate(keep)}
    model = {**model, "vocab": [model["vocab"][i] for i in keep], "unk_id": new_of_old[model["unk_id"]]}
    added = [{**t, "id": new_of_old[t["id"]]} for t in raw.get("added_tokens", [])]
    post = json.loads(json.dumps(raw.get("post_processor")))
    for tok in (post or {}).get("special_tokens", {}).values():  # TemplateProcessing ids
        tok["ids"] = [new_of_old[i] for i in tok["ids"]]
    out = {**raw, "model": model, "added_tokens": added, "post_processor": post}
    Path(dst_json).write_text(json.dumps(out, ensure_ascii=False), encoding="utf-8")
    return keep


def _cut_embeddings(path: Path, keep: list[int]) -> None:
    """Keep only the word-embedding rows of the kept pieces (row i = piece i of the cut tokenizer)."""
    import numpy as np
    import onnx
    from onnx import numpy_helper

    model = onnx.load(str(path))
    table = next(i for i in model.graph.initializer if i.name.endswith("word_embeddings.weight"))
    rows = numpy_helper.to_array(table)[np.asarray(keep, dtype=np.int64)]
    table.CopyFrom(numpy_helper.from_array(np.ascontiguousarray(rows), table.name))
    onnx.save(model, str(path))


def _export_fp32(model_dir: Path, path: Path) -> None:
    import torch
    from tokenizers import Tokenizer
    from transformers import AutoModel

    # eager attention: the graph onnxruntime's BERT optimiser recognises (see the module text)
    model = AutoModel.from_pretrained(str(model_dir), local_files_only=True, attn_implementation="eager")
    model.eval()

    class Pooled(torch.nn.Module):
        def __init__(self, bert):
            super().__init__()
            self.bert = bert

        def forward(self, input_ids, attention_mask):
            hidden = self.bert(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(pooled, p=2.0, dim=1)

    tok = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    pad_id = tok.token_to_id("<pad>")
    tok.enable_padding(pad_id=pad_id, pad_token="<pad>")
    enc = tok.encode_batch(["query: 开饭店要办什么证", "query: 食品经营许可证多久能办下来，要准备哪些材料？"])
    ids = torch.tensor([e.ids for e in enc], dtype=torch.long)
    mask = torch.tensor([e.attention_mask for e in enc], dtype=torch.long)
    assert int(mask.sum(1).min()) < ids.shape[1], "trace on a padded batch"
    with torch.inference_mode():
        torch.onnx.export(
            Pooled(model), (ids, mask), str(path), input_names=["input_ids", "attention_mask"],
            output_names=["embedding"], opset_version=17, dynamo=False, do_constant_folding=True,
            dynamic_axes={"input_ids": {0: "batch", 1: "seq"}, "attention_mask": {0: "batch", 1: "seq"},
                          "embedding": {0: "batch"}},
        )


def _fuse(src: Path, dst: Path, model_dir: Path) -> dict:
    """onnxruntime's BERT optimiser over the traced graph; returns the fused operator counts.
    Fails if a layer did not fuse (a changed trace would silently lose the speed-up)."""
    from onnxruntime.transformers import optimizer

    cfg = json.loads((Path(model_dir) / "config.json").read_text(encoding="utf-8"))
    layers = int(cfg["num_hidden_layers"])
    opt = optimizer.optimize_model(str(src), model_type="bert", num_heads=int(cfg["num_attention_heads"]),
                                   hidden_size=int(cfg["hidden_size"]), opt_level=1)
    stats = {k: v for k, v in opt.get_fused_operator_statistics().items() if v}
    if stats.get("Attention", 0) != layers or stats.get("SkipLayerNormalization", 0) != 2 * layers:
        raise RuntimeError(f"the transformer optimiser fused {stats}, expected {layers} layers")
    opt.save_model_to_file(str(dst))
    return stats


def _quantize(src: Path, dst: Path, *, embedding_only: bool) -> None:
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    if embedding_only:
        kwargs = {"op_types_to_quantize": ["Gather"], "weight_type": QuantType.QUInt8}
    else:
        # signed 7-bit weights: onnxruntime's u8·s8 kernels on AVX2 (without VNNI) take ~30 % less
        # time per query than u8·u8 (benchmarks/bench_faq.py), and the reduced range keeps their
        # 16-bit pair sums from saturating; cosine to fp32 stays ≥ 0.995
        kwargs = {"weight_type": QuantType.QInt8, "reduce_range": True}
    # fused operators (com.microsoft domain) leave shape inference without types: outputs are float
    quantize_dynamic(str(src), str(dst), per_channel=True,
                     extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT}, **kwargs)


def export(model_dir: Path, out_dir: Path, *, force: bool = False, log=print) -> Path:
    """Export once per source model (``STAMP``); atomic: a half-written folder is never used."""
    model_dir, out_dir = Path(model_dir), Path(out_dir)
    if not force and is_current(out_dir, model_dir):
        return out_dir
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=out_dir.name + ".", dir=out_dir.parent))
    try:
        traced, fp32 = tmp / "traced.onnx", tmp / VARIANTS["fp32"]
        log(f"[onnx] exporting {model_dir.name} (fp32) …")
        _export_fp32(model_dir, traced)
        for name in os.listdir(tmp):  # external-data side files, if the exporter wrote any
            if name.endswith(".data"):
                raise RuntimeError("the exported model spilled into external data; expected one file")
        keep = cut_tokenizer(model_dir / "tokenizer.json", tmp / "tokenizer.json")
        _cut_embeddings(traced, keep)
        log(f"[onnx] tokenizer and embedding table cut to {len(keep)} pieces")
        log("[onnx] quantising (int8, embedding table only) …")
        _quantize(traced, tmp / VARIANTS["int8emb"], embedding_only=True)
        stats = _fuse(traced, fp32, model_dir)
        traced.unlink()
        log(f"[onnx] layers fused: {stats}")
        log("[onnx] quantising (int8, all weights) …")
        _quantize(fp32, tmp / VARIANTS["int8"], embedding_only=False)
        cfg = json.loads((model_dir / "config_sentence_transformers.json").read_text()) \
            if (model_dir / "config_sentence_transformers.json").exists() else {}
        (tmp / "onnx_config.json").write_text(json.dumps({
            "prefix": (cfg.get("prompts") or {}).get("query", "query: "), "max_length": 128,
            "source": str(model_dir), "variants": VARIANTS}, indent=2, ensure_ascii=False))
        (tmp / "STAMP").write_text(source_stamp(model_dir) + "\n")
        (tmp / "EXPORT_VERSION").write_text(EXPORT_VERSION + "\n")
        _swap(tmp, out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out_dir


def _swap(tmp: Path, out_dir: Path) -> None:
    old = out_dir.with_name(out_dir.name + ".old")
    if out_dir.exists():
        shutil.rmtree(old, ignore_errors=True)
        out_dir.rename(old)
    tmp.rename(out_dir)
    shutil.rmtree(old, ignore_errors=True)


def ensure_onnx(settings, *, force: bool = False, log=print) -> Path:
    from knowledge_base.faq.convert_e5 import ensure_model

    return export(ensure_model(settings), default_onnx_dir(settings), force=force, log=log)
