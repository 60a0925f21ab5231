// Shared helpers of the pages: the API with the page's token, Russian labels, formatting.
"use strict";

const CC = (() => {
  const meta = document.querySelector('meta[name="cc-token"]');
  const token = meta ? meta.content : "";

  function toast(text, kind) {
    const box = document.getElementById("toast");
    if (!box) return;
    box.textContent = text;
    box.className = kind === "error" ? "show error" : "show";
    clearTimeout(toast.timer);
    toast.timer = setTimeout(() => { box.className = ""; }, 4000);
  }

  function detail(payload, status) {
    if (payload && typeof payload.detail === "string") return payload.detail;
    if (payload && Array.isArray(payload.detail)) {
      return payload.detail.map((d) => d.msg || JSON.stringify(d)).join("; ");
    }
    return "Ошибка " + status;
  }

  // Calls the JSON API; throws Error(with the server's Russian detail) on a failure.
  async function api(method, path, body) {
    const options = { method, headers: { Authorization: "Bearer " + token } };
    if (body !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    const response = await fetch(path, options);
    if (response.status === 401) {
      window.location.href = "/";
      throw new Error("Сеанс истёк: войдите снова");
    }
    const text = await response.text();
    const payload = text ? JSON.parse(text) : null;
    if (!response.ok) throw new Error(detail(payload, response.status));
    return payload;
  }

  // Runs an action, showing its failure as a toast instead of throwing.
  async function attempt(action, success) {
    try {
      const result = await action();
      if (success) toast(success);
      return result;
    } catch (error) {
      toast(error.message, "error");
      return undefined;
    }
  }

  function socket(path, onMessage, onState) {
    const scheme = window.location.protocol === "https:" ? "wss:" : "ws:";
    let delay = 500;
    function connect() {
      const ws = new WebSocket(scheme + "//" + window.location.host + path + "?token=" + encodeURIComponent(token));
      ws.onopen = () => { delay = 500; if (onState) onState(true); };
      ws.onmessage = (event) => onMessage(JSON.parse(event.data));
      ws.onclose = (event) => {
        if (onState) onState(false);
        if (event.code === 1008) { window.location.href = "/"; return; }
        setTimeout(connect, delay);
        delay = Math.min(delay * 2, 10000);
      };
    }
    connect();
  }

  const STATES = {
    logged_out: "не в очередях",
    ready: "готов",
    paused: "пауза",
    ringing: "входящий вызов",
    on_call: "разговор",
    wrap_up: "поствызывная обработка",
  };
  const PAUSES = {
    break: "перерыв", lunch: "обед", training: "обучение", meeting: "совещание",
    paperwork: "работа с обращениями", technical: "технические неполадки", wrap_up: "обработка",
  };
  const APPEAL_STATUS = {
    registered: "зарегистрировано", handed_off: "передано специалисту", in_progress: "в работе",
    answered: "дан ответ", closed: "закрыто", extended: "срок продлён",
  };
  const DISPOSITIONS = {
    in_progress: "идёт", closed_by_ivr: "закрыт в меню", answered: "принят", abandoned: "потерян",
    voicemail: "голосовое сообщение", failed: "не состоялся", hung_up_in_ivr: "положил трубку в меню",
    interrupted: "прерван",
  };
  const KINDS = { inbound: "входящий", outbound: "исходящий", missed: "пропущенный", unanswered: "без ответа" };

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (key.startsWith("on") && typeof value === "function") node.addEventListener(key.slice(2), value);
      else if (key === "text") node.textContent = value;
      else if (value !== null && value !== undefined && value !== false) node.setAttribute(key, value === true ? "" : value);
    }
    for (const child of children) {
      if (child === null || child === undefined) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  function seconds(total) {
    if (total === null || total === undefined || Number.isNaN(total)) return "—";
    const s = Math.max(0, Math.round(total));
    const m = Math.floor(s / 60);
    const h = Math.floor(m / 60);
    const pad = (n) => String(n).padStart(2, "0");
    return h > 0 ? h + ":" + pad(m % 60) + ":" + pad(s % 60) : m + ":" + pad(s % 60);
  }
  function since(iso) {
    return iso ? (Date.now() - Date.parse(iso)) / 1000 : null;
  }
  function time(iso) {
    return iso ? new Date(iso).toLocaleTimeString("ru-RU", { hour: "2-digit", minute: "2-digit", second: "2-digit" }) : "—";
  }
  function dateTime(iso) {
    return iso ? new Date(iso).toLocaleString("ru-RU", { day: "2-digit", month: "2-digit", hour: "2-digit", minute: "2-digit" }) : "—";
  }
  function percent(share) {
    return share === null || share === undefined ? "—" : (share * 100).toFixed(1).replace(".", ",") + " %";
  }
  function rubles(kopecks) {
    return (kopecks / 100).toLocaleString("ru-RU", { style: "currency", currency: "RUB" });
  }

  return { token, api, attempt, toast, socket, el, seconds, since, time, dateTime, percent, rubles, STATES, PAUSES, APPEAL_STATUS, KINDS, DISPOSITIONS };
})();
