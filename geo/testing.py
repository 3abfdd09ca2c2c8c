"""Public test helpers: domain asserts for Wayhome's geometry and search results.

Like ``geopandas.testing``, these are for Wayhome's own tests and for anyone
scripting against ``geo``. Each assert states the rule it checks in its message.
"""

from __future__ import annotations
