"""Wayhome's settings, in one place, each read from the environment once at import.

Every setting is a plain module attribute, documented here, so that a deployment
can see everything it may change without reading code.

DATABASE_URL : str
    ``WAYHOME_DATABASE_URL`` or ``DATABASE_URL``. Empty (the default) means the
    embedded SQLite file at ``SQLITE_PATH``. ``postgresql://user@host:port/dbname``
    selects PostgreSQL + PostGIS.
SQLITE_PATH : pathlib.Path
    ``WAYHOME_SQLITE_PATH``; default ``wayhome.sqlite3`` in the working directory.
BOUNDARIES_DIR : pathlib.Path
    ``WAYHOME_BOUNDARIES_DIR``; the built boundary layers (``data/boundaries``).
POSTCODES_FILE : pathlib.Path
    ``WAYHOME_POSTCODES_FILE``; London postcode centroids (``data/postcodes``).
PLACES_DIR : pathlib.Path
    ``WAYHOME_PLACES_DIR``; London's transport hubs and town centres, the default
    places a moving child may go to (``data/places``).
TILES : str
    ``WAYHOME_TILES``: ``openstreetmap`` (default), ``none`` (no background; every
    overlay still shows), or a tile URL template ``https://…/{z}/{x}/{y}.png``.
TILES_ATTRIBUTION : str
    ``WAYHOME_TILES_ATTRIBUTION``; required by most tile servers for a custom URL.
SEARCH_SCIENCE_DIR : pathlib.Path
    ``WAYHOME_SEARCH_SCIENCE_DIR``; ring distances, sweep widths and assurance->POD
    defaults with their sources (``data/search_science``).
MAX_FOOT_SPEED_MS : float
    ``WAYHOME_MAX_FOOT_SPEED_MS``; default 3.0 m/s. A GPS track step faster than this
    (after ``GPS_JITTER_M``) is not a searcher on foot (running, riding or a GPS glitch)
    and is not counted as search effort. A planning assumption, not a published figure.
GPS_JITTER_M : float
    ``WAYHOME_GPS_JITTER_M``; default 25 m. Position error allowed on top of the foot
    speed before a step counts as an impossible jump (phone GPS error is often 5-20 m
    in streets). A planning assumption.
MAX_UNTIMED_STEP_M : float
    ``WAYHOME_MAX_UNTIMED_STEP_M``; default 500 m. Without timestamps a step longer than
    this is treated as a jump (the line is split there). A planning assumption.
RISK_GRADES : tuple[str, ...]
    ``WAYHOME_RISK_GRADES``, comma-separated, highest first; default
    ``high,medium,low,no apparent risk`` (College of Policing APP continuum; forces
    differ on the lowest label, hence configurable).
BACKUP_DIR : pathlib.Path
    ``WAYHOME_BACKUP_DIR``; where ``wayhome backup`` writes; default ``backups``.
DEMO_PASSWORD : str
    ``WAYHOME_DEMO_PASSWORD``; password ``wayhome demo`` gives the demo coordinator
    (``demo.coordinator``). Empty: a random one is printed once when the account is made.
LINK_DAYS : int
    ``WAYHOME_LINK_DAYS``; default 14. How long a new private link works unless the
    coordinator chooses otherwise (at most ``LINK_MAX_DAYS``).
LINK_MAX_DAYS : int
    ``WAYHOME_LINK_MAX_DAYS``; default 90. The longest life a private link may be given.
BRIEF_PERIOD_HOURS : float
    ``WAYHOME_BRIEF_PERIOD_HOURS``; default 12. The operational period a printed
    briefing pack covers: the team lead's link in its QR code stops working this many
    hours after printing (never later than the printing link itself). Also the length
    of the operational periods a period pack (``wayhome brief --period``) is printed
    for, counted from when the case was opened; its links stop at the period's end.
SESSION_HOURS : float
    ``WAYHOME_SESSION_HOURS``; default 10 (a working day). How long a coordinator's
    sign-in survives reloads before the password is asked for again.
THROTTLE_WINDOW_MIN : float
    ``WAYHOME_THROTTLE_WINDOW_MIN``; default 15. The window over which failed sign-ins
    and unknown link tokens are counted. Every limit below counts one kind of attempt
    only (link tokens, passwords, identity-provider sign-ins, session cookies), so a
    flood of wrong link tokens never holds back a coordinator's password.
THROTTLE_PER_CLIENT : int
    ``WAYHOME_THROTTLE_PER_CLIENT``; default 10. Failures of one kind from one client
    (browser address) within the window before that address must wait the window out.
THROTTLE_GLOBAL_PER_MIN : int
    ``WAYHOME_THROTTLE_GLOBAL_PER_MIN``; default 300. Failures of one kind from everyone
    within one minute (a distributed guessing run) before further attempts of that kind
    wait a minute. For passwords and identity-provider sign-ins it holds back only
    addresses that have themselves failed, so a run from many addresses never locks out
    a coordinator who has not; a right link or session token always works.
THROTTLE_PER_ACCOUNT : int
    ``WAYHOME_THROTTLE_PER_ACCOUNT``; default 5. Wrong passwords for one username (from
    any address) within the window before the account is slowed down: an address that
    has itself failed on that username then waits ``THROTTLE_ACCOUNT_DELAY_S`` after the
    account's last failure, doubling with each further failure up to
    ``THROTTLE_ACCOUNT_MAX_DELAY_S``. An address that never failed on the account is
    not slowed, so strangers cannot lock a named coordinator out.
THROTTLE_ACCOUNT_DELAY_S : float
    ``WAYHOME_THROTTLE_ACCOUNT_DELAY_S``; default 2. The first per-account delay (s).
THROTTLE_ACCOUNT_MAX_DELAY_S : float
    ``WAYHOME_THROTTLE_ACCOUNT_MAX_DELAY_S``; default 60. The longest per-account delay (s).
TRUSTED_PROXY_HOPS : int
    ``WAYHOME_TRUSTED_PROXY_HOPS``; default 0. How many reverse proxies of your own
    stand in front of the app. With 0 the client's address (for throttling) is the
    connection's peer and ``X-Forwarded-For`` is ignored, because anyone can send it.
    With N, it is the N-th address from the right of ``X-Forwarded-For`` (the one
    your outermost proxy saw); addresses further left are the client's own claims.
PUBLIC_URL : str
    ``WAYHOME_PUBLIC_URL``; default empty. The address people open the app at
    (``https://wayhome.example.org``, with the base path if there is one): private
    links are made under it. Empty: the Private links page uses the address it was
    opened at (``vocab/link_address.py``) and ``wayhome link issue`` takes
    ``--base-url``, else prints the link as ``/?link=…`` with a warning. Never guessed.
OIDC_EMAIL_DOMAINS : tuple[str, ...]
    ``WAYHOME_OIDC_EMAIL_DOMAINS``, comma-separated; default empty. Only used when an
    identity provider is configured for ``st.login`` (an ``[auth]`` section in
    ``.streamlit/secrets.toml``): a verified email in one of these domains signs in as
    the coordinator account named by its local part (``jane.smith@met.police.uk`` ->
    ``jane.smith``). Empty: nobody signs in that way (see ``casefile/oidc.py``).
PURGE_AFTER_DAYS : float
    ``WAYHOME_PURGE_AFTER_DAYS``; default 30. A case closed this long ago has every
    personal value removed by ``wayhome purge --due`` (run it daily, e.g. from cron);
    its searched-ground record stays.

Limits on uploaded files (sector and track imports). Each is checked before the
expensive step it guards and named in the message that refuses a file:

PUSHED_POLL_SECONDS : float
    ``WAYHOME_PUSHED_POLL_SECONDS``; default 0 (each live view's own interval, 4-10 s).
    On PostgreSQL changes are pushed to open pages as they commit
    (``app_pages/widgets/change_push.py``); a view still looks at its case's counter
    (in memory there) this often, for a listener that is down or an expired link.
ACCESS_RECHECK_SECONDS : float
    ``WAYHOME_ACCESS_RECHECK_SECONDS``; default 30. On PostgreSQL, longest time a
    live view is answered from memory before the database checks again that the
    viewer may still see the case (a revoked link or a removed member moves the
    case's counter and is checked at once; an expired link or a switched-off
    account is noticed within this time).
IMPORT_MAX_MB : float
    ``WAYHOME_IMPORT_MAX_MB``; default 50. Largest file accepted, megabytes.
IMPORT_MAX_UNZIPPED_MB : float
    ``WAYHOME_IMPORT_MAX_UNZIPPED_MB``; default 60. Most a zip / KMZ may unpack to,
    megabytes, counted while unpacking (headers can lie).
IMPORT_MAX_ZIP_RATIO : float
    ``WAYHOME_IMPORT_MAX_ZIP_RATIO``; default 100. Most a zip member may expand
    (unpacked / packed bytes); text compresses 5-20 times, a zip bomb thousands.
IMPORT_MAX_JSON_DEPTH : int
    ``WAYHOME_IMPORT_MAX_JSON_DEPTH``; default 64. Deepest nesting of ``[`` and ``{``
    in a GeoJSON file (a MultiPolygon needs 4 inside a FeatureCollection's 3).
IMPORT_MAX_FEATURES : int
    ``WAYHOME_IMPORT_MAX_FEATURES``; default 50,000. Most features in a sector file.
IMPORT_MAX_VERTICES : int
    ``WAYHOME_IMPORT_MAX_VERTICES``; default 5,000,000. Most corner points in a sector
    file, or track points in a track file.
IMPORT_MAX_TRACKS : int
    ``WAYHOME_IMPORT_MAX_TRACKS``; default 2,000. Most tracks / routes / placemarks in
    one track file (a day's search has tens).
IMPORT_MAX_SEGMENTS : int
    ``WAYHOME_IMPORT_MAX_SEGMENTS``; default 20,000. Most segments in one track file.
IMPORT_MAX_FIELDS_PER_LINE : int
    ``WAYHOME_IMPORT_MAX_FIELDS_PER_LINE``; default 200. Most fields on one CSV line.
IMPORT_TIME_BUDGET_S : float
    ``WAYHOME_IMPORT_TIME_BUDGET_S``; default 10. Wall-clock seconds one file may take
    to read in the guarded reader (``geo.guarded``); it is killed after that.
IMPORT_MEMORY_MB : int
    ``WAYHOME_IMPORT_MEMORY_MB``; default 1024. Memory (address space) the guarded
    reader's process may add to what it had when it started, megabytes.
IMPORT_SLIVER_M2 : float
    ``WAYHOME_IMPORT_SLIVER_M2``; default 1.0. An imported shape smaller than this
    (m², British National Grid) is a sliver: dropped with a note, not a sector.
IMPORT_MAX_DROPPED_SHARE : float
    ``WAYHOME_IMPORT_MAX_DROPPED_SHARE``; default 0.1. Largest share of a sector file's
    shapes that may be dropped (slivers, duplicates, empty shapes) with a note; a file
    with more is refused as mostly broken.

Limits on OpenStreetMap street extracts (``geo.read_streets`` and
``wayhome streets import``), named in the message that refuses an extract:

STREETS_MAX_MB : float
    ``WAYHOME_STREETS_MAX_MB``; default 1024. Largest extract file ``wayhome streets
    import`` reads from a path, megabytes (a Greater London ``.osm.pbf`` is on the
    order of 100-200 MB). An extract handed over as bytes (an upload) is held to
    ``IMPORT_MAX_MB`` instead.
STREETS_MAX_LINES : int
    ``WAYHOME_STREETS_MAX_LINES``; default 2,000,000. Most lines (roads, paths,
    railways, water) kept from one extract; Greater London keeps well under a million.
STREETS_MAX_POINTS : int
    ``WAYHOME_STREETS_MAX_POINTS``; default 30,000,000. Most points on the kept lines.
STREETS_DIR : str
    ``WAYHOME_STREETS_DIR``; where an SQLite store keeps the loaded streets (a GeoParquet
    file in British National Grid). Empty (the default): a ``streets`` folder beside
    the SQLite file. With PostgreSQL they are the ``street_lines`` table instead.
"""

