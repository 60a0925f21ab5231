// The reports page: interval charts from the summary API, the report builder (build, save,
// run, export CSV/XLSX) and the saved reports.
"use strict";

(() => {
  const { api, attempt, el, percent, toast } = CC;
  const $ = (id) => document.getElementById(id);
  const ZONE = $("reports").dataset.zone;
  // what the tests and a curious supervisor can look at: the charts and the last data drawn
  const page = { charts: {}, intervals: null, catalogue: null, result: null, downloads: 0 };
  window.CCReports = page;

  // ------------------------------------------------------------------ the centre's time
  // The period fields hold the centre's wall-clock time; the API wants ISO times with an
  // offset, which is the centre zone's offset at that moment (not the browser's).
  const zoneParts = new Intl.DateTimeFormat("en-GB", {
    timeZone: ZONE, hourCycle: "h23", year: "numeric", month: "2-digit", day: "2-digit",
    hour: "2-digit", minute: "2-digit", second: "2-digit",
  });
  function offsetMinutes(utcMs) {
    const p = Object.fromEntries(zoneParts.formatToParts(new Date(utcMs)).map((x) => [x.type, x.value]));
    const wall = Date.UTC(+p.year, +p.month - 1, +p.day, +p.hour, +p.minute, +p.second);
    return Math.round((wall - Math.floor(utcMs / 1000) * 1000) / 60000);
  }
  function zoneIso(value) {
    const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})/.exec(value || "");
    if (!m) throw new Error("Укажите дату и время периода");
    const wall = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5]);
    const offset = offsetMinutes(wall - offsetMinutes(wall) * 60000);
    const sign = offset < 0 ? "-" : "+";
    const abs = Math.abs(offset);
    const pad = (n) => String(n).padStart(2, "0");
    return m[0] + ":00" + sign + pad(Math.floor(abs / 60)) + ":" + pad(abs % 60);
  }
  // "2026-10-01T08:15:00+03:00" is already in the centre's time: show it as it is
  function intervalLabel(iso, interval) {
    const day = iso.slice(8, 10) + "." + iso.slice(5, 7);
    return interval === "1d" ? day : day + " " + iso.slice(11, 16);
  }
  function label(utcMs, interval) {
    const p = Object.fromEntries(zoneParts.formatToParts(new Date(utcMs)).map((x) => [x.type, x.value]));
    const day = p.day + "." + p.month;
    return interval === "1d" ? day : day + " " + p.hour + ":" + p.minute;
  }
  const STEP_MS = { "15m": 900000, "1h": 3600000, "1d": 86400000 };
  // the starts of the intervals of [start, end) as the API keys them (local hours and days;
  // a day across a change to or from summer time is 23 or 25 hours long)
  function intervalsOf(start, end, interval) {
    const out = [];
    const step = STEP_MS[interval];
    let t = start;
    if (interval !== "15m") {
      const local = t + offsetMinutes(t) * 60000;
      t -= ((local % step) + step) % step;
    }
    while (t < end && out.length < 40000) {
      out.push(t);
      let next = t + step;
      if (interval === "1d") next += (offsetMinutes(t) - offsetMinutes(next)) * 60000;
      t = next;
    }
    return out;
  }

  // ------------------------------------------------------------------ charts
  function makeCharts() {
    if (typeof Chart === "undefined") {
      toast("Библиотека графиков не загружена: выполните make install", "error");
      return;
    }
    Chart.defaults.animation = false;
    const common = { responsive: true, maintainAspectRatio: false, interaction: { mode: "index", intersect: false } };
    page.charts.volume = new Chart($("chart-volume"), {
      type: "bar",
      data: { labels: [], datasets: [
        { label: "Поступило", data: [], backgroundColor: "#7aa6d8" },
        { label: "Отвечено", data: [], backgroundColor: "#2e8b57" },
        { label: "Потеряно", data: [], backgroundColor: "#c0392b" },
      ] },
      options: { ...common, plugins: { title: { display: true, text: "Звонки по интервалам" } },
        scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } },
    });
    page.charts.sl = new Chart($("chart-sl"), {
      type: "line",
      data: { labels: [], datasets: [{ label: "Уровень обслуживания, %", data: [], borderColor: "#1f5fa8", backgroundColor: "#1f5fa8", spanGaps: true, pointRadius: 2 }] },
      options: { ...common, plugins: { title: { display: true, text: "Уровень обслуживания" } },
        scales: { y: { min: 0, max: 100, ticks: { callback: (v) => v + " %" } } } },
    });
  }

  async function loadCharts(event) {
    if (event) event.preventDefault();
    const interval = $("chart-interval").value;
    const report = await attempt(() => {
      const params = new URLSearchParams({
        from: zoneIso($("chart-from").value), to: zoneIso($("chart-to").value),
        group_by: "interval", interval, sla_seconds: $("chart-sla").value || "40",
      });
      return api("GET", "/api/v1/reports/summary?" + params);
    });
    if (!report) return;
    page.intervals = report;
    const rows = report.rows;
    const total = (key) => rows.reduce((sum, r) => sum + (r[key] || 0), 0);
    const offered = total("offered");
    const within = total("answered_within_sla");
    $("chart-summary").textContent = "Поступило " + offered + ", отвечено " + total("answered") +
      ", потеряно " + total("abandoned") + ", уровень обслуживания (" + report.sla_seconds + " с) " +
      percent(offered ? within / offered : null);
    const { volume, sl } = page.charts;
    if (!volume || !sl) return;
    // every interval of the period gets a bar, the quiet ones too (the API lists only
    // intervals with calls or operator time)
    const byStart = new Map(rows.map((r) => [Date.parse(r.interval), r]));
    const slots = intervalsOf(Date.parse(report.start), Date.parse(report.end), interval);
    const at = (t) => byStart.get(t) || {};
    const labels = slots.map((t) => label(t, interval));
    volume.data.labels = labels;
    volume.data.datasets[0].data = slots.map((t) => at(t).offered || 0);
    volume.data.datasets[1].data = slots.map((t) => at(t).answered || 0);
    volume.data.datasets[2].data = slots.map((t) => at(t).abandoned || 0);
    sl.data.labels = labels;
    sl.data.datasets[0].data = slots.map((t) => {
      const share = at(t).service_level;
      return share === null || share === undefined ? null : Math.round(share * 1000) / 10;
    });
    sl.options.plugins.title.text = "Уровень обслуживания (" + report.sla_seconds + " с)";
    volume.update();
    sl.update();
    document.body.dataset.chartIntervals = String(slots.length);
  }

  // ------------------------------------------------------------------ the builder
  function checks(box, items, name, checked) {
    box.replaceChildren(...items.map((item) => el("label", { class: "check", title: item.definition || null },
      el("input", { type: "checkbox", name, value: item.name, checked: checked(item.name) }), item.title)));
  }
  const DEFAULT_METRICS = ["offered", "answered", "abandoned", "service_level", "asa_seconds", "abandon_rate", "aht_seconds"];

  function fillCatalogue(cat) {
    page.catalogue = cat;
    $("b-kind").replaceChildren(...cat.kinds.map((k) => el("option", { value: k.name }, k.title)));
    for (const id of ["b-sla", "chart-sla"]) {
      $(id).replaceChildren(...cat.sla_thresholds.map((s) => el("option", { value: String(s), selected: s === 40 }, s + " с")));
    }
    checks($("b-metrics"), cat.metrics, "metric", (n) => DEFAULT_METRICS.includes(n));
    checks($("b-groups"), cat.dimensions, "group", (n) => n === "interval");
  }

  function picked(name) {
    return [...document.querySelectorAll('input[name="' + name + '"]:checked')].map((i) => i.value);
  }
  function definition() {
    const def = { kind: $("b-kind").value, period: $("b-period").value };
    if (def.period === "custom") {
      def.start = zoneIso($("b-from").value);
      def.end = zoneIso($("b-to").value);
    }
    if (def.kind === "summary") {
      def.metrics = picked("metric");
      if (!def.metrics.length) throw new Error("Выберите хотя бы один показатель");
      def.group_by = picked("group");
      def.interval = $("b-interval").value;
      def.sla_seconds = Number($("b-sla").value || 40);
      const filters = {};
      const text = (id) => $(id).value.trim();
      if (text("f-queue")) filters.queue = text("f-queue");
      if (text("f-line")) filters.line = Number(text("f-line"));
      if (text("f-direction")) filters.direction = text("f-direction");
      if (text("f-operator")) filters.operator_id = Number(text("f-operator"));
      if (text("f-campaign")) filters.campaign_id = Number(text("f-campaign"));
      def.filters = filters;
    }
    return def;
  }
  function showDefinition(def) {
    $("b-kind").value = def.kind || "summary";
    $("b-period").value = def.period || "yesterday";
    const local = (iso) => (iso ? iso.slice(0, 16) : "");
    if (def.period === "custom") { $("b-from").value = local(def.start); $("b-to").value = local(def.end); }
    const metrics = def.metrics && def.metrics.length ? def.metrics : page.catalogue.metrics.map((m) => m.name);
    for (const box of document.querySelectorAll('input[name="metric"]')) box.checked = metrics.includes(box.value);
    for (const box of document.querySelectorAll('input[name="group"]')) box.checked = (def.group_by || []).includes(box.value);
    $("b-interval").value = def.interval || "1h";
    $("b-sla").value = String(def.sla_seconds || 40);
    const f = def.filters || {};
    $("f-queue").value = f.queue || "";
    $("f-line").value = f.line ? String(f.line) : "";
    $("f-direction").value = f.direction || "";
    $("f-operator").value = f.operator_id ? String(f.operator_id) : "";
    $("f-campaign").value = f.campaign_id ? String(f.campaign_id) : "";
    syncBuilder();
  }
  function syncBuilder() {
    $("b-custom").hidden = $("b-period").value !== "custom";
    $("b-summary-only").hidden = $("b-kind").value !== "summary";
  }

  function cell(column, value) {
    if (value === null || value === undefined) return el("td", { class: "num" }, "—");
    if (column === "service_level" || column === "abandon_rate" || column === "occupancy") return el("td", { class: "num" }, percent(value));
    if (column === "interval") return el("td", {}, intervalLabel(String(value), "1h"));
    return el("td", { class: typeof value === "number" ? "num" : null }, String(value));
  }
  function renderResult(report) {
    page.result = report;
    $("result-title").textContent = report.title;
    $("result-period").textContent = "Период: " + intervalLabel(report.start, "1h") + " — " + intervalLabel(report.end, "1h") + " (" + report.timezone + ") · строк: " + report.rows.length;
    const table = $("result");
    table.tHead.replaceChildren(el("tr", {}, ...report.columns.map((c) => el("th", { "data-key": c.key }, c.title))));
    table.tBodies[0].replaceChildren(...(report.rows.length
      ? report.rows.map((r) => el("tr", {}, ...report.columns.map((c) => cell(c.key, r[c.key]))))
      : [el("tr", {}, el("td", { colspan: String(report.columns.length), class: "muted" }, "Нет данных за период"))]));
    $("result-definitions").replaceChildren(...report.definitions.map((d) => el("li", {}, d)));
  }

  // a file from the API (which wants the token in a header, so no plain link): fetched,
  // then handed to the browser as a download under the server's file name
  async function download(method, path, body) {
    const options = { method, headers: { Authorization: "Bearer " + CC.token } };
    if (body !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    const response = await fetch(path, options);
    if (!response.ok) {
      let message = "Ошибка " + response.status;
      try { const payload = await response.json(); if (typeof payload.detail === "string") message = payload.detail; } catch (e) { /* not JSON */ }
      throw new Error(message);
    }
    const blob = await response.blob();
    const match = /filename="([^"]+)"/.exec(response.headers.get("Content-Disposition") || "");
    const link = el("a", { href: URL.createObjectURL(blob), download: match ? match[1] : "report" });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 60000);
    page.downloads += 1;
    return match ? match[1] : "report";
  }

  async function build(event) {
    event.preventDefault();
    const report = await attempt(() => api("POST", "/api/v1/reports/run", { definition: definition() }));
    if (report) renderResult(report);
  }
  async function exportBuilt(format) {
    await attempt(() => download("POST", "/api/v1/reports/run?format=" + format, { definition: definition() }), "Файл " + format.toUpperCase() + " сохранён");
  }
  async function save() {
    const name = $("b-name").value.trim();
    if (!name) { toast("Укажите название отчёта", "error"); $("b-name").focus(); return; }
    const saved = await attempt(() => api("POST", "/api/v1/reports/saved", { name, definition: definition() }), "Отчёт «" + name + "» сохранён");
    if (saved) await loadSaved();
  }

  // ------------------------------------------------------------------ saved reports
  async function loadSaved() {
    const list = await attempt(() => api("GET", "/api/v1/reports/saved"));
    if (!list) return;
    $("saved").tBodies[0].replaceChildren(...(list.length ? list.map((r) => el("tr", { "data-report": r.name },
      el("td", {}, r.name),
      el("td", {}, CC.dateTime(r.updated_at)),
      el("td", { class: "actions" },
        el("button", { type: "button", "data-action": "run", onclick: async () => {
          const report = await attempt(() => api("GET", "/api/v1/reports/saved/" + r.id + "/run"));
          if (report) renderResult(report);
        } }, "Запустить"),
        el("button", { type: "button", "data-action": "csv", onclick: () => attempt(() => download("GET", "/api/v1/reports/saved/" + r.id + "/run?format=csv"), "Файл CSV сохранён") }, "CSV"),
        el("button", { type: "button", "data-action": "xlsx", onclick: () => attempt(() => download("GET", "/api/v1/reports/saved/" + r.id + "/run?format=xlsx"), "Файл XLSX сохранён") }, "XLSX"),
        el("button", { type: "button", "data-action": "edit", onclick: () => { $("b-name").value = r.name; showDefinition(r.definition); } }, "Изменить"),
        el("button", { type: "button", "data-action": "delete", onclick: async () => {
          if (!window.confirm("Удалить отчёт «" + r.name + "»?")) return;
          const done = await attempt(() => api("DELETE", "/api/v1/reports/saved/" + r.id), "Отчёт удалён");
          if (done !== undefined) await loadSaved();
        } }, "Удалить")))) : [el("tr", {}, el("td", { colspan: "3", class: "muted" }, "Сохранённых отчётов нет"))]));
  }

  // ------------------------------------------------------------------ start
  $("chart-form").onsubmit = loadCharts;
  $("builder").onsubmit = build;
  $("btn-build-csv").onclick = () => exportBuilt("csv");
  $("btn-build-xlsx").onclick = () => exportBuilt("xlsx");
  $("btn-save").onclick = save;
  $("b-period").onchange = syncBuilder;
  $("b-kind").onchange = syncBuilder;
  makeCharts();
  (async () => {
    const cat = await attempt(() => api("GET", "/api/v1/reports/catalogue"));
    if (cat) fillCatalogue(cat);
    syncBuilder();
    await loadCharts();
    await loadSaved();
    document.body.dataset.reportsReady = "true";
  })();
})();
