// The codes panel of the review screen: the diagnoses and acts suggested for the report as the server holds it,
// each with the words that support it, to accept or reject; a code found by its words or by the code, to add.
// Everything is reached with the keyboard: Alt+K goes to the panel, Tab and Enter do the rest, and in the
// search field ↓ goes to the results.
"use strict";
(function () {
  const body = document.body;
  const api = "/api/review/" + body.dataset.job + "/codes";
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const words = JSON.parse(document.getElementById("screen-words").textContent);
  const list = document.getElementById("code-list");
  const query = document.getElementById("code-query");
  const results = document.getElementById("code-results");
  const missing = document.getElementById("codes-missing");
  const aside = document.getElementById("codes-aside");
  const message = document.getElementById("message");
  let codes = null;
  let lastText = null;
  let searchTimer = null;
  let searched = "";

  function say(key, params) {
    let text = words[key] || key;
    Object.keys(params || {}).forEach(function (name) { text = text.split("{" + name + "}").join(params[name]); });
    return text;
  }

  function element(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  function button(text, className, action) {
    const node = element("button", className, text);
    node.type = "button";
    node.addEventListener("click", action);
    return node;
  }

  async function call(method, path, payload) {
    const options = { method: method, headers: { "X-CSRF-Token": csrf }, credentials: "same-origin" };
    if (payload !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(payload);
    }
    const response = await fetch(path, options);
    let content = {};
    try { content = await response.json(); } catch (e) { content = {}; }
    if (!response.ok) throw new Error(content.error || say("server_error", { status: response.status }));
    return content;
  }

  function showError(text) {
    message.textContent = text;
    message.className = "message error";
  }

  async function load() {
    try { codes = await call("GET", api); render(); } catch (e) { showError(e.message); }
  }

  // a decision, then the panel as the server answers; the focus stays on the same code
  async function decide(entry, decision) {
    const key = entry.system + ":" + entry.code;
    try {
      codes = await call("POST", api, { system: entry.system, code: entry.code, decision: decision });
      render();
      const item = list.querySelector("li[data-key='" + CSS.escape(key) + "'] button");
      if (item) item.focus();
    } catch (e) { showError(e.message); }
  }

  function codeLine(entry) {
    const item = element("li", entry.decision || "");
    item.dataset.key = entry.system + ":" + entry.code;
    item.dataset.code = entry.code;
    item.appendChild(element("span", "code", entry.code));
    item.appendChild(element("span", "code-label", entry.label));
    item.appendChild(element("small", "code-kind", say("codes." + entry.kind)));
    if (entry.evidence && entry.evidence.length) {
      item.appendChild(element("span", "code-words", entry.evidence.map(function (w) { return say("quote", { text: w }); }).join(" ")));
    } else if (entry.origin === "added") {
      item.appendChild(element("span", "code-words", say("codes.added")));
    }
    if (!codes.changeable) return item;
    const actions = element("span", "code-actions");
    if (entry.decision) {
      actions.appendChild(element("small", "code-decision", say("codes." + entry.decision)));
      actions.appendChild(button(say("codes.undo"), "code-undo", function () { decide(entry, "undecided"); }));
    } else {
      actions.appendChild(button(say("codes.accept"), "code-accept", function () { decide(entry, "accepted"); }));
      actions.appendChild(button(say("codes.reject"), "code-reject", function () { decide(entry, "rejected"); }));
    }
    item.appendChild(actions);
    return item;
  }

  function render() {
    const shown = codes.changeable ? codes.suggestions : codes.chosen;
    list.replaceChildren.apply(list, shown.map(codeLine));
    if (!shown.length) list.appendChild(element("li", "none", say("codes.none")));
    const chosen = codes.chosen.length;
    document.getElementById("codes-count").textContent = chosen ? "(" + chosen + ")" : "";
    query.parentElement.hidden = !codes.changeable;
    missing.hidden = !codes.missing_sets.length;
    missing.textContent = codes.missing_sets.map(function (s) { return say("codes.missing_set", { system: s }); }).join(" ");
    aside.hidden = !codes.set_aside.length;
    if (codes.set_aside.length) {
      aside.querySelector("summary").textContent = say("codes.set_aside", { reasons: codes.set_aside.length });
      aside.querySelector("ul").replaceChildren.apply(aside.querySelector("ul"), codes.set_aside.map(function (a) {
        const reasons = a.reasons.map(function (r) { return say("codes.reason." + r); }).join(", ");
        return element("li", "", a.code + " " + say("quote", { text: a.words }) + " — " + reasons);
      }));
    }
  }

  async function search() {
    const text = query.value.trim();
    if (text === searched) return;
    searched = text;
    if (text.length < 2) { results.replaceChildren(); return; }
    const lang = codes && codes.language ? "&lang=" + encodeURIComponent(codes.language) : "";
    let found;
    try { found = await call("GET", "/api/codes?q=" + encodeURIComponent(text) + lang); } catch (e) { showError(e.message); return; }
    if (query.value.trim() !== text) return;  // she typed on: a later search answers
    results.replaceChildren.apply(results, found.map(function (entry) {
      const item = element("li");
      item.dataset.code = entry.code;
      item.appendChild(button(say("codes.add"), "code-add", async function () {
        await decide(entry, "accepted");
        query.value = "";
        searched = "";
        results.replaceChildren();
        query.focus();
      }));
      item.appendChild(element("span", "code", entry.code));
      item.appendChild(element("span", "code-label", entry.label));
      item.appendChild(element("small", "code-kind", entry.title));
      return item;
    }));
    if (!found.length) results.appendChild(element("li", "none", say("codes.no_result")));
  }

  query.addEventListener("input", function () {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(search, 250);
  });
  query.addEventListener("keydown", function (event) {
    if (event.key === "Enter") { event.preventDefault(); clearTimeout(searchTimer); search(); }
    else if (event.key === "ArrowDown") {
      const first = results.querySelector("button");
      if (first) { event.preventDefault(); first.focus(); }
    } else if (event.key === "Escape") { query.value = ""; searched = ""; results.replaceChildren(); }
  });
  results.addEventListener("keydown", function (event) {
    const buttons = Array.from(results.querySelectorAll("button"));
    const at = buttons.indexOf(document.activeElement);
    if (at < 0) return;
    if (event.key === "ArrowDown" && at + 1 < buttons.length) { event.preventDefault(); buttons[at + 1].focus(); }
    else if (event.key === "ArrowUp") { event.preventDefault(); (at ? buttons[at - 1] : query).focus(); }
  });

  // Alt+K: to the first code waiting for a decision, else to the search field
  document.addEventListener("keydown", function (event) {
    if (!event.altKey || event.ctrlKey || event.metaKey || (event.key || "").toLowerCase() !== "k") return;
    event.preventDefault();
    const target = list.querySelector("button.code-accept") || (query.parentElement.hidden ? list.querySelector("li") : query);
    if (target) { if (!target.matches("button, input")) target.tabIndex = -1; target.focus(); }
  }, true);

  // the report as the server holds it changed (saved, validated, reopened): suggestions again
  document.addEventListener("review:data", function (event) {
    const now = event.detail.text + "\u0000" + event.detail.state + "\u0000" + event.detail.editable;
    if (now === lastText) return;
    lastText = now;
    load();
  });
})();
