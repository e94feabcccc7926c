"""Command line: python -m colorcore {colorize,models,train,gamut,...}."""
from .cli import main

raise SystemExit(main())
