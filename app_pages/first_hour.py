"""First hour (coordinators): a missing child to a briefed team holding its link, on one page.

One form: the case (reference, first name or alias, age, risk), where and when the
child was last seen (a postcode, latitude/longitude or OS grid reference, with the
address or place kept as typed), and the first team. One press opens the case,
records that place as a verified police sighting, makes the first sectors round it
(sized for the team, cut at BCU and force lines, no slivers), tasks the team with
the sector holding it and makes the team lead's link — then shows the link, its QR
code and the team's briefing pack. Everything is done by the store's own operations
(``casefile.first_hour``); every later step stays on the usual pages.
"""

from __future__ import annotations

import streamlit as st

from app_pages.widgets.briefing_download import briefing_button
from app_pages.widgets.forms import form_key, london_moment, london_now, renew_form_key
from app_pages.widgets.link_address import link_base, qr_image
from app_pages.widgets.session import choose_case, require_actor, show_store_error, store
from casefile import StoreError
from casefile.first_hour import first_hour
from geo.coordinates import find_place
from geo.detection import first_sector_side_m, load_search_data
from geo.errors import InputError
from layers.escape import markdown_text
from vocab import settings
from vocab.link_address import address_warnings

DONE_KEY = "first_hour_done"

actor = require_actor()
db = store()
st.title("First hour")
st.caption("Open the case, record where the child was last seen, make the first sectors "
           "and task a team — in one step. Everything can be changed later on the other "
           "pages.")

done = st.session_state.pop(DONE_KEY, None)
if isinstance(done, dict):
    with st.container(border=True, key="first_hour_done"):
        st.success(f"Case {markdown_text(done['reference'])} is open. "
                   f"{done['sectors']} first sectors made; {markdown_text(done['team'])} "
                   f"is tasked with {markdown_text(done['sector'])}. Send the team lead this "
                   "link now — it is shown only once.")
        words, picture = st.columns([3, 1])
        with words:
            st.markdown(f"For **Team lead · {markdown_text(done['team'])}**")
            st.code(done["url"], language=None)
            for warning in address_warnings(done["base"]):
                st.warning(warning, icon=":material/warning:")
        if done["base"]:
            with picture:
                qr_image(done["url"], caption=f"QR code of the link for {done['team']}")
        briefing_button(db, actor, done["case_id"], key="first_hour_brief",
                        team_name=done["team"], label="Briefing pack for the team (PDF)")
        st.page_link("app_pages/sectors.py", label="Go to the sectors",
                     icon=":material/grid_view:")

pace = load_search_data("search_pace")
with st.form("first_hour", clear_on_submit=False):
    st.subheader("The child")
    c1, c2, c3, c4 = st.columns([2, 2, 1, 2])
    reference = c1.text_input("Case reference", max_chars=40, placeholder="e.g. CAD 1234/06")
    name = c2.text_input("First name or alias", max_chars=100)
    age = c3.number_input("Age", min_value=0, max_value=17, value=None, step=1)
    risk = c4.selectbox("Risk grade", settings.RISK_GRADES, index=None, placeholder="Choose")
    st.subheader("Last seen")
    c1, c2 = st.columns([2, 3])
    where = c1.text_input("Where: postcode, lat, lon or OS grid reference",
                          placeholder="e.g. SE1 6TG")
    place = c2.text_input("Address or place, as told (optional; kept as text)", max_chars=300)
    day, at = london_now()
    c1, c2 = st.columns(2)
    day = c1.date_input("On", value=day, format="DD/MM/YYYY")
    at = c2.time_input("At (London)", value=at, step=60)
    st.caption("This place is recorded as a verified police sighting: the last-known "
               "location. The first sectors cover "
               f"{pace['first_ring_m']:,} m round it (a planning assumption).")
    st.subheader("First team")
    c1, c2 = st.columns([3, 1])
    team = c1.text_input("Team name", value="Team 1", max_chars=100)
    size = c2.number_input("Searchers", min_value=1, max_value=60, value=4, step=1)
    st.caption(f"Sectors are about {first_sector_side_m(int(size)):,.0f} m across for "
               f"{int(size)} searchers (about "
               f"{float(pace['first_sector_team_hours']) * 60:.0f} minutes a pass; planning "
               "assumption).")
    go = st.form_submit_button("Open the case and task the team", type="primary")

if go:
    try:
        found = find_place(where)
        if found.status != "found" or found.lat is None or found.lon is None:
            raise InputError(found.message or "Type where the child was last seen.")
        if risk is None:
            raise InputError("Choose the risk grade.")
        seen = london_moment(day, at, "Last seen")
        base = link_base()
        with st.spinner("Opening the case, making sectors and the team's link…"):
            made = first_hour(db, actor, reference=reference, child_name=name,
                              age=None if age is None else int(age), risk=risk,
                              lat=found.lat, lon=found.lon, seen_at=seen,
                              place_text=place.strip() or where.strip(), team_name=team,
                              team_size=int(size), key=form_key("first_hour"))
    except (StoreError, InputError) as exc:
        show_store_error(exc)
    else:
        renew_form_key("first_hour")
        choose_case(made.case.id)
        st.session_state[DONE_KEY] = {
            "reference": made.case.reference, "case_id": made.case.id,
            "team": made.team.name, "sector": made.first_sector.code,
            "sectors": len(made.sectors), "base": base.url,
            "url": base.link(made.link.token),
        }
        st.rerun()
