// The 12345 hotline console: instant FAQ search (direct answer first, a short text to read
// out or send by SMS with a copy button, "which permit?" when two fit) and the 来电情况速查 box.
// No inline script on the page (strict CSP): the API base comes from <body data-api>.
"use strict";
(function () {
  const API = document.body.dataset.api || "/api/v1";
  const TOPIC = {scope: "适用范围", conditions: "条件", materials: "材料", time_limit: "办理时限", fee: "收费",
    validity: "有效期", department: "办理部门", process: "流程", commitment: "告知承诺/容缺", change: "变更注销",
    general: "通用"};
  const qEl = document.getElementById("q"), rEl = document.getElementById("region");
  const out = document.getElementById("results"), state = document.getElementById("state");
  const read = document.getElementById("read");
  let timer = null, seq = 0;

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text != null) e.textContent = text;
    return e;
  }

  async function copy(text, button) {
    try {
      await navigator.clipboard.writeText(text);
    } catch (e) {  // clipboard API unavailable (plain http): select-and-copy fallback
      const ta = el("textarea");
      ta.value = text;
      document.body.appendChild(ta);
      ta.select();
      try { document.execCommand("copy"); } catch (e2) { /* staff can still select by hand */ }
      ta.remove();
    }
    button.textContent = "已复制";
    setTimeout(() => { button.textContent = "复制短信"; }, 1500);
  }

  function shortBox(text) {
    const box = el("div", "short");
    box.appendChild(el("span", null, text));
    const b = el("button", "copy", "复制短信");
    b.type = "button";
    b.title = "复制这段话（不超过140字），可读给来电人或发短信";
    b.addEventListener("click", () => copy(text, b));
    box.appendChild(b);
    return box;
  }

  function showRead(u) {
    const parts = [];
    if (u && u.corrections && u.corrections.length) {
      parts.push("按「" + u.corrections.map(c => c.typed + "→" + c.read_as).join("，") + "」理解");
    }
    if (u && u.region) parts.push("地区：" + (rEl.querySelector('option[value="' + u.region + '"]') || {}).textContent);
    read.hidden = !parts.length;
    read.textContent = parts.join(" · ");
  }

  function render(data) {
    out.replaceChildren();
    showRead(data.understood);
    if (!data.answered) {
      out.appendChild(el("div", "notice", data.message || "知识库里没有找到可靠的答案。以下条目仅供参考，请转人工或导办窗口核实。"));
    } else if (data.clarify) {
      out.appendChild(el("div", "clarify", "请问来电人：" + data.clarify.text + "（两种都列在下面）"));
    }
    const both = data.answered && data.clarify ? 2 : 1;
    data.hits.forEach((h, i) => {
      const best = data.answered && i < both;
      const box = el("div", "hit " + (best ? "best" : "ref"));
      const meta = el("div", "meta");
      meta.appendChild(el("span", "tag", best ? (both > 1 ? "答案（二选一）" : "答案") : (data.answered ? "相关" : "仅供参考")));
      meta.appendChild(el("span", "tag", "事项：" + (h.item_name || h.item_code || "通用")));
      meta.appendChild(el("span", "tag", "主题：" + (h.topic_label || TOPIC[h.topic] || h.topic)));
      meta.appendChild(el("span", "score", h.id + " · " + h.score.toFixed(3)));
      box.appendChild(meta);
      box.appendChild(el("div", "q", h.question));
      if (best && h.direct) box.appendChild(el("div", "direct", h.direct));
      box.appendChild(el("div", "a", h.answer));
      if (best && h.short) box.appendChild(shortBox(h.short));
      out.appendChild(box);
    });
  }

  async function run() {
    const q = qEl.value.trim();
    if (!q) { out.replaceChildren(); read.hidden = true; state.textContent = "输入即查询。"; return; }
    const my = ++seq;
    const params = new URLSearchParams({q, k: "5"});
    if (rEl.value) params.set("region", rEl.value);
    const t = performance.now();
    try {
      const resp = await fetch(API + "/faq/search?" + params.toString());
      const data = await resp.json();
      if (my !== seq) return;
      if (!resp.ok) { state.textContent = (data.error && data.error.message) || "查询失败"; return; }
      state.textContent = (data.answered ? "已找到答案" : "未找到可靠答案") + " · " + Math.round(performance.now() - t) + " ms";
      render(data);
    } catch (e) { if (my === seq) state.textContent = "网络错误，请重试。"; }
  }

  async function lookup() {
    const text = document.getElementById("d").value.trim();
    const dout = document.getElementById("dout");
    if (!text) return;
    const body = {text};
    if (rEl.value) body.region = rEl.value;
    const resp = await fetch(API + "/intake/describe", {method: "POST", headers: {"Content-Type": "application/json"},
      body: JSON.stringify(body)});
    const data = await resp.json();
    dout.replaceChildren();
    if (!resp.ok) { dout.appendChild(el("div", "notice", (data.error && data.error.message) || "查询失败")); return; }
    const b = data.bundle;
    dout.appendChild(el("div", "meta", (b.region_name || "地区未说明") + " · " + b.summary));
    for (const q of data.questions) {
      dout.appendChild(el("div", "ask", "请问来电人：" + q.text + "（" + q.options.map(o => o.title).join(" / ") + "）"));
    }
    for (const it of b.items) {
      const box = el("div", "hit best");
      const meta = el("div", "meta");
      meta.appendChild(el("span", "tag", it.mode_label));
      meta.appendChild(el("span", "tag", it.department));
      if (it.time_limit_text) meta.appendChild(el("span", "tag", it.time_limit_text));
      box.appendChild(meta);
      box.appendChild(el("div", "q", it.name));
      box.appendChild(el("div", "a", it.why.join("")));
      dout.appendChild(box);
    }
    for (const n of (b.not_required || [])) dout.appendChild(el("div", "hit ref", "不用办 " + n.name + "：" + n.why));
    // how far the answer can be trusted (issue 7): never read "no permit needed" for a trade we do not know
    if (b.coverage === "unknown" && (b.unrecognized || []).length) {
      dout.appendChild(el("div", "notice", "「" + b.unrecognized.join("、") + "」暂未收录：不能答复“不用办证”，请转导办窗口或相关部门确认。"));
    }
    for (const t of (b.to_confirm || [])) dout.appendChild(el("div", "ask", "待确认：" + t));
  }

  document.getElementById("dgo").addEventListener("click", lookup);
  document.getElementById("d").addEventListener("keydown", (e) => { if (e.key === "Enter") lookup(); });
  qEl.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(run, 150); });
  rEl.addEventListener("change", run);
})();
