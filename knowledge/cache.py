"""Vectors of phrasings already embedded, so a rebuild after one edit embeds only what changed."""

import json
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from knowledge.embedder import Embedder, Vectors

Progress = Callable[[int, int], None]
BATCH = 256
PHRASINGS = "phrasings.json"
VECTORS = "vectors.npy"


class EmbeddingCache:
    """An `Embedder` for phrasings that remembers every vector it produced.

    Queries should go to the embedder itself: they are rarely asked twice and would only fill it.
    """

    def __init__(self, embedder: Embedder) -> None:
        self._embedder = embedder
        self.dimension = embedder.dimension
        self._vectors: dict[str, np.ndarray] = {}
        # Rebuilds and previews run in worker threads; one at a time may change the cache.
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._vectors)

    def encode(self, texts: Sequence[str], progress: Progress | None = None) -> Vectors:
        with self._lock:
            return self._encode(texts, progress)

    def _encode(self, texts: Sequence[str], progress: Progress | None) -> Vectors:
        missing = list(dict.fromkeys(t for t in texts if t not in self._vectors))
        for start in range(0, len(missing), BATCH):
            batch = missing[start : start + BATCH]
            for text, vector in zip(batch, self._embedder.encode(batch), strict=True):
                self._vectors[text] = vector
            if progress is not None:
                progress(min(start + BATCH, len(missing)), len(missing))
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return np.stack([self._vectors[t] for t in texts]).astype(np.float32, copy=False)

    def keep_only(self, texts: Sequence[str]) -> None:
        """Forget vectors of phrasings no longer used, so the cache does not grow forever."""
        wanted = set(texts)
        with self._lock:
            self._vectors = {t: v for t, v in self._vectors.items() if t in wanted}

    def save(self, directory: Path) -> None:
        """Write the phrasings (JSON) and their vectors (NumPy), each replaced whole."""
        with self._lock:
            texts = list(self._vectors)
            vectors = (
                np.stack([self._vectors[t] for t in texts]) if texts else np.zeros((0, self.dimension), np.float32)
            )
        directory.mkdir(parents=True, exist_ok=True)
        vectors_partial = directory / f".{VECTORS}.partial"
        with vectors_partial.open("wb") as handle:
            np.save(handle, vectors, allow_pickle=False)
        texts_partial = directory / f".{PHRASINGS}.partial"
        texts_partial.write_text(json.dumps({"model": self._embedder.model, "phrasings": texts}))
        # A crash between these two leaves files that disagree in length, which `load` ignores.
        vectors_partial.replace(directory / VECTORS)
        texts_partial.replace(directory / PHRASINGS)

    def load(self, directory: Path) -> None:
        """Take in what `save` wrote; a missing, partial or mismatched cache is ignored, and so is
        one another model made (after `carebridge kb tune`, say)."""
        try:
            kept = json.loads((directory / PHRASINGS).read_text())
            vectors = np.load(directory / VECTORS, allow_pickle=False)
            model, texts = kept["model"], kept["phrasings"]
        except (OSError, ValueError, KeyError, TypeError):
            return
        if model != self._embedder.model or vectors.shape != (len(texts), self.dimension):
            return
        self._vectors.update(zip(texts, vectors, strict=True))
