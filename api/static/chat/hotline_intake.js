/* 12345 console: open an intake by code (GET /api/v1/chat/intakes/{code}: masked, rate-limited),
   show what is known, then continue the same intake through the bot on a console sender. */
"use strict";
(function () {
  const body = document.body, el = DaobanChat.el;
  const summary = document.getElementById("summary");
  const log = document.getElementById("log");
  const max = parseInt(body.dataset.max || "500", 10);
  let chat = null;

  const LABELS = {region: "地区", activities: "经营项目", area_m2: "面积（平方米）", food_sales: "食品销售", halal: "清真", tobacco: "卖烟",
    medical_devices: "医疗器械", entertainment: "娱乐演艺", workshop: "自产加工", rooms: "客房", vehicle_weight_t: "车辆总质量（吨）",
    name: "名称", address: "地址", employees: "人数"};

  function show(data) {
    summary.replaceChildren();
    const card = el("div", "card");
    const h = el("h3", null, "办理码 "); h.appendChild(el("span", "code", data.code)); card.appendChild(h);
    card.appendChild(el("div", "muted", "渠道：" + (data.channel || "") + "　最近更新：" + (data.updated_at || "").replace("T", " ").slice(0, 16)));
    const dl = el("dl", "facts");
    const p = data.profile || {};
    for (const k of Object.keys(LABELS)) {
      const v = p[k];
      if (v === null || v === undefined || v === "" || (Array.isArray(v) && !v.length)) continue;
      dl.appendChild(el("dt", null, LABELS[k]));
      dl.appendChild(el("dd", null, Array.isArray(v) ? v.join("、") : (v === true ? "是" : v === false ? "否" : v)));
    }
    card.appendChild(dl);
    if (data.pending_question) card.appendChild(el("div", null, "还要确认：" + (data.pending_question.text || data.pending_question.key)));
    const codes = ((data.bundle || {}).items || []).map((i) => i.name || i.code);
    if (codes.length) card.appendChild(el("div", "muted", ((data.bundle || {}).final ? "已确定需办：" : "初步需办：") + codes.join("、")));
    const go = el("button", "submit", "接着办"); go.type = "button";
    go.addEventListener("click", () => start(data.code));
    card.appendChild(go);
    summary.appendChild(card);
  }

  function start(code) {
    log.replaceChildren();
    const sender = "hotline-" + Math.random().toString(36).slice(2, 12);
    chat = DaobanChat.makeChat({ log, webhook: body.dataset.webhook, faqUrl: body.dataset.faq, sender });
    document.getElementById("chatfoot").hidden = false;
    chat.openCode(code);
  }

  async function lookup(code) {
    code = (code || "").trim().toUpperCase().replace(/[\s-]/g, "");
    summary.replaceChildren();
    if (!/^[A-Z0-9]{6}$/.test(code)) { summary.appendChild(el("div", "muted", "办理码是6位字母和数字，请核对。")); return; }
    try {
      const resp = await fetch(body.dataset.intakes + "/" + encodeURIComponent(code));
      const data = await resp.json();
      if (!resp.ok) { summary.appendChild(el("div", "muted", (data.error && data.error.message) || "没有找到这个办理码。")); return; }
      show(data);
    } catch (e) { summary.appendChild(el("div", "muted", "网络开小差了，请稍后再试。")); }
  }

  document.getElementById("lookup").addEventListener("submit", (e) => { e.preventDefault(); lookup(document.getElementById("code").value); });
  document.getElementById("f").addEventListener("submit", (e) => {
    e.preventDefault();
    const q = document.getElementById("q");
    if (!chat) return;
    if (q.value.length > max) { chat.row("bot").appendChild(el("div", "bubble", "消息太长了（最多" + max + "个字），请分几次发。")); return; }
    chat.send(q.value); q.value = "";
  });
  if (body.dataset.code) { document.getElementById("code").value = body.dataset.code; lookup(body.dataset.code); }
})();
