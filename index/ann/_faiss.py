"""FAISS, typed as ``Any``: its bundled stubs lack SearchParametersHNSW and the ``sel`` keyword."""

from typing import Any

import faiss as _faiss

faiss: Any = _faiss
