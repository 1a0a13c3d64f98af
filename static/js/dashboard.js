// The manager dashboard's charts: one line chart per figure, month by month. The data (the
// snapshot's "series") and the chart list with translated labels come from json_script elements
// written by templates/contacts/dashboard.html; Chart.js is the vendored static/vendor copy.
(function () {
  "use strict";

  const COLOURS = ["#1f6feb", "#b35900", "#2da44e", "#8250df", "#cf222e", "#0a7ea4", "#9a6700", "#57606a", "#bf3989"];
  const MAX_AGENTS = 8;

  // Numbers in the page's language (<html lang>, set by Django): "12,5 %" and "1 234" in Russian,
  // "12.5 %" and "1,234" in English; a percent sign after a no-break space, as the page writes it.
  const LANGUAGE = document.documentElement.lang || "en";
  function numberFormat(options) {
    try { return new Intl.NumberFormat(LANGUAGE, options); } catch (e) { return new Intl.NumberFormat("en", options); }
  }
  const COUNT = numberFormat({maximumFractionDigits: 0});
  const PERCENT = numberFormat({maximumFractionDigits: 1});
  function formatted(unit, value) {
    return unit === "percent" ? PERCENT.format(value) + "\u00a0%" : COUNT.format(value);
  }
  // A month "2025-01" as the page writes dates (d.m.Y): "01.2025".
  function monthLabel(month) {
    return /^\d{4}-\d{2}$/.test(month) ? month.slice(5) + "." + month.slice(0, 4) : month;
  }

  function percent(values) {
    return values.map(function (v) { return v === null || v === undefined ? null : Math.round(v * 1000) / 10; });
  }

  // Nothing to draw: no month has a value (a rate with nothing to divide). Zero counts are data.
  function isEmpty(datasets) {
    return datasets.every(function (d) { return d.data.every(function (v) { return v === null || v === undefined; }); });
  }

  function showEmpty(canvas, text) {
    const note = document.createElement("p");
    note.className = "muted small chart-empty";
    note.style.cssText = "position:absolute;inset:0;display:flex;align-items:center;justify-content:center;margin:0";
    note.textContent = text;
    canvas.parentNode.appendChild(note);
    canvas.style.visibility = "hidden";
  }

  function axis(unit, position, shown) {
    return {
      display: shown, position: position, beginAtZero: true,
      grid: {drawOnChartArea: position === "left"},
      ticks: {
        maxTicksLimit: 6, font: {size: 11}, precision: unit === "percent" ? 1 : 0,
        callback: function (value) { return formatted(unit, value); },
      },
    };
  }

  function agentDatasets(series, othersLabel) {
    const agents = series.agents.slice().sort(function (a, b) {
      const total = function (x) { return x.calls.reduce(function (s, v) { return s + v; }, 0); };
      return total(b) - total(a);
    });
    const shown = agents.slice(0, MAX_AGENTS).map(function (a) { return {label: a.agent, data: a.calls, unit: "count", axis: "y"}; });
    const rest = agents.slice(MAX_AGENTS);
    if (rest.length) {
      shown.push({label: othersLabel, unit: "count", axis: "y",
                  data: series.months.map(function (_m, i) { return rest.reduce(function (s, a) { return s + a.calls[i]; }, 0); })});
    }
    return shown;
  }

  function draw(chart, series, config) {
    const canvas = document.getElementById(chart.id);
    if (!canvas) { return; }
    const lines = chart.agents ? agentDatasets(series, config.others) : chart.lines.map(function (line) {
      const values = series[line.key] || [];
      return {label: line.label, data: line.unit === "percent" ? percent(values) : values, unit: line.unit, axis: line.axis};
    });
    const datasets = lines.map(function (line, i) {
      return {
        label: line.label, data: line.data, yAxisID: line.axis, unit: line.unit,
        borderColor: COLOURS[i % COLOURS.length], backgroundColor: COLOURS[i % COLOURS.length],
        borderWidth: 2, pointRadius: series.months.length > 24 ? 0 : 2, spanGaps: true, tension: 0,
      };
    });
    if (isEmpty(datasets)) {
      showEmpty(canvas, config.empty);
    }
    const unitOf = function (axisId) {
      const found = lines.find(function (l) { return l.axis === axisId; });
      return found ? found.unit : "count";
    };
    const usesRight = lines.some(function (l) { return l.axis === "y1"; });
    new Chart(canvas, {
      type: "line",
      data: {labels: series.months.map(monthLabel), datasets: datasets},
      options: {
        animation: false, responsive: true, maintainAspectRatio: false, locale: LANGUAGE,
        interaction: {mode: "index", intersect: false},
        plugins: {
          legend: {position: "bottom", labels: {boxWidth: 12, boxHeight: 12, font: {size: 11}}},
          tooltip: {callbacks: {label: function (item) {
            const v = item.raw;
            if (v === null || v === undefined) { return item.dataset.label + ": —"; }
            return item.dataset.label + ": " + formatted(item.dataset.unit, v);
          }}},
        },
        scales: {
          x: {ticks: {maxRotation: 0, autoSkip: true, maxTicksLimit: 8, font: {size: 11}}, grid: {display: false}},
          y: axis(unitOf("y"), "left", true),
          y1: axis(unitOf("y1"), "right", usesRight),
        },
      },
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    const seriesNode = document.getElementById("dashboard-series");
    const configNode = document.getElementById("dashboard-charts");
    if (!seriesNode || !configNode || typeof Chart === "undefined") { return; }
    const series = JSON.parse(seriesNode.textContent);
    const config = JSON.parse(configNode.textContent);
    config.charts.forEach(function (chart) { draw(chart, series, config); });
  });
})();
