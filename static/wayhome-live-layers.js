/* Live map layers keyed by id: a full draw once, then small changes applied in place.
 *
 * Loaded by the map frame (a script file served by the app, allowed by the frame's
 * Content-Security-Policy as 'self'). The sector map's layer script calls
 * wayhomeLive.draw(group, name, base, data, options) with every feature of the layer
 * as it was at version `base`. Later changes arrive as DATA, posted into this frame
 * by the layer feed (app_pages/widgets/layer_feed_frontend/): {layer, base, version, upsert,
 * remove}, always relative to `base` (cumulative), so a frame that missed a message
 * is still put right by the next one. A message for another base waits until the
 * frame draws that base (the full redraw the server sends when it starts a new one).
 * Only features that differ from what is drawn are redrawn.
 *
 * Every text in a feature is escaped by the server; only status keys choose styles.
 */
(function () {
    "use strict";
    if (window.wayhomeLive) { return; }
    var layers = {};   // layer name -> drawn state
    var waiting = {};  // layer name -> the latest message not yet applicable
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
            made.push([st.under, st.lastUnder]);
        }
        st.main.addData(f);
        made.push([st.main, st.lastMain]);
        st.drawn[f.properties.k] = {feature: f, json: JSON.stringify(f), layers: made};
    }

    function removeFeature(st, key) {
        var d = st.drawn[key];
        if (!d) { return; }
        d.layers.forEach(function (pair) { pair[0].removeLayer(pair[1]); });
        delete st.drawn[key];
    }

    function showLabels(st) {
        var map = st.map, labels = st.labels, o = st.options;
        labels.clearLayers();
        if (!map || map.getZoom() < o.label_zoom) { return; }
        var view = map.getBounds().pad(0.2), shown = 0, boxes = [];
        var keys = Object.keys(st.drawn);
        for (var i = 0; i < keys.length && shown < o.max_labels; i++) {
            var p = st.drawn[keys[i]].feature.properties;
            if (!p.lp || !view.contains(p.lp)) { continue; }
            // thinned: a label that would cover one already placed is left off
            var at = map.latLngToContainerPoint(p.lp), clash = false;
            var half = (p.label.replace(/<[^>]*>/g, "").length * 6.5 + 14) / 2;
            for (var j = 0; j < boxes.length && !clash; j++) {
                clash = Math.abs(boxes[j][0] - at.x) < boxes[j][2] + half &&
                        Math.abs(boxes[j][1] - at.y) < 20;
            }
            if (clash) { continue; }
            boxes.push([at.x, at.y, half]);
            L.marker(p.lp, {
                interactive: false, keyboard: false,
                icon: L.divIcon({className: "wayhome-sector-label " + p.lc,
                                 html: p.label, iconSize: null})
            }).addTo(labels);
            shown++;
        }
    }

    function setFeature(st, key, f) {
        // redraw only what differs from what is drawn
        var d = st.drawn[key];
        if (f === null) {
            if (d) { removeFeature(st, key); return true; }
            return false;
        }
        if (d && d.json === JSON.stringify(f)) { return false; }
        removeFeature(st, key);
        addFeature(st, f);
        return true;
    }

    function apply(msg) {
        var st = layers[msg.layer];
        if (!st || st.base !== msg.base) {
            waiting[msg.layer] = msg;  // drawn when the frame has that base
            return "waiting";
        }
        if (st.version === msg.version) { return "current"; }
        var started = performance.now();
        var next = {}, touched = {}, redrawn = 0, k;
        (msg.upsert || []).forEach(function (f) { next[f.properties.k] = f; });
        (msg.remove || []).forEach(function (key) { next[key] = null; });
        // what an earlier message changed and this one does not: back to the base
        for (k in st.touched) {
            if (!(k in next)) { next[k] = k in st.baseFeatures ? st.baseFeatures[k] : null; }
        }
        for (k in next) {
            if (setFeature(st, k, next[k])) { redrawn++; }
            if (k in st.baseFeatures ? st.baseFeatures[k] !== next[k] : next[k] !== null) {
                touched[k] = true;
            }
        }
        // the unsearched part of a sector stays drawn over its sector
        for (k in next) {
            var hole = "n" + k.slice(1);
            if (k.charAt(0) === "s" && next[k] && st.drawn[hole]) {
                st.drawn[hole].layers.forEach(function (pair) {
                    if (pair[1].bringToFront) { pair[1].bringToFront(); }
                });
            }
        }
        st.touched = touched;
        st.version = msg.version;
        showLabels(st);
        stats.applied++;
        stats.redrawn = redrawn;
        stats.lastApplyMs = performance.now() - started;
        stats.lastVersion = msg.version;
        return "applied";
    }

    function pullFromFeeds() {
        // a feed that rendered before this map was drawn kept its latest message
        var frames;
        try { frames = window.parent.document.querySelectorAll("iframe"); } catch (e) { return; }
        for (var i = 0; i < frames.length; i++) {
            var text = null;
            try { text = frames[i].contentWindow.wayhomeFeedLatest || null; } catch (e) { text = null; }
            if (typeof text === "string") {
                try { apply(JSON.parse(text)); } catch (e) { /* not a feed message */ }
            }
        }
    }

    function draw(group, name, base, data, o) {
        addCss(o.css, o.hatch);
        var renderer = o.canvas ? L.canvas({padding: 0.5}) : L.svg();
        var st = {
            group: group, base: base, version: base, baseFeatures: {}, touched: {},
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
        data.features.forEach(function (f) {
            st.baseFeatures[f.properties.k] = f;
            addFeature(st, f);
        });
        var update = function () { showLabels(st); };
        group.on("add", function (e) {
            st.map = e.target._map;
            if (!st.map) { return; }
            st.map.on("zoomend moveend", update);
            showLabels(st);
        });
        group.on("remove", function () {
            if (st.map) { st.map.off("zoomend moveend", update); }
            st.map = null;
            if (layers[name] === st) { delete layers[name]; }
        });
        layers[name] = st;
        var held = waiting[name];
        if (held && held.base === base) { delete waiting[name]; apply(held); }
        pullFromFeeds();
    }

    window.addEventListener("message", function (e) {
        if (e.origin !== window.location.origin || !e.data || !e.data.wayhomeLive) { return; }
        var msg = e.data.wayhomeLive;
        if (typeof msg.layer === "string" && typeof msg.base === "string") { apply(msg); }
    });

    window.wayhomeLive = {
        draw: draw,
        apply: apply,
        stats: stats,
        version: function (name) { return layers[name] ? layers[name].version : null; }
    };
})();
