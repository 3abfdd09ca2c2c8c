"""Private links (coordinators): issue one per person and role, see when it was used, revoke.

A new link is shown ONCE, to copy and send privately (the store keeps only its
hash), with its QR code and whom it is for. Its address is ``WAYHOME_PUBLIC_URL``,
else the one this page was opened at (``app_pages.widgets.link_address``), with a
warning when that address would not open elsewhere or travels unencrypted. The
list shows labels, roles, team or unit, expiry and last use — never tokens.
Revoking stops pages open on the link at their next refresh. Below: what this case
shares with families and team leads.
"""

from __future__ import annotations

import streamlit as st

from app_pages.widgets.link_address import link_base, qr_image
from app_pages.widgets.sector_common import case_or_stop, units
from app_pages.widgets.session import require_actor, show_store_error, store
from casefile import StoreError, format_london
from casefile.links import TEAM_SIGHTINGS
from layers.escape import markdown_text
from vocab import roles, settings
from vocab.link_address import address_warnings

NEW_KEY = "links_new_url"

actor = require_actor()
case = case_or_stop(actor, "Private links")
db = store()
st.title(f"Private links · {case.reference}")

try:
    teams = db.teams(actor, case.id)
    links = db.links(actor, case.id)
    sharing = db.sharing(actor, case.id)
except StoreError as exc:
    show_store_error(exc)
    st.stop()

base = link_base()
new = st.session_state.pop(NEW_KEY, None)
if not isinstance(new, dict):  # before making a link: will links made here open?
    for warning in address_warnings(base.url):
        st.warning(warning, icon=":material/warning:")
if base.note:
    st.caption(base.note)

with st.form("issue_link", clear_on_submit=True):
    st.subheader("New link")
    role = st.radio("For", ["family", "team_lead", "partner"], horizontal=True,
                    format_func=roles.label)
    label = st.text_input("Whose link is it? (e.g. Mum's phone)", max_chars=120)
    team_id = st.selectbox("Team (team lead links)", [None] + [t.id for t in teams],
                           format_func=lambda i: "—" if i is None else
                           next(t.name for t in teams if t.id == i))
    all_units = {**units()["bcu"], **units()["force"]}
    unit = st.selectbox("BCU or force (partner links)", [None, *all_units],
                        format_func=lambda c: "—" if c is None else all_units[c])
    days = st.number_input("Works for (days)", 1, settings.LINK_MAX_DAYS, settings.LINK_DAYS)
    if st.form_submit_button("Make the link", type="primary"):
        try:
            issued = db.issue_link(
                actor, case.id, role=role, label=label,
                team_id=team_id if role == "team_lead" else None,
                unit=unit if role == "partner" else None, days=float(days))
            link = issued.link
            st.session_state[NEW_KEY] = {
                "url": base.link(issued.token), "base": base.url, "role": link.role,
                "label": link.label,
                "whom": link.team_name or (link.unit.name if link.unit else ""),
            }
            st.rerun()
        except StoreError as exc:
            show_store_error(exc)

if isinstance(new, dict):  # where the coordinator just clicked, below the form
    with st.container(border=True, key="new-link"):
        st.success("Link made. Copy it now and send it privately — it will not be shown "
                   "again.")
        words, picture = st.columns([3, 1])
        with words:
            for_whom = [roles.label(new["role"]), new["whom"], new["label"]]
            st.markdown("For " + " · ".join(f"**{markdown_text(w)}**" for w in for_whom if w))
            st.code(new["url"], language=None)
            for warning in address_warnings(new["base"]):
                st.warning(warning, icon=":material/warning:")
        if new["base"]:  # a path alone opens nothing on a phone: no QR code for it
            with picture:
                qr_image(new["url"], caption=f"QR code of the link for {new['label']}")
                st.caption("Or let them scan it from your screen.")

st.subheader("Links of this case")
if not links:
    st.caption("No links yet.")
for link in links:
    state = "works" if link.works() else ("revoked" if link.revoked_at else "expired")
    whom = link.team_name or (link.unit.name if link.unit else "")
    used = format_london(link.last_used_at) if link.last_used_at else "never used"
    with st.container(border=True):
        st.markdown(f"**{markdown_text(link.label)}** · {link.role_label}"
                    f"{' · ' + markdown_text(whom) if whom else ''} · {state}")
        st.caption(f"Until {format_london(link.expires_at)} · last used {used} · made by "
                   f"{link.created_by_name}")
        if link.works() and st.button("Revoke", key=f"revoke{link.id}"):
            try:
                db.revoke_link(actor, link.id)
                st.rerun()
            except StoreError as exc:
                show_store_error(exc)

st.subheader("What this case shares")
with st.form("sharing"):
    lkl = st.checkbox("Show families the last known location", value=sharing.family_lkl)
    delay = st.number_input("Minutes before new progress appears to families", 0, 1440,
                            sharing.family_delay_min)
    seen = st.selectbox("Sightings team leads see", TEAM_SIGHTINGS,
                        index=TEAM_SIGHTINGS.index(sharing.team_sightings))
    team_lkl = st.checkbox("Show team leads the last known location", value=sharing.team_lkl)
    if st.form_submit_button("Save"):
        try:
            db.set_sharing(actor, case.id, version=sharing.version, family_lkl=lkl,
                           family_delay_min=int(delay), team_sightings=seen,
                           team_lkl=team_lkl)
            st.rerun()
        except StoreError as exc:
            show_store_error(exc)
