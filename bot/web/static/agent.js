/*
 * 客服工作台: polls the console's API (the whole queue, a page of the active conversations, found
 * by a search, and the open conversation) and switches modes / sends messages. Every text goes on the page with textContent, never as markup.
 */
(function () {
  "use strict";

  var POLL_MS = 1500;
  var REASONS = {
    customer_request: "顾客要求人工",
    repeated_fallback: "多次未识别",
    complaint: "投诉",
    compensation_above_limit: "赔付超出机器人权限",
    angry_customer: "顾客情绪激动",
    system_error: "系统故障",
  };
  var MODES = { auto: "机器人自动", assist: "辅助（机器人起草，人工发送）", human: "人工" };
  var ROLES = { customer: "顾客", bot: "机器人", agent: "人工客服", system: "系统通知", trigger: "主动关怀触发" };
  var PERSONALITY = { dominant: "力量型（果断直接）", expressive: "活泼型（热情外向）", amiable: "和平型（随和友善）", analytical: "完美型（重细节数据）" };
  var TICKET_KIND = { complaint: "投诉", logistics_chase: "物流催件", delivery_investigation: "签收调查", price_protection: "价保" };
  var SOURCES = { bot: "机器人将执行", intent: "可能的意图", response: "备选回复" };
  var SEVERITY = { low: "低", medium: "中", high: "高" };
  var ERRORS = {
    held_by_another_agent: "该会话已由其他客服接管",
    supervisor_required: "该会话等待主管处理，一线客服不能接管或交还",
    not_taken_over: "请先接管会话再回复",
    empty_message: "消息不能为空",
    message_too_long: "消息太长了",
    rasa_unavailable: "暂时连不上机器人服务，请稍后再试",
    sign_in_required: "登录已过期，请重新登录",
    above_authority: "超出您的补偿权限，请转主管处理",
    compensation_unclear: "无法确认补偿金额：请写明具体金额（如 ¥20），或转主管处理",
    stale_suggestion: "顾客又发来新消息，建议已更新",
  };

  function byId(id) {
    return document.getElementById(id);
  }
  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }
  function money(fen) {
    var n = Math.round(Number(fen) || 0);
    // As shop/money.py writes amounts: whole yuan without cents, otherwise two decimals.
    var sign = n < 0 ? "-" : "";
    n = Math.abs(n);
    return sign + "¥" + Math.floor(n / 100) + (n % 100 ? "." + ("0" + (n % 100)).slice(-2) : "");
  }
  function waited(seconds) {
    if (seconds === null || seconds === undefined) return "";
    if (seconds < 60) return "已等 " + seconds + " 秒";
    if (seconds < 3600) return "已等 " + Math.floor(seconds / 60) + " 分钟";
    return "已等 " + Math.floor(seconds / 3600) + " 小时";
  }
  function clock(unix) {
    var d = new Date(unix * 1000);
    return ("0" + d.getHours()).slice(-2) + ":" + ("0" + d.getMinutes()).slice(-2) + ":" + ("0" + d.getSeconds()).slice(-2);
  }
  function status(text) {
    byId("agent-status").textContent = text || "";
  }

  function api(method, path, body) {
    var options = { method: method, credentials: "same-origin", cache: "no-store", headers: {} };
    if (body !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.headers["X-Agent-Console"] = "1";
      options.body = JSON.stringify(body);
    }
    return fetch(path, options).then(function (response) {
      return response.json().then(
        function (data) {
          if (response.status === 401) window.location.assign("/agent");
          if (!response.ok) throw new Error(ERRORS[data.error] || "操作失败（" + response.status + "）");
          return data;
        },
        function () {
          throw new Error("操作失败（" + response.status + "）");
        }
      );
    });
  }

  var current = null;
  var summary = null;

  function who(row) {
    if (row.customer_name) return row.customer_name;
    if (row.customer_id) return "顾客 #" + row.customer_id;
    return "访客 " + row.conversation_id.slice(0, 8);
  }

  function conversationItem(row, inQueue) {
    var item = el("li", "conv-item");
    item.setAttribute("data-conversation", row.conversation_id);
    var button = el("button", "conv-open");
    button.type = "button";
    if (row.conversation_id === current) button.setAttribute("aria-current", "true");
    button.appendChild(el("span", "conv-who", who(row)));
    if (inQueue) {
      var reasons = el("span", "conv-reasons");
      row.reasons.forEach(function (r) {
        var tag = el("span", "reason", REASONS[r] || r);
        tag.setAttribute("data-reason", r);
        reasons.appendChild(tag);
      });
      if (row.queue === "supervisor") {
        var only = el("span", "reason", "需主管处理");
        only.setAttribute("data-queue", "supervisor");
        reasons.appendChild(only);
      }
      button.appendChild(reasons);
      button.appendChild(el("span", "conv-wait", waited(row.waiting_seconds)));
    } else {
      var mode = el("span", "conv-mode", MODES[row.mode] || row.mode);
      mode.setAttribute("data-mode", row.mode);
      button.appendChild(mode);
      if (row.agent) button.appendChild(el("span", "conv-agent", row.agent));
    }
    button.appendChild(el("span", "conv-last", row.last_customer_text));
    button.addEventListener("click", function () {
      open(row.conversation_id);
    });
    item.appendChild(button);
    return item;
  }

  function fillList(id, rows, inQueue) {
    var list = byId(id);
    var focused = document.activeElement && list.contains(document.activeElement)
      ? document.activeElement.parentNode.getAttribute("data-conversation") : null;
    list.textContent = "";
    rows.forEach(function (row) {
      list.appendChild(conversationItem(row, inQueue));
    });
    if (focused) {
      var again = list.querySelector("li[data-conversation='" + focused.replace(/[^\w.:-]/g, "") + "'] button");
      if (again) again.focus();
    }
  }

  // The queue comes whole; the active conversations a page at a time, found by a search.
  var activePage = 1;
  var activeQuery = "";

  function refreshLists() {
    var path = "/agent/api/conversations?page=" + activePage + "&q=" + encodeURIComponent(activeQuery);
    var asked = { page: activePage, query: activeQuery };
    return api("GET", path).then(function (data) {
      fillList("queue", data.queue, true);
      byId("queue-count").textContent = String(data.queue_total);
      byId("queue-empty").hidden = data.queue.length > 0;
      if (asked.page !== activePage || asked.query !== activeQuery) return;  // asked again since
      activePage = data.page;
      fillList("active", data.active, false);
      byId("active-count").textContent = String(data.active_total);
      byId("active-empty").hidden = data.active.length > 0;
      byId("active-page").textContent = "第 " + data.page + " / " + data.pages + " 页";
      byId("active-prev").disabled = data.page <= 1;
      byId("active-next").disabled = data.page >= data.pages;
    });
  }

  function showActivePage(page) {
    activePage = Math.max(1, page);
    refreshLists().catch(function (e) { status(e.message); });
  }
  byId("active-prev").addEventListener("click", function () { showActivePage(activePage - 1); });
  byId("active-next").addEventListener("click", function () { showActivePage(activePage + 1); });
  var searchTimer = null;
  byId("active-query").addEventListener("input", function () {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(function () {
      activeQuery = byId("active-query").value.trim();
      showActivePage(1);
    }, 300);
  });
  byId("active-search").addEventListener("submit", function (event) {
    event.preventDefault();
    clearTimeout(searchTimer);
    activeQuery = byId("active-query").value.trim();
    showActivePage(1);
  });

  function nluLine(nlu) {
    var line = el("p", "nlu");
    line.appendChild(el("span", "nlu-label", "识别："));
    var intent = el("span", "nlu-intent", nlu.intent || "（无）");
    line.appendChild(intent);
    if (nlu.confidence !== null && nlu.confidence !== undefined) {
      line.appendChild(el("span", "nlu-confidence", "置信度 " + Number(nlu.confidence).toFixed(2)));
    }
    (nlu.entities || []).forEach(function (e) {
      line.appendChild(el("span", "nlu-entity", e.entity + "=" + e.value));
    });
    return line;
  }

  var shown = { transcript: null, profile: null };

  function showTranscript(entries) {
    // Re-drawn only when something changed, so the live region announces new lines only.
    var key = JSON.stringify(entries);
    if (key === shown.transcript) return;
    shown.transcript = key;
    var log = byId("transcript");
    var atBottom = log.scrollTop + log.clientHeight >= log.scrollHeight - 8;
    log.textContent = "";
    entries.forEach(function (entry) {
      var item = el("li", "line line-" + entry.role);
      item.setAttribute("data-role", entry.role);
      var head = el("p", "line-head");
      head.appendChild(el("span", "line-role", ROLES[entry.role] || entry.role));
      if (entry.agent && entry.role === "agent") head.appendChild(el("span", "line-agent", entry.agent));
      head.appendChild(el("time", "line-time", clock(entry.time)));
      item.appendChild(head);
      item.appendChild(el("p", "line-text", entry.text));
      if (entry.nlu) item.appendChild(nluLine(entry.nlu));
      log.appendChild(item);
    });
    if (atBottom) log.scrollTop = log.scrollHeight;
  }

  function fact(list, label, value) {
    if (value === undefined || value === null || value === "") return;
    list.appendChild(el("dt", null, label));
    list.appendChild(el("dd", null, value));
  }

  function showProfile(p) {
    var key = JSON.stringify(p);
    if (key === shown.profile) return;
    shown.profile = key;
    var box = byId("profile");
    box.textContent = "";
    if (!p) {
      box.appendChild(el("p", "empty", "匿名访客，没有顾客档案"));
      return;
    }
    var facts = el("dl", "profile-facts");
    fact(facts, "昵称", p.nickname);
    fact(facts, "姓名", p.name);
    fact(facts, "手机", p.phone_masked);
    fact(facts, "城市", p.city);
    fact(facts, "会员等级", p.member_level_label || p.member_level);
    fact(facts, "积分", p.points);
    fact(facts, "订单", p.order_count + " 笔，累计消费 " + money(p.total_spent_fen));
    fact(facts, "性格类型", PERSONALITY[p.personality_type] || p.personality_type);
    if (p.birthday) fact(facts, "生日", p.birthday + (p.days_to_birthday !== null ? "（还有 " + p.days_to_birthday + " 天）" : ""));
    if (p.baby_age_months !== null && p.baby_age_months !== undefined) fact(facts, "宝宝月龄", p.baby_age_months + " 个月");
    fact(facts, "奶粉预计用完", p.formula_runs_out_on);
    fact(facts, "包邮卡", p.free_shipping_card_active ? "有效至 " + p.free_shipping_card_until : "");
    fact(facts, "未结工单", String(p.open_tickets));
    box.appendChild(facts);
    if (p.notes && p.notes.length) {
      box.appendChild(el("h4", null, "备注"));
      var notes = el("ul", "profile-notes");
      p.notes.forEach(function (n) {
        notes.appendChild(el("li", null, n));
      });
      box.appendChild(notes);
    }
    if (p.open_ticket_list && p.open_ticket_list.length) {
      box.appendChild(el("h4", null, "未结工单"));
      var tickets = el("ul", "profile-tickets");
      p.open_ticket_list.forEach(function (t) {
        tickets.appendChild(
          el("li", null, "#" + t.id + " " + (TICKET_KIND[t.kind] || t.kind) + " · 严重度" + (SEVERITY[t.severity] || t.severity) + (t.escalated ? " · 已升级" : "") + (t.follow_up_due ? " · 回访 " + t.follow_up_due : ""))
        );
      });
      box.appendChild(tickets);
    }
  }

  function showSummary(s) {
    var wasAuto = !summary || summary.mode === "auto" || summary.conversation_id !== s.conversation_id;
    summary = s;
    if (wasAuto && s.mode !== "auto") setTimeout(startWatching, 0);
    if (s.mode === "auto") {
      watching += 1;
      showSuggestions({ suggestions: [] });
    }
    var mode = byId("conv-mode");
    mode.textContent = MODES[s.mode] || s.mode;
    mode.setAttribute("data-mode", s.mode);
    byId("conv-agent").textContent = s.agent ? "接待客服：" + s.agent : "";
    byId("conv-reasons").textContent = s.reasons.length
      ? "转人工原因：" + s.reasons.map(function (r) { return REASONS[r] || r; }).join("、")
      : "";
    var taken = s.mode !== "auto";
    byId("agent-input").disabled = !taken;
    byId("agent-send").disabled = !taken;
    byId("take-over").disabled = s.mode === "human";
    byId("assist-mode").disabled = s.mode === "assist";
    byId("hand-back").disabled = !taken;
    foldSuggestions();
  }

  function refreshConversation() {
    if (!current) return Promise.resolve();
    var id = current;
    return api("GET", "/agent/api/conversations/" + encodeURIComponent(id)).then(function (data) {
      if (id !== current) return;
      byId("conv-title").textContent = "会话：" + (data.profile ? data.profile.nickname : "访客 " + id.slice(0, 8));
      showSummary(data.summary);
      showTranscript(data.transcript);
      showProfile(data.profile);
    });
  }

  function open(id) {
    current = id;
    summary = null;
    clearEditing();
    shown = { transcript: null, profile: null };
    byId("conv-body").hidden = false;
    byId("transcript").textContent = "";
    refreshConversation().then(refreshLists).catch(function (e) { status(e.message); });
    byId("conversation").focus();
  }

  function setMode(mode) {
    if (!current) return;
    api("POST", "/agent/api/conversations/" + encodeURIComponent(current) + "/mode", { mode: mode })
      .then(function () {
        status(mode === "auto" ? "已交还机器人" : "已接管会话");
        return refreshConversation().then(refreshLists);
      })
      .then(function () {
        if (mode !== "auto") byId("agent-input").focus();
      })
      .catch(function (e) { status(e.message); });
  }

  ["take-over", "assist-mode", "hand-back"].forEach(function (id) {
    byId(id).addEventListener("click", function () {
      setMode(byId(id).getAttribute("data-mode"));
    });
  });

  byId("agent-form").addEventListener("submit", function (event) {
    event.preventDefault();
    var input = byId("agent-input");
    var text = input.value.trim();
    if (!text || !current) return;
    if (editing && suggestionSet && editing.messageId === suggestionSet.message_id) {
      var chosen = suggestionSet.suggestions.filter(function (s) { return s.rank === editing.rank; })[0];
      if (chosen) {
        sendSuggestion(chosen, text);
        return;
      }
    }
    clearEditing();
    byId("agent-send").disabled = true;
    api("POST", "/agent/api/conversations/" + encodeURIComponent(current) + "/messages", { text: text })
      .then(function () {
        input.value = "";
        status("已发送");
        showSuggestions({ suggestions: [] });  // the message is answered
        return refreshConversation();
      })
      .catch(function (e) { status(e.message); })
      .then(function () {
        byId("agent-send").disabled = !summary || summary.mode === "auto";
        input.focus();
      });
  });
  byId("agent-input").addEventListener("keydown", function (event) {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      byId("agent-form").requestSubmit();
    }
  });

  // Suggestions: a long poll per open conversation that a person holds; each new customer
  // message brings a ranked set, recorded as shown once it is on the screen.
  var suggestionSet = null;
  var unfoldedFor = null;  // the message whose suggestions the agent opened in human mode
  var shownFor = null;  // the message whose suggestions were last recorded as shown
  var editing = null;
  var watching = 0;
  var limitFen = Number(document.body.getAttribute("data-limit-fen") || 0);

  function suggestionItem(s) {
    var item = el("li", "sugg");
    item.setAttribute("data-rank", String(s.rank));
    item.setAttribute("data-source", s.source);
    var head = el("p", "sugg-head");
    head.appendChild(el("span", "sugg-rank", "#" + s.rank));
    head.appendChild(el("span", "sugg-source", (SOURCES[s.source] || s.source) + (s.intent ? "：" + s.intent : "") + (s.action ? "：" + s.action : "")));
    if (s.confidence !== null && s.confidence !== undefined) {
      head.appendChild(el("span", "sugg-confidence", "置信度 " + Math.round(Number(s.confidence) * 100) + "%"));
    }
    if (s.compensation_fen) {
      var money_ = el("span", "sugg-money", "补偿 " + money(s.compensation_fen));
      money_.setAttribute("data-over", String(s.compensation_fen > limitFen));
      head.appendChild(money_);
    }
    if (s.escalation) head.appendChild(el("span", "sugg-escalation", "超出权限：升级主管"));
    item.appendChild(head);
    item.appendChild(el("p", "sugg-text", s.text));
    if (s.cards && s.cards.length) {
      item.appendChild(el("p", "sugg-cards", "附带卡片：" + s.cards.map(function (c) { return c.card || "custom"; }).join("、")));
    }
    var actions = el("div", "sugg-actions");
    var send = el("button", "sugg-send", "发送");
    send.type = "button";
    send.setAttribute("aria-label", "发送建议 " + s.rank);
    send.addEventListener("click", function () { sendSuggestion(s, s.text); });
    var edit = el("button", "sugg-edit", "编辑");
    edit.type = "button";
    edit.setAttribute("aria-label", "编辑建议 " + s.rank);
    edit.addEventListener("click", function () {
      editing = { rank: s.rank, messageId: suggestionSet.message_id };
      byId("agent-input").value = s.text;
      byId("editing-note").textContent = "（正在编辑建议 #" + s.rank + "）";
      byId("agent-input").focus();
    });
    var reject = el("button", "sugg-reject", "不合适");
    reject.type = "button";
    reject.setAttribute("aria-label", "拒绝建议 " + s.rank);
    reject.addEventListener("click", function () {
      conversationPost("/suggestions/reject", { message_id: suggestionSet.message_id, rank: s.rank })
        .then(function () { item.classList.add("sugg-rejected"); reject.disabled = true; status("已标记为不合适"); })
        .catch(function (e) { status(e.message); });
    });
    [send, edit, reject].forEach(function (b) { actions.appendChild(b); });
    item.appendChild(actions);
    return item;
  }

  function showSuggestions(data) {
    var box = byId("suggestions-box");
    var list = byId("suggestions");
    list.textContent = "";
    suggestionSet = data.suggestions && data.suggestions.length ? data : null;
    box.hidden = !suggestionSet;
    box.setAttribute("data-message", suggestionSet ? data.message_id : "");
    if (!suggestionSet) return;
    byId("suggestions-for").textContent = "针对：" + data.text;
    data.suggestions.forEach(function (s) { list.appendChild(suggestionItem(s)); });
    foldSuggestions();
  }

  // In assist mode the bot drafts and the agent sends: the suggestions are open. In human mode the
  // agent writes: the suggestions wait folded until asked for. They count as shown once visible.
  function foldSuggestions() {
    if (!suggestionSet) return;
    var human = summary && summary.mode === "human";
    var folded = human && unfoldedFor !== suggestionSet.message_id;
    var toggle = byId("suggestions-toggle");
    toggle.hidden = !human;
    toggle.setAttribute("aria-expanded", String(!folded));
    toggle.textContent = folded ? "查看机器人建议（" + suggestionSet.suggestions.length + "）" : "收起建议";
    byId("suggestions").hidden = folded;
    if (!folded && shownFor !== suggestionSet.message_id) {
      shownFor = suggestionSet.message_id;
      conversationPost("/suggestions/shown", { message_id: shownFor }).catch(function () {});
    }
  }

  byId("suggestions-toggle").addEventListener("click", function () {
    if (!suggestionSet) return;
    unfoldedFor = unfoldedFor === suggestionSet.message_id ? null : suggestionSet.message_id;
    foldSuggestions();
  });

  function conversationPost(suffix, body) {
    return api("POST", "/agent/api/conversations/" + encodeURIComponent(current) + suffix, body);
  }

  function clearEditing() {
    editing = null;
    byId("editing-note").textContent = "";
  }

  function sendSuggestion(s, text) {
    if (!suggestionSet) return;
    conversationPost("/suggestions/send", { message_id: suggestionSet.message_id, rank: s.rank, text: text })
      .then(function (data) {
        status(data.decision === "edited" ? "已发送（编辑后）" : "已发送建议");
        byId("agent-input").value = "";
        clearEditing();
        showSuggestions({ suggestions: [] });
        return refreshConversation();
      })
      .catch(function (e) { status(e.message); });
  }

  function watchSuggestions(id, generation, after) {
    if (id !== current || generation !== watching || !summary || summary.mode === "auto") return;
    var path = "/agent/api/conversations/" + encodeURIComponent(id) + "/suggestions?wait=20" + (after ? "&after=" + encodeURIComponent(after) : "");
    api("GET", path)
      .then(function (data) {
        if (id !== current || generation !== watching) return;
        var next = after;
        if (!data.unchanged) {
          showSuggestions(data);
          refreshConversation().catch(function () {});  // the message they answer, at once
          next = data.message_id || after;
          if (data.suggestions && data.suggestions.length) document.body.setAttribute("data-suggested", data.message_id);
        }
        setTimeout(function () { watchSuggestions(id, generation, next); }, 0);
      })
      .catch(function (e) {
        status(e.message);
        setTimeout(function () { watchSuggestions(id, generation, after); }, 2000);
      });
  }

  function startWatching() {
    watching += 1;
    showSuggestions({ suggestions: [] });
    watchSuggestions(current, watching, null);
  }

  function poll() {
    Promise.all([refreshLists(), refreshConversation()])
      .then(function () {
        document.body.setAttribute("data-polled", String(Date.now()));
      })
      .catch(function (e) { status(e.message); })
      .then(function () { setTimeout(poll, POLL_MS); });
  }
  poll();
})();
