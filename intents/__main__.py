"""`python -m intents`: builds (or finds) the cached intent model; `make install` runs it."""

from __future__ import annotations

import time

from intents.classifier import load_classifier, model_dir

began = time.perf_counter()
load_classifier()
print(f"intent model ready in {model_dir()} ({time.perf_counter() - began:.1f} s)")
