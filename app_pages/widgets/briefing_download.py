"""The "briefing pack (PDF)" download buttons: a sector's, a team's or an operational
period's printed pack.

The pack is made only when the button is pressed (Streamlit calls ``data`` then),
so every download is one print: a new team-lead link for the QR code, expiring at
the end of the operational period, and an audit record of who printed it when
(``Store.print_briefing``); the sheet is drawn by ``layers.briefing``. The QR code
opens the link at the address the Private links page uses (``WAYHOME_PUBLIC_URL``,
else the address this page was opened at: ``app_pages.widgets.link_address``).
"""

from __future__ import annotations

import streamlit as st

from app_pages.widgets.link_address import link_base
from casefile import Actor, Store
from layers.briefing import render_briefing, render_period_pack

__all__ = ["briefing_button", "period_button"]


def briefing_button(db: Store, actor: Actor, case_id: int, *, key: str,
                    sector_code: str | None = None, team_name: str | None = None,
                    label: str = "Briefing pack (PDF)") -> None:
    """A download button for the pack of ``sector_code`` or of ``team_name``, with a
    portrait / landscape choice beside it."""
    c1, c2 = st.columns([3, 2])
    landscape = c2.toggle("Landscape", key=f"{key}_landscape")
    base = link_base().url  # read now: the download runs outside this page's request

    def make() -> bytes:
        brief = db.print_briefing(actor, case_id, sector_code=sector_code, team_name=team_name,
                                  orientation="landscape" if landscape else "portrait")
        if brief.link is None:
            return render_briefing(brief, link_url=None)
        url = brief.link.url(base) if base else f"/?link={brief.link.token}"
        return render_briefing(brief, link_url=url)

    name = f"briefing-{sector_code}.pdf" if sector_code else "briefing-team.pdf"
    c1.download_button(label, make, name, "application/pdf", key=key, on_click="ignore",
                       width="stretch",
                       help="Printing makes a new team link for the QR code (until the end of "
                            "the operational period) and is recorded in the audit log.")


def period_button(db: Store, actor: Actor, case_id: int, *, key: str) -> None:
    """A download button for an operational period's pack (a cover sheet, then every
    tasked sector's sheet, each with its own team link until the period ends), with a
    choice of the current or the next period and of portrait / landscape."""
    c1, c2, c3 = st.columns([3, 2, 2])
    which = c2.radio("Period", ("current", "next"), key=f"{key}_period", horizontal=True,
                     format_func=lambda w: "this period" if w == "current" else "the next")
    landscape = c3.toggle("Landscape", key=f"{key}_landscape")
    base = link_base().url

    def make() -> bytes:
        pack = db.print_period_pack(actor, case_id, period=which,
                                    orientation="landscape" if landscape else "portrait")
        urls = [None if b.link is None else (
            b.link.url(base) if base else f"/?link={b.link.token}") for b in pack.sheets]
        return render_period_pack(pack, link_urls=urls)

    c1.download_button("Operational period pack (PDF)", make, f"period-{which}.pdf",
                       "application/pdf", key=key, on_click="ignore", width="stretch",
                       help="A cover sheet (teams, sectors, rendezvous point) and every tasked "
                            "sector's sheet. Each sheet's QR code is a new team link that "
                            "works until the period ends; printing is recorded in the audit "
                            "log.")
