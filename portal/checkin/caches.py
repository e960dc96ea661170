"""What the door keeps in memory per app (on `app.state.checkin`, never at module level): the places a scan
is for, and the devices behind bearer tokens, each looked up at most so often. Scanners send a scan a second,
and both barely ever change."""

from __future__ import annotations

import threading
import time

from sqlalchemy.orm import Session

from portal.checkin import devices
from portal.checkin.devices import DevicePrincipal
from portal.checkin.scans import Place, place_for


class PlaceCache:
    """Places looked up at most every `ttl` seconds per worker: the door's window barely ever changes, and this
    takes a query off every scan."""

    def __init__(self, ttl: float = 30.0) -> None:
        self.ttl = ttl
        self._lock = threading.Lock()
        self._places: dict[tuple[int, int | None], tuple[float, Place]] = {}

    def get(self, session: Session, *, event_id: int, workshop_id: int | None) -> Place:
        now = time.monotonic()
        with self._lock:
            hit = self._places.get((event_id, workshop_id))
        if hit is not None and hit[0] > now:
            return hit[1]
        place = place_for(session, event_id=event_id, workshop_id=workshop_id)
        with self._lock:
            self._places[(event_id, workshop_id)] = (now + self.ttl, place)
        return place

    def clear(self) -> None:
        with self._lock:
            self._places.clear()


class DoorState:
    """What the check-in routes keep per app (on `app.state.checkin`): the place cache and the device cache.
    Both are read through the request's own session; nothing here writes."""

    #: How long a device token's look-up is trusted. A revocation applies at once in the process that made
    #: it (the cache is emptied) and within this long in any other worker.
    DEVICE_TTL = 5.0
    DEVICE_CACHE_SIZE = 1000

    def __init__(self) -> None:
        self.places = PlaceCache()
        self._devices: dict[str, tuple[float, DevicePrincipal | None]] = {}
        self._devices_lock = threading.Lock()

    def device(self, session: Session, *, token: str, key: bytes) -> DevicePrincipal | None:
        """The device holding `token` (see `devices.load_device`), looked up at most every DEVICE_TTL seconds."""
        digest = devices.digest_of(token, key=key)
        if digest is None:
            return None
        now = time.monotonic()
        with self._devices_lock:
            hit = self._devices.get(digest)
        if hit is not None and hit[0] > now:
            return hit[1]
        found = devices.by_digest(session, digest)
        with self._devices_lock:
            if len(self._devices) >= self.DEVICE_CACHE_SIZE:
                self._devices.clear()
            self._devices[digest] = (now + self.DEVICE_TTL, found)
        return found

    def forget_devices(self) -> None:
        with self._devices_lock:
            self._devices.clear()
