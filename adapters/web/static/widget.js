/* crm-assistant web chat widget: one script tag, no build step, no dependencies.
 *   <script src="https://crm.example.com/widget.js" data-title="Help" data-color="#0b5cad" defer></script>
 * Every string from the server or the visitor goes in with textContent, never innerHTML. */
(function () {
  "use strict";
  if (window.__crmWebChat) return;
  window.__crmWebChat = "starting";  // then "connected" (WebSocket) or "fallback" (HTTP): for tests

  var script = document.currentScript;
  if (!script) {
    var all = document.querySelectorAll("script[src]");
    for (var i = 0; i < all.length; i++) {
      if (/\/widget\.js(\?|$)/.test(all[i].src)) script = all[i];
    }
  }
  if (!script) return;
  var base = new URL(script.src, location.href).origin;
  var title = script.getAttribute("data-title") || "Chat with us";
  var color = script.getAttribute("data-color") || "";
  var storeKey = "crm-web-chat:" + base;
  var logKey = storeKey + ":log";
  var MAX_LOG = 100;

  var state = {
    token: null,
    socket: null,
    live: false,        // the WebSocket is open
    attempts: 0,        // reconnections since the last open
    pollTimer: null,
    waiting: 0,         // messages sent and not answered yet
    queue: [],          // messages typed while neither WebSocket nor HTTP answered
    seq: 0
  };

  function load(key) {
    try { return window.localStorage.getItem(key); } catch (e) { return null; }
  }
  function save(key, value) {
    try {
      if (value === null) window.localStorage.removeItem(key);
      else window.localStorage.setItem(key, value);
    } catch (e) { /* private mode: the conversation lasts as long as the page */ }
  }

  // --- the page ------------------------------------------------------------------------------------
  var link = document.createElement("link");
  link.rel = "stylesheet";
  link.href = base + "/widget.css";
  document.head.appendChild(link);

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  var root = el("div", "crmw");
  if (color && /^(#[0-9a-fA-F]{3,8}|[a-zA-Z]+|rgb\([0-9 ,.%]+\))$/.test(color)) {
    root.style.setProperty("--crmw-color", color);
  }
  var panelId = "crmw-panel-" + Math.random().toString(36).slice(2, 8);
  var launcher = el("button", "crmw-launcher", title);
  launcher.type = "button";
  launcher.setAttribute("aria-expanded", "false");
  launcher.setAttribute("aria-controls", panelId);

  var panel = el("section", "crmw-panel");
  panel.id = panelId;
  panel.hidden = true;
  panel.setAttribute("role", "dialog");
  panel.setAttribute("aria-label", title);

  var header = el("div", "crmw-header");
  var heading = el("h2", "crmw-title", title);
  var close = el("button", "crmw-close", "\u00d7");
  close.type = "button";
  close.setAttribute("aria-label", "Close the chat");
  header.appendChild(heading);
  header.appendChild(close);

  var log = el("div", "crmw-log");
  log.setAttribute("role", "log");
  log.setAttribute("aria-live", "polite");
  log.setAttribute("aria-relevant", "additions");
  log.setAttribute("aria-label", "Conversation");
  log.tabIndex = 0;

  var typing = el("div", "crmw-typing");
  typing.hidden = true;
  typing.setAttribute("aria-hidden", "true");
  typing.appendChild(el("span", "crmw-dot"));
  typing.appendChild(el("span", "crmw-dot"));
  typing.appendChild(el("span", "crmw-dot"));
  var typingText = el("span", "crmw-sr", "typing");  // read once by the status region below

  var status = el("div", "crmw-status");
  status.setAttribute("role", "status");
  status.setAttribute("aria-live", "polite");

  var form = el("form", "crmw-form");
  var inputId = panelId + "-input";
  var label = el("label", "crmw-sr", "Your message");
  label.setAttribute("for", inputId);
  var input = el("textarea", "crmw-input");
  input.id = inputId;
  input.rows = 1;
  input.maxLength = 2000;
  input.placeholder = "Type your message";
  input.setAttribute("autocomplete", "off");
  var send = el("button", "crmw-send", "Send");
  send.type = "submit";
  form.appendChild(label);
  form.appendChild(input);
  form.appendChild(send);

  panel.appendChild(header);
  panel.appendChild(log);
  panel.appendChild(typing);
  panel.appendChild(status);
  panel.appendChild(form);
  root.appendChild(panel);
  root.appendChild(launcher);
  document.body.appendChild(root);

  function open() {
    panel.hidden = false;
    launcher.setAttribute("aria-expanded", "true");
    root.classList.add("crmw-open");
    input.focus();
    scroll();
  }
  function shut() {
    panel.hidden = true;
    launcher.setAttribute("aria-expanded", "false");
    root.classList.remove("crmw-open");
    launcher.focus();
  }
  launcher.addEventListener("click", function () { if (panel.hidden) open(); else shut(); });
  close.addEventListener("click", shut);
  panel.addEventListener("keydown", function (event) {
    if (event.key === "Escape") { event.preventDefault(); shut(); }
  });
  input.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      submit();
    }
  });
  form.addEventListener("submit", function (event) { event.preventDefault(); submit(); });

  function scroll() { log.scrollTop = log.scrollHeight; }

  function setTyping(on) {
    typing.hidden = !on;
    if (on && !typingText.parentNode) status.appendChild(typingText);
    if (!on && typingText.parentNode) status.removeChild(typingText);
    scroll();
  }

  function setStatus(text) {
    if (typingText.parentNode) status.removeChild(typingText);
    status.textContent = text || "";
  }

  // --- messages --------------------------------------------------------------------------------------
  function remember(who, text, table) {
    var entries = [];
    try { entries = JSON.parse(load(logKey) || "[]"); } catch (e) { entries = []; }
    entries.push({ who: who, text: text, table: table || null });
    save(logKey, JSON.stringify(entries.slice(-MAX_LOG)));
  }

  function show(who, text, table, buttons, keep) {
    var item = el("div", "crmw-msg crmw-" + (who === "customer" ? "me" : who === "staff" ? "staff" : "bot"));
    var whoText = who === "customer" ? "You" : who === "staff" ? "Support team" : "Assistant";
    item.appendChild(el("span", "crmw-sr", whoText + ": "));
    if (text) item.appendChild(el("p", "crmw-text", text));
    if (table) item.appendChild(el("pre", "crmw-table", table));
    if (buttons && buttons.length) {
      var row = el("div", "crmw-buttons");
      buttons.forEach(function (button) {
        var b = el("button", "crmw-button crmw-" + (button.kind || "choose"), button.label);
        b.type = "button";
        b.addEventListener("click", function () {
          row.querySelectorAll("button").forEach(function (x) { x.disabled = true; });
          deliver(button.value, button.label);
        });
        row.appendChild(b);
      });
      item.appendChild(row);
    }
    log.appendChild(item);
    if (keep !== false) remember(who, text, table);
    scroll();
    return item;
  }

  function showReplies(replies, who) {
    (replies || []).forEach(function (reply) {
      show(who || reply.who || "assistant", reply.text, reply.table, reply.buttons);
    });
  }

  function showError(text) {
    var item = el("div", "crmw-msg crmw-error");
    item.setAttribute("role", "alert");
    item.appendChild(el("p", "crmw-text", text));
    log.appendChild(item);
    scroll();
  }

  function handle(frame) {
    if (!frame || typeof frame !== "object") return;
    if (frame.type === "turn") {
      state.waiting = Math.max(0, state.waiting - 1);
      setTyping(state.waiting > 0);
      showReplies(frame.replies);  // empty: a person handles the conversation, the bot stays quiet
    } else if (frame.type === "news") {
      showReplies(frame.replies, "staff");
    } else if (frame.type === "error") {
      if (frame.id) state.waiting = Math.max(0, state.waiting - 1);
      setTyping(state.waiting > 0);
      if (frame.code === "bad_token") { restart(); return; }
      showError(frame.text || "Something went wrong.");
    }
  }

  function submit() {
    var text = input.value.trim();
    if (!text) return;
    input.value = "";
    deliver(text, text);
  }

  function deliver(value, shown) {
    show("customer", shown);
    var frame = { type: "message", text: value, id: "m" + Date.now().toString(36) + (state.seq++) };
    state.waiting += 1;
    setTyping(true);
    if (state.live && state.socket && state.socket.readyState === 1) {
      state.socket.send(JSON.stringify(frame));
    } else {
      post(frame);
    }
  }

  // --- the server: a session, then a WebSocket, else HTTP -------------------------------------------
  function api(method, path, body) {
    var options = { method: method, headers: {}, mode: "cors", credentials: "omit" };
    if (body) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    return fetch(base + path, options).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        data.status = response.status;
        return data;
      });
    });
  }

  function post(frame, tries) {
    tries = tries || 0;
    api("POST", "/api/message", { token: state.token, text: frame.text, id: frame.id }).then(handle, function () {
      if (tries < 5) {  // the same id: a repeat the server already answered is dropped there
        setStatus("Connection lost; trying again\u2026");
        setTimeout(function () { post(frame, tries + 1); }, 1000 * Math.pow(2, tries));
      } else {
        state.waiting = Math.max(0, state.waiting - 1);
        setTyping(state.waiting > 0);
        showError("Your message could not be sent. Please try again.");
      }
    });
  }

  function poll() {
    if (state.pollTimer || !state.token) return;
    state.pollTimer = setInterval(function () {
      if (state.live) { clearInterval(state.pollTimer); state.pollTimer = null; return; }
      api("POST", "/api/poll", { token: state.token }).then(handle, function () {});
    }, 3000);
  }

  function connect() {
    var url = base.replace(/^http/, "ws") + "/ws";  // the token goes in the first frame, not the URL
    var socket;
    try { socket = new WebSocket(url); } catch (e) { reconnect(); return; }
    state.socket = socket;
    socket.onopen = function () {
      socket.send(JSON.stringify({ type: "hello", token: state.token }));
    };
    socket.onmessage = function (event) {
      var frame;
      try { frame = JSON.parse(event.data); } catch (e) { return; }
      if (frame && frame.type === "ready") {
        state.live = true;
        state.attempts = 0;
        window.__crmWebChat = "connected";
        setStatus("");
        return;
      }
      handle(frame);
    };
    socket.onclose = function () {
      if (state.socket !== socket) return;
      state.live = false;
      state.socket = null;
      reconnect();
    };
  }

  function reconnect() {
    window.__crmWebChat = "fallback";
    poll();  // the HTTP fallback carries the conversation meanwhile
    state.attempts += 1;
    if (state.attempts > 2) setStatus("Reconnecting\u2026");
    var delay = Math.min(30000, 1000 * Math.pow(2, Math.min(state.attempts, 5))) * (0.5 + Math.random() / 2);
    setTimeout(connect, delay);
  }

  function restart() {
    save(storeKey, null);
    save(logKey, null);
    state.token = null;
    if (state.socket) { var s = state.socket; state.socket = null; s.close(); }
    begin();
  }

  function begin(tries) {
    tries = tries || 0;
    var token = state.token || load(storeKey);
    api("POST", "/api/session", token ? { token: token } : {}).then(function (data) {
      if (data.code === "bad_token" && token) {  // not signed here: start afresh
        save(storeKey, null);
        save(logKey, null);
        state.token = null;
        begin(tries);
        return;
      }
      if (!data.token) {
        setStatus(data.text || "The chat is not available on this site.");
        return;
      }
      state.token = data.token;
      save(storeKey, data.token);
      if (!log.childNodes.length) {
        var kept = [];
        try { kept = JSON.parse(load(logKey) || "[]"); } catch (e) { kept = []; }
        if (kept.length) {
          kept.forEach(function (m) { show(m.who, m.text, m.table, null, false); });
        } else {
          save(logKey, null);
          (data.history || []).forEach(function (m) { show(m.who, m.text, null, null); });
        }
      }
      showReplies(data.replies, "staff");
      if (!("WebSocket" in window)) { window.__crmWebChat = "fallback"; poll(); return; }
      connect();
    }, function () {
      setStatus("Connecting\u2026");
      setTimeout(function () { begin(tries + 1); }, Math.min(30000, 1000 * Math.pow(2, tries)));
    });
  }

  begin();
})();
