// Charts of single pages, drawn with the vendored Chart.js from json_script data; labels come from the
// canvas's data-label-* attributes (translated by the template). No inline script: the
// Content-Security-Policy allows scripts from this site only.
(function () {
  "use strict";

  function jsonOf(id) {
    var element = document.getElementById(id);
    return element ? JSON.parse(element.textContent) : null;
  }

  // The vehicle page: odometer readings, the ones left out, and the projection.
  function odometer() {
    var canvas = document.getElementById("odometer-chart");
    var data = jsonOf("chart-data");
    if (!canvas || !data || canvas.dataset.drawn) return;
    canvas.dataset.drawn = "1";
    var good = data.readings.filter(function (p) { return !p.flagged; });
    var bad = data.readings.filter(function (p) { return p.flagged; });
    var toXY = function (p) { return {x: new Date(p.x).getTime(), y: p.y}; };
    // Scale to the trusted readings and the projection: a typo of 844,060 km must not flatten the chart.
    var trusted = good.concat(data.projection).map(function (p) { return p.y; });
    var top = Math.max.apply(null, [1000].concat(trusted)) * 1.15;
    var lang = document.documentElement.lang || undefined;
    new Chart(canvas, {
      type: "scatter",
      data: {datasets: [
        {label: canvas.dataset.labelReadings, data: good.map(toXY), showLine: true, borderColor: "#1f6feb", backgroundColor: "#1f6feb"},
        {label: canvas.dataset.labelLeftOut, data: bad.map(toXY).map(function (p) { return {x: p.x, y: Math.min(p.y, top)}; }),
         borderColor: "#c62828", backgroundColor: "#c62828", pointStyle: "crossRot", pointRadius: 6},
        {label: canvas.dataset.labelProjection, data: data.projection.map(toXY), showLine: true, borderDash: [6, 4],
         borderColor: "#b35900", backgroundColor: "#b35900"}
      ]},
      options: {animation: false, scales: {
        x: {type: "linear", ticks: {callback: function (v) { return new Date(v).toLocaleDateString(lang); }}},
        y: {beginAtZero: true, max: top}}}
    });
  }

  // The touchpoint template's admin preview (swapped in by htmx): the next 90 days before and after.
  function preview() {
    var canvas = document.getElementById("preview-chart");
    var d = jsonOf("preview-data");
    if (!canvas || !d || canvas.dataset.drawn) return;
    canvas.dataset.drawn = "1";
    new Chart(canvas, {type: "line", data: {labels: d.days, datasets: [
      {label: canvas.dataset.labelTouchpointsBefore, data: d.touchpoints_before, borderColor: "#8a9bb0", pointRadius: 0},
      {label: canvas.dataset.labelTouchpointsAfter, data: d.touchpoints_after, borderColor: "#1f6feb", pointRadius: 0},
      {label: canvas.dataset.labelCallsBefore, data: d.calls_before, borderColor: "#c9a27a", borderDash: [4, 3], pointRadius: 0},
      {label: canvas.dataset.labelCallsAfter, data: d.calls_after, borderColor: "#b35900", borderDash: [4, 3], pointRadius: 0}
    ]}, options: {animation: false, scales: {y: {beginAtZero: true}}}});
  }

  function draw() { odometer(); preview(); }
  document.addEventListener("DOMContentLoaded", draw);
  document.addEventListener("htmx:afterSettle", draw);
})();
