/* The layer feed: a Streamlit component with no face that hands map-layer changes,
 * as data, to the map frames of the same page (see static/wayhome-live-layers.js).
 *
 * It speaks Streamlit's component protocol by hand (ready, render, frame height) so
 * it needs no build step and no inline script. Each render carries one message:
 * {layer, base, version, upsert, remove}. It is kept (a map drawn later pulls it) and
 * posted to every map frame now; a map without that layer ignores it.
 */
(function () {
    "use strict";
    function toStreamlit(type, data) {
        var msg = {isStreamlitMessage: true, type: type};
        for (var k in data) { msg[k] = data[k]; }
        window.parent.postMessage(msg, "*");
    }
    function deliver(text) {
        window.wayhomeFeedLatest = text;
        var msg = JSON.parse(text), frames;
        try { frames = window.parent.document.querySelectorAll("iframe"); } catch (e) { return; }
        for (var i = 0; i < frames.length; i++) {
            var win = frames[i].contentWindow;
            if (!win || win === window) { continue; }
            try { win.postMessage({wayhomeLive: msg}, window.location.origin); } catch (e) { /* gone */ }
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
