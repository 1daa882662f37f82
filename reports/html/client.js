// The only script report.html runs besides uPlot: it reads the embedded data block and draws one
// uPlot chart into each `.chart` placeholder. Everything else on the page (tables, verdicts,
// configuration) is plain HTML written at render time, so the report reads without JavaScript.
// When every chart has drawn it sets window.__raceday_drawn (ms since navigation start) and the
// performance mark "raceday-drawn", which the browser test and `raceday bench report` wait for.
(function () {
  'use strict';
  var PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#17becf', '#8c564b', '#e377c2', '#7f7f00', '#0b6e4f'];
  var HEIGHT_PX = 240;

  function fail(message) {
    var box = document.getElementById('chart-error');
    if (box) {
      box.hidden = false;
      box.textContent = message;
    }
    console.error('raceday report: ' + message);
  }

  function optionsFor(chart, width, onDraw) {
    var xLabel = chart.xLabel || 'seconds since start';
    var series = [{ label: xLabel }];
    for (var i = 0; i < chart.series.length; i++) {
      series.push({
        label: chart.series[i].label,
        stroke: PALETTE[i % PALETTE.length],
        width: 1.5,
        spanGaps: chart.spanGaps === true,
        value: function (u, v) { return v == null ? '-' : String(v); },
      });
    }
    return {
      width: width,
      height: HEIGHT_PX,
      scales: { x: { time: false } },
      series: series,
      axes: [{ label: xLabel }, { label: chart.unit, size: 60 }],
      hooks: { draw: [onDraw] },
    };
  }

  function main() {
    if (typeof uPlot !== 'function') return fail('the charting library did not load');
    var block = document.getElementById('report-data');
    var data = JSON.parse(block.textContent);
    var placeholders = document.querySelectorAll('.chart[data-chart]');
    var pending = placeholders.length;
    var plots = [];
    var done = function () {
      window.__raceday_drawn = performance.now();
      performance.mark('raceday-drawn');
      document.documentElement.setAttribute('data-charts-drawn', String(plots.length));
    };
    if (pending === 0) return done();
    placeholders.forEach(function (el) {
      var chart = data.charts[el.getAttribute('data-chart')];
      if (!chart) return fail('no data for chart ' + el.getAttribute('data-chart'));
      var columns = [data.axes[chart.x]];
      for (var i = 0; i < chart.series.length; i++) columns.push(chart.series[i].values);
      var drawn = false;
      var onDraw = function () {
        if (drawn) return;
        drawn = true;
        if (--pending === 0) done();
      };
      plots.push({ el: el, plot: new uPlot(optionsFor(chart, el.clientWidth || 800, onDraw), columns, el) });
    });
    var resizeTimer = 0;
    window.addEventListener('resize', function () {
      clearTimeout(resizeTimer);
      resizeTimer = setTimeout(function () {
        plots.forEach(function (p) { p.plot.setSize({ width: p.el.clientWidth || 800, height: HEIGHT_PX }); });
      }, 100);
    });
  }

  try {
    main();
  } catch (e) {
    fail('charts failed: ' + (e && e.message ? e.message : String(e)));
  }
})();
