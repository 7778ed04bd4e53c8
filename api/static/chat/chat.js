/* The applicant's chat widget (/chat): one sender per browser, everything through the API. */
"use strict";
(function () {
  const body = document.body;
  let sender = localStorage.getItem("daoban-sender");
  if (!sender || !/^[A-Za-z0-9_.:\-]{1,80}$/.test(sender)) sender = "web-" + Math.random().toString(36).slice(2) + Math.random().toString(36).slice(2, 6);
  localStorage.setItem("daoban-sender", sender);
  const chat = DaobanChat.makeChat({ log: document.getElementById("log"), webhook: body.dataset.webhook, faqUrl: body.dataset.faq, sender });
  const el = DaobanChat.el;
  const max = parseInt(body.dataset.max || "500", 10);

  document.getElementById("f").addEventListener("submit", (e) => {
    e.preventDefault();
    const q = document.getElementById("q");
    if (q.value.length > max) { chat.row("bot").appendChild(el("div", "bubble", "消息太长了（最多" + max + "个字），请分几次发。")); return; }
    chat.send(q.value); q.value = "";
  });
  document.getElementById("resume").addEventListener("click", () => {
    const code = window.prompt("请输入6位办理码（在电话、小程序或窗口拿到的）");
    if (code) chat.openCode(code);
  });
  chat.row("bot").appendChild(el("div", "bubble", "您好！我是一照通行智能导办。说说您想在哪里开什么店、多大面积，我一次告诉您要办哪些证、为什么、要带什么材料。"));
  const code = body.dataset.code || new URLSearchParams(location.search).get("code");
  if (code) chat.openCode(code);
})();