from __future__ import annotations

import os
from pathlib import Path

from vocab.search import DEFAULT_RISK_GRADES

REPO_ROOT: Path = Path(__file__).resolve().parent.parent

DATABASE_URL: str = os.environ.get("WAYHOME_DATABASE_URL") or os.environ.get("DATABASE_URL", "")
SQLITE_PATH: Path = Path(os.environ.get("WAYHOME_SQLITE_PATH", "wayhome.sqlite3"))
BOUNDARIES_DIR: Path = Path(
    os.environ.get("WAYHOME_BOUNDARIES_DIR", REPO_ROOT / "data" / "boundaries")
)
POSTCODES_FILE: Path = Path(
    os.environ.get(
        "WAYHOME_POSTCODES_FILE", REPO_ROOT / "data" / "postcodes" / "london_postcodes.csv.gz"
    )
)
PLACES_DIR: Path = Path(os.environ.get("WAYHOME_PLACES_DIR", REPO_ROOT / "data" / "places"))
TILES: str = os.environ.get("WAYHOME_TILES", "openstreetmap")
TILES_ATTRIBUTION: str = os.environ.get("WAYHOME_TILES_ATTRIBUTION", "")
SEARCH_SCIENCE_DIR: Path = Path(
    os.environ.get("WAYHOME_SEARCH_SCIENCE_DIR", REPO_ROOT / "data" / "search_science")
)
MAX_FOOT_SPEED_MS: float = float(os.environ.get("WAYHOME_MAX_FOOT_SPEED_MS", "3.0"))
GPS_JITTER_M: float = float(os.environ.get("WAYHOME_GPS_JITTER_M", "25"))
MAX_UNTIMED_STEP_M: float = float(os.environ.get("WAYHOME_MAX_UNTIMED_STEP_M", "500"))
RISK_GRADES: tuple[str, ...] = tuple(
    g.strip()
    for g in os.environ.get("WAYHOME_RISK_GRADES", ",".join(DEFAULT_RISK_GRADES)).split(",")
    if g.strip()
)
BACKUP_DIR: Path = Path(os.environ.get("WAYHOME_BACKUP_DIR", "backups"))
DEMO_PASSWORD: str = os.environ.get("WAYHOME_DEMO_PASSWORD", "")
LINK_DAYS: int = int(os.environ.get("WAYHOME_LINK_DAYS", "14"))
LINK_MAX_DAYS: int = int(os.environ.get("WAYHOME_LINK_MAX_DAYS", "90"))
BRIEF_PERIOD_HOURS: float = float(os.environ.get("WAYHOME_BRIEF_PERIOD_HOURS", "12"))
SESSION_HOURS: float = float(os.environ.get("WAYHOME_SESSION_HOURS", "10"))
THROTTLE_WINDOW_MIN: float = float(os.environ.get("WAYHOME_THROTTLE_WINDOW_MIN", "15"))
THROTTLE_PER_CLIENT: int = int(os.environ.get("WAYHOME_THROTTLE_PER_CLIENT", "10"))
THROTTLE_GLOBAL_PER_MIN: int = int(os.environ.get("WAYHOME_THROTTLE_GLOBAL_PER_MIN", "300"))
THROTTLE_PER_ACCOUNT: int = int(os.environ.get("WAYHOME_THROTTLE_PER_ACCOUNT", "5"))
THROTTLE_ACCOUNT_DELAY_S: float = float(os.environ.get("WAYHOME_THROTTLE_ACCOUNT_DELAY_S", "2"))
THROTTLE_ACCOUNT_MAX_DELAY_S: float = float(
    os.environ.get("WAYHOME_THROTTLE_ACCOUNT_MAX_DELAY_S", "60"))
