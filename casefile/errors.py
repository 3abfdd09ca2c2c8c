"""The store's errors. Every message is written for a search coordinator.

``StoreError`` is the base; pages may catch it to show ``str(err)`` as it is.
Bad input also subclasses :class:`geo.InputError` (a ``ValueError``), so one
``except InputError`` handles bad coordinates from ``geo`` and from the store.
"""

from __future__ import annotations

from datetime import datetime

from casefile.timefmt import format_london
from geo.errors import InputError

#: what every revoked, expired or unknown private link says
LINK_GONE = "This link no longer works. Ask the coordinator who sent it for a new one."


class StoreError(Exception):
    """Something the store refused or could not do; nothing was written."""


class InvalidInput(StoreError, InputError):
    """A value a user typed or drew cannot be stored as it is (nothing was written)."""


class PermissionDenied(StoreError):
    """The actor may not do this (wrong role, not on this case, or no actor at all)."""


class LinkGone(PermissionDenied):
    """The link is revoked, expired or unknown (one message for all three)."""

    def __init__(self) -> None:
        super().__init__(LINK_GONE)


class TooManyAttempts(StoreError):
    """Too many failed attempts recently; nothing was checked."""


class RetryIdempotent(StoreError):
    """A concurrent save with the same form key won; the operation runs again to read it."""


class NotFound(StoreError):
    """The case, sighting or user does not exist (or no longer does)."""


class StaleVersion(StoreError):
    """Someone saved this record since it was loaded; nothing was written.

    Carries who changed it (``changed_by``) and when (``changed_at``, UTC) and the
    version now stored (``current_version``) so a page can offer to reload.
    """

    def __init__(
        self,
        entity: str,
        entity_id: int,
        changed_by: str,
        changed_at: datetime,
        current_version: int,
    ) -> None:
        self.entity = entity
        self.entity_id = entity_id
        self.changed_by = changed_by
        self.changed_at = changed_at
        self.current_version = current_version
        super().__init__(
            f"This {entity} was changed by {changed_by} at {format_london(changed_at)}"
            " — reload to see it. Your change was not saved."
        )
