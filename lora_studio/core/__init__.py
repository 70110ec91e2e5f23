"""Pure domain layer: no Qt import anywhere below this package (tests/test_layering.py)."""
