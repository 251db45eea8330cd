/* A table that scrolls sideways (phones) must be reachable by keyboard to be scrolled: give the
 * ones without a link or button inside a tab stop (WCAG 2.1.1, axe "scrollable-region-focusable"). */
(function () {
  "use strict";
  function mark() {
    document.querySelectorAll("main table, main .table-wrap").forEach(function (box) {
      var scrolls = box.scrollWidth > box.clientWidth + 1;
      var focusable = box.querySelector("a[href], button, input, select, textarea, [tabindex]");
      if (scrolls && !focusable) { box.tabIndex = 0; } else if (!scrolls && box.tabIndex === 0) { box.removeAttribute("tabindex"); }
    });
  }
  document.addEventListener("DOMContentLoaded", mark);
  window.addEventListener("resize", mark);
})();
