"""Headless sub-commands; every module here with a `register(subparsers)` is picked up by cli.py."""
