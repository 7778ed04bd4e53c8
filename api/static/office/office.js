// 部门审批工作台：登录 → 本部门分办件 → 受理 / 需补正(一次列全) / 准予 / 不予(写理由)。
(function () {
  "use strict";
  const $ = (id) => document.getElementById(id);
  const KEY = "daoban-office";
  let current = null;

  function el(tag, attrs, text) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === "class") e.className = v; else e.setAttribute(k, v === true ? "" : v);
    }
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  function token() { return sessionStorage.getItem(KEY); }
  function newKey() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    return String(Date.now()) + "-" + Math.random().toString(16).slice(2);
  }
  async function call(url, opts) {
    opts = opts || {};
    opts.headers = Object.assign({"Content-Type": "application/json"}, opts.headers || {});
    if (token()) opts.headers["Authorization"] = "Bearer " + token();
    const r = await fetch(url, opts);
    let body = null;
    try { body = await r.json(); } catch (e) { body = null; }
    if (r.status === 401) { signedOut(); }
    if (!r.ok) { const err = new Error(body && body.error ? body.error.message : "出错了"); err.status = r.status; throw err; }
    return body;
  }
  function signedOut() {
    sessionStorage.removeItem(KEY);
    $("login").hidden = false; $("inbox").hidden = true; $("detail").hidden = true; $("logout").hidden = true;
    $("who").textContent = "";
  }

  async function start() {
    if (!token()) { signedOut(); return; }
    try {
      const me = await call("/api/v1/departments/me");
      $("who").textContent = me.department + "（" + me.username + "）";
      $("login").hidden = true; $("inbox").hidden = false; $("logout").hidden = false;
      await inbox();
    } catch (e) { signedOut(); }
  }

  async function inbox() {
    const f = $("filter").value;
    const data = await call("/api/v1/departments/inbox" + (f ? "?status=" + f : ""));
    const tb = $("rows");
    tb.replaceChildren();
    if (!data.applications.length) {
      const tr = el("tr"); tr.appendChild(el("td", {colspan: "3", "class": "muted"}, "暂无分办件")); tb.appendChild(tr);
    }
    for (const a of data.applications) {
      const tr = el("tr", {"class": "row", "data-id": a.id});
      tr.appendChild(el("td", {}, a.created_at.slice(0, 16).replace("T", " ")));
      tr.appendChild(el("td", {}, a.business));
      tr.appendChild(el("td", {}, a.items.map((i) => i.name + "：" + i.status_label).join("；")));
      tr.addEventListener("click", () => open(a.id));
      tb.appendChild(tr);
    }
  }

  async function open(id) {
    current = await call("/api/v1/applications/" + encodeURIComponent(id));
    renderDetail();
  }

  function renderDetail() {
    const a = current;
    const box = $("detail");
    box.hidden = false;
    box.replaceChildren();
    box.appendChild(el("h2", {}, (a.business.name || "（名称待定）") + " · " + a.status_label));
    box.appendChild(el("p", {"class": "muted"}, "申请人 " + a.applicant.name + " · 电话 " + (a.applicant.phone || "") +
      (a.applicant.id_number ? " · 身份证 " + a.applicant.id_number : "") + " · " + (a.business.address || "")));
    for (const it of a.items) box.appendChild(itemBlock(it));
    box.appendChild(el("h3", {}, "本部门需要的表单信息"));
    const t = el("table", {"class": "items"});
    for (const f of a.fields) {
      const tr = el("tr");
      tr.appendChild(el("th", {}, f.label));
      tr.appendChild(el("td", {}, f.value === null ? "" : f.value));
      tr.appendChild(el("td", {"class": "muted"}, f.source_label ? f.source_label + (f.verified ? " · 已核验" : "") : ""));
      t.appendChild(tr);
    }
    box.appendChild(t);
    if (a.rongque.length) {
      box.appendChild(el("h3", {}, "容缺（后补）材料"));
      const ul = el("ul");
      for (const r of a.rongque) ul.appendChild(el("li", {}, r.material + "：" + r.deadline + " 前补交"));
      box.appendChild(ul);
    }
    if (a.supplements.length) {
      box.appendChild(el("h3", {}, "申请人补正的材料"));
      const ul = el("ul", {id: "supplements"});
      for (const s of a.supplements) ul.appendChild(el("li", {}, s.material + "（" + (s.kind === "upload" ? "已上传 " + (s.filename || "") : "已确认交纸质件") + "）"));
      box.appendChild(ul);
    }
    box.appendChild(el("h3", {}, "办理记录"));
    const ol = el("ol", {"class": "audit"});
    for (const x of a.audit) {
      const who = x.actor === "applicant" ? "申请人" : x.actor.replace("department:", "");
      const what = x.action === "submitted" ? "提交申请" : x.action === "supplemented" ? "补正材料（" + x.item_name + "）"
        : (x.item_name || "") + "：" + (x.from_label || "") + " → " + (x.to_label || "");
      const why = x.detail && x.detail.reason ? "（" + x.detail.reason + "）" : "";
      ol.appendChild(el("li", {}, x.at.slice(0, 16).replace("T", " ") + " · " + who + " · " + what + why));
    }
    box.appendChild(ol);
  }

  function itemBlock(it) {
    const div = el("div", {"class": "card item st-" + it.status, "data-code": it.code});
    div.appendChild(el("h3", {}, it.name + (it.commitment ? "（告知承诺）" : "")));
    div.appendChild(el("p", {"class": "status"}, "状态：" + it.status_label + (it.reason ? "（" + it.reason + "）" : "")));
    if (it.requested.length) div.appendChild(el("p", {}, "已要求补正：" + it.requested.map((m) => m.name).join("、")));
    const acts = el("div", {"class": "actions"});
    const can = {pending: ["accepted", "correction", "rejected"], accepted: ["correction", "approved", "rejected"], correction: ["rejected"]}[it.status] || [];
    const labels = {accepted: "受理", correction: "需补正", approved: "准予", rejected: "不予"};
    for (const to of can) {
      const b = el("button", {type: "button", "class": to === "rejected" ? "plain" : null, "data-to": to}, labels[to]);
      b.addEventListener("click", () => act(it, to, div));
      acts.appendChild(b);
    }
    div.appendChild(acts);
    const msg = el("div", {"class": "error", role: "alert"});
    div.appendChild(msg);
    return div;
  }

  async function act(it, to, div) {
    const msg = div.querySelector(".error");
    msg.textContent = "";
    if (to === "correction") return correctionForm(it, div);
    if (to === "rejected") return rejectForm(it, div);
    await send(it, {to: to, expected: it.status}, msg);
  }

  async function send(it, body, msg) {
    try {
      await call("/api/v1/applications/" + encodeURIComponent(current.id) + "/items/" + encodeURIComponent(it.code) + "/transition",
        {method: "POST", headers: {"Idempotency-Key": newKey()}, body: JSON.stringify(body)});
      await open(current.id);
      await inbox();
    } catch (e) { msg.textContent = e.message; }
  }

  function correctionForm(it, div) {
    const old = div.querySelector("form"); if (old) old.remove();
    const f = el("form", {"class": "ask correction"});
    f.appendChild(el("div", {}, "勾选所有缺少的材料（一次性告知，行政许可法第三十二条）："));
    const mats = current.materials.filter((m) => m.for_items.indexOf(it.code) >= 0);
    for (const m of mats) {
      const lab = el("label", {"class": "mat"});
      lab.appendChild(el("input", {type: "checkbox", value: m.key}));
      lab.appendChild(document.createTextNode(" " + m.name));
      f.appendChild(lab);
      f.appendChild(el("br"));
    }
    const note = el("input", {name: "note", maxlength: "500", placeholder: "补正说明（可选）"});
    f.appendChild(note);
    f.appendChild(el("button", {type: "submit"}, "发出补正告知"));
    f.addEventListener("submit", (ev) => {
      ev.preventDefault();
      const missing = Array.from(f.querySelectorAll("input[type=checkbox]:checked")).map((c) => c.value);
      send(it, {to: "correction", missing: missing, note: note.value || null, expected: it.status}, div.querySelector(".error"));
    });
    div.appendChild(f);
  }

  function rejectForm(it, div) {
    const old = div.querySelector("form"); if (old) old.remove();
    const f = el("form", {"class": "ask reject"});
    const reason = el("input", {name: "reason", maxlength: "500", placeholder: "不予的理由（必填）", required: true});
    f.appendChild(reason);
    f.appendChild(el("button", {type: "submit"}, "确认不予"));
    f.addEventListener("submit", (ev) => {
      ev.preventDefault();
      send(it, {to: "rejected", reason: reason.value, expected: it.status}, div.querySelector(".error"));
    });
    div.appendChild(f);
  }

  $("login-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    $("login-msg").textContent = "";
    try {
      const r = await fetch("/api/v1/departments/login", {method: "POST", headers: {"Content-Type": "application/json"},
        body: JSON.stringify({username: $("username").value.trim(), password: $("password").value})});
      const body = await r.json();
      if (!r.ok) throw new Error(body.error ? body.error.message : "登录失败");
      sessionStorage.setItem(KEY, body.token);
      $("password").value = "";
      await start();
    } catch (e) { $("login-msg").textContent = e.message; }
  });
  $("logout").addEventListener("click", async () => {
    try { await call("/api/v1/departments/logout", {method: "POST"}); } catch (e) { /* already out */ }
    signedOut();
  });
  $("filter").addEventListener("change", inbox);
  $("refresh").addEventListener("click", inbox);
  start();
})();
