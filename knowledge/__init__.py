"""The knowledge base: FAQ articles, their embeddings, and the search the bot answers from.

A library: it imports nothing from `app/` and knows no web framework.
"""

from knowledge.articles import LIMITS, Article, InvalidArticle, Limits
from knowledge.cache import EmbeddingCache
from knowledge.embedder import Embedder, MiniLMEmbedder, Vectors
from knowledge.index import KnowledgeIndex, Match, phrasings_of, top_answer
from knowledge.onnx import OnnxEmbedder

__all__ = [
    "LIMITS",
    "Article",
    "Embedder",
    "EmbeddingCache",
    "InvalidArticle",
    "KnowledgeIndex",
    "Limits",
    "Match",
    "MiniLMEmbedder",
    "OnnxEmbedder",
    "Vectors",
    "phrasings_of",
    "top_answer",
]
