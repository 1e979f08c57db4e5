"""An intent classifier for a few dozen examples per intent: logistic regression over the MiniLM
sentence embedding, with the words (and regex flags) as a lighter second voice.

DIET learns its own representation and needs more examples than a care team writes; on our data a
linear model over good sentence embeddings generalises better (`carebridge bench nlu`). This is
Rasa's own `LogisticRegressionClassifier` with two knobs it lacks: the regularisation `C` (its fixed
1.0 leaves every confidence under the fallback threshold) and the weight of the sparse features next
to the dense ones.
"""

from typing import Any, Dict, List, Text

from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.logistic_regression_classifier import LogisticRegressionClassifier
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from scipy.sparse import csr_matrix, hstack, vstack


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class SentenceIntentClassifier(LogisticRegressionClassifier):
    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {**LogisticRegressionClassifier.get_default_config(), "C": 20.0, "sparse_weight": 0.15, "max_iter": 3000}

    def __init__(
        self, config: Dict[Text, Any], name: Text, model_storage: ModelStorage, resource: Resource
    ) -> None:
        super().__init__(config, name, model_storage, resource)
        self.clf.set_params(C=float(self.config["C"]))

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "SentenceIntentClassifier":
        return cls(config, execution_context.node_name, model_storage, resource)

    def _create_X(self, messages: List[Message]) -> csr_matrix:
        rows = []
        for message in messages:
            sparse = message.get_sparse_features(attribute=TEXT)[1]
            dense = message.get_dense_features(attribute=TEXT)[1]
            parts = []
            if dense is not None:
                parts.append(csr_matrix(dense.features))
            if sparse is not None:
                parts.append(csr_matrix(sparse.features) * float(self.config["sparse_weight"]))
            rows.append(hstack(parts))
        return vstack(rows).tocsr()
