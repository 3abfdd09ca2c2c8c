// Shows a banner while Streamlit's connection is not CONNECTED (the team lead's page).
// A file served by the app, not an inline script: the Content-Security-Policy allows
// scripts from the app's own origin only.
(function () {
  var d = document;
  if (d.getElementById('wh-offline')) return;
  var b = d.createElement('div');
  b.id = 'wh-offline';
  b.setAttribute('role', 'alert');
  b.textContent = 'Not saved \u2014 reconnecting\u2026 Keep this page open.';
  b.style.cssText = 'display:none;position:fixed;top:0;left:0;right:0;z-index:999999;' +
    'background:#b00020;color:#fff;font:600 18px/1.4 sans-serif;padding:12px;text-align:center';
  d.body.appendChild(b);
  setInterval(function () {
    var a = d.querySelector("[data-testid='stApp']");
    var s = a ? a.getAttribute('data-test-connection-state') : '';
    b.style.display = (s && s !== 'CONNECTED') ? 'block' : 'none';
  }, 500);
})();
