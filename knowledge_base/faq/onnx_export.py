"""Build step: export the e5 sentence-transformers folder to ONNX once, so that
queries run on ``onnxruntime`` + ``tokenizers`` without importing torch.

    python -m knowledge_base.faq.cli build-onnx        (scripts/prepare.sh runs it)

Writes ``settings.cache_dir / "e5-small-onnx"`` (never committed):

- ``model-fp32.onnx``     the same weights, mean pooling and L2 normalisation in the graph
                          (traced on a *padded* batch: an unpadded trace builds another mask);
- ``model-int8.onnx``     dynamic int8 quantisation of every MatMul/Gather (unsigned, per channel);
- ``model-int8emb.onnx``  int8 of the word-embedding table (Gather) only;
- ``tokenizer.json``      the folder's tokenizer with its vocabulary cut to the pieces that
                          can match text in the scripts a Chinese FAQ sees (CJK, ASCII, Latin,
                          punctuation, symbols, emoji): the full 250k-piece Unigram holds
                          ~280 MB, the cut one a third of it.  Token ids are remapped to the
                          original ids (``id_map.npy``), so every kept piece reads the same
                          embedding row.  For text in those scripts the pieces are exactly the
                          full tokenizer's (a Unigram only matches pieces that occur in the
                          text); text in other scripts becomes ``<unk>`` pieces.
- ``STAMP``               what it was built from (the source folder's stamp): a changed source
                          model means a new export.

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
# Unicode blocks kept in the cut tokenizer (inclusive ranges).
KEPT_RANGES: tuple[tuple[int, int], ...] = (
    (0x0009, 0x000D), (0x0020, 0x007E),  # ASCII
    (0x00A0, 0x024F),  # Latin-1, Latin Extended-A/B (pinyin tone marks)
    (0x2000, 0x27BF),  # punctuation, letterlike, arrows, maths, enclosed numbers, boxes (incl. ▁), symbols
    (0x2E80, 0x33FF),  # CJK radicals, CJK symbols and punctuation, kana, bopomofo, enclosed CJK
    (0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF),  # CJK ideographs
    (0xFE10, 0xFE6F), (0xFF00, 0xFFEF),  # vertical/small forms, half- and full-width forms
    (0x1F000, 0x1FAFF),  # emoji
    (0x20000, 0x2FA1F),  # CJK extensions
)


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
    stamp = Path(out_dir) / "STAMP"
    return stamp.exists() and stamp.read_text().strip() == source_stamp(model_dir) and all(
        (Path(out_dir) / f).exists() for f in [*VARIANTS.values(), "tokenizer.json", "id_map.npy"])


def _kept(ch: str) -> bool:
    c = ord(ch)
    return any(a <= c <= b for a, b in KEPT_RANGES)


def cut_tokenizer(src: Path, dst_json: Path, dst_map: Path) -> int:
    """Write the cut tokenizer and the new-id -> original-id map; return the kept piece count."""
    import numpy as np

    raw = json.loads(Path(src).read_text(encoding="utf-8"))
    model = raw["model"]
    if model.get("type") != "Unigram":
        raise ValueError(f"expected a Unigram tokenizer in {src}, found {model.get('type')}")
    special = {t["id"] for t in raw.get("added_tokens", [])}
    keep_ids = [i for i, (piece, _) in enumerate(model["vocab"])
                if i in special or all(_kept(ch) for ch in piece)]
    new_of_old = {old: new for new, old in enumerate(keep_ids)}
    model = {**model, "vocab": [model["vocab"][i] for i in keep_ids], "unk_id": new_of_old[model["unk_id"]]}
    added = [{**t, "id": new_of_old[t["id"]]} for t in raw.get("added_tokens", [])]
    post = json.loads(json.dumps(raw.get("post_processor")))
    for tok in (post or {}).get("special_tokens", {}).values():  # TemplateProcessing ids
        tok["ids"] = [new_of_old[i] for i in tok["ids"]]
    out = {**raw, "model": model, "added_tokens": added, "post_processor": post}
    Path(dst_json).write_text(json.dumps(out, ensure_ascii=False), encoding="utf-8")
    np.save(dst_map, np.asarray(keep_ids, dtype=np.int64))
    return len(keep_ids)


def _export_fp32(model_dir: Path, path: Path) -> None:
    import torch
    from tokenizers import Tokenizer
    from transformers import AutoModel

    model = AutoModel.from_pretrained(str(model_dir), local_files_only=True)
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


def _quantize(src: Path, dst: Path, *, embedding_only: bool) -> None:
    from onnxruntime.quantization import QuantType, quantize_dynamic

    kwargs = {"op_types_to_quantize": ["Gather"]} if embedding_only else {}
    quantize_dynamic(str(src), str(dst), weight_type=QuantType.QUInt8, per_channel=True, **kwargs)


def export(model_dir: Path, out_dir: Path, *, force: bool = False, log=print) -> Path:
    """Export once per source model (``STAMP``); atomic: a half-written folder is never used."""
    model_dir, out_dir = Path(model_dir), Path(out_dir)
    if not force and is_current(out_dir, model_dir):
        return out_dir
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=out_dir.name + ".", dir=out_dir.parent))
    try:
        fp32 = tmp / VARIANTS["fp32"]
        log(f"[onnx] exporting {model_dir.name} (fp32) …")
        _export_fp32(model_dir, fp32)
        for name in os.listdir(tmp):  # external-data side files, if the exporter wrote any
            if name.endswith(".data"):
                raise RuntimeError("the exported model spilled into external data; expected one file")
        log("[onnx] quantising (int8, all weights) …")
        _quantize(fp32, tmp / VARIANTS["int8"], embedding_only=False)
        log("[onnx] quantising (int8, embedding table only) …")
        _quantize(fp32, tmp / VARIANTS["int8emb"], embedding_only=True)
        n = cut_tokenizer(model_dir / "tokenizer.json", tmp / "tokenizer.json", tmp / "id_map.npy")
        log(f"[onnx] tokenizer cut to {n} pieces")
        cfg = json.loads((model_dir / "config_sentence_transformers.json").read_text()) \
            if (model_dir / "config_sentence_transformers.json").exists() else {}
        (tmp / "onnx_config.json").write_text(json.dumps({
            "prefix": (cfg.get("prompts") or {}).get("query", "query: "), "max_length": 128,
            "source": str(model_dir), "variants": VARIANTS}, indent=2, ensure_ascii=False))
        (tmp / "STAMP").write_text(source_stamp(model_dir) + "\n")
        old = out_dir.with_name(out_dir.name + ".old")
        if out_dir.exists():
            shutil.rmtree(old, ignore_errors=True)
            out_dir.rename(old)
        tmp.rename(out_dir)
        shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out_dir


def ensure_onnx(settings, *, force: bool = False, log=print) -> Path:
    from knowledge_base.faq.convert_e5 import ensure_model

    return export(ensure_model(settings), default_onnx_dir(settings), force=force, log=log)
