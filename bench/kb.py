"""`carebridge bench kb`: how fast and how lean the knowledge search is, one question at a time.

Knowledge bases of 1,000, 10,000 and 100,000 phrasings: BANKING77's articles, then CLINC150's
intents, then made-up articles (sentences of the two data sets with their words shuffled) until the
size is reached. Questions: BANKING77's held-out examples. For each size:

- Carebridge: all-MiniLM-L6-v2 through ONNX Runtime (one thread), an exact index up to 20,000
  phrasings and a graph over 8-bit vectors beyond, scored over several phrasings per article;
- baseline: sentence-transformers `encode` and a flat FAISS inner-product index, nearest phrasing wins.

Each is measured the same way: p50 and p99 of embedding plus search per question, the time to build
the index from nothing (embedding every phrasing included), the resident memory of a fresh process
holding the index and the model after answering questions (`bench/kb_memory.py`), and top-1
accuracy on BANKING77's questions.
"""

import json
import random
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import faiss
import numpy as np

from app.core.settings import get_settings
from bench.kb_quality import DataMissing, banking77, clinc150, slug_of
from bench.report import Measure, Report, percentile
from knowledge import Article, KnowledgeIndex, MiniLMEmbedder, OnnxEmbedder, formats, onnx

SIZES = (1_000, 10_000, 100_000)
TIMED_QUESTIONS = 300


