"""A fresh process holding one knowledge index and its model, for `bench kb` to read its memory.

    python -m bench.kb_memory carebridge|plain ARTICLES.jsonl VECTORS.npy QUESTIONS.json MODEL.onnx

Loads the articles and their precomputed vectors, builds the index as the service would (or the
baseline's flat index), answers the questions one at a time, and prints its resident memory.
"""

import json
import sys
from pathlib import Path

import numpy as np


def resident_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


def main(kind: str, articles_file: Path, vectors_file: Path, questions_file: Path, model: Path) -> None:
    from knowledge import formats

    articles = [row.article for row in formats.read(articles_file) if row.article is not None]
    vectors = np.load(vectors_file)
    questions = json.loads(questions_file.read_text())
    if kind == "carebridge":
        from knowledge import KnowledgeIndex, OnnxEmbedder

        embedder = OnnxEmbedder(model)
        index = KnowledgeIndex(embedder, articles, vectors)
        del vectors
        for question in questions:
            index.search(question, 3)
    else:
        import faiss

        from knowledge import MiniLMEmbedder

        plain = MiniLMEmbedder()
        flat = faiss.IndexFlatIP(plain.dimension)
        flat.add(vectors)
        del vectors
        for question in questions:
            flat.search(plain.encode([question]), 1)
    print(json.dumps({"kind": kind, "rss_mb": round(resident_mb(), 1)}))


if __name__ == "__main__":
    main(sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3]), Path(sys.argv[4]), Path(sys.argv[5]))
