// Accessibility fixes Streamlit does not make itself (app_pages/widgets/a11y.py): the
// map component's frame gets a title saying what it shows (read from the page's
// data-wayhome-map-title element, else data-wayhome-map-default) and
// data-wayhome-map; the main area is a main landmark. A file served by the app, not
// an inline script: the Content-Security-Policy allows scripts from the app's own
// origin only. Sets attributes only.
(function () {
  var d = document;
  function attr(selector, name) {
    var holder = d.querySelector(selector);
    return holder ? holder.getAttribute(name) : '';
  }
  function fix() {
    var title = attr('[data-wayhome-map-title]', 'data-wayhome-map-title') ||
                attr('[data-wayhome-map-default]', 'data-wayhome-map-default');
    d.querySelectorAll('iframe[title="streamlit_folium.st_folium"]').forEach(function (f) {
      f.setAttribute('data-wayhome-map', '1');
    });
    if (title) {
      d.querySelectorAll('iframe[data-wayhome-map]').forEach(function (f) {
        if (f.title !== title) f.title = title;
      });
    }
    var main = d.querySelector('[data-testid="stMain"]');
    if (main && !d.querySelector('main, [role="main"]')) main.setAttribute('role', 'main');
  }
  fix();
  if (window.__wayhomeA11y) return;
  window.__wayhomeA11y = new MutationObserver(fix);
  window.__wayhomeA11y.observe(d.body, {childList: true, subtree: true, attributes: true,
                                        attributeFilter: ['title', 'data-wayhome-map-title']});
})();
