// 申请页：实名登录 → 各来源预填的一张表(注明来源、可修改) → 选择告知承诺 → 看容缺清单 → 提交。
// No inline script (CSP): this file is served from /static/office/.
(function () {
  "use strict";
  const token = decodeURIComponent(location.pathname.split("/").filter(Boolean).pop() || "");
  const api = "/api/v1/applications/drafts/" + encodeURIComponent(token);
  const skey = "daoban-apply-" + token.slice(0, 16);
  const $ = (id) => document.getElementById(id);
  let state = null;
  let uscc = null;

  function el(tag, attrs, text) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === "class") e.className = v; else e.setAttribute(k, v === true ? "" : v);
    }
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  function session() { return sessionStorage.getItem(skey); }
  function headers(extra) {
    const h = Object.assign({"Content-Type": "application/json"}, extra || {});
    const s = session();
    if (s) h["Authorization"] = "Bearer " + s;
    return h;
  }
  function say(text) { $("state").textContent = text || ""; }
  async function call(url, opts) {
    const r = await fetch(url, opts);
    let body = null;
    try { body = await r.json(); } catch (e) { body = null; }
    if (!r.ok) {
      const msg = body && body.error ? body.error.message : "出错了，请稍后再试。";
      const err = new Error(msg); err.status = r.status; err.body = body; throw err;
    }
    return body;
  }

  async function load() {
    say("正在读取申请表…");
    const q = uscc ? "?uscc=" + encodeURIComponent(uscc) : "";
    try {
      state = await call(api + q, {headers: headers()});
    } catch (e) {
      if (e.status === 401 && session()) { sessionStorage.removeItem(skey); return load(); }
      say(e.message); return;
    }
    render();
  }

  function render() {
    const s = state;
    say(s.signed_in ? "" : "请先实名登录，登录后自动带入您的身份信息和已有证照。");
    $("signin").hidden = s.signed_in;
    renderWho(s);
    renderBundle(s);
    if (s.submitted) {
      $("apply-form").hidden = true;
      const who = $("who");
      who.appendChild(el("p", {"class": "notice"}, "这份申请已经提交过了。办理进度请看提交后给您的查询链接。"));
      return;
    }
    renderForm(s);
  }

  function renderWho(s) {
    const box = $("who");
    box.replaceChildren();
    box.hidden = !s.signed_in;
    if (!s.signed_in) return;
    box.appendChild(el("h2", {}, "已实名登录"));
    box.appendChild(el("p", {}, s.identity.name + " · 身份证 " + s.identity.id_number + " · 手机 " + s.identity.phone));
    if (s.businesses.length) {
      const lab = el("label", {}, "为哪个主体办理：");
      const sel = el("select", {id: "uscc"});
      sel.appendChild(el("option", {value: "new"}, "新办一个主体"));
      for (const b of s.businesses) {
        const o = el("option", {value: b.uscc}, b.name + "（" + b.uscc + "）");
        if (b.uscc === s.uscc) o.selected = true;
        sel.appendChild(o);
      }
      sel.addEventListener("change", () => { uscc = sel.value; load(); });
      lab.appendChild(sel);
      box.appendChild(lab);
    }
  }

  function renderBundle(s) {
    const box = $("bundle");
    box.replaceChildren();
    box.hidden = false;
    const b = s.bundle;
    box.appendChild(el("h2", {}, "要办理的事项（" + (b.region_name || "") + "）"));
    const ul = el("ul", {id: "todo"});
    for (const it of b.startup_steps.concat(b.items)) {
      const li = el("li", {"data-code": it.code}, it.name + " — " + it.department);
      if (it.held_note) li.appendChild(el("div", {"class": "error"}, it.held_note));
      ul.appendChild(li);
    }
    box.appendChild(ul);
    if (b.held && b.held.length) {
      const hl = el("ul", {id: "held"});
      for (const h of b.held) hl.appendChild(el("li", {"data-code": h.code}, h.name + "：" + h.text));
      box.appendChild(el("h3", {}, "已持有，不用再办"));
      box.appendChild(hl);
    }
    if (b.time) box.appendChild(el("p", {"class": "muted"}, "并联办理约 " + b.time.parallel_days + " 个工作日（逐个办理合计 " + b.time.sum_days + " 个）。"));
  }

  function renderForm(s) {
    const form = $("apply-form");
    form.hidden = false;
    const box = $("fields");
    box.replaceChildren();
    const byKey = {};
    for (const f of s.form.fields) byKey[f.key] = f;
    for (const sec of s.form.sections) {
      box.appendChild(el("h3", {}, sec.title));
      for (const key of sec.fields) {
        const f = byKey[key];
        const row = el("div", {"class": "field", "data-key": f.key, "data-source": f.source || ""});
        row.appendChild(el("label", {"for": "f-" + f.key}, f.label));
        let input;
        if (f.type === "choice" && f.choices.length) {
          input = el("select", {id: "f-" + f.key, name: "f:" + f.key});
          input.appendChild(el("option", {value: ""}, "请选择"));
          for (const c of f.choices) {
            const o = el("option", {value: c}, c);
            if (String(f.value) === c) o.selected = true;
            input.appendChild(o);
          }
        } else if (f.type === "bool") {
          input = el("select", {id: "f-" + f.key, name: "f:" + f.key});
          for (const [v, t] of [["", "请选择"], ["true", "是"], ["false", "否"]]) {
            const o = el("option", {value: v}, t);
            if (String(f.value) === v) o.selected = true;
            input.appendChild(o);
          }
        } else {
          input = el("input", {id: "f-" + f.key, name: "f:" + f.key, maxlength: "500", placeholder: f.hint || ""});
          input.value = f.value === null || f.value === undefined ? "" : String(f.value);
        }
        input.dataset.type = f.type;
        row.appendChild(input);
        const badge = el("span", {"class": "badge" + (f.verified ? " verified" : "") + (f.source === "applicant" ? " applicant" : "")},
          f.source ? (f.source_label + (f.verified ? " · 已核验" : "")) : "待填写");
        row.appendChild(badge);
        box.appendChild(row);
      }
    }
    const cbox = $("commitments");
    cbox.replaceChildren();
    const eligible = s.commitment_options.filter((o) => o.eligible);
    if (eligible.length) {
      cbox.appendChild(el("h3", {}, "告知承诺（可选）"));
      cbox.appendChild(el("p", {"class": "muted"}, "选择后签一份告知承诺书，承诺已符合条件，部门当场或尽快作出决定，事后核查。"));
      for (const o of eligible) {
        const lab = el("label", {"class": "commit"});
        const cb = el("input", {type: "checkbox", name: "c:" + o.code, value: o.code});
        lab.appendChild(cb);
        lab.appendChild(document.createTextNode(" " + o.name + "：以告知承诺方式办理"));
        cbox.appendChild(lab);
        cbox.appendChild(el("div", {"class": "muted"}, o.why));
      }
    }
    const rbox = $("rongque");
    rbox.replaceChildren();
    if (s.rongque.length) {
      rbox.appendChild(el("h3", {}, "容缺受理：这些材料可以后补"));
      const ul = el("ul", {id: "rongque-list"});
      for (const r of s.rongque) ul.appendChild(el("li", {}, r.material + "（" + r.item_name + "）：" + r.because + " 期限 " + r.deadline));
      rbox.appendChild(ul);
    }
  }

  function values() {
    const out = {};
    for (const input of $("fields").querySelectorAll("[name^='f:']")) {
      const key = input.name.slice(2);
      let v = input.value.trim();
      if (v === "") continue;
      const t = input.dataset.type;
      if (t === "bool") v = v === "true";
      else if ((t === "number" || t === "area") && /^\d+(\.\d+)?$/.test(v)) v = Number(v);
      out[key] = v;
    }
    return out;
  }

  $("signin-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    $("signin-msg").textContent = "";
    try {
      const r = await call(api + "/signin", {method: "POST", headers: {"Content-Type": "application/json"},
        body: JSON.stringify({id_number: $("id_number").value, password: $("password").value})});
      sessionStorage.setItem(skey, r.session);
      $("password").value = "";
      await load();
    } catch (e) { $("signin-msg").textContent = e.message; }
  });

  $("apply-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    $("submit-msg").textContent = "";
    const commitments = Array.from(document.querySelectorAll("#commitments input[type=checkbox]:checked")).map((c) => c.value);
    const body = {values: values(), commitments: commitments};
    if (state.uscc) body.uscc = state.uscc;
    $("submit").disabled = true;
    try {
      const app = await call(api + "/submit", {method: "POST", headers: headers(), body: JSON.stringify(body)});
      say("申请已提交，正在打开办理进度页…");
      location.href = app.track_url;
    } catch (e) {
      $("submit-msg").textContent = e.message;
      $("submit").disabled = false;
    }
  });

  load();
})();
