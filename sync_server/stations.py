"""The station list as the server sees it: the registry, reloaded when it changes.

The office republishes by editing `site/stations.yml`; the server picks the change up
on the next request without a restart. A registry that fails to parse is logged and the
last good one stays in force, so a typo never starts rejecting citizens' records.
"""

from __future__ import annotations

import logging
from pathlib import Path

from minqing.registry import Registry, RegistryError, Station, load_registry
from sync_server.filestamp import FileStamp, file_stamp

__all__ = ["StationBook"]

log = logging.getLogger("minqing.stations")


class StationBook:
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._stamp: FileStamp | None = None
        self._registry: Registry = load_registry(self.path)
        self._stamp = file_stamp(self.path)

    @property
    def registry(self) -> Registry:
        stamp = file_stamp(self.path)
        if stamp is not None and stamp != self._stamp:
            self._stamp = stamp
            try:
                self._registry = load_registry(self.path)
            except RegistryError as exc:
                log.warning("keeping the previous station list: %s", exc)
        return self._registry

    def station(self, station_id: str) -> Station | None:
        return self.registry.station(station_id)
