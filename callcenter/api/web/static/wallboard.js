// The supervisor wallboard: live snapshots over the WebSocket, charts, emergency, spying.
"use strict";

(() => {
  const { api, attempt, el, seconds, since, time, percent, STATES, PAUSES } = CC;
  const $ = (id) => document.getElementById(id);
  const board = { snapshot: null, intervals: [], waiting: [], charts: {}, updates: 0 };
  window.CCWallboard = board;

  const LINE = (line) => (line === null || line === undefined ? "все" : String(line));
  const CAMPAIGN_STATUS = { draft: "черновик", scheduled: "запланирована", running: "идёт", paused: "приостановлена", finished: "завершена", cancelled: "отменена" };

  // ------------------------------------------------------------------ charts
  function makeCharts() {
    if (typeof Chart === "undefined") {
      CC.toast("Библиотека графиков не загружена: выполните make install", "error");
      return;
    }
    Chart.defaults.animation = false;
    board.charts.intervals = new Chart($("chart-intervals"), {
      type: "bar",
      data: { labels: [], datasets: [
        { label: "Поступило", data: [], backgroundColor: "#7aa6d8" },
        { label: "Принято", data: [], backgroundColor: "#2e8b57" },
      ] },
      options: { responsive: true, maintainAspectRatio: false, plugins: { title: { display: true, text: "Звонки за 15 минут (сегодня)" } }, scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } },
    });
    board.charts.waiting = new Chart($("chart-waiting"), {
      type: "line",
      data: { labels: [], datasets: [{ label: "Ожидают", data: [], borderColor: "#c0392b", stepped: true, pointRadius: 0 }] },
      options: { responsive: true, maintainAspectRatio: false, plugins: { title: { display: true, text: "Абоненты в очередях (последние 10 минут)" } }, scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } },
    });
  }
  function hhmm(iso) {
    return new Date(iso).toLocaleTimeString("ru-RU", { hour: "2-digit", minute: "2-digit" });
  }
  function drawIntervals() {
    const chart = board.charts.intervals;
    if (!chart) return;
    const intervals = board.intervals.slice();
    const live = board.snapshot && board.snapshot.metrics.find((m) => m.line === null);
    if (live) {
      const current = live.current_interval;
      const index = intervals.findIndex((i) => i.start === current.start);
      if (index >= 0) intervals[index] = current; else intervals.push(current);
    }
    const recent = intervals.slice(-16);
    chart.data.labels = recent.map((i) => hhmm(i.start));
    chart.data.datasets[0].data = recent.map((i) => i.metrics.offered);
    chart.data.datasets[1].data = recent.map((i) => i.metrics.answered);
    chart.update();
  }
  function drawWaiting() {
    const chart = board.charts.waiting;
    if (!chart) return;
    const cutoff = Date.now() - 10 * 60 * 1000;
    board.waiting = board.waiting.filter((p) => p.at >= cutoff);
    chart.data.labels = board.waiting.map((p) => new Date(p.at).toLocaleTimeString("ru-RU"));
    chart.data.datasets[0].data = board.waiting.map((p) => p.value);
    chart.update();
  }
  async function loadIntervals() {
    try {
      const view = await api("GET", "/api/v1/queues?intervals=true");
      const totals = (view.intervals || []).find((i) => i.line === null);
      board.intervals = totals ? totals.intervals : [];
      drawIntervals();
    } catch (error) { /* the next round */ }
  }

  // ------------------------------------------------------------------ the snapshot
  function renderSnapshot(data) {
    board.snapshot = data;
    board.updates += 1;
    $("generated").textContent = time(data.generated_at);
    $("pbx").textContent = data.pbx_connected ? "на связи" : "нет связи";
    const waiting = data.queues.reduce((sum, q) => sum + q.waiting, 0);
    $("kpi-waiting").textContent = String(waiting);
    document.body.dataset.waiting = String(waiting);
    board.waiting.push({ at: Date.now(), value: waiting });

    const totals = data.metrics.find((m) => m.line === null) || data.metrics[0];
    if (totals) {
      const t = totals.today;
      $("kpi-sl").textContent = percent(t.service_level);
      $("kpi-asa").textContent = t.asa_seconds === null ? "—" : seconds(t.asa_seconds);
      $("kpi-abandon").textContent = percent(t.abandon_rate);
      $("kpi-occupancy").textContent = percent(t.occupancy);
      $("kpi-counts").textContent = t.offered + " / " + t.answered;
    }
    $("queues").tBodies[0].replaceChildren(...data.queues.map((q) => el("tr", { "data-queue": q.name, class: q.waiting ? "alert" : "" },
      el("td", { title: q.description }, q.name),
      el("td", {}, q.support_line === null ? (q.is_overflow ? "филиалы" : "—") : String(q.support_line)),
      el("td", { class: "num waiting" }, String(q.waiting)),
      el("td", { class: "num" }, q.waiting ? seconds(q.longest_wait_seconds) : "—"),
      el("td", { class: "num" }, q.expected_wait_seconds === null ? "—" : seconds(q.expected_wait_seconds)),
      el("td", {}, Object.entries(q.operators).filter(([, n]) => n).map(([s, n]) => (STATES[s] || s) + ": " + n).join(", ") || "нет"))));
    $("lines").tBodies[0].replaceChildren(...data.metrics.map((m) => el("tr", {},
      el("td", {}, LINE(m.line)), el("td", { class: "num" }, m.today.offered), el("td", { class: "num" }, m.today.answered),
      el("td", { class: "num" }, m.today.abandoned), el("td", { class: "num" }, percent(m.today.service_level)),
      el("td", { class: "num" }, m.today.asa_seconds === null ? "—" : seconds(m.today.asa_seconds)), el("td", { class: "num" }, percent(m.today.occupancy)))));
    $("operators").tBodies[0].replaceChildren(...data.operators.map((o) => el("tr", { "data-operator": o.extension, class: "state-" + o.state },
      el("td", {}, o.extension), el("td", {}, o.full_name), el("td", {}, String(o.support_line)),
      el("td", {}, (STATES[o.state] || o.state) + (o.pause_reason ? " (" + (PAUSES[o.pause_reason] || o.pause_reason) + ")" : "")),
      el("td", { class: "num" }, o.since ? seconds(since(o.since)) : "—"),
      el("td", {}, ...["listen", "whisper", "barge"].map((mode) => el("button", {
        "data-spy": mode, disabled: o.state !== "on_call" && o.state !== "ringing",
        onclick: () => spy(o, mode),
      }, { listen: "Слушать", whisper: "Суфлировать", barge: "Вмешаться" }[mode]))))));
    const byLine = new Map();
    for (const o of data.operators) {
      const counts = byLine.get(o.support_line) || {};
      counts[o.state] = (counts[o.state] || 0) + 1;
      byLine.set(o.support_line, counts);
    }
    const order = ["ready", "on_call", "ringing", "wrap_up", "paused", "logged_out"];
    $("operator-summary").tBodies[0].replaceChildren(...[...byLine.entries()].sort((a, b) => a[0] - b[0]).map(([line, counts]) => el("tr", { "data-line": line },
      el("td", {}, String(line)), ...order.map((state) => el("td", { class: "num", "data-state": state }, String(counts[state] || 0))))));
    renderEmergency(data.emergency);
    drawIntervals();
    drawWaiting();
  }
  function renderEmergency(mode) {
    $("emergency-banner").hidden = !mode.active;
    $("emergency-state").textContent = mode.active ? "включён" + (mode.source === "automatic" ? " (автоматически)" : "") + " с " + time(mode.since) : "выключен";
    $("btn-emergency").textContent = mode.active ? "Выключить" : "Включить";
    $("btn-emergency").dataset.active = String(mode.active);
  }
  async function switchEmergency(event) {
    event.preventDefault();
    const active = $("btn-emergency").dataset.active !== "true";
    const text = $("emergency-text").value.trim();
    const body = { active };
    if (text) body.announcement = text;
    const mode = await attempt(() => api("POST", "/api/v1/emergency", body), active ? "Аварийный режим включён" : "Аварийный режим выключен");
    if (mode) renderEmergency(mode);
  }

  // ------------------------------------------------------------------ spying
  const phone = $("spy-phone");
  phone.value = window.localStorage.getItem("cc-spy-phone") || "";
  phone.onchange = () => window.localStorage.setItem("cc-spy-phone", phone.value.trim());
  async function spy(operator, mode) {
    const mine = phone.value.trim();
    if (!mine) { CC.toast("Укажите свой телефон (добавочный), на который позвонит АТС", "error"); phone.focus(); return; }
    const label = { listen: "Прослушивание", whisper: "Суфлирование", barge: "Вмешательство" }[mode];
    await attempt(() => api("POST", "/api/v1/supervisor/spy", { operator_id: operator.operator_id, mode, phone: mine }),
      label + ": оператор " + operator.extension + ", ваш телефон " + mine + " сейчас зазвонит");
  }

  // ------------------------------------------------------------------ campaigns
  async function loadCampaigns() {
    try {
      const campaigns = await api("GET", "/api/v1/campaigns");
      $("campaigns").tBodies[0].replaceChildren(...(campaigns.length ? campaigns.map((c) => el("tr", {},
        el("td", {}, c.name), el("td", {}, CAMPAIGN_STATUS[c.status] || c.status),
        el("td", {}, el("progress", { max: "100", value: String(c.percent_done) }), " " + Math.round(c.percent_done) + " %"),
        el("td", { class: "num" }, c.contacts.reached + " из " + c.contacts.total))) : [el("tr", {}, el("td", { colspan: "4", class: "muted" }, "Кампаний нет"))]));
    } catch (error) { /* the next round */ }
  }

  $("emergency-form").onsubmit = switchEmergency;
  makeCharts();
  CC.socket("/api/v1/ws/supervisor", (message) => {
    if (message.type === "snapshot") renderSnapshot(message.data);
  }, (connected) => { $("live").textContent = connected ? "есть" : "переподключение…"; });
  loadIntervals();
  loadCampaigns();
  setInterval(loadIntervals, 60000);
  setInterval(loadCampaigns, 5000);
})();
