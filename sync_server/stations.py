"""The station list as the server sees it: the registry, reloaded when it changes.

The office republishes by editing `site/stations.yml`; the server picks the change up
on the next request without a restart. A registry that fails to parse is logged and the
last good one stays in force, so a typo never starts rejecting citizens' records.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from minqing.registry import Registry, RegistryError, Station, load_registry

__all__ = ["StationBook"]

log = logging.getLogger("minqing.stations")


class StationBook:
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._stamp: tuple[int, int] | None = None
        self._registry: Registry = load_registry(self.path)
        self._stamp = self._current_stamp()

    def _current_stamp(self) -> tuple[int, int] | None:
        try:
            stat = os.stat(self.path)
        except FileNotFoundError:
            return None
        return (stat.st_mtime_ns, stat.st_size)

    @property
    def registry(self) -> Registry:
        stamp = self._current_stamp()
        if stamp is not None and stamp != self._stamp:
            self._stamp = stamp
            try:
                self._registry = load_registry(self.path)
            except RegistryError as exc:
                log.warning("keeping the previous station list: %s", exc)
        return self._registry

    def station(self, station_id: str) -> Station | None:
        return self.registry.station(station_id)