def corpus(size: int, data: Path, rng: random.Random) -> list[Article]:
    """Articles with `size` phrasings in all (titles count), BANKING77's first."""
    clinc = clinc150(data)
    banking = banking77(data, clinc.out_of_scope)
    built: list[Article] = []
    total = 0
    per_intent = None if size > 8_200 else max(1, size // len(banking.examples) - 1)
    for intent, texts in sorted(banking.examples.items()):
        chosen = tuple(texts if per_intent is None else texts[:per_intent])
        built.append(Article(slug=slug_of(intent), title=intent.replace("_", " "), questions=chosen, answer=intent))
        total += len(chosen) + 1
    for intent, texts in sorted(clinc.examples.items()):
        if total >= size:
            break
        chosen = tuple(texts[: size - total - 1]) or (texts[0],)
        built.append(Article(slug=f"clinc-{slug_of(intent)}", title=intent, questions=chosen, answer=intent))
        total += len(chosen) + 1
    words = [w for texts in clinc.examples.values() for t in texts for w in t.split()]
    made_up = 0
    while total < size:
        count = min(9, size - total - 1) or 1
        questions = tuple(" ".join(rng.sample(words, rng.randint(4, 12))) for _ in range(count))
        built.append(Article(slug=f"made-up-{made_up}", title=f"made up {made_up}", questions=questions, answer="x"))
        made_up += 1
        total += count + 1
    return built


def memory_of(kind: str, articles_file: Path, vectors_file: Path, questions_file: Path, model: Path) -> float:
    """Resident memory (MB) of a fresh process that loads the index and answers the questions."""
    files = [str(articles_file), str(vectors_file), str(questions_file), str(model)]
    done = subprocess.run(
        [sys.executable, "-m", "bench.kb_memory", kind, *files],
        capture_output=True,
        text=True,
        check=True,
    )
    rss: float = json.loads(done.stdout.strip().splitlines()[-1])["rss_mb"]
    return rss


def measure_size(size: int, data: Path, report: Report, scratch: Path) -> None:
    settings = get_settings()
    rng = random.Random(size)
    articles = corpus(size, data, rng)
    phrasings = [p for a in articles for p in a.phrasings]
    banking = banking77(data, [])
    questions = [text for text, _ in banking.in_scope]
    expected = [slug_of(intent) for _, intent in banking.in_scope]
    timed = random.Random(1).sample(range(len(questions)), TIMED_QUESTIONS)

    fast = OnnxEmbedder(onnx.prepared(settings.embedding_model_dir), threads=2)
    started = time.perf_counter()
    vectors = fast.encode(phrasings)
    index = KnowledgeIndex(fast, articles, vectors)
    ours_build = time.perf_counter() - started
    one_thread = OnnxEmbedder(onnx.prepared(settings.embedding_model_dir), threads=1)
    ours_times = []
    for i in timed:
        started = time.perf_counter()
        index.search_vectors(one_thread.encode([questions[i]]), limit=3)
        ours_times.append(time.perf_counter() - started)
    ours_found = [m[0].article.slug for m in index.search_vectors(fast.encode(questions), limit=1)]

    plain = MiniLMEmbedder()
    started = time.perf_counter()
    plain_vectors = plain.encode(phrasings)
    flat = faiss.IndexFlatIP(plain.dimension)
    flat.add(plain_vectors)
    plain_build = time.perf_counter() - started
    owner = np.array([position for position, a in enumerate(articles) for _ in a.phrasings])
    plain_times = []
    for i in timed:
        started = time.perf_counter()
        flat.search(plain.encode([questions[i]]), 1)
        plain_times.append(time.perf_counter() - started)
    _, nearest = flat.search(plain.encode(questions), 1)
    plain_found = [articles[owner[row]].slug for row in nearest[:, 0]]

    # One article edited (a new phrasing, a new answer): how long until the change is searchable.
    known = dict(zip(phrasings, vectors, strict=True))

    def vectors_of(texts: list[str]) -> np.ndarray:
        missing = [t for t in texts if t not in known]
        if missing:
            known.update(zip(missing, one_thread.encode(missing), strict=True))
        return np.stack([known[t] for t in texts]) if texts else np.zeros((0, one_thread.dimension), np.float32)

    edited = replace(articles[0], answer="changed", questions=(*articles[0].questions, "a new way to ask"), version=2)
    started = time.perf_counter()
    changed = index.updated([edited, *articles[1:]], vectors_of)
    change_found = changed.search_vectors(one_thread.encode(["a new way to ask"]), 1)[0][0].article == edited
    ours_change = time.perf_counter() - started
    started = time.perf_counter()
    rebuilt = faiss.IndexFlatIP(plain.dimension)
    rebuilt.add(np.vstack([plain_vectors, plain.encode(["a new way to ask"])]))
    plain_change = time.perf_counter() - started

    articles_file = scratch / f"articles-{size}.jsonl"
    formats.write(articles_file, [(a, "published") for a in articles], "jsonl")
    np.save(scratch / f"vectors-{size}.npy", vectors)
    questions_file = scratch / "questions.json"
    questions_file.write_text(json.dumps([questions[i] for i in timed[:50]]))
    model = onnx.prepared(settings.embedding_model_dir)
    ours_memory = memory_of("carebridge", articles_file, scratch / f"vectors-{size}.npy", questions_file, model)
    plain_memory = memory_of("plain", articles_file, scratch / f"vectors-{size}.npy", questions_file, model)

    def top1(found: list[str]) -> float:
        return 100 * sum(f == e for f, e in zip(found, expected, strict=True)) / len(expected)

    label = f"{size:,} phrasings"
    report.measures += [
        Measure(
            f"{label}: p50 embed + search", "ms", percentile(ours_times, 50) * 1000, percentile(plain_times, 50) * 1000
        ),
        Measure(
            f"{label}: p99 embed + search", "ms", percentile(ours_times, 99) * 1000, percentile(plain_times, 99) * 1000
        ),
        Measure(f"{label}: build (embedding included)", "s", ours_build, plain_build),
        Measure(f"{label}: one article edited, searchable after", "s", ours_change, plain_change),
        Measure(f"{label}: resident memory", "MB", ours_memory, plain_memory),
        Measure(f"{label}: top-1 accuracy", "%", top1(ours_found), top1(plain_found), "higher"),
    ]
    report.notes.append(
        f"{label}: {'exact' if index.exact else 'graph (HNSW, 8-bit)'} index, {len(articles):,} articles; "
        f"the edit was {'found' if change_found else 'NOT found'} right after"
    )


def run() -> Report:
    data = get_settings().evaluation_data_dir
    if not (data / "banking77" / "train.csv").exists():
        raise DataMissing(f"bench kb needs the public data sets in {data} (see its README); they are not here")
    report = Report(
        subject="kb",
        description="one question at a time: ONNX MiniLM + scored index vs sentence-transformers + flat FAISS",
        baseline_name="sentence-transformers + IndexFlatIP",
    )
    with tempfile.TemporaryDirectory() as scratch:
        for size in SIZES:
            measure_size(size, data, report, Path(scratch))
    report.notes.append("targets at 100,000 phrasings: p50 <= 8 ms, memory <= 300 MB, top-1 at most 0.5 points below")
    return report
