import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Bar } from '@feed/core';
import { newYorkOffsetMs } from '@feed/core';
import type { QualityStats, Snapshot } from '@feed/data-manager';
import type { SliceRecord } from './program.js';

export interface ReportInput {
  readonly title: string;
  /** One line about where the data came from (replay of files, live feed, ...). */
  readonly subtitle: string;
  readonly symbols: readonly string[];
  /** Each symbol's bars (the data manager's history). */
  readonly bars: Readonly<Record<string, readonly Bar[]>>;
  readonly slices: readonly SliceRecord[];
  readonly stats: QualityStats;
  /** Symbols whose bars are synthetic (generated, not real data): marked on their chart and row. */
  readonly synthetic?: readonly string[];
  /** The last slice: each symbol's price, staleness weight and validity at the end. */
  readonly last?: Snapshot | undefined;
}

/** The charting library's standalone build (TradingView's lightweight-charts), to inline. */
function chartLibrary(): { code: string; version: string } {
  const require = createRequire(import.meta.url);
  const pkgPath = require.resolve('lightweight-charts/package.json');
  const pkg = JSON.parse(readFileSync(pkgPath, 'utf8')) as { version: string };
  return { code: readFileSync(join(dirname(pkgPath), 'dist', 'lightweight-charts.standalone.production.js'), 'utf8'), version: pkg.version };
}

/** JSON safe inside a <script> element. */
function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

const escapeHtml = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/**
 * A self-contained HTML report: a candlestick chart per symbol, and a per-minute view of forward
 * fills and staleness, drawn by lightweight-charts inlined into the file (no server, no network).
 * When the page has drawn, `<body>` gets `data-drawn="yes"`, `data-charts` (charts with drawn pixels)
 * and `data-errors` (errors the page logged): what the headless-browser test reads.
 */
function reportHtml(input: ReportInput): string {
  const lib = chartLibrary();
  // The time axis shows New York wall time: each time is shifted by New York's offset.
  const ny = (t: number): number => Math.floor((t + newYorkOffsetMs(t)) / 1000);
  const synthetic = new Set(input.synthetic ?? []);
  const data = {
    symbols: input.symbols,
    synthetic: [...synthetic],
    candles: Object.fromEntries(
      input.symbols.map((s) => [s, (input.bars[s] ?? []).map((b) => ({ time: ny(b.start), open: b.open, high: b.high, low: b.low, close: b.close }))]),
    ),
    slices: input.slices.map((s) => ({ time: ny(s.t), filled: s.forwardFilled, missing: s.missing, weight: Math.round(s.avgWeight * 1e4) / 1e4 })),
  };
  const rows = input.symbols
    .map((s) => {
      const st = input.stats.bySymbol[s];
      const age = st?.avgAgeMs === undefined || st.avgAgeMs === null ? '-' : (st.avgAgeMs / 1000).toFixed(1);
      const e = input.last?.symbols[s];
      const price = e?.price === undefined || e.price === null ? '-' : e.price.toFixed(2);
      const weight = e === undefined ? '-' : e.stalenessWeight.toFixed(3);
      const valid = e === undefined ? '-' : e.valid ? 'yes' : '<b class="bad">no</b>';
      const name = synthetic.has(s) ? `${escapeHtml(s)} <span class="synthetic">synthetic</span>` : escapeHtml(s);
      return `<tr><td>${name}</td><td>${st?.accepted ?? 0}</td><td>${st?.rejected ?? 0}</td><td>${st?.forwardFilledIntervals ?? 0}</td><td>${age}</td><td>${price}</td><td>${weight}</td><td>${valid}</td></tr>`;
    })
    .join('\n');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(input.title)}</title>
