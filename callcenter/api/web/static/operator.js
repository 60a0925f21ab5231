// The operator workstation: state, screen-pop, call control, appeals, reference tabs.
"use strict";

(() => {
  const { api, attempt, toast, el, seconds, since, time, dateTime, rubles, STATES, PAUSES, APPEAL_STATUS, KINDS, DISPOSITIONS } = CC;
  const $ = (id) => document.getElementById(id);
  const page = { state: null, calls: [], selected: null, pop: null, customer: null, lastDialled: null, topics: [], lastAppeal: null };

  // ------------------------------------------------------------------ state
  function renderState(state) {
    page.state = state;
    const label = STATES[state.state] || state.state;
    const reason = state.state === "paused" && state.pause_reason ? " (" + (PAUSES[state.pause_reason] || state.pause_reason) + ")" : "";
    $("state").textContent = label + reason;
    $("state").dataset.state = state.state;
    $("state-since").textContent = state.since ? "уже " + seconds(since(state.since)) : "";
    const wrapping = state.state === "wrap_up" && state.wrap_up_until;
    $("wrapup").hidden = !wrapping;
    if (wrapping) $("wrapup-left").textContent = seconds(-since(state.wrap_up_until));
    $("pending-pause").hidden = !state.pending_pause;
    $("pending-pause").textContent = state.pending_pause ? "Пауза «" + (PAUSES[state.pending_pause] || state.pending_pause) + "» начнётся после звонка" : "";
    const out = state.state === "logged_out";
    $("btn-login").disabled = !out;
    $("btn-logout").disabled = out;
    $("btn-ready").disabled = out || ["ready", "ringing", "on_call"].includes(state.state);
    $("btn-pause").disabled = out;
  }
  async function refreshState() {
    try { renderState(await api("GET", "/api/v1/me/state")); } catch (error) { /* shown on the next action */ }
  }
  const stateAction = (path, body, message) => attempt(async () => renderState(await api("POST", path, body)), message);
  const doLogin = () => stateAction("/api/v1/me/login", undefined, "Вы в очередях");
  const doReady = () => stateAction("/api/v1/me/ready", undefined, "Готов к звонкам");
  const doPause = () => stateAction("/api/v1/me/pause", { reason: $("pause-reason").value }, "Пауза");
  const doLogout = () => stateAction("/api/v1/me/logout", undefined, "Вы вышли из очередей");

  // ------------------------------------------------------------------ screen-pop
  function renderCard(card) {
    const open = card.recent_appeals.filter((a) => a.status !== "closed" && a.status !== "answered");
    return el("div", { class: "customer", "data-customer-id": card.id },
      el("h3", {}, card.full_name),
      el("dl", {},
        el("dt", {}, "Лицевой счёт"), el("dd", { class: "account" }, card.account_number),
        el("dt", {}, "Адрес"), el("dd", {}, card.address),
        el("dt", {}, "Задолженность"), el("dd", { class: card.balance_kopecks > 0 ? "debt" : "" }, card.balance_kopecks > 0 ? rubles(card.balance_kopecks) : "нет"),
        el("dt", {}, "Телефоны"), el("dd", {}, card.phones.join(", "))),
      el("h4", {}, "Открытые обращения: " + open.length),
      el("ul", { class: "list" }, ...open.map((a) => el("li", {}, a.number + " · " + (APPEAL_STATUS[a.status] || a.status) + " · " + a.text))),
      el("h4", {}, "Последние звонки"),
      el("ul", { class: "list" }, ...card.recent_calls.slice(0, 5).map((c) => el("li", {}, dateTime(c.started_at) + " · " + (c.queue_name || "—") + " · " + (DISPOSITIONS[c.disposition] || c.disposition)))));
  }
  function renderPop(pop) {
    page.pop = pop;
    page.customer = pop.customers.length ? pop.customers[0] : null;
    $("no-call").hidden = true;
    $("pop").hidden = false;
    $("pop-number").textContent = pop.caller_number || "скрыт";
    $("pop-queue").textContent = pop.queue || "—";
    $("pop-wait").textContent = "—";
    $("ivr-path").textContent = pop.ivr_path.length ? pop.ivr_path.join(" → ") : "—";
    const box = $("customer-card");
    box.replaceChildren(...(pop.customers.length ? pop.customers.map(renderCard) : [el("p", { class: "muted" }, "Клиент по номеру не найден")]));
    document.title = "☎ " + (pop.caller_number || "") + " — Рабочее место";
    refreshCalls();
  }

  // ------------------------------------------------------------------ calls
  function current() {
    return page.calls.find((c) => c.linkedid === page.selected) || page.calls[0] || null;
  }
  function renderCalls() {
    const body = $("live-calls").tBodies[0];
    const mine = current();
    page.selected = mine ? mine.linkedid : null;
    body.replaceChildren(...page.calls.map((c) => el("tr", { class: c.linkedid === page.selected ? "selected" : "", "data-linkedid": c.linkedid },
      el("td", {}, c.caller_number),
      el("td", {}, c.queue_name || (c.direction === "outbound" ? "исходящий" : "—")),
      el("td", {}, time(c.started_at)),
      el("td", {}, c.answered_at ? seconds(since(c.answered_at)) : "ожидает"),
      el("td", {}, el("button", { onclick: () => { page.selected = c.linkedid; renderCalls(); } }, "Выбрать")))));
    if (mine && page.pop && page.pop.linkedid === mine.linkedid && mine.answered_at) {
      $("pop-wait").textContent = seconds((Date.parse(mine.answered_at) - Date.parse(mine.started_at)) / 1000);
    }
    for (const id of ["btn-hold", "btn-unhold", "btn-hangup", "btn-transfer", "btn-conference"]) $(id).disabled = !mine;
  }
  async function refreshCalls() {
    try { page.calls = await api("GET", "/api/v1/me/calls/live"); } catch (error) { page.calls = []; }
    renderCalls();
  }
  function need() {
    const call = current();
    if (!call) toast("Нет звонка", "error");
    return call;
  }
  async function doHold(on) {
    const call = need();
    if (call) await attempt(() => api("POST", "/api/v1/me/calls/" + (on ? "hold" : "unhold"), { channel: call.linkedid }), on ? "Абонент на удержании" : "Абонент снят с удержания");
  }
  async function doHangup() {
    const call = need();
    if (call) await attempt(() => api("POST", "/api/v1/me/calls/" + encodeURIComponent(call.linkedid) + "/hangup"), "Звонок завершён");
    refreshCalls();
  }
  async function doTransfer(event) {
    if (event) event.preventDefault();
    const call = need();
    if (!call) return;
    const attended = $("transfer-attended").checked;
    const kind = $("transfer-kind").value;
    const body = {
      channel: attended && call.operator_channel ? call.operator_channel : call.linkedid,
      target_kind: kind,
      target: kind === "ivr" ? "" : $("transfer-target").value.trim(),
      attended,
    };
    const done = await attempt(() => api("POST", "/api/v1/me/calls/transfer", body));
    if (done) {
      toast("Переведено: " + done.exten);
      document.body.dataset.lastTransfer = done.exten;
    }
    refreshCalls();
  }
  async function doConference(event) {
    if (event) event.preventDefault();
    const call = need();
    if (!call) return;
    const invite = $("conf-invite").value.split(/[,\s]+/).filter(Boolean);
    const channels = [call.linkedid];
    if (call.operator_channel) channels.push(call.operator_channel);
    await attempt(() => api("POST", "/api/v1/me/conference", { room: $("conf-room").value, channels, invite }), "Конференция собрана");
  }
  async function dial(number) {
    const done = await attempt(() => api("POST", "/api/v1/me/calls/dial", { number }));
    if (done) { page.lastDialled = number; toast("Звоним: " + done.number); refreshCalls(); }
  }
  async function doDial(event) {
    if (event) event.preventDefault();
    const number = $("dial-number").value.trim();
    if (!number) { $("dial-number").focus(); return; }
    await dial(number);
  }
  async function doRedial() {
    const number = $("dial-number").value.trim() || page.lastDialled;
    if (!number) { toast("Введите номер для автодозвона", "error"); $("dial-number").focus(); return; }
    await attempt(() => api("POST", "/api/v1/me/calls/redial", { number, attempts: 3, interval_seconds: 60 }), "Автодозвон: 3 попытки раз в минуту");
  }

  // ------------------------------------------------------------------ appeals
  const DEADLINES = {
    question: "Сроки: передать специалисту — 1 день, ответ — 10 дней (продление до 21 дня).",
    complaint: "Жалоба: ответ в течение 14 дней.",
    callback: "Перезвонить клиенту в течение 30 минут — будет напоминание.",
  };
  function deadlineHint() {
    const topic = page.topics.find((t) => String(t.id) === $("appeal-topic").value);
    const kind = topic && topic.is_complaint ? "complaint" : $("appeal-kind").value;
    $("appeal-deadline-hint").textContent = DEADLINES[kind];
  }
  async function loadTopics() {
    try {
      page.topics = await api("GET", "/api/v1/appeals/topics");
      const select = $("appeal-topic");
      for (const topic of page.topics) select.append(el("option", { value: topic.id }, topic.name));
    } catch (error) { /* the form still works without topics */ }
    deadlineHint();
  }
  async function doAppeal(event) {
    event.preventDefault();
    const call = current();
    const body = { text: $("appeal-text").value.trim(), kind: $("appeal-kind").value };
    if ($("appeal-topic").value) body.topic_id = Number($("appeal-topic").value);
    if ($("appeal-link-call").checked && call) body.call_id = call.call_id;
    if (page.customer) body.customer_id = page.customer.id;
    const appeal = await attempt(() => api("POST", "/api/v1/appeals", body));
    if (!appeal) return;
    const due = appeal.answer_due_at || appeal.handoff_due_at;
    $("appeal-result").textContent = "Зарегистрировано обращение № " + appeal.number + (due ? ", срок ответа — " + dateTime(due) : "");
    $("appeal-result").dataset.number = appeal.number;
    page.lastAppeal = appeal;
    $("appeal-text").value = "";
    loadAppeals();
  }
  async function showAppeal(id) {
    const appeal = await attempt(() => api("GET", "/api/v1/appeals/" + id));
    if (!appeal) return;
    page.lastAppeal = appeal;
    const box = $("appeal-detail");
    const comment = el("input", { placeholder: "Комментарий", "aria-label": "Комментарий" });
    const text = el("textarea", { rows: "3", id: "appeal-edit-text", "aria-label": "Текст обращения" });
    text.value = appeal.text;
    const transitions = appeal.allowed_transitions.map((s) => el("button", {
      onclick: async () => {
        const done = await attempt(() => api("POST", "/api/v1/appeals/" + id + "/status", { status: s, comment: comment.value }), "Статус изменён");
        if (done) { showAppeal(id); loadAppeals(); }
      },
    }, APPEAL_STATUS[s] || s));
    box.replaceChildren(
      el("h3", {}, "Обращение № " + appeal.number + " · " + (APPEAL_STATUS[appeal.status] || appeal.status)),
      text,
      el("div", { class: "row" }, el("button", { id: "btn-appeal-edit", disabled: appeal.status === "closed", onclick: async () => {
        const done = await attempt(() => api("PATCH", "/api/v1/appeals/" + id, { text: text.value }), "Текст обращения исправлен");
        if (done) loadAppeals();
      } }, "Сохранить текст")),
      el("p", { class: "muted" }, "Передать до: " + dateTime(appeal.handoff_due_at) + " · ответить до: " + dateTime(appeal.extended_until || appeal.answer_due_at)),
      el("div", { class: "row" }, comment, ...transitions),
      el("h4", {}, "История"),
      el("ul", { class: "list" }, ...appeal.history.map((h) => el("li", {}, dateTime(h.at) + " · " + (APPEAL_STATUS[h.to_status] || h.to_status) + (h.comment ? " · " + h.comment : "")))));
    box.hidden = false;
  }
  async function loadAppeals() {
    const pageOf = await attempt(() => api("GET", "/api/v1/appeals?mine=true&limit=20"));
    if (!pageOf) return;
    $("appeals").tBodies[0].replaceChildren(...pageOf.items.map((a) => el("tr", {},
      el("td", {}, a.number),
      el("td", {}, a.topic ? a.topic.name : "—"),
      el("td", {}, APPEAL_STATUS[a.status] || a.status),
      el("td", { class: a.overdue.length ? "debt" : "" }, dateTime(a.extended_until || a.answer_due_at || a.handoff_due_at)),
      el("td", {}, el("button", { onclick: () => showAppeal(a.id) }, "Открыть")))));
  }

  // ------------------------------------------------------------------ reference tabs
  async function loadReminders() {
    const pageOf = await attempt(() => api("GET", "/api/v1/reminders"));
    if (!pageOf) return;
    $("reminders").replaceChildren(...pageOf.items.map((r) => el("li", { class: r.done_at ? "muted" : "" },
      dateTime(r.due_at) + " · " + r.text + " ",
      r.done_at ? null : el("button", { onclick: async () => { await attempt(() => api("POST", "/api/v1/reminders/" + r.id + "/done")); loadReminders(); } }, "Выполнено"))));
  }
  async function addReminder(event) {
    event.preventDefault();
    const due = new Date($("reminder-due").value);
    const done = await attempt(() => api("POST", "/api/v1/reminders", { due_at: due.toISOString(), text: $("reminder-text").value }), "Напоминание добавлено");
    if (done) { $("reminder-text").value = ""; loadReminders(); }
  }
  async function checkDueReminders() {
    try {
      const due = await api("GET", "/api/v1/reminders/due");
      if (due.length) toast("Напоминание: " + due[0].text);
    } catch (error) { /* next time */ }
  }
  async function searchKb(event) {
    if (event) event.preventDefault();
    const q = $("kb-q").value.trim();
    if (!q) return;
    const hits = await attempt(() => api("GET", "/api/v1/kb/search?q=" + encodeURIComponent(q)));
    if (!hits) return;
    $("kb-results").replaceChildren(...(hits.length ? hits.map((h) => el("li", {},
      el("a", { href: "#", onclick: async (e) => {
        e.preventDefault();
        const article = await attempt(() => api("GET", "/api/v1/kb/articles/" + h.id));
        if (article) { $("kb-article").replaceChildren(el("h3", {}, article.title), el("div", { class: "pre" }, article.body)); $("kb-article").hidden = false; }
      } }, h.title), " — ", h.snippet)) : [el("li", { class: "muted" }, "Ничего не найдено")]));
  }
  // A call script: the operator walks it with the caller; the answers go into the appeal.
  async function loadScripts() {
    const scripts = await attempt(() => api("GET", "/api/v1/scripts"));
    if (!scripts) return;
    const select = $("script-select");
    select.replaceChildren(...scripts.map((s) => el("option", { value: s.id }, s.name)));
    const walk = () => {
      const script = scripts.find((s) => String(s.id) === select.value);
      if (!script) return;
      const nodes = script.tree.nodes || {};
      const answers = [];
      const view = $("script-view");
      const step = (name) => {
        const node = nodes[name];
        const done = answers.map((a) => el("li", {}, nodes[a.node].text + " — ", el("strong", {}, a.label)));
        if (!node) {
          const target = page.lastAppeal;
          view.replaceChildren(el("ol", { class: "script" }, ...done),
            el("p", {}, target ? "Обращение № " + target.number : "Сначала зарегистрируйте обращение"),
            el("button", { class: "primary", id: "btn-script-save", disabled: !target, onclick: async () => {
              const run = await attempt(() => api("POST", "/api/v1/scripts/" + script.id + "/run", {
                appeal_id: target.id, answers: answers.map((a) => ({ node: a.node, value: a.value })),
              }), "Ответы сохранены в обращение № " + target.number);
              if (run) view.append(el("p", { class: "muted", id: "script-saved" }, "Сохранено: " + Object.entries(run.saved).map(([k, v]) => k + " = " + v).join(", ")));
            } }, "Сохранить в обращение"),
            " ", el("button", { onclick: walk }, "Сначала"));
          return;
        }
        const answer = (value, label, next) => { answers.push({ node: name, value, label }); step(next); };
        const options = node.options || [];
        const input = el("input", { "aria-label": node.text, size: "40" });
        view.replaceChildren(el("ol", { class: "script" }, ...done),
          el("p", { class: "say" }, el("strong", {}, node.text)),
          options.length
            ? el("div", { class: "row" }, ...options.map((o) => el("button", { onclick: () => answer(o.value, o.label, o.next) }, o.label)))
            : el("form", { class: "row", onsubmit: (e) => { e.preventDefault(); if (input.value.trim()) answer(input.value.trim(), input.value.trim(), node.next); } },
              input, el("button", { type: "submit" }, "Далее")));
      };
      step(script.tree.start);
    };
    select.onchange = walk;
    walk();
  }
  async function loadSurveys() {
    const surveys = await attempt(() => api("GET", "/api/v1/surveys"));
    if (!surveys) return;
    $("surveys").replaceChildren(...(surveys.length ? surveys.map((s) => el("section", {},
      el("h3", {}, s.name), el("p", { class: "muted" }, s.description),
      el("ol", {}, ...s.questions.map((q) => el("li", {}, q.text + " ", el("span", { class: "muted" }, Object.entries(q.answers).map(([k, v]) => k + " — " + v).join("; "))))))) : [el("p", { class: "muted" }, "Опросов нет")]));
  }
  async function searchBook(event) {
    if (event) event.preventDefault();
    const q = encodeURIComponent($("book-q").value.trim());
    const corporate = await attempt(() => api("GET", "/api/v1/address-book/corporate?q=" + q));
    const personal = await attempt(() => api("GET", "/api/v1/address-book/personal?q=" + q));
    const callButton = (number) => number ? el("button", { onclick: () => dial(number) }, "Позвонить") : "";
    if (corporate) $("book-corporate").tBodies[0].replaceChildren(...corporate.items.map((c) => el("tr", {},
      el("td", {}, c.name), el("td", {}, c.department), el("td", {}, c.position), el("td", {}, c.extension || c.phone || ""), el("td", {}, callButton(c.extension || c.phone)))));
    if (personal) $("book-personal").tBodies[0].replaceChildren(...personal.items.map((c) => el("tr", {},
      el("td", {}, c.name), el("td", {}, c.phone), el("td", {}, c.note), el("td", {}, callButton(c.phone)))));
  }
  async function loadMissed() {
    const missed = await attempt(() => api("GET", "/api/v1/me/missed"));
    if (!missed) return;
    $("missed").tBodies[0].replaceChildren(...missed.map((m) => el("tr", {},
      el("td", {}, m.contact ? m.contact.name + " (" + m.number + ")" : m.number),
      el("td", {}, dateTime(m.started_at)),
      el("td", {}, m.queue_name || "—"),
      el("td", {},
        el("button", { onclick: () => dial(m.number) }, "Перезвонить"), " ",
        m.in_address_book ? null : el("button", { onclick: async () => {
          const name = window.prompt("Имя для адресной книги", m.number);
          if (name) { await attempt(() => api("POST", "/api/v1/address-book/personal/from-call", { call_id: m.call_id, name }), "Добавлено в адресную книгу"); loadMissed(); }
        } }, "В адресную книгу")))));
  }
  async function loadHistory() {
    const calls = await attempt(() => api("GET", "/api/v1/me/calls?limit=30"));
    const stats = await attempt(() => api("GET", "/api/v1/me/stats"));
    if (stats) $("my-stats").textContent = "Сегодня: принято " + stats.answered + ", пропущено " + stats.missed + " из " + stats.received;
    if (calls) $("history").tBodies[0].replaceChildren(...calls.map((c) => el("tr", {},
      el("td", {}, KINDS[c.kind] || c.kind), el("td", {}, c.number), el("td", {}, dateTime(c.started_at)),
      el("td", {}, seconds(c.talk_seconds)), el("td", {}, el("button", { onclick: () => dial(c.number) }, "Позвонить")))));
  }
  async function loadColleagues() {
    const board = await attempt(() => api("GET", "/api/v1/operators/states"));
    if (!board) return;
    $("colleagues").tBodies[0].replaceChildren(...board.operators.map((o) => el("tr", {},
      el("td", {}, o.extension), el("td", {}, o.full_name), el("td", {}, o.support_line),
      el("td", {}, (STATES[o.state] || o.state) + (o.pause_reason ? " (" + (PAUSES[o.pause_reason] || o.pause_reason) + ")" : "")),
      el("td", {}, o.since ? seconds(since(o.since)) : "—"))));
  }
  const LOADERS = { appeals: loadAppeals, reminders: loadReminders, scripts: loadScripts, surveys: loadSurveys, book: searchBook, missed: loadMissed, history: loadHistory, colleagues: loadColleagues };
  function openTab(name) {
    for (const button of document.querySelectorAll("[data-tab]")) button.setAttribute("aria-selected", String(button.dataset.tab === name));
    for (const tab of document.querySelectorAll(".tab")) tab.hidden = tab.id !== "tab-" + name;
    if (LOADERS[name]) LOADERS[name]();
  }

  // ------------------------------------------------------------------ keyboard
  const SHORTCUTS = {
    KeyL: doLogin, KeyR: doReady, KeyP: doPause, KeyQ: doLogout,
    KeyH: () => doHold(true), KeyX: doHangup, KeyG: doRedial,
    KeyT: () => $("transfer-target").focus(),
    KeyC: () => $("conf-invite").focus(),
    KeyD: () => $("dial-number").focus(),
    KeyA: () => { openTab("appeals"); $("appeal-text").focus(); },
    KeyK: () => { openTab("kb"); $("kb-q").focus(); },
  };
  document.addEventListener("keydown", (event) => {
    if (!event.altKey || event.ctrlKey || event.metaKey) return;
    const action = SHORTCUTS[event.code];
    if (action) { event.preventDefault(); action(); }
  });

  // ------------------------------------------------------------------ wiring
  $("btn-login").onclick = doLogin;
  $("btn-ready").onclick = doReady;
  $("btn-pause").onclick = doPause;
  $("btn-logout").onclick = doLogout;
  $("btn-hold").onclick = () => doHold(true);
  $("btn-unhold").onclick = () => doHold(false);
  $("btn-hangup").onclick = doHangup;
  $("transfer-form").onsubmit = doTransfer;
  $("conference-form").onsubmit = doConference;
  $("dial-form").onsubmit = doDial;
  $("btn-redial").onclick = doRedial;
  $("appeal-form").onsubmit = doAppeal;
  $("appeal-topic").onchange = deadlineHint;
  $("appeal-kind").onchange = deadlineHint;
  $("reminder-form").onsubmit = addReminder;
  $("kb-form").onsubmit = searchKb;
  $("book-form").onsubmit = searchBook;
  for (const button of document.querySelectorAll("[data-tab]")) button.onclick = () => openTab(button.dataset.tab);

  CC.socket("/api/v1/ws/operator", (message) => {
    if (message.type === "screen_pop") renderPop(message);
    else if (message.type === "hello") document.body.dataset.popReady = "true";
  }, (connected) => { document.body.dataset.popConnected = String(connected); });

  refreshState();
  refreshCalls();
  loadTopics();
  loadAppeals();
  setInterval(refreshState, 2000);
  setInterval(() => { if (page.state) renderState(page.state); }, 1000);  // the clocks tick
  setInterval(refreshCalls, 2000);
  setInterval(checkDueReminders, 60000);
})();
