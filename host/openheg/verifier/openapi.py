"""Write or check docs/verifier-openapi.json, the service's OpenAPI document.

Run: python -m openheg.verifier.openapi --write   (make generate)
     python -m openheg.verifier.openapi --check   (make check-generated)
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

from .app import create_app
from .config import VerifierConfig

DOCUMENT = Path(__file__).resolve().parents[3] / "docs" / "verifier-openapi.json"


def document() -> str:
    # The document depends on the routes only; the app still needs a ledger,
    # so it gets a throwaway one.
    with tempfile.TemporaryDirectory() as home:
        app = create_app(VerifierConfig.load(Path(home)))
        text = json.dumps(app.openapi(), indent=1, sort_keys=True) + "\n"
        app.state.verifier.ledger.close()
    return text


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true")
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args()
    text = document()
    if args.write:
        DOCUMENT.write_text(text)
        print(f"wrote {DOCUMENT}")
        return 0
    if args.check and (not DOCUMENT.exists() or DOCUMENT.read_text() != text):
        print(f"{DOCUMENT} is stale: run `make generate`", file=sys.stderr)
        return 1
    if not args.check:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