<style>
  body { font: 14px system-ui, sans-serif; margin: 16px; color: #222; }
  h1 { font-size: 20px; margin: 0 0 4px; } h2 { font-size: 15px; margin: 18px 0 6px; }
  .sub { color: #666; margin-bottom: 12px; }
  .grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(520px, 1fr)); gap: 12px; }
  .chart { height: 260px; border: 1px solid #ddd; }
  .wide { height: 220px; border: 1px solid #ddd; }
  table { border-collapse: collapse; margin-top: 8px; } td, th { border: 1px solid #ddd; padding: 3px 10px; text-align: right; }
  td:first-child, th:first-child { text-align: left; }
  .synthetic { font-size: 11px; color: #8a5a00; background: #fff3cd; border: 1px solid #f0d58c; border-radius: 3px; padding: 0 4px; }
  .bad { color: #c0392b; }
</style>
</head>
<body>
<h1>${escapeHtml(input.title)}</h1>
<div class="sub">${escapeHtml(input.subtitle)} &middot; times in New York &middot; charts by lightweight-charts ${escapeHtml(lib.version)} (inlined)</div>
<h2>Per minute: forward-filled symbols (bars) and mean staleness weight (line, right scale)</h2>
<div id="quality" class="wide"></div>
<h2>Candles</h2>
<div class="grid" id="charts"></div>
<h2>Quality</h2>
<table><tr><th>symbol</th><th>bars</th><th>rejected</th><th>forward-filled minutes</th><th>avg age at slice, s</th><th>last price</th><th>staleness weight</th><th>valid</th></tr>
${rows}
</table>
<script>
window.__reportErrors = [];
window.addEventListener('error', function (e) { window.__reportErrors.push(String(e.message)); });
(function () {
  var origError = console.error;
  console.error = function () { window.__reportErrors.push(Array.prototype.join.call(arguments, ' ')); origError.apply(console, arguments); };
})();
</script>
<script>${lib.code}</script>
<script>
(function () {
  var data = ${scriptJson(data)};
  var LWC = window.LightweightCharts;
  var charts = [];
  // Room after the last bar so the last time label is not cut; price tags off so they never cover
  // the axis labels.
  var common = { autoSize: true, timeScale: { timeVisible: true, secondsVisible: false, rightOffset: 12 }, layout: { attributionLogo: false } };
  var quiet = { lastValueVisible: false, priceLineVisible: false };
  var q = LWC.createChart(document.getElementById('quality'), common);
  var filled = q.addSeries(LWC.HistogramSeries, Object.assign({ color: '#f39c12', priceScaleId: 'left', priceFormat: { type: 'price', precision: 0, minMove: 1 } }, quiet));
  q.applyOptions({ leftPriceScale: { visible: true } });
  filled.setData(data.slices.map(function (s) { return { time: s.time, value: s.filled }; }));
  var weight = q.addSeries(LWC.LineSeries, Object.assign({ color: '#2962ff', lineWidth: 2 }, quiet));
  weight.setData(data.slices.map(function (s) { return { time: s.time, value: s.weight }; }));
  q.timeScale().fitContent();
  charts.push(q);
  var grid = document.getElementById('charts');
  data.symbols.forEach(function (symbol) {
    var box = document.createElement('div');
    var title = document.createElement('div');
    title.textContent = symbol + ' (' + data.candles[symbol].length + ' bars)';
    if (data.synthetic.indexOf(symbol) >= 0) {
      var tag = document.createElement('span');
      tag.className = 'synthetic';
      tag.textContent = 'synthetic';
      title.appendChild(document.createTextNode(' '));
      title.appendChild(tag);
    }
    var el = document.createElement('div');
    el.className = 'chart';
    box.appendChild(title);
    box.appendChild(el);
    grid.appendChild(box);
    var c = LWC.createChart(el, common);
    var s = c.addSeries(LWC.CandlestickSeries, Object.assign({ upColor: '#26a69a', downColor: '#ef5350', borderVisible: false, wickUpColor: '#26a69a', wickDownColor: '#ef5350' }, quiet));
    s.setData(data.candles[symbol]);
    c.timeScale().fitContent();
    charts.push(c);
  });
  // Once drawn: count the charts whose picture has pixels of their series' colours.
  function colourful(chart) {
    var canvas = chart.takeScreenshot();
    if (!canvas || canvas.width === 0 || canvas.height === 0) return false;
    var px = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
    var n = 0;
    for (var i = 0; i < px.length; i += 4) {
      var r = px[i], g = px[i + 1], b = px[i + 2];
      if (Math.abs(r - g) > 60 || Math.abs(g - b) > 60 || Math.abs(r - b) > 60) n++;
    }
    return n > 20;
  }
  function check() {
    var drawn = charts.filter(colourful).length;
    document.body.setAttribute('data-charts', String(drawn));
    document.body.setAttribute('data-errors', String(window.__reportErrors.length));
    document.body.setAttribute('data-error-text', window.__reportErrors.join(' | '));
    document.body.setAttribute('data-drawn', 'yes');
  }
  requestAnimationFrame(function () { requestAnimationFrame(function () { setTimeout(check, 50); }); });
})();
</script>
</body>
</html>
`;
}

export async function writeReport(path: string, input: ReportInput): Promise<void> {
  await writeFile(path, reportHtml(input));
}
