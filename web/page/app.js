// tickforge dashboard: one page, no framework. Data: /api/tickers and /api/ticker/SYMBOL once, then the
// conflated event stream /api/stream?ticker=SYMBOL (at most 10 events a second, each the newest state).
"use strict";

const MAX_ALERTS = 200;
const params = new URLSearchParams(location.search);
let selected = params.get("ticker");
let source = null;
let allTickers = [];       // every ticker, from /api/tickers (refreshed every 2 s)
let liveRows = new Map();  // ticker → row from the latest event
let priceChart = null, volumeChart = null, latencyChart = null;
let series = null;         // the selected ticker's columns, aligned on t (seconds)
let markers = [];          // alerts of the selected ticker: {t, price, dir}
const seenAlerts = new Set();

const $ = (id) => document.getElementById(id);
const fmt = (v, d = 2) => (v === null || v === undefined || !isFinite(v)) ? "–" : Number(v).toFixed(d);
const fmtNs = (ns) => ns >= 1e9 ? (ns / 1e9).toFixed(2) + " s" : ns >= 1e6 ? (ns / 1e6).toFixed(2) + " ms"
                     : ns >= 1e3 ? (ns / 1e3).toFixed(1) + " µs" : ns + " ns";
const cls = (v) => v > 0 ? "up" : v < 0 ? "down" : "";
const compact = (v) => Math.abs(v) >= 1e9 ? (v / 1e9).toFixed(1) + "G" : Math.abs(v) >= 1e6 ? (v / 1e6).toFixed(1) + "M"
                     : Math.abs(v) >= 1e3 ? (v / 1e3).toFixed(1) + "k" : String(v);

async function getJSON(path) {
  const r = await fetch(path, { credentials: "same-origin" });
  if (!r.ok) throw new Error(path + ": " + r.status);
  return r.json();
}

// ---- the ticker list: sorted by activity (ticks), filtered by the search box ----------------------------
function renderList() {
  const q = $("search").value.trim().toUpperCase();
  const rows = new Map(allTickers.map((t) => [t.ticker, t]));
  for (const [k, v] of liveRows) rows.set(k, v);
  const list = [...rows.values()].filter((t) => !q || t.ticker.toUpperCase().includes(q))
                                 .sort((a, b) => b.ticks - a.ticks).slice(0, 200);
  const body = $("tickers").tBodies[0];
  body.replaceChildren(...list.map((t) => {
    const tr = document.createElement("tr");
    tr.dataset.ticker = t.ticker;
    if (t.ticker === selected) tr.className = "sel";
    tr.innerHTML = `<td></td><td>${fmt(t.price)}</td><td class="${cls(t.change_pct)}">${fmt(t.change_pct)}</td>` +
                   `<td>${t.alerts}</td>`;
    tr.firstChild.textContent = t.ticker;
    tr.onclick = () => select(t.ticker);
    return tr;
  }));
}

let started = false;
const busiest = () => allTickers.reduce((a, b) => (a === null || b.ticks > a.ticks ? b : a), null)?.ticker ?? null;

async function refreshTickers() {
  try {
    allTickers = (await getJSON("api/tickers")).tickers;
    if (started && !selected && allTickers.length) select(busiest());
    renderList();
  } catch (e) { /* the stream's status shows the connection */ }
}

// ---- charts -----------------------------------------------------------------------------------------
function size(el, h) { return { width: Math.max(200, el.clientWidth), height: h }; }

// Alert markers drawn over the price chart: ▲ up, ▼ down, at the alert's event time and price.
const markerPlugin = {
  hooks: {
    draw: [(u) => {
      const ctx = u.ctx;
      ctx.save();
      for (const m of markers) {
        const x = u.valToPos(m.t, "x", true), y = u.valToPos(m.price, "y", true);
        if (x < u.bbox.left || x > u.bbox.left + u.bbox.width) continue;
        const s = 6 * devicePixelRatio, up = m.dir !== "down";
        ctx.fillStyle = up ? "#26a69a" : "#ef5350";
        ctx.beginPath();
        ctx.moveTo(x, y + (up ? s : -s));
        ctx.lineTo(x - s, y + (up ? 2.6 * s : -2.6 * s));
        ctx.lineTo(x + s, y + (up ? 2.6 * s : -2.6 * s));
        ctx.closePath();
        ctx.fill();
      }
      ctx.restore();
    }],
  },
};

