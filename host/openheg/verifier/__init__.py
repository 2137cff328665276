"""The regulator's verifier service: `openheg verifier serve` (app.py), its
configuration (config.py) and its results as EAR (ear.py). docs/verifier.md
describes the API; docs/verifier-openapi.json is its OpenAPI document."""
