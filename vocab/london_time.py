"""London time: the one zone every time is shown in, and the formats it is shown with.

Times are stored in UTC; people in London read them on the wall clock (GMT in
winter, BST in summer). The formats are :meth:`datetime.strftime` patterns.
"""

from __future__ import annotations

from typing import Final
from zoneinfo import ZoneInfo

#: the zone every time is shown in (GMT/BST)
LONDON: Final[ZoneInfo] = ZoneInfo("Europe/London")
#: IANA name of :data:`LONDON` (pandas and chart axes take the name)
LONDON_NAME: Final[str] = "Europe/London"

#: a time of day: ``14:05``
CLOCK: Final[str] = "%H:%M"
#: a day and time without the year, for map details: ``Tue 03 Mar 14:05``
DAY_CLOCK: Final[str] = "%a %d %b %H:%M"
#: a full day and time for tooltips and tables: ``Tue 03 Mar 2026, 14:05 GMT``
FULL: Final[str] = "%a %d %b %Y, %H:%M %Z"
#: an unambiguous time for logs and exports: ``2026-03-03 14:05 GMT``
LOG: Final[str] = "%Y-%m-%d %H:%M %Z"
#: chart axis labels spanning more than one day: ``Tue 03 Mar 14:05``
AXIS_DAYS: Final[str] = DAY_CLOCK
#: chart axis labels within one day: ``14:05``
AXIS_ONE_DAY: Final[str] = CLOCK
