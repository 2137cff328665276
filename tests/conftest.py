import sys
from pathlib import Path

# Shared test helpers (vector loaders) live beside the tests.
sys.path.insert(0, str(Path(__file__).resolve().parent))
