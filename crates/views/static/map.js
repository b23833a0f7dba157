// Zoom and pan for the network map (svg.v-map): mouse wheel or the +/- buttons zoom,
// dragging pans, "Fit" restores the whole map. Works on the SVG viewBox only; no
// external libraries, no inline code (CSP default-src 'self').
(function () {
  "use strict";
  function setup(svg) {
    var home = svg.getAttribute("data-viewbox").split(" ").map(Number);
    if (home.length !== 4 || home.some(isNaN)) { return; }
    var vb = home.slice();
    function apply() { svg.setAttribute("viewBox", vb.join(" ")); }
    function toSvg(clientX, clientY) {
      var r = svg.getBoundingClientRect();
      // preserveAspectRatio meet: one scale for both axes, content centred in x.
      var s = Math.max(vb[2] / r.width, vb[3] / r.height);
      var ox = (r.width * s - vb[2]) / 2;
      return [vb[0] + (clientX - r.left) * s - ox, vb[1] + (clientY - r.top) * s, s];
    }
    function zoom(factor, cx, cy) {
      var w = vb[2] * factor, h = vb[3] * factor;
      if (w < home[2] / 40 || w > home[2] * 4) { return; }
      vb = [cx - (cx - vb[0]) * factor, cy - (cy - vb[1]) * factor, w, h];
      apply();
    }
    svg.addEventListener("wheel", function (e) {
      e.preventDefault();
      var p = toSvg(e.clientX, e.clientY);
      zoom(e.deltaY > 0 ? 1.2 : 1 / 1.2, p[0], p[1]);
    }, { passive: false });
    var drag = null, moved = false;
    svg.addEventListener("pointerdown", function (e) {
      if (e.button !== 0) { return; }
      drag = { x: e.clientX, y: e.clientY, vb: vb.slice(), s: toSvg(e.clientX, e.clientY)[2] };
      moved = false;
    });
    svg.addEventListener("pointermove", function (e) {
      if (!drag) { return; }
      var dx = e.clientX - drag.x, dy = e.clientY - drag.y;
      if (!moved && Math.abs(dx) + Math.abs(dy) < 4) { return; }
      if (!moved) { svg.setPointerCapture(e.pointerId); svg.classList.add("v-panning"); }
      moved = true;
      vb = [drag.vb[0] - dx * drag.s, drag.vb[1] - dy * drag.s, drag.vb[2], drag.vb[3]];
      apply();
    });
    function end() { drag = null; svg.classList.remove("v-panning"); }
    svg.addEventListener("pointerup", end);
    svg.addEventListener("pointercancel", end);
    // A drag must not follow the link it started on.
    svg.addEventListener("click", function (e) {
      if (moved) { e.preventDefault(); e.stopPropagation(); moved = false; }
    }, true);
    var root = svg.closest(".v-mapview") || document;
    root.querySelectorAll("[data-map-zoom]").forEach(function (b) {
      b.addEventListener("click", function () {
        var what = b.getAttribute("data-map-zoom");
        if (what === "reset") { vb = home.slice(); apply(); return; }
        zoom(what === "in" ? 1 / 1.3 : 1.3, vb[0] + vb[2] / 2, vb[1] + vb[3] / 2);
      });
    });
  }
  function init() { document.querySelectorAll("svg.v-map[data-viewbox]").forEach(setup); }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else { init(); }
})();