function makeCharts() {
  const axis = { stroke: "#8592a3", grid: { stroke: "#26303b" }, ticks: { stroke: "#26303b" } };
  const countAxis = { ...axis, size: 50, values: (u, vals) => vals.map(compact) };
  const pe = $("price-chart");
  priceChart?.destroy();
  priceChart = new uPlot({
    ...size(pe, 300),
    plugins: [markerPlugin],
    scales: { x: { time: true } },
    axes: [axis, axis],
    series: [{}, { label: "price", stroke: "#d8dee6", width: 1.5 },
             { label: "SMA short", stroke: "#4f9cf7" }, { label: "SMA long", stroke: "#f7b24f" },
             { label: "+2σ", stroke: "rgba(160,120,255,.6)" }, { label: "−2σ", stroke: "rgba(160,120,255,.6)" }],
    bands: [{ series: [4, 5], fill: "rgba(160,120,255,.12)" }],
  }, [[], [], [], [], [], []], pe);
  const ve = $("volume-chart");
  volumeChart?.destroy();
  volumeChart = new uPlot({
    ...size(ve, 120),
    scales: { x: { time: true } },
    axes: [axis, countAxis],
    legend: { show: false },
    series: [{}, { label: "volume", fill: "rgba(79,156,247,.5)", stroke: "#4f9cf7",
                   paths: uPlot.paths.bars({ size: [0.8, 40] }) }],
  }, [[], []], ve);
  const le = $("latency-chart");
  latencyChart?.destroy();
  latencyChart = new uPlot({
    ...size(le, 120),
    scales: { x: { time: false }, y: { distr: 3 } },
    axes: [{ ...axis, values: (u, v) => v.map((b) => fmtNs(2 ** b)) }, countAxis],
    legend: { show: false },
    series: [{}, { label: "ticks", fill: "rgba(38,166,154,.5)", stroke: "#26a69a",
                   paths: uPlot.paths.bars({ size: [0.9, 40] }) }],
  }, [[], []], le);
}

function drawSeries() {
  if (!series) return;
  const up = series.sma_long.map((m, i) => m === null || series.std[i] === null ? null : m + 2 * series.std[i]);
  const lo = series.sma_long.map((m, i) => m === null || series.std[i] === null ? null : m - 2 * series.std[i]);
  priceChart.setData([series.t, series.price, series.sma_short, series.sma_long, up, lo]);
  volumeChart.setData([series.t, series.volume]);
}

// One point per second of event time: the newest state of the current second replaces the last point.
function addPoint(snap) {
  if (!series) return;
  const t = Math.floor(snap.event_ns / 1e9);
  const n = series.t.length;
  const w = snap.sma.length - 1;
  const vals = { price: snap.price, sma_short: snap.sma[0], sma_long: snap.sma[w], std: snap.stddev[w] };
  const cum = snap.cum_volume;
  if (n && series.t[n - 1] === t) {
    for (const k in vals) series[k][n - 1] = vals[k];
    series.volume[n - 1] += Math.max(0, cum - series.cum);
  } else if (!n || t > series.t[n - 1]) {
    series.t.push(t);
    for (const k in vals) series[k].push(vals[k]);
    series.volume.push(series.cum === null ? 0 : Math.max(0, cum - series.cum));
    if (series.t.length > 3600) for (const k in series) if (Array.isArray(series[k])) series[k].shift();
  }
  series.cum = cum;
}

// ---- selection and the stream -------------------------------------------------------------------------
let selectGen = 0;  // the latest select(): an earlier one whose answers come late leaves the chart alone

async function select(ticker) {
  const gen = ++selectGen;
  selected = ticker;
  $("sel-name").textContent = ticker;
  const row = liveRows.get(ticker) ?? allTickers.find((t) => t.ticker === ticker);  // until its first event
  $("sel-price").textContent = row ? fmt(row.price) : "";
  $("sel-chg").textContent = row ? fmt(row.change_pct) + " %" : "";
  $("sel-chg").className = row ? cls(row.change_pct) : "";
  history.replaceState(null, "", "?" + new URLSearchParams({ ...Object.fromEntries(params), ticker }));
  renderList();
  // Its stream first: the header and its row in the list go live at once, not after the history has
  // loaded (seconds on a busy server, while the list moved on and the header kept the old price).
  connect();
  // Never the previous ticker's lines under this one's name while its history loads.
  markers = [];
  series = null;
  priceChart.setData([[], [], [], [], [], []]);
  volumeChart.setData([[], []]);
  try {
    const j = await getJSON("api/ticker/" + encodeURIComponent(ticker));
    if (gen !== selectGen) return;
    const h = j.history;
    const loaded = { ticker, t: h.map((p) => p[0]), price: h.map((p) => p[1]), sma_short: h.map((p) => p[2]),
                     sma_long: h.map((p) => p[3]), std: h.map((p) => p[4]), volume: h.map((p) => p[5]),
                     cum: j.snapshot.cum_volume };
    const recent = await getJSON("api/alerts?since=0&limit=1000");
    if (gen !== selectGen) return;
    const earlier = [];
    for (const a of recent.alerts) {
      if (a.alert.ticker === ticker) earlier.push({ t: a.alert.event_ns / 1e9, price: a.alert.price, dir: a.alert.direction });
    }
    markers = earlier.concat(markers);  // and those the stream brought meanwhile
    series = loaded;
    drawSeries();
  } catch (e) {
    if (gen !== selectGen) return;
    series = null;
  }
}

