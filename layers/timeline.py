"""The sightings timeline: when each sighting was seen, from which source, and its status.

One row per source (police, family, public, CCTV…), one mark per sighting at
the time it was seen, London wall clock. Colour AND shape tell the status
(verified / unverified / dismissed), with one legend, so the chart reads in
greyscale too. A dashed rule marks when the child was reported missing. Days
are named on the time axis when the sightings span more than one day.

No Streamlit and no database: :func:`timeline_chart` takes any records with
the attributes of ``casefile``'s sightings and returns an Altair chart (a
Vega-Lite spec; the page shows it with ``st.vega_lite_chart``). Vega-Lite
draws every text as text, never as HTML.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import altair as alt
import pandas as pd

from vocab import london_time
from vocab.london_time import LONDON

__all__ = ["STATUS_COLOURS", "STATUS_SHAPES", "timeline_chart", "timeline_frame"]


#: status -> colour, the same as the markers on the case map (layers/sightings.py)
STATUS_COLOURS: dict[str, str] = {
    "verified": "#1f5fbf",
    "unverified": "#d35400",
    "dismissed": "#8a8f98",
}
#: status -> Vega-Lite point shape: the status reads without colour too
STATUS_SHAPES: dict[str, str] = {
    "verified": "circle",
    "unverified": "triangle-up",
    "dismissed": "cross",
}


def _wall_clock(dt: datetime) -> datetime:
    """``dt`` (aware) as naive Europe/London wall clock: the chart shows it as it is."""
    if dt.tzinfo is None:
        raise ValueError("naive datetime: cannot tell which time zone it is in")
    return dt.astimezone(LONDON).replace(tzinfo=None)


def timeline_frame(sightings: Sequence[Any]) -> pd.DataFrame:
    """One row per sighting: London wall-clock time seen, source, status and details."""
    return pd.DataFrame(
        {
            "Time seen": [_wall_clock(s.seen_at) for s in sightings],
            "When": [
                s.seen_at.astimezone(LONDON).strftime(london_time.FULL) for s in sightings
            ],
            "Source": [str(s.source) for s in sightings],
            "Status": [str(s.status) for s in sightings],
            "Confidence": [str(s.confidence) for s in sightings],
            "Borough": [s.borough or "—" for s in sightings],
            "Sighting": [int(s.id) for s in sightings],
        }
    )


def timeline_chart(
    sightings: Sequence[Any], reported_missing_at: datetime | None = None
) -> alt.LayerChart | alt.FacetChart | None:
    """Sightings by time seen (x, London) and source (y), status by colour and shape.

    None when there are no sightings. ``reported_missing_at`` (aware) adds a
    dashed rule at the time the child was reported missing.
    """
    if not sightings:
        return None
    frame = timeline_frame(sightings)
    times = list(frame["Time seen"])
    if reported_missing_at is not None:
        times.append(_wall_clock(reported_missing_at))
    one_day = min(times).date() == max(times).date()
    axis_format = london_time.AXIS_ONE_DAY if one_day else london_time.AXIS_DAYS
    statuses = [s for s in STATUS_COLOURS if s in set(frame["Status"])] + sorted(
        set(frame["Status"]) - set(STATUS_COLOURS)
    )
    colour = alt.Color(
        "Status:N",
        scale=alt.Scale(
            domain=statuses, range=[STATUS_COLOURS.get(s, "#444444") for s in statuses]
        ),
        legend=alt.Legend(title="Status", orient="top"),
    )
    shape = alt.Shape(
        "Status:N",
        scale=alt.Scale(domain=statuses, range=[STATUS_SHAPES.get(s, "square") for s in statuses]),
        legend=alt.Legend(title="Status", orient="top"),
    )
    x = alt.X(
        "Time seen:T",
        title="Time seen (London)",
        axis=alt.Axis(format=axis_format, labelAngle=0 if one_day else -30),
    )
    points = (
        alt.Chart(frame)
        .mark_point(size=120, filled=True, opacity=0.9)
        .encode(
            x=x,
            y=alt.Y("Source:N", title=None, sort="ascending"),
            color=colour,
            shape=shape,
            tooltip=["Sighting", "When", "Source", "Status", "Confidence", "Borough"],
        )
    )
    # total height: the page fits the whole chart (legend and axis too) into it
    height = 34 * frame["Source"].nunique() + 110
    if reported_missing_at is None:
        return alt.layer(points).properties(height=height)
    missing = pd.DataFrame(
        {
            "Time seen": [_wall_clock(reported_missing_at)],
            "What": ["Reported missing"],
            "When": [reported_missing_at.astimezone(LONDON).strftime(london_time.FULL)],
        }
    )
    rule = (
        alt.Chart(missing)
        .mark_rule(strokeDash=[4, 3], color="#b0003a")
        .encode(x=alt.X("Time seen:T"), tooltip=["What", "When"])
    )
    label = (
        alt.Chart(missing)
        .mark_text(align="left", baseline="top", dx=3, dy=2, fontSize=10, color="#b0003a")
        .encode(x=alt.X("Time seen:T"), y=alt.value(0), text="What:N")
    )
    return alt.layer(rule, label, points).properties(height=height)
