// Loaded on pages with widgets, between require.js and the widget manager.
(function () {
  // 1. Tell require.js where the self-hosted manager lives, so that webpack fetches
  //    its icon fonts from _static/widgets/ instead of a path beside the page.
  var root = document.documentElement.getAttribute("data-content_root") || "";
  require.config({ paths: { "@jupyter-widgets/html-manager/dist": root + "_static/widgets" } });

  // 2. The manager typesets widget labels with MathJax 2's MathJax.Hub.Queue; the
  //    book uses MathJax 3, which has no Hub. Give every MathJax object a Hub whose
  //    Queue asks MathJax 3 to typeset the element instead.
  function withHub(mj) {
    if (mj && typeof mj === "object" && !mj.Hub) {
      mj.Hub = {
        Queue: function (job) {
          var element = job && job[2];
          var m = window.MathJax;
          if (m && m.typesetPromise) {
            m.typesetPromise(element ? [element] : undefined).catch(function () {});
          }
        },
      };
    }
    return mj;
  }
  var current = withHub(window.MathJax);
  Object.defineProperty(window, "MathJax", {
    configurable: true,
    get: function () { return current; },
    set: function (value) { current = withHub(value); },
  });
})();