function connect() {
  source?.close();
  source = new EventSource("api/stream" + (selected ? "?ticker=" + encodeURIComponent(selected) : ""));
  source.onopen = () => { $("conn").textContent = "live"; $("conn").className = "conn on"; };
  source.onerror = () => { $("conn").textContent = "reconnecting…"; $("conn").className = "conn off"; };
  source.onmessage = (ev) => onEvent(JSON.parse(ev.data));
}

function onEvent(e) {
  for (const t of e.tickers) liveRows.set(t.ticker, t);
  renderList();
  if (e.ticker && e.ticker.snapshot.ticker === selected) {
    const s = e.ticker.summary;
    $("sel-price").textContent = fmt(s.price);
    $("sel-chg").textContent = fmt(s.change_pct) + " %";
    $("sel-chg").className = cls(s.change_pct);
    addPoint(e.ticker.snapshot);
  }
  const list = $("alerts");
  for (const item of e.alerts) {
    const a = item.alert;
    if (seenAlerts.has(a.seq)) continue;
    seenAlerts.add(a.seq);
    if (a.ticker === selected) markers.push({ t: a.event_ns / 1e9, price: a.price, dir: a.direction });
    const li = document.createElement("li");
    li.dataset.id = a.seq;
    li.innerHTML = `<span class="t"></span> <b></b> <span class="${a.direction === "down" ? "down" : "up"}"></span> ` +
                   `${fmt(a.price)} <span class="t">(${a.rule} ${fmt(a.value, 3)})</span>`;
    li.children[0].textContent = a.event_time.slice(11, 23);
    li.children[1].textContent = a.ticker;
    li.children[2].textContent = a.direction === "down" ? "▼" : a.direction === "up" ? "▲" : "●";
    li.onclick = () => select(a.ticker);
    list.prepend(li);
  }
  while (list.children.length > MAX_ALERTS) list.lastChild.remove();
  if (markers.length > 2000) markers.splice(0, markers.length - 2000);
  drawSeries();
  if (e.engine) renderEngine(e.engine);
}

function renderEngine(g) {
  $("rate").textContent = `${Math.round(g.ticks_per_s).toLocaleString()} ticks/s`;
  const rows = [["ticks", g.ticks.toLocaleString()], ["ticks/s", Math.round(g.ticks_per_s).toLocaleString()],
                ["alerts", g.alerts.toLocaleString()], ["suppressed", g.suppressed.toLocaleString()],
                ["dropped (ring full)", g.dropped_ring_full], ["rejected", g.rejected],
                ["ring high-water", `${g.ring_high_water} / ${g.ring_capacity}`], ["tickers", g.tickers],
                ["latency p50", fmtNs(g.latency_ns.p50)], ["p90", fmtNs(g.latency_ns.p90)],
                ["p99", fmtNs(g.latency_ns.p99)], ["p99.9", fmtNs(g.latency_ns.p999)], ["max", fmtNs(g.latency_ns.max)],
                ["HTTP clients", g.http.clients], ["dashboard drops", g.dashboard_dropped]];
  // The outputs' health (each null when off).
  if (g.kafka) {
    rows.push(["Kafka delivered", g.kafka.delivered.toLocaleString()],
              ["Kafka failed / dropped", `${g.kafka.failed} / ${g.kafka.dropped}`],
              ["Kafka in flight", g.kafka.in_flight], ["Kafka client errors", g.kafka.client_errors]);
  }
  if (g.postgresql) {
    rows.push(["PostgreSQL", g.postgresql.connected ? "connected" : "away (reconnecting)"],
              ["PostgreSQL rows written", g.postgresql.written.toLocaleString()],
              ["PostgreSQL dropped / lost", `${g.postgresql.dropped} / ${g.postgresql.lost}`]);
  }
  if (g.files) {
    rows.push(["files: alerts / daily / metrics", `${g.files.alerts} / ${g.files.daily} / ${g.files.metrics}`]);
  }
  $("engine").replaceChildren(...rows.flatMap(([k, v]) => {
    const dt = document.createElement("dt"), dd = document.createElement("dd");
    dt.textContent = k;
    dd.textContent = v;
    return [dt, dd];
  }));
  // The latency histogram: ticks per power-of-two bucket (x = log2 of the bucket's upper bound in ns).
  const b = g.latency_buckets.filter((p) => p[1] > 0);
  if (b.length) latencyChart.setData([b.map((p) => Math.log2(p[0])), b.map((p) => p[1])]);
}

// ---- start --------------------------------------------------------------------------------------------
$("search").addEventListener("input", renderList);
window.addEventListener("resize", () => {
  for (const [c, el, h] of [[priceChart, "price-chart", 300], [volumeChart, "volume-chart", 120],
                            [latencyChart, "latency-chart", 120]]) c?.setSize(size($(el), h));
});
makeCharts();
refreshTickers().then(() => {
  started = true;
  selected = selected || busiest();
  if (selected) select(selected); else connect();
});
setInterval(refreshTickers, 2000);
