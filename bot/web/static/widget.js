/*
 * 店小二 chat widget: talks to Rasa's socket.io channel with the events Rasa web chat clients use
 * (session_request / session_confirm / user_uttered / bot_uttered). Every text is put on the page
 * with textContent, never as markup. No build step, no dependencies besides socket.io-client.
 */
(function () {
  "use strict";

  var config = JSON.parse(document.getElementById("chat-config").textContent);
  var STORE = "shopChat:";
  var SECRET = /^[0-9a-f]{64}$/;
  // What the customer reads when the channel refuses a message (codes of bot/web/inbound.py).
  var REFUSED = {
    empty_message: "消息是空的，没有发送",
    missing_message: "消息是空的，没有发送",
    not_text: "这条消息无法发送",
    lone_surrogate: "消息里有无法识别的字符，没有发送",
    message_too_long: "消息太长了，没有发送",
    bad_request: "这条消息无法发送",
  };
  var GREETING = "/greet";
  var TYPING_TIMEOUT_MS = 20000;
  var ACK_TIMEOUT_MS = 60000;

  function byId(id) {
    return document.getElementById(id);
  }

  var ui = {
    root: byId("chat-widget"),
    launcher: byId("chat-launcher"),
    unread: byId("chat-unread"),
    unreadCount: document.querySelector("#chat-unread .unread-count"),
    panel: byId("chat-panel"),
    persona: byId("chat-persona"),
    minimise: byId("chat-minimise"),
    status: byId("chat-status"),
    log: byId("chat-log"),
    typing: byId("chat-typing"),
    quick: byId("chat-quick"),
    form: byId("chat-form"),
    input: byId("chat-input"),
    counter: byId("chat-counter"),
    send: byId("chat-send"),
  };

  // ---- storage (localStorage may be unavailable: then the widget still works for the page) ----
  var memory = {};
  function load(name, fallback) {
    try {
      var raw = window.localStorage.getItem(STORE + name);
      return raw === null ? fallback : JSON.parse(raw);
    } catch (e) {
      return name in memory ? memory[name] : fallback;
    }
  }
  function save(name, value) {
    memory[name] = value;
    try {
      window.localStorage.setItem(STORE + name, JSON.stringify(value));
    } catch (e) {
      /* private mode: kept in memory only */
    }
  }

  function randomHex(bytes) {
    var values = new Uint8Array(bytes);
    window.crypto.getRandomValues(values);
    return Array.prototype.map
      .call(values, function (b) {
        return ("0" + b.toString(16)).slice(-2);
      })
      .join("");
  }

  // An anonymous visitor's conversation belongs to a secret kept here: its id is a hash of the
  // secret (the channel tells it in session_confirm), so knowing the id gives no way in.
  function anonymousSecret() {
    var secret = load("secret", null);
    if (typeof secret !== "string" || !SECRET.test(secret)) {
      secret = randomHex(32);
      save("secret", secret);
    }
    return secret;
  }

  var customer = config.customer;
  var secret = customer ? null : anonymousSecret();
  var sessionId = customer ? customer.sessionId : null; // anonymous: known once confirmed
  var customData = customer ? customer.customData : {};
  function sessionKey(name) {
    return (customer ? sessionId : "anonymous") + ":" + name;
  }

  // A lone UTF-16 surrogate (half an emoji) becomes U+FFFD: the channel refuses one, so a message
  // is repaired before it is sent (and one kept from an earlier page before it is sent again).
  function wellFormed(text) {
    var s = String(text);
    var out = "";
    for (var i = 0; i < s.length; i++) {
      var c = s.charCodeAt(i);
      var next = i + 1 < s.length ? s.charCodeAt(i + 1) : 0;
      if (c >= 0xd800 && c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
        out += s.charAt(i) + s.charAt(i + 1);
        i++;
      } else {
        out += c >= 0xd800 && c <= 0xdfff ? "\ufffd" : s.charAt(i);
      }
    }
    return out;
  }

  // A message kept from an earlier page: repaired, or dropped when it cannot be sent at all.
  function sendable(m) {
    if (!m || typeof m !== "object" || typeof m.text !== "string" || typeof m.id !== "string") return null;
    var text = wellFormed(m.text);
    if (!text.trim() || text.length > config.maxChars) return null;
    var display = typeof m.display === "string" ? wellFormed(m.display) : null;
    return { id: m.id, text: text, display: display };
  }

  // ---- formatting ----
  function money(fen) {
    var n = Number(fen);
    if (!isFinite(n)) return "";
    n = Math.round(n);
    var sign = n < 0 ? "-" : "";
    n = Math.abs(n);
    var cents = n % 100;
    var yuan = (n - cents) / 100;
    // As shop/money.py writes amounts: whole yuan without cents, otherwise two decimals.
    return sign + "¥" + yuan + (cents ? "." + (cents < 10 ? "0" : "") + cents : "");
  }

  function shopTime(iso) {
    // The ISO time carries the shop's offset: show it as written (MM-DD HH:MM), no conversion.
    var match = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})/.exec(String(iso || ""));
    return match ? match[2] + "-" + match[3] + " " + match[4] + ":" + match[5] : String(iso || "");
  }

  function safeUrl(url) {
    if (typeof url !== "string") return null;
    if (/^\/(?!\/)/.test(url)) return url;
    try {
      var parsed = new URL(url, window.location.href);
      if (parsed.origin === window.location.origin) return parsed.pathname + parsed.search;
    } catch (e) {
      return null;
    }
    return null;
  }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  // ---- the log ----
  function scrollDown() {
    ui.log.scrollTop = ui.log.scrollHeight;
  }

  function addBubble(role, text) {
    var item = el("li", "msg msg-" + role);
    item.appendChild(el("span", "visually-hidden", role === "user" ? "我：" : "客服："));
    var body = el("p", "msg-text", text);
    item.appendChild(body);
    ui.log.appendChild(item);
    scrollDown();
    return item;
  }

  function setDelivery(item, state, reason) {
    if (!item) return;
    var label = item.querySelector(".msg-state");
    if (!label) {
      label = el("span", "msg-state");
      item.appendChild(label);
    }
    item.setAttribute("data-delivery", state);
    label.textContent = reason || { queued: "待发送", sending: "发送中…", sent: "" }[state] || "";
  }

  // The card's own labels, in the script the renderer wrote the card in (its `script` field).
  var CARD_LABELS = {
    simplified: { price: "价格", variant: "规格", stock: "库存", soldOut: "缺货", view: "查看商品", order: "订单", paid: "实付", paidAt: "付款时间" },
    traditional: { price: "價格", variant: "規格", stock: "庫存", soldOut: "缺貨", view: "查看商品", order: "訂單", paid: "實付", paidAt: "付款時間" },
  };
  function labelsOf(card) {
    return Object.prototype.hasOwnProperty.call(CARD_LABELS, card.script) ? CARD_LABELS[card.script] : CARD_LABELS.simplified;
  }

  function cardRow(list, label, value) {
    if (value === undefined || value === null || value === "") return;
    list.appendChild(el("dt", null, label));
    list.appendChild(el("dd", null, value));
  }

  function productCard(card) {
    var words = labelsOf(card);
    var box = el("article", "card card-product");
    box.appendChild(el("h3", "card-title", card.name));
    var facts = el("dl", "card-facts");
    cardRow(facts, words.price, money(card.price_fen));
    var variant = [card.colour, card.size].filter(Boolean).join(" / ");
    cardRow(facts, words.variant, variant);
    if (typeof card.stock === "number") cardRow(facts, words.stock, card.stock > 0 ? card.stock + " 件" : words.soldOut);
    box.appendChild(facts);
    var href = safeUrl(card.url);
    if (href) {
      var link = el("a", "card-link", words.view);
      link.href = href;
      box.appendChild(link);
    }
    return box;
  }

  function orderCard(card) {
    var words = labelsOf(card);
    var box = el("article", "card card-order");
    box.setAttribute("data-order-id", String(card.order_id || ""));
    var title = el("h3", "card-title", words.order + " " + (card.order_id || ""));
    box.appendChild(title);
    var status = el("p", "card-status", card.status_label || card.status);
    status.setAttribute("data-status", String(card.status || ""));
    box.appendChild(status);
    var items = el("ul", "card-items");
    (Array.isArray(card.items) ? card.items : []).forEach(function (line) {
      var row = el("li", null);
      row.appendChild(el("span", "item-name", line.name));
      row.appendChild(el("span", "item-qty", "×" + line.quantity));
      row.appendChild(el("span", "item-price", money(line.price_fen)));
      items.appendChild(row);
    });
    box.appendChild(items);
    var facts = el("dl", "card-facts");
    cardRow(facts, words.paid, money(card.total_fen));
    if (card.paid_at) cardRow(facts, words.paidAt, shopTime(card.paid_at));
    box.appendChild(facts);
    return box;
  }

  function logisticsCard(card) {
    var box = el("article", "card card-logistics");
    box.appendChild(el("h3", "card-title", (card.carrier || "") + " " + (card.tracking_number || "")));
    box.appendChild(el("p", "card-status", card.status_label));
    var events = el("ol", "card-events");
    (Array.isArray(card.events) ? card.events : []).forEach(function (event) {
      var row = el("li", null);
      var time = el("time", null, shopTime(event.time));
      time.setAttribute("datetime", String(event.time || ""));
      row.appendChild(time);
      row.appendChild(el("span", null, event.text));
      events.appendChild(row);
    });
    box.appendChild(events);
    return box;
  }

  var CARDS = { product: productCard, order: orderCard, logistics: logisticsCard };

  function findCard(payload) {
    var candidates = [payload, payload && payload.custom, payload && payload.data];
    if (payload && payload.custom) candidates.push(payload.custom.data);
    for (var i = 0; i < candidates.length; i++) {
      var c = candidates[i];
      if (c && typeof c === "object" && typeof c.card === "string" && CARDS[c.card]) return c;
    }
    return null;
  }

  function addCard(card) {
    var item = el("li", "msg msg-bot msg-card");
    item.appendChild(CARDS[card.card](card));
    ui.log.appendChild(item);
    scrollDown();
  }

  function showQuickReplies(buttons) {
    ui.quick.textContent = "";
    (buttons || []).forEach(function (button) {
      if (!button || !button.title) return;
      var b = el("button", "quick-reply", button.title);
      b.type = "button";
      b.addEventListener("click", function () {
        ui.quick.textContent = "";
        send(String(button.payload || button.title), String(button.title));
      });
      ui.quick.appendChild(b);
    });
  }

  // A person from the agent console (sender "agent") or a notice that one joined or left.
  function addStaffBubble(message, text) {
    var notice = message.sender === "system";
    var item = addBubble("bot", text);
    item.classList.add(notice ? "msg-notice" : "msg-agent");
    item.setAttribute("data-sender", message.sender);
    var who = notice ? "通知：" : "人工客服" + (message.agent_name ? String(message.agent_name) : "") + "：";
    item.firstChild.textContent = who;
    if (!notice) item.insertBefore(el("span", "msg-agent-name", "人工客服" + (message.agent_name ? " · " + message.agent_name : "")), item.lastChild);
    return item;
  }

  function showBotMessage(message, live) {
    if (!message || typeof message !== "object") return;
    if (live) followPersona(message.persona);
    var text = typeof message.text === "string" ? message.text : "";
    if (text && (message.sender === "agent" || message.sender === "system")) addStaffBubble(message, text);
    else if (text) addBubble("bot", text);
    var buttons = message.quick_replies || message.buttons;
    if (live) showQuickReplies(Array.isArray(buttons) ? buttons : []);
    var card = findCard(message);
    if (card) addCard(card);
    if (message.attachment && message.attachment.payload && message.attachment.payload.src) {
      addBubble("bot", "[图片] " + message.attachment.payload.src);
    }
  }

  // ---- open / minimise / unread ----
  var unread = 0;
  function isOpen() {
    return !ui.panel.hidden;
  }
  function setUnread(n) {
    unread = n;
    ui.unreadCount.textContent = String(n);
    ui.unread.hidden = n === 0;
  }
  function open() {
    ui.panel.hidden = false;
    ui.root.setAttribute("data-state", "open");
    ui.launcher.setAttribute("aria-expanded", "true");
    save(sessionKey("open"), true);
    setUnread(0);
    scrollDown();
    ui.input.focus();
    greetOnce();
  }
  function minimise() {
    ui.panel.hidden = true;
    ui.root.setAttribute("data-state", "closed");
    ui.launcher.setAttribute("aria-expanded", "false");
    save(sessionKey("open"), false);
    ui.launcher.focus();
  }

  // ---- typing indicator: shown while a message of the customer is being answered ----
  var typingTimer = null;
  function updateTyping() {
    if (ready && pending.length > 0) showTyping();
    else hideTyping();
  }
  function showTyping() {
    ui.typing.hidden = false;
    clearTimeout(typingTimer);
    typingTimer = setTimeout(hideTyping, TYPING_TIMEOUT_MS);
    scrollDown();
  }
  function hideTyping() {
    ui.typing.hidden = true;
    clearTimeout(typingTimer);
  }

  // ---- status ----
  function setStatus(text, state) {
    ui.status.textContent = text;
    ui.root.setAttribute("data-connection", state);
  }

  // ---- sending: a queue kept in localStorage, sent one by one, removed when Rasa acknowledges ----
  // Each message keeps its id (sent as customData.client_msg_id): the channel drops a copy it has
  // already accepted, so a message is sent again (same id) whenever its acknowledgement is missing.
  var pending = load(sessionKey("pending"), []);
  pending = (Array.isArray(pending) ? pending : []).map(sendable).filter(Boolean);
  var bubbles = {};
  var inFlight = null; // the attempt being sent: { id }
  var ready = false;
  var socket = null;

  function savePending() {
    ui.root.setAttribute("data-pending", String(pending.length));
    save(
      sessionKey("pending"),
      pending.map(function (m) {
        return { id: m.id, text: m.text, display: m.display };
      })
    );
  }

  function acknowledged(id) {
    var before = pending.length;
    pending = pending.filter(function (m) {
      return m.id !== id;
    });
    if (inFlight && inFlight.id === id) inFlight = null;
    if (pending.length === before) return; // an earlier attempt's acknowledgement came first
    savePending();
    setDelivery(bubbles[id], "sent");
    updateTyping();
    flush();
  }

  // The channel refused a message: one it can never take is dropped (the customer is told);
  // an expired sign-in or a lost session is renewed and the message sent again.
  function refused(message, reply) {
    inFlight = null;
    if (reply.error === "signed_out") return renewIdentity();
    if (reply.error === "no_session" || reply.error === "not_your_conversation") {
      ready = false;
      return requestSession();
    }
    pending = pending.filter(function (m) {
      return m.id !== message.id;
    });
    savePending();
    setDelivery(bubbles[message.id], "failed", REFUSED[reply.error] || REFUSED.bad_request);
    updateTyping();
    flush();
  }

  function flush() {
    if (!ready || inFlight || pending.length === 0) return;
    var message = pending[0];
    var attempt = { id: message.id };
    inFlight = attempt;
    setDelivery(bubbles[message.id], "sending");
    var data = {};
    Object.keys(customData || {}).forEach(function (key) {
      data[key] = customData[key];
    });
    data.client_msg_id = message.id;
    // the product page the customer is on: what "这款" means to the shop's actions
    if (config.pageProductId) data.page_product_id = config.pageProductId;
    socket
      .timeout(ACK_TIMEOUT_MS)
      .emit(
        "user_uttered",
        { message: message.text, customData: data, session_id: sessionId },
        function (error, reply) {
          if (!error && reply && typeof reply.error === "string") {
            if (inFlight === attempt) refused(message, reply);
            return;
          }
          if (!error) {
            acknowledged(message.id);
            if (reply && reply.duplicate) resyncHistory();
            return;
          }
          if (inFlight !== attempt) return; // a later attempt is under way
          inFlight = null;
          // No acknowledgement in time: disconnected (sent again after reconnecting), or Rasa is
          // slow or failed (sent again now: the channel drops a copy of an accepted message).
          if (ready) flush();
        }
      );
  }

  function send(text, display) {
    var message = { id: randomHex(8), text: wellFormed(text), display: display };
    if (display) {
      // The customer spoke first: they are answered (greeted, if they greet) instead of the
      // welcome, so a new conversation is not greeted twice. A welcome already sent stays.
      save(sessionKey("greeted"), true);
      pending = pending.filter(function (m) {
        return m.text !== GREETING || (inFlight && inFlight.id === m.id);
      });
    }
    pending.push(message);
    savePending();
    if (display) {
      bubbles[message.id] = addBubble("user", display);
      setDelivery(bubbles[message.id], ready ? "sending" : "queued");
    }
    ui.quick.textContent = "";
    updateTyping();
    if (!ready) setStatus("网络已断开，消息会在恢复连接后自动发送", "offline");
    flush();
  }

  // The welcome of a new conversation, once: not when it has history or the customer already
  // wrote (a message of theirs still waiting to be sent drops a welcome that was not sent yet).
  function greetOnce() {
    if (load(sessionKey("greeted"), false)) return;
    if (pending.some(function (m) { return m.display; })) return;
    save(sessionKey("greeted"), true);
    send(GREETING, null);
  }

  // ---- input ----
  function updateCounter() {
    var length = ui.input.value.length;
    ui.counter.textContent = length + "/" + config.maxChars;
    ui.counter.classList.toggle("at-limit", length >= config.maxChars);
  }

  ui.input.addEventListener("input", updateCounter);
  ui.input.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      ui.form.requestSubmit ? ui.form.requestSubmit() : ui.send.click();
    }
  });
  ui.form.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = wellFormed(ui.input.value.trim().slice(0, config.maxChars)).trim();
    if (!text) return;
    ui.input.value = "";
    updateCounter();
    send(text, text);
    ui.input.focus();
  });

  // ---- personas ----
  (config.personas || []).forEach(function (persona) {
    var option = el("option", null, persona.name);
    option.value = persona.id;
    ui.persona.appendChild(option);
  });
  ui.persona.value = load(sessionKey("persona"), "default");
  // The picker shows the persona the bot speaks in: each reply names it (also after the customer
  // chose one by typing, or the shop's default persona answered), and the history tells it.
  function followPersona(id) {
    var known = (config.personas || []).some(function (p) {
      return p.id === id;
    });
    if (!known || ui.persona.value === id) return;
    ui.persona.value = id;
    save(sessionKey("persona"), id);
  }
  ui.persona.addEventListener("change", function () {
    var id = ui.persona.value;
    var name = ui.persona.options[ui.persona.selectedIndex].textContent;
    save(sessionKey("persona"), id);
    send("/choose_persona" + JSON.stringify({ persona: id }), "换成" + name + "的客服");
  });

  ui.launcher.addEventListener("click", function () {
    if (isOpen()) minimise();
    else open();
  });
  ui.minimise.addEventListener("click", minimise);
  ui.panel.addEventListener("keydown", function (event) {
    if (event.key === "Escape") minimise();
  });

  // ---- connection ----
  function connect() {
    if (typeof window.io !== "function") {
      setStatus("聊天组件加载失败，请刷新页面", "offline");
      return;
    }
    socket = window.io(config.rasaUrl, {
      path: config.socketPath,
      transports: ["websocket", "polling"],
      reconnectionDelay: 500,
      reconnectionDelayMax: 3000,
    });
    socket.on("connect", requestSession);
    socket.on("chat_error", function (problem) {
      if (!problem || ready) return; // a refused message is handled with its acknowledgement
      if (problem.error === "signed_out") renewIdentity();
      else setStatus("暂时连不上客服，请刷新页面", "offline");
    });
    socket.on("session_confirm", function (confirmed) {
      if (!customer && typeof confirmed === "string") sessionId = confirmed;
      ready = true;
      setStatus("", "online");
      pending.forEach(function (m) {
        if (bubbles[m.id]) setDelivery(bubbles[m.id], "sending");
      });
      updateTyping();
      flush();
    });
    socket.on("bot_uttered", function (message) {
      showBotMessage(message, true);
      if (!isOpen()) setUnread(unread + 1);
      updateTyping();
    });
    socket.on("disconnect", function () {
      ready = false;
      inFlight = null;
      hideTyping();
      setStatus("网络已断开，正在重新连接…", "offline");
      pending.forEach(function (m) {
        if (bubbles[m.id]) setDelivery(bubbles[m.id], "queued");
      });
    });
    socket.on("connect_error", function () {
      setStatus("暂时连不上客服，正在重试…", "offline");
    });
  }

  function requestSession() {
    setStatus("正在连接客服…", "connecting");
    var request = customer
      ? { session_id: sessionId, customData: customData }
      : { session_secret: secret };
    socket.emit("session_request", request);
  }

  // The chat signature expired or was revoked: a fresh one while the shop session lasts, else the
  // customer signed out (another tab) and the page is loaded again as a visitor's.
  var renewing = false;
  function renewIdentity() {
    if (renewing) return;
    renewing = true;
    ready = false;
    setStatus("正在重新验证登录…", "connecting");
    fetch(config.identityUrl, { credentials: "same-origin", cache: "no-store" })
      .then(function (response) {
        if (response.status === 401) {
          window.location.reload();
          return;
        }
        return response.ok ? response.json() : null;
      })
      .then(function (body) {
        renewing = false;
        if (body && body.customData && body.sessionId === sessionId) {
          customData = body.customData;
          if (socket && socket.connected) requestSession();
        } else if (body !== undefined) {
          setStatus("登录状态已变化，请刷新页面", "offline");
        }
      })
      .catch(function () {
        renewing = false;
        setStatus("暂时连不上客服，正在重试…", "offline");
      });
  }

  window.addEventListener("offline", function () {
    setStatus("网络已断开，消息会在恢复连接后自动发送", "offline");
    if (socket) socket.disconnect();
  });
  window.addEventListener("online", function () {
    if (socket && !socket.connected) socket.connect();
  });

  function fetchHistory() {
    var url = config.historyUrl;
    var headers = {};
    if (customer) url += "?session_id=" + encodeURIComponent(sessionId);
    else headers["X-Chat-Secret"] = secret;
    var options = { credentials: "same-origin", cache: "no-store", headers: headers };
    return fetch(url, options).then(function (response) {
      return response.ok ? response.json() : null;
    });
  }

  function showHistory(body) {
    var messages = Array.isArray(body.messages) ? body.messages : [];
    messages.forEach(function (m) {
      if (m.role === "user") addBubble("user", m.text);
      else showBotMessage(m, false);
    });
    if (messages.length) save(sessionKey("greeted"), true);
    followPersona(body.persona);
    var last = messages[messages.length - 1];
    if (last && last.role === "bot" && Array.isArray(last.buttons)) showQuickReplies(last.buttons);
  }

  function showPendingBubbles(state) {
    pending.forEach(function (m) {
      if (m.display) {
        bubbles[m.id] = addBubble("user", m.display);
        setDelivery(bubbles[m.id], state);
      }
    });
  }

  function restoreHistory() {
    // An anonymous visitor who never chatted has no conversation: asking Rasa would create one.
    if (!customer && !load(sessionKey("greeted"), false)) return Promise.resolve();
    return fetchHistory()
      .then(function (body) {
        if (body) showHistory(body);
      })
      .catch(function () {
        /* history is a convenience: the chat works without it */
      });
  }

  // The channel dropped a copy of a message it had already answered, maybe while this page was
  // disconnected: the answers it missed are in the conversation's history, so the log is redrawn.
  function resyncHistory() {
    fetchHistory()
      .then(function (body) {
        if (!body) return;
        ui.log.textContent = "";
        showHistory(body);
        showPendingBubbles(ready ? "sending" : "queued");
      })
      .catch(function () {
        /* the live log stays as it is */
      });
  }

  function start() {
    updateCounter();
    ui.root.setAttribute("data-pending", String(pending.length));
    restoreHistory().then(function () {
      showPendingBubbles("queued");
      if (load(sessionKey("open"), false)) open();
      connect();
      ui.root.setAttribute("data-ready", "true");
    });
  }

  start();
})();
