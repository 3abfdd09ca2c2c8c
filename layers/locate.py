""""You are here": the phone's own position, drawn inside the map frame only.

:class:`LocateControl` adds a button to the map's top right ("Show where I am"). Pressed, it
asks the browser for the device's position with Leaflet's own ``map.locate`` (no
other script: Leaflet is already served by the app, :mod:`layers.assets`) and draws
a blue dot with a ring of the reported accuracy, updated as the phone moves.
Pressed again, it stops and removes them.

The position never leaves the map frame: nothing is posted to the page or the
server (no component value, no session state, no log), and the map's view is not
moved (so no map event reports it either).

Browsers offer geolocation only to secure pages (https, or the device's own
loopback address). Where it is unavailable the button is hidden and the control
says so in plain words instead; a refusal or a failure to get a fix is said in words too.
All text here is fixed (no user data).
"""

from __future__ import annotations

from branca.element import MacroElement
from jinja2 import Template

__all__ = ["UNAVAILABLE_TEXT", "LocateControl"]

#: what the control says where the browser cannot share a position
UNAVAILABLE_TEXT = (
    "“You are here” is off: phones share their position only with a secure "
    "(https) address, and this page is not one."
)


class LocateControl(MacroElement):
    """A "Show where I am" button drawing the device's position inside the map frame."""

    _template = Template(
        """
        {% macro header(this, kwargs) %}
        <style>
        .wayhome-locate { background: #fff; padding: 4px; max-width: 160px;
            font: 13px/1.3 system-ui, sans-serif; color: #1f2933; }
        .wayhome-locate-off { font-size: 12px; }
        .wayhome-locate button { min-height: 44px; min-width: 44px; padding: 6px 10px;
            font: inherit; font-weight: 600; background: #fff; color: #1f2933;
            border: 2px solid #0072b2; border-radius: 4px; cursor: pointer; }
        .wayhome-locate button:disabled { border-color: #6b6b6b; color: #4a4a4a;
            cursor: not-allowed; }
        .wayhome-locate-note:empty { display: none; }
        .wayhome-locate-note { margin-top: 4px; }
        </style>
        {% endmacro %}
        {% macro script(this, kwargs) %}
        (function (map) {
            var Locate = L.Control.extend({
                options: {position: "topright"},
                onAdd: function () {
                    var box = L.DomUtil.create("div", "leaflet-bar wayhome-locate");
                    var btn = L.DomUtil.create("button", "wayhome-locate-button", box);
                    btn.type = "button";
                    btn.textContent = "Show where I am";
                    var note = L.DomUtil.create("div", "wayhome-locate-note", box);
                    note.setAttribute("role", "status");
                    L.DomEvent.disableClickPropagation(box);
                    L.DomEvent.disableScrollPropagation(box);
                    if (!window.isSecureContext || !("geolocation" in navigator)) {
                        btn.disabled = true;
                        btn.hidden = true;
                        note.textContent = {{ this.unavailable|tojson }};
                        box.classList.add("wayhome-locate-off");
                        return box;
                    }
                    var on = false, dot = null, ring = null;
                    function clear() {
                        if (dot) { map.removeLayer(dot); dot = null; }
                        if (ring) { map.removeLayer(ring); ring = null; }
                    }
                    btn.addEventListener("click", function () {
                        if (on) {
                            on = false;
                            map.stopLocate();
                            clear();
                            btn.textContent = "Show where I am";
                            note.textContent = "";
                            return;
                        }
                        on = true;
                        btn.textContent = "Hide where I am";
                        note.textContent = "Finding your position…";
                        map.locate({watch: true, setView: false, enableHighAccuracy: true,
                                    maximumAge: 10000, timeout: 30000});
                    });
                    map.on("locationfound", function (e) {
                        if (!on) { return; }
                        clear();
                        ring = L.circle(e.latlng, {radius: e.accuracy, color: "#0072b2",
                            weight: 1, fillOpacity: 0.1, interactive: false}).addTo(map);
                        dot = L.circleMarker(e.latlng, {radius: 8, color: "#fff", weight: 3,
                            fillColor: "#0072b2", fillOpacity: 1, interactive: false,
                            className: "wayhome-you-are-here"}).addTo(map);
                        note.textContent = "Blue dot: you (within "
                            + Math.round(e.accuracy) + " m).";
                    });
                    map.on("locationerror", function (e) {
                        if (!on) { return; }
                        note.textContent = e.code === 1
                            ? "Your position was not shared: the browser was told not to."
                            : "Your position is not available right now. Try again outdoors.";
                    });
                    return box;
                }
            });
            new Locate().addTo(map);
        })({{ this._parent.get_name() }});
        {% endmacro %}
        """
    )

    def __init__(self) -> None:
        super().__init__()
        self._name = "LocateControl"
        self.unavailable = UNAVAILABLE_TEXT
