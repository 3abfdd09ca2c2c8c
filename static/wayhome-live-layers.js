/* Live map layers keyed by id: a full draw once, then small changes applied in place.
 *
 * Loaded by the map frame (a script file served by the app, allowed by the frame's
 * Content-Security-Policy as 'self'). The sector map's layer script calls
 * wayhomeLive.draw(group, name, base, version, data, options) with every feature of
 * the layer as it was at `version`; `base` names that full draw. Later changes arrive
 * as DATA from the layer feed (app_pages/widgets/layer_feed_frontend/):
 * {layer, base, from, to, upsert, remove}, or several at once as {layers: [...]} (one
 * per keyed layer of the map). A message applies only to a frame whose
 * layer is at `from`; one for another base waits (the full draw it belongs to is on
 * its way); one for this base but another version means this frame missed a change,
 * and apply() says "missed": the feed then asks the server for a full redraw.
 * Only features that differ from what is drawn are redrawn. Besides sectors (and a
 * team's neighbouring sectors: options.interactive false), a layer may hold "marks"
 * (options.marks: the sightings, tasks and pins of the case map and the field phones),
 * each feature carrying its Leaflet options, tooltip and popup.
 *
 * Every text in a feature is escaped by the server; only status keys choose styles.
 */
(function () {
    "use strict";
    if (window.wayhomeLive) { return; }
    var layers = {};   // layer name -> drawn state
    var stats = {applied: 0, redrawn: 0, lastApplyMs: null, lastVersion: null};

    function details(f) {
        var p = f.properties, rows = "";
        for (var i = 0; i < (p.d || []).length; i++) {
            rows += "<tr><th>" + p.d[i][0] + "</th><td>" + p.d[i][1] + "</td></tr>";
        }
        return '<div class="wayhome-sector-popup"><b>' + p.t + "</b><table>" + rows +
            "</table></div>";
    }

    function addCss(css, hatch) {
        if (document.getElementById("wayhome-sector-css")) { return; }
        var style = document.createElement("style");
        style.id = "wayhome-sector-css";
        style.textContent = css;
        document.head.appendChild(style);
        var defs = document.createElement("div");
        defs.innerHTML = hatch;
        document.body.appendChild(defs.firstChild);
    }

    function addFeature(st, f) {
        var made = [];
        if (st.under && f.properties.under) {
            st.under.addData(f);
            // halos stay under every sector, also when one is drawn again later
            if (st.map && st.lastUnder.bringToBack) { st.lastUnder.bringToBack(); }
            made.push([st.under, st.lastUnder]);
        }
        st.main.addData(f);
        made.push([st.main, st.lastMain]);
        st.drawn[f.properties.k] = {feature: f, layers: made};
    }

    function removeFeature(st, key) {
        var d = st.drawn[key];
        if (!d) { return; }
        d.layers.forEach(function (pair) { pair[0].removeLayer(pair[1]); });
        delete st.drawn[key];
    }

    // Labels are thinned across every labelled layer of the map, with the same
    // registry the folium sector layers use (layers/sectors.py, SectorScript):
    // map._wayhomeLabels keeps the label layers by rank and places them in turn into
    // one set of boxes (a warning's, a hazard's, then the permanent labels of other
    // layers, then sectors and their neighbours), so no label covers another.
    function tooltipBoxes(map) {
        var frame = map.getContainer().getBoundingClientRect(), boxes = [];
        map.eachLayer(function (layer) {
            var tip = layer.getTooltip ? layer.getTooltip() : null;
            var el = tip && tip.options.permanent && tip.getElement ? tip.getElement() : null;
            if (!el || !map.hasLayer(tip)) { return; }
            var r = el.getBoundingClientRect();
            if (!r.width) { return; }
            boxes.push([(r.left + r.right) / 2 - frame.left,
                        (r.top + r.bottom) / 2 - frame.top, r.width / 2]);
        });
        return boxes;
    }

    function labelLayers(map, tooltipsBefore) {
        if (!map._wayhomeLabels) {
            var all = {layers: [], queued: false};
            all.place = function () {
                all.queued = false;
                var boxes = [], seeded = false;
                all.layers.slice().sort(function (a, b) { return a.rank - b.rank; })
                    .forEach(function (l) {
                        if (!seeded && l.rank >= tooltipsBefore) {
                            boxes = boxes.concat(tooltipBoxes(map));
                            seeded = true;
                        }
                        l.show(map, boxes);
                    });
            };
            all.redraw = function () {
                if (all.queued) { return; }
                all.queued = true;
                L.Util.requestAnimFrame(all.place);
            };
            map._wayhomeLabels = all;
            map.on("zoomend moveend", all.redraw);
        }
        return map._wayhomeLabels;
    }

    function placeLabels(st, map, boxes) {
        var labels = st.labels, o = st.options;
        labels.clearLayers();
        if (!map || map.getZoom() < o.label_zoom) { return; }
        var view = map.getBounds().pad(0.2), shown = 0;
        var keys = Object.keys(st.drawn);
        for (var i = 0; i < keys.length && shown < o.max_labels; i++) {
            var p = st.drawn[keys[i]].feature.properties;
            if (!p.lp || !view.contains(p.lp)) { continue; }
            // the label hangs from its point (top left): its box's centre; one that
            // would cover a label already placed is left off (its popup still works)
            var at = map.latLngToContainerPoint(p.lp), clash = false;
            var half = (p.label.replace(/<[^>]*>/g, "").length * 6.5 + 14) / 2;
            var cx = at.x + half, cy = at.y + 9;
            for (var j = 0; j < boxes.length && !clash; j++) {
                clash = Math.abs(boxes[j][0] - cx) < boxes[j][2] + half &&
                        Math.abs(boxes[j][1] - cy) < 20;
            }
            if (clash) { continue; }
            boxes.push([cx, cy, half]);
            L.marker(p.lp, {
                interactive: false, keyboard: false,
                icon: L.divIcon({className: "wayhome-sector-label " + p.lc,
                                 html: p.label, iconSize: null})
            }).addTo(labels);
            shown++;
        }
    }

    function showLabels(st) {
        // every labelled layer of the map is placed again, together, next frame
        if (st.map) { labelLayers(st.map, st.options.tooltips_before).redraw(); }
    }

    function setFeature(st, key, f) {
        // redraw only what differs from what is drawn
        var d = st.drawn[key];
        if (f === null) {
            if (d) { removeFeature(st, key); return true; }
            return false;
        }
        if (d && JSON.stringify(d.feature) === JSON.stringify(f)) { return false; }
        removeFeature(st, key);
        addFeature(st, f);
        return true;
    }

    function apply(msg) {
        var st = layers[msg.layer];
        if (!st || st.base !== msg.base) {
            return "waiting";  // the feed keeps it; draw() pulls it for that base
        }
        if (st.version === msg.to) { return "current"; }
        if (st.version !== msg.from) { return "missed"; }
        var started = performance.now(), redrawn = 0, k;
        (msg.remove || []).forEach(function (key) { if (setFeature(st, key, null)) { redrawn++; } });
        (msg.upsert || []).forEach(function (f) {
            if (setFeature(st, f.properties.k, f)) { redrawn++; }
        });
        // the unsearched part of a sector stays drawn over its sector
        (msg.upsert || []).forEach(function (f) {
            k = f.properties.k;
            var hole = st.drawn["n" + k.slice(1)];
            if (k.charAt(0) === "s" && hole) {
                hole.layers.forEach(function (pair) {
                    if (pair[1].bringToFront) { pair[1].bringToFront(); }
                });
            }
        });
        // marks that stay on top (the last-known ring) come back to the front
        Object.keys(st.drawn).forEach(function (key) {
            var d = st.drawn[key];
            if (d.feature.properties.front) {
                d.layers.forEach(function (pair) {
                    if (pair[1].bringToFront) { pair[1].bringToFront(); }
                });
            }
        });
        st.version = msg.to;
        if (st.labels) { showLabels(st); }
        // a mark's permanent label (a sighting's time) moved: every label is placed again
        var map = st.group._map;
        if (!st.labels && map && map._wayhomeLabels) { map._wayhomeLabels.redraw(); }
        stats.applied++;
        stats.redrawn = redrawn;
        stats.lastApplyMs = performance.now() - started;
        stats.lastVersion = msg.to;
        return "applied";
    }

    function applyAll(msg) {
        // one feed carries one message per keyed layer: {layers: [message, ...]}
        if (!msg.layers) { return apply(msg); }
        var redrawn = 0;
        var results = msg.layers.map(function (one) {
            var result = apply(one);
            if (result === "applied") { redrawn += stats.redrawn; }
            return result;
        });
        // features redrawn for the whole message, across its layers
        if (results.indexOf("applied") >= 0) { stats.redrawn = redrawn; }
        return results.indexOf("missed") >= 0 ? "missed" : results.join(",");
    }

    function pullFromFeeds() {
        // a feed that rendered before this map was drawn kept its latest message
        var frames;
        try { frames = window.parent.document.querySelectorAll("iframe"); } catch (e) { return; }
        for (var i = 0; i < frames.length; i++) {
            var win = null, text = null;
            try {
                win = frames[i].contentWindow;
                text = win.wayhomeFeedLatest || null;
            } catch (e) { text = null; }
            if (typeof text !== "string") { continue; }
            var result = applyAll(JSON.parse(text));
            if (result === "missed" && typeof win.wayhomeFeedMissed === "function") {
                win.wayhomeFeedMissed();
            }
        }
    }

    function markLayer(f, latlng) {
        // a case mark: a circle or a pin; options are the server's, text escaped by it
        var p = f.properties;
        if (p.m === "icon") {
            // a focusable marker's accessible name (set as text by Leaflet)
            return L.marker(latlng, {icon: L.divIcon(p.i), title: p.ti || "", alt: p.ti || ""});
        }
        return L.circleMarker(latlng, p.o);
    }

    function drawMarks(group, name, base, version, data, o) {
        // keyed marks of any kind (sightings, tasks, pins): no labels to thin, SVG only
        var st = {
            group: group, base: base, version: version, drawn: {}, options: o, map: null,
            labels: null, lastMain: null, lastUnder: null, under: null, main: null
        };
        st.main = L.geoJSON(null, {
            renderer: L.svg(),
            pointToLayer: markLayer,
            style: function (f) { return f.properties.o || {}; },
            onEachFeature: function (f, layer) {
                st.lastMain = layer;
                var p = f.properties;
                if (p.tt) { layer.bindTooltip(p.tt[0], p.tt[1]); }
                if (p.pp) { layer.bindPopup(p.pp, {maxWidth: 320}); }
            }
        }).addTo(group);
        data.features.forEach(function (f) { addFeature(st, f); });
        group.on("remove", function () { if (layers[name] === st) { delete layers[name]; } });
        layers[name] = st;
        pullFromFeeds();
    }

    function draw(group, name, base, version, data, o) {
        if (o.marks) { drawMarks(group, name, base, version, data, o); return; }
        addCss(o.css, o.hatch);
        var renderer = o.canvas ? L.canvas({padding: 0.5}) : L.svg();
        var st = {
            group: group, base: base, version: version,
            drawn: {}, options: o, map: null, labels: L.layerGroup(), lastMain: null,
            lastUnder: null, under: null, main: null
        };
        if (o.under) {
            st.under = L.geoJSON(null, {
                renderer: renderer,
                style: function () { return o.under; },
                interactive: false,
                onEachFeature: function (f, layer) { st.lastUnder = layer; }
            }).addTo(group);
        }
        st.main = L.geoJSON(null, {
            renderer: renderer,
            interactive: o.interactive !== false,
            style: function (f) { return o.styles[f.properties.style] || o.fallback; },
            onEachFeature: function (f, layer) {
                st.lastMain = layer;
                // built on first click from escaped parts
                if (f.properties.t) {
                    layer.bindPopup(function () { return details(f); }, {maxWidth: 340});
                }
            }
        }).addTo(group);
        st.labels.addTo(group);
        data.features.forEach(function (f) { addFeature(st, f); });
        var me = {rank: o.label_rank, show: function (map, boxes) {
            placeLabels(st, map, boxes);
        }};
        group.on("add", function (e) {
            st.map = e.target._map;
            if (!st.map) { return; }
            var all = labelLayers(st.map, o.tooltips_before);
            all.layers.push(me);
            all.redraw();
        });
        group.on("remove", function () {
            if (st.map) {
                var all = labelLayers(st.map, o.tooltips_before), at = all.layers.indexOf(me);
                if (at >= 0) { all.layers.splice(at, 1); }
                st.labels.clearLayers();
                all.redraw();  // the labels this layer held back may fit now
            }
            st.map = null;
            if (layers[name] === st) { delete layers[name]; }
        });
        layers[name] = st;
        pullFromFeeds();
    }

    window.wayhomeLive = {
        draw: draw,
        apply: apply,
        // from the feed frame: parsed here, so every object belongs to this frame
        applyText: function (text) { return applyAll(JSON.parse(text)); },
        stats: stats,
        version: function (name) { return layers[name] ? layers[name].version : null; }
    };
})();
