/* The chat log shared by the applicant widget (/chat) and the 12345 console (/hotline/intake):
   renders the bot's messages (text, question, bundle, form, faq, handoff payloads) and talks to
   the API's relay POST /api/v1/chat/webhook.  All text goes through textContent: nothing a
   message says is ever parsed as HTML. */
"use strict";
(function () {
  function el(tag, cls, text) { const e = document.createElement(tag); if (cls) e.className = cls; if (text !== undefined && text !== null) e.textContent = String(text); return e; }

  function makeChat(opts) {
    const log = opts.log, webhook = opts.webhook, faqUrl = opts.faqUrl;
    let sender = opts.sender;
    const row = (who) => { const r = el("div", "msg " + who); log.appendChild(r); return r; };
    const scroll = () => window.scrollTo(0, document.body.scrollHeight);

    function showOptions(parent, options) {
      const box = el("div", "options");
      for (const o of options || []) {
        const b = el("button", null, o.title);
        b.type = "button";
        b.addEventListener("click", () => send(o.payload, o.title));
        box.appendChild(b);
      }
      parent.appendChild(box);
    }

    function showBundle(b) {
      const card = el("div", "card");
      const items = b.items || [];
      card.appendChild(el("h3", null, (b.region_name ? b.region_name + "：" : "") + (items.length ? "需要办理 " + items.length + " 项" : (b.coverage === "unknown" ? "这个行业暂未收录" : (b.coverage === "partial" ? "要到窗口确认" : "不需要办经营许可")))));
      if (b.summary) card.appendChild(el("div", "muted", b.summary));
      for (const it of items) {
        const d = el("div", "item");
        const h = el("div"); h.appendChild(el("b", null, it.name)); h.appendChild(el("span", "tag", it.mode_label || it.mode));
        if (it.time_limit_text) h.appendChild(el("span", "tag", it.time_limit_text));
        d.appendChild(h);
        d.appendChild(el("div", "muted", "办理部门：" + (it.department || "")));
        const ul = el("ul", "why"); for (const w of it.why || []) ul.appendChild(el("li", null, w)); d.appendChild(ul);
        card.appendChild(d);
      }
      if (b.not_required && b.not_required.length) {
        const d = el("div", "item"); d.appendChild(el("b", null, "不需要办"));
        const ul = el("ul", "why"); for (const n of b.not_required) ul.appendChild(el("li", null, n.name + "：" + n.why)); d.appendChild(ul); card.appendChild(d);
      }
      if (b.materials && b.materials.length) {
        const d = el("div", "item"); d.appendChild(el("b", null, "材料清单（已合并去重，共" + b.materials.length + "份）"));
        const ul = el("ul", "why"); for (const m of b.materials) ul.appendChild(el("li", null, m.name)); d.appendChild(ul); card.appendChild(d);
      }
      if (b.time && items.length) card.appendChild(el("div", "muted", "并联办理约 " + b.time.parallel_days + " 天（逐个办理合计 " + b.time.sum_days + " 天）"));
      if (b.to_confirm && b.to_confirm.length) {  // partial coverage: what the rules do not decide
        const d = el("div", "item"); d.appendChild(el("b", null, "待窗口确认"));
        const ul = el("ul", "why"); for (const t of b.to_confirm) ul.appendChild(el("li", null, t)); d.appendChild(ul); card.appendChild(d);
      }
      for (const a of b.advisories || []) card.appendChild(el("div", "muted", "提示：" + a));
      if (b.intake_code) { const p = el("div", "muted", "办理码 "); p.appendChild(el("span", "code", b.intake_code)); card.appendChild(p); }
      return card;
    }

    function field(label, value, key, type) {
      const tr = el("tr");
      tr.appendChild(el("td", null, label));
      const td = el("td");
      const inp = el("input");
      inp.name = key; inp.value = value === null || value === undefined ? "" : String(value);
      inp.maxLength = 200; inp.placeholder = "待填"; if (type) inp.type = type;
      inp.style.width = "100%";
      td.appendChild(inp); tr.appendChild(td);
      return tr;
    }

    function showForm(f) {
      const card = el("div", "card");
      card.appendChild(el("h3", null, f.title || "一表申请"));
      if (f.stats) card.appendChild(el("div", "muted", "原来各表共 " + f.stats.fields_in_separate_forms + " 项，合并后 " + f.stats.fields_in_merged_form + " 项，已预填 " + f.stats.prefilled + " 项"));
      if (f.apply_url && /^(https?:\/\/|\/)/.test(f.apply_url)) {  // the back office's page: sign in, check, submit
        const a = el("a", "apply", "去核对并提交");
        a.href = f.apply_url; a.target = "_blank"; a.rel = "noopener";
        card.appendChild(a);
      }
      const form = el("form");
      const t = el("table", "form");
      for (const fld of f.fields || []) t.appendChild(field(fld.label, fld.value, "f:" + fld.key, fld.type === "number" || fld.type === "area" ? "number" : null));
      t.appendChild(field("经办人姓名", "", "a:name"));
      t.appendChild(field("经办人手机号", "", "a:phone", "tel"));
      form.appendChild(t);
      const btn = el("button", null, "提交申请"); btn.type = "submit"; btn.className = "submit";
      const result = el("div", "muted");
      form.appendChild(btn); form.appendChild(result);
      const key = "web-" + Math.random().toString(36).slice(2);  // retries reuse it: no double submission
      form.addEventListener("submit", async (e) => {
        e.preventDefault();
        const values = {}, applicant = {};
        for (const inp of form.querySelectorAll("input")) {
          const [kind, name] = inp.name.split(":");
          const v = inp.value.trim();
          if (!v) continue;
          if (kind === "a") applicant[name] = v; else values[name] = inp.type === "number" ? Number(v) : v;
        }
        btn.disabled = true;
        try {
          const resp = await fetch("/api/v1/applications", {method: "POST", headers: {"Content-Type": "application/json", "Idempotency-Key": key},
            body: JSON.stringify({profile: f.profile, applicant, form_values: values, channel: "web"})});
          const data = await resp.json();
          if (!resp.ok) { result.textContent = "没有提交成功：" + ((data.error && data.error.message) || resp.status); btn.disabled = false; return; }
          result.replaceChildren();
          result.appendChild(el("div", "ok", "申请已提交，编号 " + data.id + "。已按部门分送：" + (data.dispatch || []).map(d => d.department).join("、") + "。"));
          if (data.track_url && /^(https?:\/\/|\/)/.test(data.track_url)) {  // the applicant's own page: status, requests, documents
            const a = el("a", "apply", "查看办理进度和回执"); a.href = data.track_url; a.target = "_blank"; a.rel = "noopener";
            result.appendChild(a);
          }
        } catch (err) { result.textContent = "网络开小差了，请再点一次提交（不会重复提交）。"; btn.disabled = false; }
      });
      card.appendChild(form);
      return card;
    }

    function render(m) {
      const r = row("bot");
      const c = m.custom;
      if (m.text && !(c && c.text === m.text)) { const bub = el("div", "bubble", m.text); r.appendChild(bub); if (m.buttons) showOptions(bub, m.buttons); }
      if (!c) return;
      if (c.type === "question") { const bub = el("div", "bubble", c.text); showOptions(bub, c.options); (m.text ? row("bot") : r).appendChild(bub); }
      else if (c.type === "bundle") r.appendChild(showBundle(c));
      else if (c.type === "form") r.appendChild(showForm(c));
      else if (c.type === "faq") {
        if (c.clarify) return;  // the 「您问的是A还是B？」 text with its quick replies says it
        const bub = el("div", "bubble");
        if (c.answered && c.hits && c.hits.length) { bub.textContent = c.hits[0].answer; }
        else bub.textContent = c.text || "这个问题我暂时答不上来，建议拨打12345或到政务服务中心导办窗口咨询。";
        r.appendChild(bub);
      } else if (c.type === "handoff") {
        r.appendChild(el("div", "bubble", c.text || "已为您转人工：请拨打12345，或到政务服务中心导办窗口。"));
      }
    }

    function restarting(message) {  // no Rasa answers: say so, offer the FAQ search meanwhile
      const box = el("div", "notice");
      box.appendChild(el("div", null, message || "智能导办正在重启，请稍等片刻再发。"));
      box.appendChild(el("div", "muted", "等待时可以先搜索常见问题："));
      const f = el("form"); const q = el("input"); q.placeholder = "例如：食品经营许可证要多久"; q.maxLength = 200;
      const b = el("button", null, "搜索"); b.type = "submit";
      const out = el("div");
      f.appendChild(q); f.appendChild(b); box.appendChild(f); box.appendChild(out);
      f.addEventListener("submit", async (e) => {
        e.preventDefault();
        out.replaceChildren();
        try {
          const resp = await fetch(faqUrl + "?k=3&q=" + encodeURIComponent(q.value.trim()));
          const data = await resp.json();
          if (resp.ok && data.answered && data.hits && data.hits.length) out.appendChild(el("div", "bubble", data.hits[0].answer));
          else out.appendChild(el("div", "muted", (data.error && data.error.message) || "没有找到可靠的答案，可拨打12345咨询。"));
        } catch (err) { out.appendChild(el("div", "muted", "网络开小差了，请稍后再试。")); }
      });
      row("bot").appendChild(box);
    }

    async function send(text, shown, quiet) {
      text = (text || "").trim();
      if (!text) return;
      if (!quiet) { const u = row("user"); u.appendChild(el("div", "bubble", shown || text)); }
      scroll();
      try {
        const resp = await fetch(webhook, { method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify({sender, message: text}) });
        let data = null;
        try { data = await resp.json(); } catch (e) { data = null; }
        if (resp.status === 503) { restarting(data && data.error && data.error.message); scroll(); return; }
        if (!resp.ok) {
          row("bot").appendChild(el("div", "bubble", (data && data.error && data.error.message) || "没有发送成功，请稍后再试；着急可拨打12345。"));
          scroll(); return;
        }
        const msgs = Array.isArray(data) ? data : [];
        msgs.forEach((m, i) => {
          // the bundle card says it all: skip the plain-text copy sent for text-only channels
          const next = msgs[i + 1];
          if (m.text && !m.custom && next && next.custom && next.custom.type === "bundle") return;
          render(m);
        });
      } catch (e) {
        row("bot").appendChild(el("div", "bubble", "网络开小差了，请稍后再试；着急可拨打12345。"));
      }
      scroll();
    }

    function openCode(code) {
      code = (code || "").trim().toUpperCase();
      if (!/^[A-Z0-9]{6}$/.test(code)) { row("bot").appendChild(el("div", "bubble", "办理码是6位字母和数字，请核对。")); return; }
      return send("/resume_intake" + JSON.stringify({intake_code: code}), "办理码 " + code);
    }

    return { el, row, send, render, openCode, setSender: (s) => { sender = s; } };
  }

  window.DaobanChat = { makeChat, el };
})();