TRUSTED_PROXY_HOPS: int = max(0, int(os.environ.get("WAYHOME_TRUSTED_PROXY_HOPS", "0")))
PURGE_AFTER_DAYS: float = float(os.environ.get("WAYHOME_PURGE_AFTER_DAYS", "30"))
PUBLIC_URL: str = os.environ.get("WAYHOME_PUBLIC_URL", "").strip()
OIDC_EMAIL_DOMAINS: tuple[str, ...] = tuple(
    d.strip().lower().lstrip("@")
    for d in os.environ.get("WAYHOME_OIDC_EMAIL_DOMAINS", "").split(",")
    if d.strip()
)
PUSHED_POLL_SECONDS: float = float(os.environ.get("WAYHOME_PUSHED_POLL_SECONDS", "0"))
ACCESS_RECHECK_SECONDS: float = float(os.environ.get("WAYHOME_ACCESS_RECHECK_SECONDS", "30"))

IMPORT_MAX_MB: float = float(os.environ.get("WAYHOME_IMPORT_MAX_MB", "50"))
IMPORT_MAX_UNZIPPED_MB: float = float(os.environ.get("WAYHOME_IMPORT_MAX_UNZIPPED_MB", "60"))
IMPORT_MAX_ZIP_RATIO: float = float(os.environ.get("WAYHOME_IMPORT_MAX_ZIP_RATIO", "100"))
IMPORT_MAX_JSON_DEPTH: int = int(os.environ.get("WAYHOME_IMPORT_MAX_JSON_DEPTH", "64"))
IMPORT_MAX_FEATURES: int = int(os.environ.get("WAYHOME_IMPORT_MAX_FEATURES", "50000"))
IMPORT_MAX_VERTICES: int = int(os.environ.get("WAYHOME_IMPORT_MAX_VERTICES", "5000000"))
IMPORT_MAX_TRACKS: int = int(os.environ.get("WAYHOME_IMPORT_MAX_TRACKS", "2000"))
IMPORT_MAX_SEGMENTS: int = int(os.environ.get("WAYHOME_IMPORT_MAX_SEGMENTS", "20000"))
IMPORT_MAX_FIELDS_PER_LINE: int = int(os.environ.get("WAYHOME_IMPORT_MAX_FIELDS_PER_LINE",
                                                     "200"))
