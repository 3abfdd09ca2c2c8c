"""Triage (coordinators): tips and "we searched here" reports from families, newest first.

A tip arrives as an unverified "family" sighting; accepting verifies it,
dismissing dismisses it. A family search arrives as searched, volunteer-reported
ground that already counts in the duplicate checks; dismissing marks it "needs
re-search" so its ground counts as unsearched again. Every decision is audited.
"""

from __future__ import annotations

import streamlit as st

from app_pages.widgets.sector_common import case_or_stop
from app_pages.widgets.session import require_actor, show_store_error, store
from casefile import StoreError, format_london
from layers.escape import markdown_text

actor = require_actor()
case = case_or_stop(actor, "Triage")
db = store()
st.title(f"Triage · {case.reference}")
show_all = st.toggle("Show reports already handled")
try:
    queue = db.triage_queue(actor, case.id, include_reviewed=show_all)
except StoreError as exc:
    show_store_error(exc)
    st.stop()
if not queue:
    st.info("Nothing waiting.")
for r in queue:
    with st.container(border=True):
        if r.kind == "tip":
            st.markdown(f"**Tip** from {markdown_text(r.from_name)} · seen "
                        f"{markdown_text(format_london(r.seen_at))} · at "
                        f"{r.lat:.5f}, {r.lon:.5f}")
            st.markdown(markdown_text(r.text))
            if r.contact:
                st.caption("Contact: " + markdown_text(r.contact))
        else:
            st.markdown(f"**Family search** {markdown_text(r.sector_code or '')} from "
                        f"{markdown_text(r.from_name)} · sent "
                        f"{markdown_text(format_london(r.created_at))}")
            if r.note:
                st.markdown(markdown_text(r.note))
            for o in r.overlaps:
                st.caption(f"Overlaps {markdown_text(o.get('code'))} "
                           f"({markdown_text(o.get('status'))}): "
                           f"{float(o.get('overlap_m2', 0)):,.0f} m², "
                           f"{float(o.get('share', 0)):.0%} of the reported area")
        if r.status != "new":
            st.caption(f"{r.status} by {r.reviewed_by_name} at {format_london(r.reviewed_at)}")
            continue
        c1, c2 = st.columns(2)
        for col, decision, label in ((c1, "accepted", "Accept"), (c2, "dismissed", "Dismiss")):
            if col.button(label, key=f"{decision}{r.id}", width="stretch"):
                try:
                    db.review_report(actor, r.id, decision, version=r.version)
                    st.rerun()
                except StoreError as exc:
                    show_store_error(exc)
