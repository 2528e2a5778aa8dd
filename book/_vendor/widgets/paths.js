// Loaded between require.js and the widget manager: tells require.js where the
// self-hosted manager lives, so that webpack fetches its icon fonts from
// _static/widgets/ instead of a path beside the page (or a CDN).
(function () {
  var root = document.documentElement.getAttribute("data-content_root") || "";
  require.config({ paths: { "@jupyter-widgets/html-manager/dist": root + "_static/widgets" } });
})();
