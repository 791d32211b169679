"""The `minqing` command line, one module per command group; `command.py` puts them
together. `main` is here so the console script (`sync_server.cli:main`) stays the one
every install since the first has used."""

from sync_server.cli.command import main

__all__ = ["main"]
