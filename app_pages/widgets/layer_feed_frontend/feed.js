/* The layer feed: a Streamlit component with no face that hands map-layer changes,
 * as data, to the map frames of the same page (see static/wayhome-live-layers.js).
 *
 * It speaks Streamlit's component protocol by hand (ready, render, frame height,
 * value) so it needs no build step and no inline script. Each render carries one
 * message: {layer, base, from, to, upsert, remove}. It is kept (a map drawn later
 * pulls it) and handed to every map frame now. A map that missed a change answers
 * "missed"; the feed then returns a value, which asks the server for a full redraw.
 */
(function () {
    "use strict";
    function toStreamlit(type, data) {
        var msg = {isStreamlitMessage: true, type: type};
        for (var k in data) { msg[k] = data[k]; }
        window.parent.postMessage(msg, "*");
    }
    window.wayhomeFeedMissed = function () {
        // a fresh value each time (this frame may be new): the server acts once per value
        var asked = Date.now().toString(36) + Math.random().toString(36).slice(2);
        toStreamlit("streamlit:setComponentValue", {value: {missed: asked}, dataType: "json"});
    };
    function deliver(text) {
        window.wayhomeFeedLatest = text;
        var frames;
        try { frames = window.parent.document.querySelectorAll("iframe"); } catch (e) { return; }
        for (var i = 0; i < frames.length; i++) {
            var live = null;
            try { live = frames[i].contentWindow.wayhomeLive || null; } catch (e) { live = null; }
            if (live && live.applyText(text) === "missed") { window.wayhomeFeedMissed(); }
        }
    }
    window.addEventListener("message", function (e) {
        if (e.source !== window.parent || !e.data || e.data.type !== "streamlit:render") { return; }
        var args = e.data.args || {};
        if (typeof args.message === "string" && args.message !== window.wayhomeFeedLatest) {
            deliver(args.message);
        }
        toStreamlit("streamlit:setFrameHeight", {height: 0});
    });
    toStreamlit("streamlit:componentReady", {apiVersion: 1});
    toStreamlit("streamlit:setFrameHeight", {height: 0});
})();
