/*
 * The Sales page's charts (Chart.js, vendored under static/vendor/). Each <figure data-chart>
 * names the json_script element holding its figures; money is formatted with the shop's
 * locale and currency (json_script "shop-format"). The tooltip is a DOM element next to the
 * canvas (role="status"), so its figures are text that screen readers and tests can read.
 */
(function () {
  "use strict";
  var format = JSON.parse(document.getElementById("shop-format").textContent);
  var money = new Intl.NumberFormat(format.locale, { style: "currency", currency: format.currency });
  var moneyAxis = new Intl.NumberFormat(format.locale, {
    style: "currency", currency: format.currency, notation: "compact", maximumFractionDigits: 1,
  });
  var number = new Intl.NumberFormat(format.locale);
  var dateFormat = new Intl.DateTimeFormat(format.locale, {
    weekday: "short", year: "numeric", month: "short", day: "numeric", timeZone: "UTC",
  });
  var shortDate = new Intl.DateTimeFormat(format.locale, { month: "short", day: "numeric", timeZone: "UTC" });
  var COLORS = {
    units: "#457b9d", revenue: "#c1121f",
    previousUnits: "rgba(69, 123, 157, 0.25)", previousRevenue: "rgba(193, 18, 31, 0.35)",
    bar: "#2a9d8f", grid: "#e2e8f0", text: "#1d232a",
  };

  function day(iso) { return new Date(iso + "T00:00:00Z"); }

  function htmlTooltip(figure) {
    var box = figure.querySelector(".chart-tooltip");
    return function (context) {
      var tip = context.tooltip;
      if (!tip || tip.opacity === 0) { box.hidden = true; return; }
      var lines = figure.tooltipLines(tip.dataPoints);
      box.replaceChildren();
      lines.forEach(function (line, index) {
        var el = document.createElement(index === 0 ? "strong" : "span");
        el.textContent = line;
        box.appendChild(el);
      });
      box.hidden = false;
      var x = tip.caretX + 12, maxX = context.chart.width - box.offsetWidth - 4;
      box.style.left = Math.max(0, Math.min(x, maxX)) + "px";
      box.style.top = Math.max(0, tip.caretY - box.offsetHeight / 2) + "px";
    };
  }

  function baseOptions(figure) {
    return {
      responsive: true,
      maintainAspectRatio: false,
      animation: false,
      interaction: { mode: "index", intersect: false },
      plugins: {
        legend: { labels: { color: COLORS.text, font: { size: 13 }, boxWidth: 14,
                            sort: function (a, b) { return a.datasetIndex - b.datasetIndex; } } },
        tooltip: { enabled: false, external: htmlTooltip(figure) },
      },
    };
  }

  function dayChart(figure, data) {
    figure.tooltipLines = function (points) {
      var i = points[0].dataIndex;
      return [
        dateFormat.format(day(data.days[i])),
        number.format(data.units[i]) + " units · " + number.format(data.orders[i]) + " orders",
        "Revenue " + money.format(data.revenue[i]),
        "Previous period, " + dateFormat.format(day(data.previous_days[i])) + ": " +
          number.format(data.previous_units[i]) + " units, " + money.format(data.previous_revenue[i]),
      ];
    };
    var options = baseOptions(figure);
    options.scales = {
      x: { ticks: { color: COLORS.text, font: { size: 12 }, maxRotation: 0, autoSkipPadding: 16 },
           grid: { display: false } },
      y: { position: "left", beginAtZero: true, title: { display: true, text: "Units", color: COLORS.text, font: { size: 13 } },
           ticks: { color: COLORS.text, font: { size: 12 }, precision: 0, callback: function (v) { return number.format(v); } },
           grid: { color: COLORS.grid } },
      y1: { position: "right", beginAtZero: true, title: { display: true, text: "Revenue", color: COLORS.text, font: { size: 13 } },
            ticks: { color: COLORS.text, font: { size: 12 }, callback: function (v) { return moneyAxis.format(v); } },
            grid: { drawOnChartArea: false } },
    };
    return new Chart(figure.querySelector("canvas"), {
      data: {
        labels: data.days.map(function (d) { return shortDate.format(day(d)); }),
        datasets: [
          { type: "bar", label: "Units", data: data.units, backgroundColor: COLORS.units, yAxisID: "y", order: 2 },
          { type: "line", label: "Revenue", data: data.revenue, borderColor: COLORS.revenue, backgroundColor: COLORS.revenue,
            borderWidth: 2, pointRadius: 0, pointHitRadius: 6, yAxisID: "y1", order: 1 },
          { type: "bar", label: "Units, previous period", data: data.previous_units, backgroundColor: COLORS.previousUnits,
            yAxisID: "y", order: 3 },
          { type: "line", label: "Revenue, previous period", data: data.previous_revenue, borderColor: COLORS.previousRevenue,
            backgroundColor: COLORS.previousRevenue, borderDash: [5, 4], borderWidth: 1.5, pointRadius: 0, yAxisID: "y1", order: 0 },
        ],
      },
      options: options,
    });
  }

  function barChart(figure, data) {
    figure.tooltipLines = function (points) {
      var i = points[0].dataIndex;
      return [data.labels[i], "Revenue " + money.format(data.revenue[i]), number.format(data.units[i]) + " units"];
    };
    var options = baseOptions(figure);
    options.indexAxis = "y";
    options.plugins.legend.display = false;
    options.scales = {
      x: { beginAtZero: true, ticks: { color: COLORS.text, font: { size: 12 }, callback: function (v) { return moneyAxis.format(v); } },
           grid: { color: COLORS.grid } },
      y: { ticks: { color: COLORS.text, font: { size: 13 },
                    callback: function (v) { var t = data.labels[v]; return t.length > 28 ? t.slice(0, 27) + "…" : t; } },
           grid: { display: false } },
    };
    figure.querySelector(".chart-box").style.height = Math.max(120, data.labels.length * 34 + 40) + "px";
    return new Chart(figure.querySelector("canvas"), {
      type: "bar",
      data: { labels: data.labels, datasets: [{ label: "Revenue", data: data.revenue, backgroundColor: COLORS.bar }] },
      options: options,
    });
  }

  document.querySelectorAll("figure[data-chart]").forEach(function (figure) {
    var data = JSON.parse(document.getElementById(figure.dataset.chart).textContent);
    figure.chart = (figure.dataset.kind === "day" ? dayChart : barChart)(figure, data);
    figure.classList.add("chart-ready");
  });
})();
