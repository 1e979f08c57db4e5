"""The ONNX export gives the same embeddings as sentence-transformers, which the thresholds were set with."""

import numpy as np

from knowledge import MiniLMEmbedder, OnnxEmbedder

SENTENCES = [
    "Where is my parcel?",
    "hi",
    "Can I return a tent I have used once, if the zip broke after a weekend of heavy rain in the mountains?",
    " ".join(["very long question"] * 120),
]


def test_onnx_embeddings_match_sentence_transformers(embedder: OnnxEmbedder) -> None:
    reference = MiniLMEmbedder().encode(SENTENCES)

    ours = embedder.encode(SENTENCES)

    assert ours.shape == (4, 384) and ours.dtype == np.float32
    assert np.allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)
    assert (ours * reference).sum(axis=1).min() > 0.9999


def test_batches_give_the_same_vectors_as_one_at_a_time(embedder: OnnxEmbedder) -> None:
    together = embedder.encode(SENTENCES)
    alone = np.vstack([embedder.encode([s]) for s in SENTENCES])

    assert np.allclose(together, alone, atol=1e-5)
