"""The bottom floor: settings and the vocabularies every other package shares.

Nothing here imports the project's own code, so ``geo/``, the store, ``layers/``,
the pages and the command line can all read the same words from one place:

* :mod:`vocab.settings` — settings read once from the environment;
* :mod:`vocab.london_time` — the London time zone and the display formats;
* :mod:`vocab.sector_statuses` — every sector status: label, map style, what it
  counts as, what a family sees, where it may move to;
* :mod:`vocab.roles` — every role: label, sign-in, landing page, permissions;
* :mod:`vocab.search` — search types, assurance levels, hazard kinds, team kinds,
  sector origins, sighting and case vocabularies;
* :mod:`vocab.boundary_layers` — the boundary layers: file, label, line style,
  which records are tagged with them;
* :mod:`vocab.limits` — text length caps.

Adding a status or a role is one registry entry here; for a value stored in a
column, also an Alembic migration that widens the column's CHECK constraint
(``tests/casefile/test_vocabulary_checks.py`` fails until it exists).
"""
