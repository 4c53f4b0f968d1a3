"""comentor: an AI facilitator for co-mentoring sessions.

The engine lives here; the shells (the web app `ui.app`, the terminal `ui.cli`) and the evals (`evals`)
are thin shells over it.
Heavy modules (Chroma, torch, LangChain) are imported lazily by the parts that need them.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
