// The FAQ maintainers' page: unanswered / barely answered / most asked questions, entries
// (overrides, retire/restore, add wordings), index status and rebuild.  No inline script
// (strict CSP): the API base comes from <body data-api>; the token is typed in the page.
"use strict";
const API = (document.body.dataset.api || "/api/v1") + "/faq/admin";
const tokenEl = document.getElementById("token"), view = document.getElementById("view"), msg = document.getElementById("msg");
tokenEl.value = sessionStorage.getItem("daoban-maint") || "";
tokenEl.addEventListener("change", () => { sessionStorage.setItem("daoban-maint", tokenEl.value); show(current); });
let current = "unanswered";
function el(tag, cls, text) { const e = document.createElement(tag); if (cls) e.className = cls; if (text != null) e.textContent = text; return e; }
async function call(path, opts = {}) {
  opts.headers = Object.assign({"X-Maintainer-Token": tokenEl.value, "Content-Type": "application/json"}, opts.headers || {});
  const resp = await fetch(API + path, opts);
  const data = await resp.json();
  if (!resp.ok) throw new Error((data.error && data.error.message) || ("HTTP " + resp.status));
  return data;
}
function table(headers, rows) {
  const t = el("table"); const tr = el("tr");
  headers.forEach(h => tr.appendChild(el("th", null, h))); t.appendChild(tr);
  rows.forEach(r => { const row = el("tr", r.cls || null); r.cells.forEach(c => { const td = el("td"); if (c instanceof Node) td.appendChild(c); else td.textContent = c == null ? "" : c; row.appendChild(td); }); t.appendChild(row); });
  return t;
}
async function showLog(view, kind) {
  const data = await call("/queries?kind=" + kind + "&limit=100");
  if (kind === "most_asked") {
    view.appendChild(table(["问题", "次数", "答上", "平均分", "常命中条目"], data.rows.map(r => ({cells: [r.q, r.count, r.answered, r.avg_score, r.top_id]}))));
  } else {
    view.appendChild(table(["时间", "问题", "地区", "最接近的条目", "分数", "原因"], data.rows.map(r => ({cells: [r.created_at ? r.created_at.slice(0, 19).replace("T", " ") : "", r.q, r.region, r.top_id, r.score == null ? "" : r.score.toFixed(3), r.reason]}))));
  }
  if (!data.rows.length) view.appendChild(el("div", "notice", "暂无记录。"));
}
async function showEntries(view, q) {
  const bar = el("div", "bar"); const inp = el("input"); inp.placeholder = "按关键词筛选条目"; inp.value = q || "";
  const go = el("button", null, "筛选"); go.addEventListener("click", () => show("entries", inp.value));
  bar.appendChild(inp); bar.appendChild(go); view.appendChild(bar);
  const rows = await call("/entries" + (q ? "?q=" + encodeURIComponent(q) : ""));
  view.appendChild(el("div", null, "共 " + rows.length + " 条"));
  view.appendChild(table(["条目", "来源", "问题与说法", "操作"], rows.slice(0, 200).map(e => {
    const who = el("div"); who.appendChild(el("span", "tag", e.origin)); if (e.overridden_by) who.appendChild(el("span", "tag", "已被 " + e.overridden_by + " 取代")); if (e.overrides) who.appendChild(el("span", "tag", "取代 " + e.overrides));
    const ops = el("div");
    const toggle = el("button", null, e.retired ? "恢复" : "停用");
    toggle.addEventListener("click", async () => { try { await call("/entries/" + e.id + (e.retired ? "/restore" : ""), {method: e.retired ? "POST" : "DELETE"}); show("entries", inp.value); } catch (err) { msg.textContent = err.message; } });
    const add = el("button", null, "加说法");
    add.addEventListener("click", async () => { const t = prompt("新的问法："); if (!t) return; try { await call("/entries/" + e.id + "/paraphrases", {method: "POST", body: JSON.stringify({text: t})}); show("entries", inp.value); } catch (err) { msg.textContent = err.message; } });
    ops.appendChild(toggle); ops.appendChild(add);
    return {cls: e.retired ? "retired" : null, cells: [e.id, who, e.question + "\n（另有 " + e.paraphrases.length + " 种说法）", ops]};
  })));
}
async function showUnknownTrades(view) {
  // trades applicants named that the catalog does not know (issue 7): candidates for new activities
  const resp = await fetch((document.body.dataset.api || "/api/v1") + "/intake/admin/unknown-trades?limit=200",
                           {headers: {"X-Maintainer-Token": tokenEl.value}});
  const data = await resp.json();
  if (!resp.ok) throw new Error((data.error && data.error.message) || ("HTTP " + resp.status));
  view.appendChild(el("div", null, "申请人说了、但经营项目目录里没有的行业（已转人工）。补进 data/catalog/industries.yaml 后重新部署。"));
  view.appendChild(table(["说法", "次数", "最近一次", "原话（已遮盖证件号和电话）"], data.trades.map(t => ({cells: [t.word, t.count, t.last_seen ? t.last_seen.slice(0, 19).replace("T", " ") : "", t.example]}))));
  if (!data.trades.length) view.appendChild(el("div", "notice", "暂无记录。"));
}
async function showStatus(view) {
  const s = await call("/status");
  view.appendChild(el("pre", null, JSON.stringify(s, null, 2)));
  const b = el("button", null, "重建索引（只重算改动的条目，不停服务）");
  b.addEventListener("click", async () => { try { const r = await call("/rebuild", {method: "POST"}); msg.textContent = "已开始重建：" + JSON.stringify(r); } catch (err) { msg.textContent = err.message; } });
  view.appendChild(b);
}
let seq = 0;
async function show(name, arg) {
  // each view renders into its own box; only the latest request may replace the page
  const my = ++seq, box = el("div");
  current = name; msg.textContent = "";
  document.querySelectorAll("nav button").forEach(b => b.classList.toggle("on", b.dataset.view === name));
  if (!tokenEl.value) { box.appendChild(el("div", "notice", "请先在右上角输入维护令牌（make run 生成在 var/maintainer_token）。")); }
  else {
    try {
      if (name === "entries") await showEntries(box, arg);
      else if (name === "unknown_trades") await showUnknownTrades(box);
      else if (name === "status") await showStatus(box);
      else await showLog(box, name);
    } catch (err) { box.replaceChildren(el("div", "notice", err.message)); }
  }
  if (my === seq) view.replaceChildren(box);
}
document.querySelectorAll("nav button").forEach(b => b.addEventListener("click", () => show(b.dataset.view)));
show(current);
