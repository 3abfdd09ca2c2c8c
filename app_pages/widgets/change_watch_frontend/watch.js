/* The change watch: a Streamlit component with no face that waits, with the server,
 * for its case to change (see app_pages/widgets/change_push.py and change_watch.py).
 *
 * Each render carries {url, token, seen}. It asks url?n=seen, the token in the
 * X-Wayhome-Watch header (never in an address, which logs may quote); the server
 * answers when the case's counter differs from seen (or after a while with the same
 * one). A different counter becomes this component's value, so the browser re-runs
 * the fragment that drew it, with the page's real widget states. A token the server
 * does not know (410) stops the asking until a render brings another; a failed
 * request is retried after a growing pause. Speaks Streamlit's component protocol by
 * hand (no build step, no inline script).
 */
(function () {
    "use strict";
    var current = null;     // {url, token, seen} of the last render
    var running = null;     // the asking loop's own object: a newer render replaces it
    function toStreamlit(type, data) {
        var msg = {isStreamlitMessage: true, type: type};
        for (var k in data) { msg[k] = data[k]; }
        window.parent.postMessage(msg, "*");
    }
    function pause(ms) { return new Promise(function (done) { setTimeout(done, ms); }); }
    async function ask(loop) {
        var seen = loop.seen;
        var backoff = 500;
        while (running === loop) {
            var answer = null;
            try {
                var url = loop.url + "?n=" + encodeURIComponent(String(seen));
                var response = await fetch(url, {
                    credentials: "same-origin", cache: "no-store", signal: loop.abort.signal,
                    headers: {"X-Wayhome-Watch": loop.token}
                });
                if (response.status === 410) { return; }   // unknown here: wait for a render
                if (response.ok) { answer = await response.json(); }
            } catch (e) {
                if (running !== loop) { return; }
            }
            if (running !== loop) { return; }
            if (answer && typeof answer.n === "number") {
                backoff = 500;
                if (answer.n !== seen) {
                    seen = answer.n;
                    toStreamlit("streamlit:setComponentValue", {value: seen, dataType: "json"});
                }
                continue;
            }
            await pause(backoff);
            backoff = Math.min(backoff * 2, 10000);
        }
    }
    window.addEventListener("message", function (e) {
        if (e.source !== window.parent || !e.data || e.data.type !== "streamlit:render") { return; }
        var args = e.data.args || {};
        toStreamlit("streamlit:setFrameHeight", {height: 0});
        if (typeof args.url !== "string" || typeof args.token !== "string" ||
            typeof args.seen !== "number") { return; }
        if (current && current.url === args.url && current.token === args.token &&
            current.seen === args.seen && running) { return; }
        current = {url: args.url, token: args.token, seen: args.seen};
        if (running) { running.abort.abort(); }
        running = {url: args.url, token: args.token, seen: args.seen,
                   abort: new AbortController()};
        ask(running);
    });
    toStreamlit("streamlit:componentReady", {apiVersion: 1});
    toStreamlit("streamlit:setFrameHeight", {height: 0});
})();
