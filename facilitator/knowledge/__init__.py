"""The program's guidance as a searchable knowledge base: ingest, chunk, embed, index, search."""

from facilitator.knowledge.bank import ChallengePattern, ChallengePatterns, QuestionBank, QuestionEntry
from facilitator.knowledge.index import IngestReport, KnowledgeBase

__all__ = [
    "ChallengePattern",
    "ChallengePatterns",
    "IngestReport",
    "KnowledgeBase",
    "QuestionBank",
    "QuestionEntry",
]