IMPORT_TIME_BUDGET_S: float = float(os.environ.get("WAYHOME_IMPORT_TIME_BUDGET_S", "10"))
IMPORT_MEMORY_MB: int = int(os.environ.get("WAYHOME_IMPORT_MEMORY_MB", "1024"))
IMPORT_SLIVER_M2: float = float(os.environ.get("WAYHOME_IMPORT_SLIVER_M2", "1.0"))
IMPORT_MAX_DROPPED_SHARE: float = float(os.environ.get("WAYHOME_IMPORT_MAX_DROPPED_SHARE",
                                                       "0.1"))

#: A family about to report "we searched here" is asked first when at least this share
#: of the ground is police-searched ground their page already shows ("most of this").
#: A planning assumption, not a published figure.
FAMILY_REPEAT_SHARE: float = float(os.environ.get("WAYHOME_FAMILY_REPEAT_SHARE", "0.5"))
#: A family reporting "we searched here" by choosing streets is taken to have looked this
#: far either side of each street's centre line, metres (the carriageway, both pavements
#: and the fronts of the buildings). A planning assumption, not a published figure.
FAMILY_STREET_HALF_WIDTH_M: float = float(
    os.environ.get("WAYHOME_FAMILY_STREET_HALF_WIDTH_M", "15"))
#: Streets a family may choose from: those within this many metres of the ground their
#: page shows (shared areas and, if shared, the last-known location). A planning
#: assumption (about 12 minutes' walk), not a published figure.
FAMILY_STREETS_REACH_M: float = float(os.environ.get("WAYHOME_FAMILY_STREETS_REACH_M", "1000"))
STREETS_MAX_MB: float = float(os.environ.get("WAYHOME_STREETS_MAX_MB", "1024"))
STREETS_MAX_LINES: int = int(os.environ.get("WAYHOME_STREETS_MAX_LINES", "2000000"))
STREETS_MAX_POINTS: int = int(os.environ.get("WAYHOME_STREETS_MAX_POINTS", "30000000"))
STREETS_DIR: str = os.environ.get("WAYHOME_STREETS_DIR", "")
