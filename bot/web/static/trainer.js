/*
 * 训练工作台: the inbox (filters, paging, keyboard), labelling on jieba tokens, training with
 * live progress, the evaluation, the model list (deploy, override, rollback) and the audit log.
 * Every text goes on the page with textContent, never as markup.
 */
(function () {
  "use strict";

  var PAGE = 50;
  var WHY = { 0: "未识别", 1: "客服纠正", 2: "低区分度", 3: "其他" };
  var STATES = { running: "进行中", succeeded: "已完成", failed: "失败", cancelled: "已取消" };
  var STEPS = { checking: "检查数据", training: "训练", evaluating: "评估", done: "完成" };
  var MODEL_STATES = { candidate: "待部署", serving: "服务中", retired: "已下线", on_disk: "已有模型" };
  var ERRORS = {
    duplicate: "训练数据里已有这句（归一化后相同）",
    contradiction: "训练数据里已有这句，但标的是另一个意图",
    in_heldout: "这句在留出测试集里，不能用于训练",
    bad_span: "实体范围不合法",
    split_token: "实体边界切开了一个词",
    overlap: "实体范围重叠",
    empty: "内容为空",
    too_long: "内容太长",
    markup: "内容含有实体标注符号",
    unknown_intent: "没有这个意图",
    unknown_entity: "没有这个实体",
    intent_not_in_data: "数据文件里没有这个意图",
    broken_file: "数据文件无法解析，已停止写入，请先修复",
    changed_meanwhile: "数据文件正在被修改，请重试",
    bad_word: "词语需 2–20 个字且不含空格",
    word_known: "词典里已有这个词",
    no_such_message: "消息不存在",
    job_running: "已有训练在进行",
    no_job_running: "没有进行中的训练",
    gate_closed: "未通过部署门槛",
    override_not_allowed: "只有主管可以越过门槛部署",
    reason_required: "请填写越过门槛的理由",
    load_failed: "模型加载失败，原模型继续服务",
    deploy_error: "部署出错，原模型继续服务",
    deploy_running: "已有模型正在部署",
    no_such_model: "模型不存在",
    no_such_conversation: "会话不存在",
    bad_conversation_id: "会话编号不合法",
    no_customer_message: "本次会话没有顾客消息，不能保存为测试故事",
    already_saved: "已有同名故事（同一训练师当天已保存过这段会话）",
    sign_in_required: "登录已过期，请重新登录",
    cross_site_refused: "请求来源不被允许",
    checking_failed: "数据检查未通过（详见训练日志）",
    training_failed: "训练失败（详见训练日志）",
    evaluating_failed: "评估失败（详见训练日志）",
    no_model: "训练没有产出模型（详见训练日志）",
  };

  var state = { offset: 0, entries: [], selected: -1, me: null, tokens: [], picked: [], entities: [], text: "", lastIntent: "" };

  function byId(id) { return document.getElementById(id); }
  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }
  function when(unix) {
    if (!unix) return "";
    var d = new Date(unix * 1000);
    function two(n) { return ("0" + n).slice(-2); }
    return d.getFullYear() + "-" + two(d.getMonth() + 1) + "-" + two(d.getDate()) + " " + two(d.getHours()) + ":" + two(d.getMinutes());
  }
  function explain(body) {
    var text = ERRORS[body.error] || body.error || "操作失败";
    if (body.reason) text += "：" + (ERRORS[body.reason] || body.reason);
    if (body.token) text += "「" + body.token + "」";
    if (body.example) text += "（" + (body.file || "") + "：" + body.example + " → " + body.intent + "）";
    else if (body.intent && body.error !== "unknown_intent") text += "（" + body.intent + "）";
    if (body.error === "broken_file" && body.file) text += "：" + body.file + (body.line ? " 第 " + body.line + " 行" : "");
    if (body.reasons) text += "：" + body.reasons.map(function (r) {
      return r.code === "intent_worse" ? r.intent + " F1 " + r.change : "macro-F1 " + r.new + " < " + r.serving;
    }).join("；");
    return text;
  }
  function status(text) { byId("trainer-status").textContent = text || ""; }
  function api(method, path, body) {
    var options = { method: method, credentials: "same-origin", headers: { "X-Trainer": "1" } };
    if (body !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    return fetch(path, options).then(function (response) {
      return response.json().then(function (data) {
        if (!response.ok) {
          if (response.status === 401) window.location.reload();
          var failure = new Error(explain(data));
          failure.body = data;
          throw failure;
        }
        return data;
      });
    });
  }
  function show(id, text, good) {
    var node = byId(id);
    node.textContent = text;
    node.className = "result " + (good ? "good" : "bad");
  }

  // -- tabs ---------------------------------------------------------------------------------
  function openTab(name) {
    Array.prototype.forEach.call(document.querySelectorAll(".trainer-tabs .tab"), function (tab) {
      var on = tab.getAttribute("data-tab") === name;
      tab.setAttribute("aria-pressed", on ? "true" : "false");
      byId("tab-" + tab.getAttribute("data-tab")).hidden = !on;
    });
    if (name === "models") loadModels();
    if (name === "audit") loadAudit();
    if (name === "training") pollTraining();
  }

  // -- inbox --------------------------------------------------------------------------------
  function query() {
    var params = new URLSearchParams();
    params.set("offset", state.offset);
    params.set("size", PAGE);
    var q = byId("f-q").value.trim();
    if (q) params.set("q", q);
    [["f-intent", "intent"], ["f-channel", "channel"], ["f-corrected", "corrected"], ["f-status", "status"], ["f-maxconf", "max_confidence"]].forEach(function (pair) {
      var value = byId(pair[0]).value;
      if (value) params.set(pair[1], value);
    });
    var since = byId("f-since").value, until = byId("f-until").value;
    if (since) params.set("since", new Date(since + "T00:00:00").getTime() / 1000);
    if (until) params.set("until", new Date(until + "T00:00:00").getTime() / 1000 + 86400);
    return params.toString();
  }
  function loadInbox() {
    return api("GET", "/trainer/api/inbox?" + query()).then(function (data) {
      state.entries = data.entries;
      byId("inbox-total").textContent = data.total;
      var list = byId("inbox-list");
      list.textContent = "";
      data.entries.forEach(function (entry, index) {
        var item = el("li");
        item.setAttribute("data-id", entry.id);
        item.setAttribute("data-testid", "inbox-entry");
        item.setAttribute("aria-selected", "false");
        item.appendChild(el("span", "why why-" + entry.priority, WHY[entry.priority]));
        item.appendChild(el("span", "inbox-text", entry.text));
        if (entry.count > 1) item.appendChild(el("span", "count", "×" + entry.count));
        var meta = entry.guess + " " + entry.confidence.toFixed(2) + " · 差 " + entry.margin.toFixed(2);
        if (entry.suggested) meta += " · 客服改为 " + entry.suggested;
        if (entry.label) meta += " · 已标为 " + entry.label;
        item.appendChild(el("span", "meta", meta + " · " + when(entry.time)));
        item.addEventListener("click", function () { select(index); });
        list.appendChild(item);
      });
      var pages = Math.max(1, Math.ceil(data.total / PAGE));
      byId("page-info").textContent = "第 " + (Math.floor(state.offset / PAGE) + 1) + " / " + pages + " 页";
      byId("page-prev").disabled = state.offset === 0;
      byId("page-next").disabled = state.offset + PAGE >= data.total;
      if (state.selected >= data.entries.length) state.selected = data.entries.length - 1;
    }).catch(function (failure) { status(failure.message); });
  }
  function loadFacets() {
    api("GET", "/trainer/api/inbox/facets").then(function (data) {
      fillSelect(byId("f-intent"), data.intents);
      fillSelect(byId("f-channel"), data.channels);
    }).catch(function () {});
  }
  function fillSelect(select, values) {
    var keep = select.value;
    while (select.options.length > 1) select.remove(1);
    values.forEach(function (value) { select.appendChild(new Option(value, value)); });
    select.value = keep;
  }
  function select(index) {
    if (index < 0 || index >= state.entries.length) return;
    state.selected = index;
    Array.prototype.forEach.call(byId("inbox-list").children, function (item, i) {
      item.setAttribute("aria-selected", i === index ? "true" : "false");
      if (i === index) item.scrollIntoView({ block: "nearest" });
    });
    var entry = state.entries[index];
    byId("message").hidden = false;
    byId("message-text").textContent = entry.text;
    var reading = "模型：" + (entry.intent === "nlu_fallback" ? "未识别（最可能 " + entry.guess + "）" : entry.guess) +
      " 置信度 " + entry.confidence.toFixed(2) + "，第二 " + (entry.second || "-") + "，差 " + entry.margin.toFixed(2);
    if (entry.entities.length) reading += "；实体 " + entry.entities.map(function (e) { return e.entity + "=" + e.value; }).join("，");
    if (entry.suggested) reading += "；客服纠正为 " + entry.suggested;
    byId("message-reading").textContent = reading;
    // an agent's correction first; else the intent just used, for a run of similar messages
    byId("intent-search").value = entry.suggested || state.lastIntent || "";
    byId("message-result").textContent = "";
    byId("conversation").hidden = true;
    byId("story-box").hidden = true;
    state.picked = [];
    state.entities = [];
    state.text = entry.text;
    renderEntities();
    api("GET", "/trainer/api/messages/" + entry.id + "/tokens").then(function (data) {
      state.tokens = data.tokens;
      renderTokens();
    });
  }
  function current() { return state.entries[state.selected]; }
  function renderTokens() {
    var box = byId("tokens");
    box.textContent = "";
    state.tokens.forEach(function (token, index) {
      var button = el("button", "", token.text);
      button.type = "button";
      button.setAttribute("data-start", token.start);
      if (state.picked.indexOf(index) >= 0) button.classList.add("picked");
      state.entities.forEach(function (e) { if (token.start >= e.start && token.end <= e.end) button.classList.add("entity"); });
      button.addEventListener("click", function () {
        state.picked = state.picked.length >= 2 ? [index] : state.picked.concat([index]);
        renderTokens();
      });
      box.appendChild(button);
    });
  }
  function renderEntities() {
    byId("entity-list").textContent = state.entities.map(function (e) {
      return state.text.slice(e.start, e.end) + "=" + e.entity;
    }).join("，");
  }
  function addEntity() {
    if (!state.picked.length) return show("message-result", "请先点击实体的首尾两个词", false);
    var first = state.tokens[Math.min.apply(null, state.picked)];
    var last = state.tokens[Math.max.apply(null, state.picked)];
    state.entities.push({ start: first.start, end: last.end, entity: byId("entity-name").value });
    state.picked = [];
    renderTokens();
    renderEntities();
  }
  function label(intent) {
    var entry = current();
    if (!entry) return;
    if (!intent) return show("message-result", "请选择意图", false);
    api("POST", "/trainer/api/messages/" + entry.id + "/label", { intent: intent, entities: state.entities })
      .then(function (done) {
        state.lastIntent = done.intent;
        var written = "已写入 " + done.file + "：" + done.example + " → " + done.intent;
        status("已标注：" + entry.text + " → " + intent);
        return loadInbox().then(function () {
          select(Math.min(state.selected, state.entries.length - 1));  // the next message
          show("message-result", written, true);  // what was written stays in view
        });
      })
      .catch(function (failure) { show("message-result", failure.message, false); });
  }
  function ignore() {
    var entry = current();
    if (!entry) return;
    api("POST", "/trainer/api/messages/" + entry.id + "/ignore", {}).then(function () {
      status("已忽略：" + entry.text);
      return loadInbox().then(function () { select(Math.min(state.selected, state.entries.length - 1)); });
    }).catch(function (failure) { show("message-result", failure.message, false); });
  }
  function openConversation() {
    var entry = current();
    if (!entry) return;
    api("GET", "/trainer/api/conversations/" + encodeURIComponent(entry.conversation_id)).then(function (data) {
      var list = byId("conversation");
      list.textContent = "";
      data.transcript.forEach(function (line) {
        var item = el("li", Math.abs(line.time - entry.time) < 0.001 && line.text === entry.text ? "here" : "");
        var who = { customer: "顾客", bot: "机器人", agent: "客服", system: "系统", trigger: "触发" }[line.role] || line.role;
        var text = who + "：" + line.text;
        if (line.nlu) text += "  [" + line.nlu.intent + "]";
        item.textContent = text;
        list.appendChild(item);
      });
      list.hidden = false;
      byId("story-result").textContent = "";
      byId("story-box").hidden = false;
    }).catch(function (failure) { show("message-result", failure.message, false); });
  }
  function saveStory() {
    var entry = current();
    if (!entry) return;
    api("POST", "/trainer/api/conversations/" + encodeURIComponent(entry.conversation_id) + "/story", {})
      .then(function (done) {
        var intents = done.steps.filter(function (s) { return s.intent; }).map(function (s) { return s.intent; });
        show("story-result", "已写入 " + done.file + "：" + done.story + "（意图 " + intents.join(" → ") + "）", true);
      })
      .catch(function (failure) { show("story-result", failure.message, false); });
  }
  function addWord() {
    var word = byId("dict-word").value.trim();
    api("POST", "/trainer/api/dictionary", { word: word }).then(function (done) {
      show("message-result", "已加入词典：" + done.word, true);
      if (current()) select(state.selected);
    }).catch(function (failure) { show("message-result", failure.message, false); });
  }

  // -- training and evaluation ----------------------------------------------------------------
  var polling = null;
  function pollTraining() {
    api("GET", "/trainer/api/training").then(function (data) {
      var job = data.job;
      if (!job) { byId("job-state").textContent = "尚未训练"; return; }
      var text = STATES[job.state] + " · " + (STEPS[job.step] || job.step);
      if (job.component) text += " · " + job.component;
      if (job.epochs) text += " · 第 " + job.epoch + "/" + job.epochs + " 轮";
      if (job.error) text += " · " + (ERRORS[job.error] || job.error);
      var ended = job.finished_at || data.now;
      if (ended && job.started_at) text += " · 用时 " + Math.round(ended - job.started_at) + " 秒";
      byId("job-state").textContent = text;
      byId("job-steps").textContent = ["checking", "training", "evaluating"].filter(function (step) {
        return job.seconds && job.seconds[step] !== undefined;
      }).map(function (step) { return STEPS[step] + " " + Math.round(job.seconds[step]) + " 秒"; }).join(" · ");
      byId("job-state").setAttribute("data-state", job.state);
      var bar = byId("job-progress");
      if (job.epochs) bar.value = Math.round(100 * job.epoch / job.epochs);
      else if (job.state === "running") bar.removeAttribute("value");  // under way, no epochs to count
      else bar.value = job.state === "succeeded" ? 100 : 0;
      byId("job-log").textContent = data.log || "";
      if (data.evaluation) renderEvaluation(data.evaluation, data.gate, job.model_path.split("/").pop());
      else byId("evaluation").textContent = "";
      clearTimeout(polling);
      if (job.state === "running") polling = setTimeout(pollTraining, 2000);
    }).catch(function (failure) { status(failure.message); });
  }
  function cell(row, text, className) { var td = el("td", className || "", text); row.appendChild(td); return td; }
  function fixed(value) { return value === null || value === undefined ? "-" : Number(value).toFixed(3); }
  function renderEvaluation(evaluation, gate, model) {
    var box = byId("evaluation");
    box.textContent = "";
    box.appendChild(el("h2", "", "评估：新模型 " + evaluation.new_model + " 对比服务中 " + (evaluation.serving_model || "（无）")));
    if (gate) {
      var verdict = el("p", gate.passed ? "gate-open" : "gate-closed", gate.passed ? "通过部署门槛" : explain({ error: "gate_closed", reasons: gate.reasons }));
      verdict.setAttribute("data-testid", "gate");
      box.appendChild(verdict);
      if (gate.passed || (state.me && state.me.may_override)) {
        var button = el("button", "", gate.passed ? "部署这个模型" : "越过门槛部署（主管）");
        button.type = "button";
        button.id = "deploy-candidate";
        button.setAttribute("data-model", model);
        button.addEventListener("click", function () { deploy({ name: model, status: "candidate", gate: gate }); });
        box.appendChild(button);
      }
    }
    ["heldout", "inbox"].forEach(function (name) {
      var set = evaluation[name];
      if (!set) return;
      box.appendChild(el("h3", "", (name === "heldout" ? "留出集" : "已标注的收件箱消息") + "（" + set.size + " 条）macro-F1 新 " + fixed(set.new.macro_f1) + " / 旧 " + fixed(set.serving.macro_f1)));
      var table = el("table", "eval");
      var head = el("tr");
      ["意图", "新 P", "新 R", "新 F1", "旧 F1", "差"].forEach(function (h) { head.appendChild(el("th", "", h)); });
      table.appendChild(head);
      Object.keys(set.diff).forEach(function (intent) {
        var row = el("tr");
        var n = set.new.intents[intent] || {}, s = set.serving.intents[intent] || {};
        cell(row, intent); cell(row, fixed(n.precision)); cell(row, fixed(n.recall)); cell(row, fixed(n.f1)); cell(row, fixed(s.f1));
        var change = set.diff[intent];
        cell(row, (change > 0 ? "+" : "") + change.toFixed(3), change < 0 ? "worse" : change > 0 ? "better" : "");
        table.appendChild(row);
      });
      box.appendChild(table);
      if (set.confused.new.length) {
        box.appendChild(el("p", "", "新模型最常混淆：" + set.confused.new.map(function (c) { return c.intent + "→" + c.predicted + " ×" + c.count; }).join("，")));
      }
      if (set.changed.length) {
        var changes = el("ul");
        set.changed.forEach(function (c) {
          changes.appendChild(el("li", "", { fixed: "改对 ", broken: "改错 ", other: "改变 " }[c.change] + c.text + "：" + c.serving + " → " + c.new + "（应为 " + c.intent + "）"));
        });
        box.appendChild(el("p", "", "预测改变的消息（" + set.changed_count + "）"));
        box.appendChild(changes);
      }
    });
  }

  // -- models ---------------------------------------------------------------------------------
  function loadModels() {
    return api("GET", "/trainer/api/models").then(function (data) {
      var body = byId("models");
      body.textContent = "";
      data.models.forEach(function (model) {
        var row = el("tr");
        row.setAttribute("data-model", model.name);
        cell(row, model.name);
        cell(row, model.data_version || "-");
        var heldout = (model.figures || {}).heldout || {};
        cell(row, fixed(heldout.new));
        cell(row, model.trained_by || "-");
        cell(row, (model.deployed_by || "-") + " " + when(model.deployed_at));
        cell(row, model.serving_now ? "服务中" : MODEL_STATES[model.status] || model.status).setAttribute("data-testid", "model-state");
        var actions = cell(row, "");
        if (!model.serving_now && model.available) {
          var button = el("button", "", model.status === "candidate" ? "部署" : "回滚到此模型");
          button.type = "button";
          button.addEventListener("click", function () { deploy(model); });
          actions.appendChild(button);
        }
        body.appendChild(row);
      });
      return data.deployment;
    }).catch(function (failure) { status(failure.message); });
  }
  function deploy(model) {
    var rollback = model.status !== "candidate";
    var path = "/trainer/api/models/" + encodeURIComponent(model.name) + (rollback ? "/rollback" : "/deploy");
    var body = {};
    if (!rollback && model.gate && model.gate.passed === false) {
      if (!state.me.may_override) return status(explain({ error: "gate_closed", reasons: model.gate.reasons }));
      var reason = window.prompt("未通过部署门槛。作为主管越过门槛部署，请写明理由：");
      if (!reason) return;
      body.override_reason = reason;
    }
    api("POST", path, body).then(function () {
      status("正在加载模型 " + model.name + " …（Rasa 加载模型需要一两分钟，期间原模型继续服务）");
      watchDeployment();
    }).catch(function (failure) { status(failure.message); loadModels(); });
  }
  function watchDeployment() {
    loadModels().then(function (deployment) {
      if (!deployment || deployment.state === "running") return setTimeout(watchDeployment, 2000);
      if (deployment.state === "succeeded") {
        status("服务中的模型：" + deployment.model);
        var offered = byId("deploy-candidate");  // the evaluated model is serving now
        if (offered && offered.getAttribute("data-model") === deployment.model) offered.remove();
      } else status(explain({ error: deployment.error || "load_failed" }) + "（" + deployment.model + "）");
    });
  }

  // -- audit ----------------------------------------------------------------------------------
  function loadAudit() {
    api("GET", "/trainer/api/audit").then(function (data) {
      var body = byId("audit");
      body.textContent = "";
      data.entries.forEach(function (entry) {
        var row = el("tr");
        cell(row, when(entry.at)); cell(row, entry.who + "（" + entry.role + "）"); cell(row, entry.action); cell(row, entry.subject);
        cell(row, JSON.stringify(entry.before)); cell(row, JSON.stringify(entry.after)); cell(row, entry.reason);
        body.appendChild(row);
      });
    }).catch(function (failure) { status(failure.message); });
  }

  // -- start ----------------------------------------------------------------------------------
  function start() {
    Array.prototype.forEach.call(document.querySelectorAll(".trainer-tabs .tab"), function (tab) {
      tab.addEventListener("click", function () { openTab(tab.getAttribute("data-tab")); });
    });
    byId("inbox-filters").addEventListener("submit", function (event) {
      event.preventDefault();
      state.offset = 0;
      loadInbox();
    });
    byId("page-prev").addEventListener("click", function () { state.offset = Math.max(0, state.offset - PAGE); loadInbox(); });
    byId("page-next").addEventListener("click", function () { state.offset += PAGE; loadInbox(); });
    byId("confirm").addEventListener("click", function () { var e = current(); if (e) label(e.guess); });
    byId("relabel").addEventListener("click", function () { label(byId("intent-search").value.trim()); });
    byId("ignore").addEventListener("click", ignore);
    byId("open-conversation").addEventListener("click", openConversation);
    byId("save-story").addEventListener("click", saveStory);
    byId("entity-add").addEventListener("click", addEntity);
    byId("dict-add").addEventListener("click", addWord);
    byId("check-data").addEventListener("click", function () {
      show("check-result", "检查中…", true);
      api("POST", "/trainer/api/check", {}).then(function (data) {
        show("check-result", data.ok ? "数据检查通过" : "数据问题：" + data.problems.join("；"), data.ok);
      }).catch(function (failure) { show("check-result", failure.message, false); });
    });
    byId("train").addEventListener("click", function () {
      api("POST", "/trainer/api/training", {}).then(pollTraining).catch(function (failure) { status(failure.message); });
    });
    byId("cancel-training").addEventListener("click", function () {
      api("POST", "/trainer/api/training/cancel", {}).then(pollTraining).catch(function (failure) { status(failure.message); });
    });
    document.addEventListener("keydown", function (event) {
      var typing = /^(INPUT|SELECT|TEXTAREA)$/.test(event.target.tagName);
      if (typing || event.ctrlKey || event.metaKey || event.altKey || byId("tab-inbox").hidden) return;
      var keys = {
        j: function () { select(state.selected + 1); },
        k: function () { select(state.selected - 1); },
        c: function () { byId("confirm").click(); },
        r: function () { byId("intent-search").focus(); },
        i: ignore,
        o: openConversation,
      };
      if (keys[event.key]) { event.preventDefault(); keys[event.key](); }
    });
    byId("intent-search").addEventListener("keydown", function (event) {
      if (event.key === "Enter") { event.preventDefault(); byId("relabel").click(); }
    });
    api("GET", "/trainer/api/me").then(function (me) {
      state.me = me;
      var options = byId("intent-options");
      me.intents.forEach(function (intent) { options.appendChild(new Option(intent, intent)); });
      me.entities.forEach(function (name) { byId("entity-name").appendChild(new Option(name, name)); });
    });
    loadInbox().then(loadFacets);
  }
  start();
})();
