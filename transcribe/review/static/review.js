// Review screen: the report edited in place in the listening pane (its words linked to the audio),
// the points to check, the patient, the lock, the document, and the keys of a day's work.
"use strict";
(function () {
  const T = window.ReviewText;
  const body = document.body;
  const jobId = body.dataset.job;
  const api = "/api/review/" + jobId;
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const words = JSON.parse(document.getElementById("screen-words").textContent);
  const player = document.getElementById("player");
  const report = document.getElementById("report");
  const message = document.getElementById("message");
  const dialog = document.getElementById("document-dialog");
  let data = null;
  let dirty = false;          // typed and not sent yet
  let inFlight = 0;           // requests sent and not answered
  let saveTimer = null;
  let queue = Promise.resolve();
  let playing = null;
  let currentFlag = null;
  let lastPlace = null;       // { block, start, end }: where the caret was last in the text
  let autotexts = [];
  let find = null;            // { block, start, end }: the match found last
  let leaving = false;
  let serverText = "";        // the report as the server last gave it: what differs from it is not saved yet
  // what she typed is also kept on this desk until the server has it (a session that ended, a closed tab):
  // one entry per report and user, removed once saved
  const localKey = "transcribe.unsaved." + body.dataset.user + "." + jobId;
  let unsure = false;         // a save failed (no connection, an ended session): what goes as she leaves is kept here too

  const colon = body.dataset.lang === "fr" ? " : " : ": ";

  function say(key, params) {
    let text = words[key] || key;
    Object.keys(params || {}).forEach(function (name) { text = text.split("{" + name + "}").join(params[name]); });
    return text;
  }

  function show(text, isError) {
    message.textContent = text || "";
    message.className = isError ? "message error" : "message";
  }

  function element(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  // --- talking to the server: one request at a time, each carrying the text as typed ---------------
  async function call(method, path, payload, keepalive) {
    const options = { method: method, headers: { "X-CSRF-Token": csrf }, credentials: "same-origin" };
    if (keepalive) options.keepalive = true;
    if (payload !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(payload);
    }
    let response;
    try { response = await fetch(path, options); } catch (e) { throw new Error(say("offline")); }  // no status: sent again
    let content = {};
    try { content = await response.json(); } catch (e) { content = {}; }
    if (!response.ok && response.status !== 202) {
      const error = new Error(content.error || say("server_error", { status: response.status }));
      error.status = response.status;
      error.textKept = response.headers.get("X-Text-Kept") === "1";  // the report is someone else's now
      const heldBy = response.headers.get("X-Held-By");
      if (heldBy) error.heldBy = decodeURIComponent(heldBy);  // who holds it: said on her screen at once
      throw error;
    }
    return content;
  }

  // --- what she typed and the server does not have yet ------------------------------------------------------
  function textOfBlocks(blocks) {
    return blocks.map(function (b) { return (b.heading ? b.heading + "\n" : "") + b.text; }).join("\n");
  }

  function unsaved() { return data && textOfBlocks(currentBlocks()) !== serverText; }

  function keepLocally(blocks, typedAt) {
    try {
      localStorage.setItem(localKey, JSON.stringify({ blocks: blocks, typed_at: typedAt, base: data.base }));
    } catch (e) { /* a full or forbidden storage: the text stays on the screen */ }
  }

  function forgetLocal(typedAt) {
    try {
      const kept = JSON.parse(localStorage.getItem(localKey) || "null");
      if (kept && (typedAt === undefined || kept.typed_at <= typedAt)) localStorage.removeItem(localKey);
    } catch (e) { localStorage.removeItem(localKey); }
  }

  // text the server did not take: shown under the report, to copy (and kept by the server, with its author)
  function keepAside(text, why) {
    const box = document.getElementById("kept-text");
    const area = box.querySelector("textarea");
    if (area.value.indexOf(text) >= 0) return;
    area.value = area.value ? area.value + "\n\n" + text : text;
    document.getElementById("kept-why").textContent = why;
    box.hidden = false;
  }

  function setData(answer) {
    data = answer;
    serverText = textOfBlocks(data.blocks);
    // the codes panel (codes.js) follows the report as the server holds it
    document.dispatchEvent(new CustomEvent("review:data", { detail: { text: serverText, state: data.job.state, editable: data.editable } }));
  }

  function markUnsaved() { document.getElementById("saved").textContent = say("not_saved"); }

  // the text as it stands, to send; kept on this desk first, until the answer says the server has it (not when
  // she leaves with a live session: the request that gives the lock back carries it, and no answer would come)
  function blocksPayload(extra, notLocally) {
    const payload = Object.assign({ blocks: currentBlocks(), typed_at: Date.now(), base: data.base }, extra || {});
    if (!notLocally && textOfBlocks(payload.blocks) !== serverText) keepLocally(payload.blocks, payload.typed_at);
    return payload;
  }

  // a change: sent after those before it, with the text as it stands when it leaves
  function change(path, extra, structural) {
    const run = async function () {
      dirty = false;
      clearTimeout(saveTimer);
      inFlight += 1;
      if (structural) setEditable(false);
      const payload = blocksPayload(extra);
      try {
        const answer = await call("POST", path, payload);
        if (!answer.blocks) return answer;  // not the report (validation's result)
        const typedMeanwhile = dirty;
        setData(answer);
        data.base = answer.saved_at || data.base;
        if (structural) render(); else renderSide();
        // her marks and times follow her typing once she is out of the text (no caret to keep)
        if (!structural && !dirty && !report.contains(document.activeElement)) renderText();
        unsure = false;
        if (!typedMeanwhile) { markSaved(answer.saved_at); forgetLocal(payload.typed_at); }
        return answer;
      } catch (e) {
        if (!e.status || e.status >= 500) {  // not taken (no connection): sent again a little later
          dirty = true;
          clearTimeout(saveTimer);
          saveTimer = setTimeout(saveNow, 5000);
        }
        await lost(e, payload, path !== api + "/save");
        throw e;
      } finally {
        inFlight -= 1;
        if (structural && data) setEditable(editable());
      }
    };
    const sent = queue.then(run, run);
    queue = sent.catch(function () {});
    return sent;
  }

  async function lost(error, payload, action) {
    markUnsaved();
    if (!error.status || error.status === 401 || error.status >= 500) unsure = true;
    if (error.status === 401) {  // her session ended: she logs in again, and finds her text back here
      sessionEnded(error.message);
      return;
    }
    if (error.heldBy && data) {  // who has it now, before anything else is asked of the server
      data.locked_by = error.heldBy;
      data.mine = false;
      data.editable = false;
      renderLock();
    }
    if (error.textKept && payload && textOfBlocks(payload.blocks) !== serverText) {
      // someone else has the report now: her text goes aside (the server kept it too), the screen shows theirs
      keepAside(textOfBlocks(payload.blocks), error.message);
      forgetLocal();
      dirty = false;
      show(error.message, true);
      try { await reload(); } catch (e) { /* the next poll tries again */ }
      return;
    }
    if (error.status === 423 || error.status === 409) refreshLock();
    if (action && error.status === 409 && payload && textOfBlocks(payload.blocks) !== serverText) {
      // an action refused (a passage rewritten by hand...): her typing, sent with it, is saved on its own
      dirty = true;
      clearTimeout(saveTimer);
      saveTimer = setTimeout(saveNow, 700);
    }
    show(error.message, true);
  }

  function sessionEnded(text) {
    message.replaceChildren(document.createTextNode(text + " "));
    const again = element("a", null, say("login_again"));
    again.id = "login-again";
    again.href = "/login?next=" + encodeURIComponent("/review/" + jobId);
    message.appendChild(again);
    message.className = "message error";
  }

  function markSaved(at) {
    document.getElementById("saved").textContent = at ? say("saved") + " " + new Date(at * 1000).toLocaleTimeString(document.documentElement.lang) : "";
  }

  function scheduleSave() {
    dirty = true;
    document.getElementById("saved").textContent = say("saving");
    clearTimeout(saveTimer);
    saveTimer = setTimeout(saveNow, 700);
  }

  function saveNow() {
    clearTimeout(saveTimer);
    if (!dirty || !editable()) return queue;
    return change(api + "/save", {}).catch(function () {});
  }

  // leaving (another page, a reload, another tab): what was typed goes now, and the lock goes back
  function leave() {
    if (leaving || !data || !data.changeable) return;
    const pending = dirty || inFlight > 0;
    if (!pending && !data.mine) return;
    leaving = true;
    clearTimeout(saveTimer);
    const payload = pending && editable() ? blocksPayload({ csrf_token: csrf }, !unsure) : { csrf_token: csrf };
    dirty = false;
    const sent = JSON.stringify(payload);
    if (sent.length < 60000) {
      fetch(api + "/release", { method: "POST", keepalive: true, credentials: "same-origin",
        headers: { "Content-Type": "application/json" }, body: sent }).catch(function () {});
    } else {
      navigator.sendBeacon(api + "/release", new Blob([sent], { type: "application/json" }));
    }
    data.mine = false;
  }

  // --- the text -----------------------------------------------------------------------------------------
  function blockElements() { return Array.from(report.querySelectorAll(".block-text")); }

  function currentBlocks() {
    return blockElements().map(function (area) {
      return { key: area.dataset.key, heading: area.dataset.heading, text: T.textOf(area) };
    });
  }

  function placeNow() {
    const areas = blockElements();
    for (let i = 0; i < areas.length; i++) {
      const at = T.selectionIn(areas[i]);
      if (at) return { block: i, start: at.start, end: at.end };
    }
    return null;
  }

  function renderText() {
    const place = placeNow();
    report.replaceChildren();
    data.blocks.forEach(function (block, index) {
      const wrap = element("div", "block");
      if (block.heading) wrap.appendChild(element("h3", "heading", block.heading));
      const area = element("div", "block-text");
      area.id = "block-" + index;
      area.dataset.key = block.key;
      area.dataset.heading = block.heading;
      area.setAttribute("role", "textbox");
      area.setAttribute("aria-multiline", "true");
      area.setAttribute("aria-label", block.heading || words.body);
      area.spellcheck = true;
      area.lang = data.job.language;
      T.fill(area, block.pieces, words);
      wrap.appendChild(area);
      report.appendChild(wrap);
    });
    setEditable(editable());
    if (find && !document.getElementById("find-bar").hidden) highlight(find);
    if (place && blockElements()[place.block]) {
      const area = blockElements()[place.block];
      const length = T.textOf(area).length;
      area.focus();
      T.select(area, Math.min(place.start, length), Math.min(place.end, length));
    }
  }

  function setEditable(on) {
    blockElements().forEach(function (area) {
      area.contentEditable = on ? "plaintext-only" : "false";
      area.setAttribute("aria-readonly", on ? "false" : "true");
    });
  }

  report.addEventListener("input", function (event) {
    // where she typed is known now, not only once the browser reports the selection's change (a text
    // block chosen in the list at once after typing goes where the caret is, not where it was)
    const place = placeNow();
    if (place) lastPlace = place;
    if (event.target.classList && event.target.classList.contains("block-text")) scheduleSave();
  });
  report.addEventListener("focusout", function () { saveNow(); });
  report.addEventListener("paste", function (event) {
    const area = event.target.closest && event.target.closest(".block-text");
    if (!area || !editable()) return;
    event.preventDefault();
    const text = (event.clipboardData.getData("text/plain") || "").replace(/\r\n?/g, "\n");
    const length = currentBlocks().reduce(function (n, b) { return n + b.heading.length + b.text.length; }, 0);
    if (length - window.getSelection().toString().length + text.length > data.max_chars) {
      show(say("too_long_paste", { length: text.length.toLocaleString(document.documentElement.lang), limit: body.dataset.maxChars }), true);
      return;  // refused whole: never a part of it, never cut silently
    }
    T.insertPlain(area, text);
  });
  report.addEventListener("click", function (event) {
    const word = event.target.closest && event.target.closest("[data-start], [data-edit]");
    if (!word) return;
    if (window.getSelection().isCollapsed && word.dataset.start !== undefined) seek(parseFloat(word.dataset.start), true);
    if (word.dataset.edit !== undefined) showEdit(parseInt(word.dataset.edit, 10));
  });
  document.addEventListener("selectionchange", function () {
    const place = placeNow();
    if (!place) return;
    lastPlace = place;
    const node = window.getSelection().anchorNode;
    const host = node && (node.nodeType === 1 ? node : node.parentElement);
    const edit = host && host.closest && host.closest("[data-edit]");
    if (edit) showEdit(parseInt(edit.dataset.edit, 10));
  });

  function pieceOfEdit(index) {
    for (const block of data.blocks) {
      for (const piece of block.pieces) if (piece.edit === index) return piece;
    }
    return null;
  }

  function showEdit(index) {
    const piece = pieceOfEdit(index);
    const box = document.getElementById("edit-detail");
    if (!piece) { box.hidden = true; return; }
    box.hidden = false;
    box.dataset.edit = index;
    box.replaceChildren(element("span", "heard", say("heard") + colon + say("quote", { text: piece.heard_shown || piece.heard }) +
      " → " + say("quote", { text: piece.written_shown || piece.written }) + " (" + piece.rule + ")"));
    const evidence = piece.evidence || {};
    if (evidence.candidates) {
      box.appendChild(element("span", "evidence", say("audio_ranking", { candidates: evidence.candidates })));
    } else if (evidence["without the list"]) {
      box.appendChild(element("span", "evidence", say("without_the_list", { words: evidence["without the list"], margin: evidence.margin })));
    }
    const button = element("button", "revert", piece.reverted ? say("reapply") : say("revert"));
    button.type = "button";
    button.id = "revert-edit";
    button.title = "Alt+Z";
    button.disabled = !editable();
    button.addEventListener("click", function () { revert(index); });
    box.appendChild(button);
  }

  function revert(index) {
    const piece = pieceOfEdit(index);
    if (!piece || !editable()) return;
    change(api + "/revert", { edit: index, undo: piece.reverted }, true)
      .then(function () { showEdit(index); }).catch(function () {});
  }

  // --- the audio ----------------------------------------------------------------------------------------
  function seek(start, play) {
    if (start === null || start === undefined || isNaN(start)) return;
    player.currentTime = Math.max(0, start - 0.3);
    if (play) player.play().catch(function () {});
  }

  function playPause() {
    if (player.paused) {
      // on resume, go back a little: she hears again the words she stopped on
      player.currentTime = Math.max(0, player.currentTime - parseFloat(body.dataset.resumeRewind || "0"));
      player.play().catch(function () {});
    } else {
      player.pause();
    }
  }

  function skip(seconds) { player.currentTime = Math.max(0, Math.min(player.duration || Infinity, player.currentTime + seconds)); }

  function playFromCaret() {
    const node = window.getSelection().anchorNode;
    const host = node && (node.nodeType === 1 ? node : node.parentElement);
    let word = host && host.closest && host.closest("[data-start]");
    if (!word && host && report.contains(host)) {
      const timed = Array.from(report.querySelectorAll("[data-start]"));
      word = timed.find(function (w) { return host.compareDocumentPosition(w) & Node.DOCUMENT_POSITION_FOLLOWING; }) || timed[timed.length - 1];
    }
    if (word) seek(parseFloat(word.dataset.start), true);
  }

  player.addEventListener("timeupdate", function () {
    const now = player.currentTime;
    let current = null;
    report.querySelectorAll("span[data-start]").forEach(function (span) {
      const start = parseFloat(span.dataset.start);
      const end = parseFloat(span.dataset.end || span.dataset.start);
      if (now >= start && now <= end + 0.05) current = span;
    });
    if (current !== playing) {
      if (playing) playing.classList.remove("playing");
      if (current) current.classList.add("playing");
      playing = current;
    }
  });
  player.addEventListener("play", function () { document.getElementById("play").setAttribute("aria-pressed", "true"); });
  player.addEventListener("pause", function () { document.getElementById("play").setAttribute("aria-pressed", "false"); });

  // --- points to check ------------------------------------------------------------------------------------
  function renderFlags() {
    const list = document.getElementById("flags");
    list.replaceChildren();
    const open = data.flags.filter(function (f) { return !f.resolved; }).length;
    document.getElementById("flag-count").textContent = data.flags.length ? say("open_count", { open: open, total: data.flags.length }) : "";
    data.flags.forEach(function (flag) {
      const item = element("li", flag.resolved ? "flag resolved" : "flag");
      item.dataset.flag = flag.index;
      if (currentFlag === flag.index) item.classList.add("current");
      const box = document.createElement("input");
      box.type = "checkbox";
      box.checked = flag.resolved;
      box.disabled = !editable();
      box.id = "flag-" + flag.index;
      box.setAttribute("aria-label", say("resolved"));
      box.addEventListener("change", function () { tick(flag.index, box.checked, box); });
      item.appendChild(box);
      item.appendChild(element("span", "flag-state", flag.resolved ? say("resolved") : say("to_check")));
      const jump = element("button", "flag-text", "[" + flag.kind_label + "] " + flag.reason);
      jump.type = "button";
      jump.addEventListener("click", function () { goToFlag(flag.index); });
      item.appendChild(jump);
      const actions = element("span", "flag-actions");
      if (flag.suggestion && flag.suggested) {
        const back = element("button", "undo-suggestion", say("undo_suggestion") + " " + say("quote", { text: flag.suggestion }));
        back.type = "button";
        back.title = "Alt+Z";
        back.disabled = !editable();
        back.addEventListener("click", function () { takeBackSuggestion(flag.index); });
        actions.appendChild(back);
      } else if (flag.suggestion) {
        const apply = element("button", "suggestion", say("apply_suggestion") + " " + say("quote", { text: flag.suggestion }));
        apply.type = "button";
        apply.title = "Alt+1";
        apply.disabled = !editable();
        apply.addEventListener("click", function () { applySuggestion(flag.index); });
        actions.appendChild(apply);
      }
      (flag.choices || []).forEach(function (choice, n) {
        // a doubtful dose: one click writes the reading in its place and ticks the flag
        const button = element("button", "reading", choice);
        button.type = "button";
        button.dataset.reading = choice;
        button.title = "Alt+" + (n + 1);
        button.disabled = !editable();
        button.addEventListener("click", function () { chooseReading(flag.index, choice); });
        actions.appendChild(button);
      });
      item.appendChild(actions);
      list.appendChild(item);
    });
  }

  function tick(index, resolved, box) {
    change(api + "/resolve", { flag: index, resolved: resolved })
      .catch(function () { if (box) box.checked = !resolved; });
  }

  function applySuggestion(index) { change(api + "/suggestion", { flag: index }, true).catch(function () {}); }
  function takeBackSuggestion(index) { change(api + "/suggestion", { flag: index, undo: true }, true).catch(function () {}); }
  function chooseReading(index, choice) { change(api + "/reading", { flag: index, reading: choice }, true).catch(function () {}); }

  function goToFlag(index) {
    const flag = data.flags[index];
    if (!flag) return;
    currentFlag = index;
    renderFlags();
    const item = document.querySelector('#flags li[data-flag="' + index + '"]');
    if (item) item.scrollIntoView({ block: "nearest" });
    const area = flag.anchor ? blockElements()[flag.anchor[0]] : null;
    if (area) {
      area.focus();
      T.select(area, flag.anchor[1], flag.anchor[2]);
      const range = T.rangeOf(area, flag.anchor[1], flag.anchor[2]);
      const box = range.getBoundingClientRect();
      if (box.top < 0 || box.bottom > window.innerHeight) area.scrollIntoView({ block: "center" });
    }
    seek(flag.time, true);
  }

  function stepFlag(direction) {
    if (!data.flags.length) return;
    const order = data.flags.map(function (f) { return f.index; });
    const open = data.flags.filter(function (f) { return !f.resolved; }).map(function (f) { return f.index; });
    const pool = open.length ? open : order;
    let position = currentFlag === null ? -1 : pool.indexOf(currentFlag);
    if (position < 0 && currentFlag !== null) position = pool.findIndex(function (i) { return i > currentFlag; }) - (direction > 0 ? 1 : 0);
    const next = pool[(position + direction + pool.length) % pool.length];
    goToFlag(next);
  }

  function flagHere() {
    if (currentFlag !== null) return data.flags[currentFlag];
    const place = placeNow();
    if (!place) return null;
    return data.flags.find(function (f) { return f.anchor && f.anchor[0] === place.block && f.anchor[1] <= place.start && place.start <= f.anchor[2]; }) || null;
  }

  function choiceHere(n) {
    const flag = flagHere();
    if (!flag || !editable()) return;
    if (flag.choices && flag.choices.length) {
      if (flag.choices[n - 1]) chooseReading(flag.index, flag.choices[n - 1]);
    } else if (flag.suggestion && n === 1 && !flag.suggested) {
      applySuggestion(flag.index);
    }
  }

  // --- the patient --------------------------------------------------------------------------------------
  function renderIdentity() {
    const pane = document.getElementById("identity");
    pane.replaceChildren();
    [data.identity.given, data.identity.dictated].forEach(function (who, n) {
      if (!who || (n === 0 && who.source === "dictated" && data.identity.dictated)) return;
      const text = [who.given_names, who.family_name, who.birth_date, who.patient_id, who.sex_label, who.age_label]
        .filter(Boolean).join(" ");
      const label = who.source === "dictated" ? say("dictated_identity") : say("identity_from", { source: who.source_label });
      pane.appendChild(element("p", "dictated", label + colon + text));
    });
    pane.appendChild(element("p", "chosen", data.patient ? say("chosen_patient") + colon + data.patient.name + " " +
      (data.patient.birth_date || "") + " (" + data.patient.id + ")" : say("no_patient")));
    if (data.problems.length) {
      const warning = element("p", "conflict", say("identity_conflict") + colon + data.problems.join(" ; "));
      warning.id = "identity-conflict";
      pane.appendChild(warning);
    }
    if (data.identity.candidates.length) {
      pane.appendChild(element("p", null, say("candidates")));
      const list = element("ul", "candidates");
      data.identity.candidates.forEach(function (c) { list.appendChild(patientItem(c.patient_id, c.name, c.birth_date, c.evidence.join(", "))); });
      pane.appendChild(list);
    }
    document.getElementById("confirm-box").hidden = data.problems.length === 0;
    const confirm = document.getElementById("confirm-identity");
    confirm.checked = data.confirm_identity;
    confirm.disabled = !editable();
  }

  function patientItem(id, name, born, evidence) {
    const item = element("li", "candidate", name + " " + (born || "") + " (" + id + ")" + (evidence ? " — " + evidence : ""));
    const button = element("button", "choose", say("choose"));
    button.type = "button";
    button.dataset.patient = id;
    button.disabled = !editable();
    button.addEventListener("click", function () { change(api + "/save", { patient_id: id }).catch(function () {}); });
    item.appendChild(button);
    return item;
  }

  // --- the lock: nobody holds a report she only reads; her first change takes it ----------------------
  function editable() { return Boolean(data && data.editable); }

  function renderLock() {
    const bar = document.getElementById("lock-bar");
    const other = data.locked_by && !data.mine;
    bar.hidden = !(other && data.changeable);
    if (other) document.getElementById("lock-message").textContent = say("locked_by_other", { holder: data.locked_by });
    const reopen = document.getElementById("reopen-bar");
    reopen.hidden = !data.reopenable;
    document.getElementById("reopen-message").textContent = say("reopened_note", { state: data.job.state_label, version: data.job.version });
    document.getElementById("job-state").textContent = data.job.state_label + (data.job.version ? " — " + say("version", { version: data.job.version }) : "");
  }

  async function refreshLock() {
    if (!data || document.hidden) return;
    try {
      const lock = await call("GET", api + "/lock");
      const changedElsewhere = lock.base !== data.base && !lock.saved_by_me && inFlight === 0;
      if (changedElsewhere || lock.locked_by !== data.locked_by || lock.mine !== data.mine) {
        if (changedElsewhere) { await reload(); return; }
        data.locked_by = lock.locked_by;
        data.mine = lock.mine;
        data.editable = data.changeable && (!lock.locked_by || lock.mine);
        renderSide();
        setEditable(editable());
      }
    } catch (e) { /* the next poll tries again */ }
  }

  // the report as the server has it now; text on this screen it does not have is first put aside, never dropped
  async function reload() {
    const fresh = await call("GET", api);
    if (data && unsaved()) { keepAside(textOfBlocks(currentBlocks()), say("kept_before_reload")); forgetLocal(); }
    setData(fresh);
    render();
  }

  // --- find and replace -------------------------------------------------------------------------------
  function findNext(fromStart) {
    const needle = document.getElementById("find-text").value;
    if (!needle) return null;
    const pattern = new RegExp(needle.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"), "gi");
    const blocks = currentBlocks();
    const all = [];
    blocks.forEach(function (block, b) {
      let m;
      pattern.lastIndex = 0;
      while ((m = pattern.exec(block.text)) !== null) all.push({ block: b, start: m.index, end: m.index + m[0].length });
    });
    const count = document.getElementById("find-count");
    if (!all.length) { count.textContent = say("not_found"); highlight(null); find = null; return null; }
    const from = fromStart ? null : (find || lastPlace);
    let next = all.find(function (m) { return from && (m.block > from.block || (m.block === from.block && m.start >= (find ? from.end : from.start))); });
    if (!next) next = all[0];
    find = next;
    count.textContent = (all.indexOf(next) + 1) + " / " + all.length;
    highlight(next);
    return next;
  }

  function highlight(match) {
    if (!window.CSS || !CSS.highlights) return;
    CSS.highlights.delete("find");
    if (!match) return;
    const area = blockElements()[match.block];
    const range = T.rangeOf(area, match.start, match.end);
    CSS.highlights.set("find", new Highlight(range));
    const box = range.getBoundingClientRect();
    if (box.top < 0 || box.bottom > window.innerHeight) area.scrollIntoView({ block: "center" });
  }

  async function replaceOne() {
    const match = find || findNext(true);
    if (!match || !editable()) return;
    find = { block: match.block, start: match.start, end: match.start };
    try {
      await change(api + "/replace", { find: document.getElementById("find-text").value,
        replace: document.getElementById("replace-text").value, at: [match.block, match.start] }, true);
      find.end = match.start + document.getElementById("replace-text").value.length;
      if (!findNext(false)) document.getElementById("find-count").textContent = say("replaced_count", { count: 1 });
    } catch (e) { /* shown */ }
  }

  async function replaceAll() {
    if (!editable()) return;
    try {
      const answer = await change(api + "/replace", { find: document.getElementById("find-text").value,
        replace: document.getElementById("replace-text").value }, true);
      highlight(null);
      find = null;
      document.getElementById("find-count").textContent = say("replaced_count", { count: countOf(answer) });
    } catch (e) { /* shown */ }
  }

  function countOf(answer) { return answer.replaced === undefined ? "" : answer.replaced; }

  function openFind() {
    const bar = document.getElementById("find-bar");
    bar.hidden = false;
    const selected = window.getSelection().toString();
    const input = document.getElementById("find-text");
    if (selected && selected.length < 80 && selected.indexOf("\n") < 0) input.value = selected;
    input.focus();
    input.select();
  }

  function closeFind() {
    document.getElementById("find-bar").hidden = true;
    highlight(null);
    const target = find || lastPlace;
    const area = target ? blockElements()[target.block] : blockElements()[0];
    if (area) { area.focus(); if (target) T.select(area, target.start, target.end); }
    find = null;
  }

  // --- text blocks (autotext): a short code, then F3 ------------------------------------------------------
  function expandAutotext() {
    const place = placeNow();
    if (!place || !editable()) return;
    const area = blockElements()[place.block];
    const text = T.textOf(area, true);
    let start = place.start;
    while (start > 0 && !/\s/.test(text[start - 1])) start -= 1;
    const code = text.slice(start, place.start);
    const found = autotexts.find(function (a) { return a.code.toLowerCase() === code.toLowerCase(); });
    if (!found) { show(say("autotext_unknown", { code: code }), true); return; }
    T.select(area, start, place.start);
    T.insertPlain(area, found.text);
  }

  function insertAutotext(code) {
    const found = autotexts.find(function (a) { return a.code === code; });
    const place = lastPlace || { block: 0, start: 0, end: 0 };
    const area = blockElements()[place.block];
    if (!found || !area || !editable()) return;
    area.focus();
    T.select(area, place.start, place.end);
    T.insertPlain(area, found.text);
  }

  // --- the document: preview, print, confirmation before filing ------------------------------------------------
  async function openDocument(confirming) {
    await saveNow();
    await queue;
    let doc;
    try { doc = await call("GET", api + "/preview"); } catch (e) { show(e.message, true); return; }
    const sheet = document.getElementById("document-sheet");
    sheet.replaceChildren();
    const header = element("header", "sheet-header");
    doc.header.forEach(function (line) { header.appendChild(element("p", null, line)); });
    sheet.appendChild(header);
    // a draft never leaves the screen looking final: its mark on the sheet, on screen and on paper
    sheet.classList.toggle("draft", Boolean(doc.draft));
    sheet.dataset.mark = doc.draft_label || "";
    if (doc.draft && !doc.paragraphs.some(function (p) { return p.text.indexOf(doc.draft_label) >= 0; })) {
      sheet.appendChild(element("p", "draft-mark", doc.draft_label));
    }
    doc.paragraphs.forEach(function (p) {
      if (!p.text.trim()) return;
      const node = element(p.kind === "title" ? "h1" : p.kind === "heading" ? "h2" : "p", null, p.text);
      if (doc.draft && p.text === doc.draft_label) node.className = "draft-mark";
      sheet.appendChild(node);
    });
    document.getElementById("document-title").textContent = confirming
      ? (data.job.version ? say("confirm_refile", { version: data.job.version + 1 }) : say("confirm_file"))
      : words.preview_title;
    const confirm = document.getElementById("document-confirm");
    confirm.hidden = !confirming;
    dialog.dataset.confirming = confirming ? "1" : "";
    dialog.showModal();
    (confirming ? confirm : document.getElementById("document-close")).focus();
  }

  async function validate() {
    if (!editable()) return;
    const open = data.flags.filter(function (f) { return !f.resolved; });
    if (open.length) {
      show(say("flags_pending", { count: open.length }), true);
      goToFlag(open[0].index);
      return;
    }
    if (!data.job.patient_id) {  // said before the document opens, not at its last button (the server checks it too)
      show(say("err.choose_patient"), true);
      document.getElementById("patient-query").focus();
      return;
    }
    // the box as she ticked it (its save may still be on its way: the server checks it again, in order)
    if (data.problems.length && !document.getElementById("confirm-identity").checked) {
      show(say("identity_conflict") + ". " + say("identity_confirm_hint"), true);
      document.getElementById("confirm-identity").focus();
      return;
    }
    await openDocument(true);
  }

  async function confirmFiling() {
    const button = document.getElementById("document-confirm");
    button.disabled = true;
    try {
      const result = await change(api + "/validate", {});
      dialog.close();
      if (result.filed || result.awaiting_signature) {
        // said now: who signs it, when its author has no account to sign with
        const waits = result.signer === "author" ? say("awaiting_signature") : result.signer === "admin"
          ? say("awaiting_signature_admin") : say("awaiting_signature_by", { name: result.signer });
        show(result.filed ? say("filed") + colon + result.path + (result.unsigned ? " — " + say("filed_unsigned") : "")
          : waits, false);
        leaving = true;
        setTimeout(function () { window.location.href = "/queue"; }, 1500);
      } else {
        show(say("filing_failed") + " " + (result.error || ""), true);
      }
    } catch (e) {
      dialog.close();
    } finally {
      button.disabled = false;
    }
  }

  // --- keys: the foot pedal's (settings), and the day's shortcuts ----------------------------------------------------
  document.addEventListener("keydown", function (event) {
    const key = event.key;
    if (!event.ctrlKey && !event.altKey && !event.metaKey) {
      const pedal = [body.dataset.keyPlay, body.dataset.keyRewind, body.dataset.keyForward].indexOf(key) >= 0;
      if (pedal && event.repeat) { event.preventDefault(); return; }  // a pedal held down: one press, not a stream
      if (key === body.dataset.keyPlay) { event.preventDefault(); playPause(); return; }
      if (key === body.dataset.keyRewind) { event.preventDefault(); skip(-parseFloat(body.dataset.rewind)); return; }
      if (key === body.dataset.keyForward) { event.preventDefault(); skip(parseFloat(body.dataset.rewind)); return; }
      if (key === "F3") { event.preventDefault(); expandAutotext(); return; }
      if (key === "Escape" && !document.getElementById("find-bar").hidden && !dialog.open) { event.preventDefault(); closeFind(); return; }
      return;
    }
    const letter = key.length === 1 ? key.toLowerCase() : key;
    if (event.ctrlKey && !event.altKey) {
      if (letter === "s") { event.preventDefault(); saveNow(); }
      else if (letter === "h") { event.preventDefault(); openFind(); }
      else if (key === "Enter" && !dialog.open) { event.preventDefault(); validate(); }
      else if (key === " ") { event.preventDefault(); playFromCaret(); }
      else if ((key === "End" || key === "Home") && !event.shiftKey && placeNow()) {
        // the start or the end of the whole report, not only of its section
        event.preventDefault();
        const areas = blockElements();
        const area = key === "End" ? areas[areas.length - 1] : areas[0];
        const at = key === "End" ? T.textOf(area).length : 0;
        area.focus();
        T.select(area, at, at);
        area.scrollIntoView({ block: key === "End" ? "end" : "start" });
      }
      return;
    }
    if (event.altKey && !event.ctrlKey) {
      const digit = /^Digit([1-9])$/.exec(event.code || "");
      if (key === "ArrowDown") { event.preventDefault(); stepFlag(1); }
      else if (key === "ArrowUp") { event.preventDefault(); stepFlag(-1); }
      else if (letter === "v") {
        event.preventDefault();
        const flag = flagHere();
        if (flag && editable()) tick(flag.index, !flag.resolved);
      } else if (letter === "z") {
        event.preventDefault();
        const box = document.getElementById("edit-detail");
        const flag = flagHere();
        if (flag && flag.suggested && editable()) takeBackSuggestion(flag.index);
        else if (!box.hidden) revert(parseInt(box.dataset.edit, 10));
      } else if (letter === "p") { event.preventDefault(); openDocument(false); }
      else if (letter === "t") { event.preventDefault(); document.getElementById("worktype").focus(); }
      else if (letter === "n") { event.preventDefault(); goNext(); }
      else if (digit) { event.preventDefault(); choiceHere(parseInt(digit[1], 10)); }
    }
  }, true);

  async function goNext() {
    await saveNow();
    await queue;
    window.location.href = "/review/" + jobId + "/next";
  }

  document.getElementById("find-text").addEventListener("keydown", function (event) {
    if (event.key === "Enter") { event.preventDefault(); findNext(event.shiftKey); }
  });
  document.getElementById("find-text").addEventListener("input", function () { find = null; findNext(false); });
  document.getElementById("replace-text").addEventListener("keydown", function (event) {
    if (event.key === "Enter") { event.preventDefault(); replaceOne(); }
  });
  document.getElementById("find-open").addEventListener("click", openFind);
  document.getElementById("find-next").addEventListener("click", function () { findNext(false); });
  document.getElementById("replace-one").addEventListener("click", replaceOne);
  document.getElementById("replace-all").addEventListener("click", replaceAll);
  const picker = document.getElementById("autotext");
  if (picker) picker.addEventListener("change", function () { insertAutotext(picker.value); picker.value = ""; });
  document.getElementById("preview-open").addEventListener("click", function () { openDocument(false); });
  document.getElementById("document-confirm").addEventListener("click", confirmFiling);
  document.getElementById("document-print").addEventListener("click", function () { window.print(); });
  document.getElementById("play").addEventListener("click", playPause);
  document.getElementById("rewind").addEventListener("click", function () { skip(-parseFloat(body.dataset.rewind)); });
  document.getElementById("forward").addEventListener("click", function () { skip(parseFloat(body.dataset.rewind)); });
  document.getElementById("speed").addEventListener("change", function (event) { player.playbackRate = parseFloat(event.target.value); });
  document.getElementById("save").addEventListener("click", function () { dirty = true; saveNow(); });
  document.getElementById("validate").addEventListener("click", validate);
  document.getElementById("next").addEventListener("click", function (event) { event.preventDefault(); goNext(); });
  document.getElementById("worktype").addEventListener("change", function (event) {
    change(api + "/save", { worktype: event.target.value }).catch(function () {});
  });
  document.getElementById("recipient").addEventListener("change", function (event) {
    change(api + "/save", { recipient: event.target.value }).catch(function () {});
  });
  document.getElementById("copies").addEventListener("change", function (event) {
    const copies = event.target.value.split("\n").map(function (c) { return c.trim(); }).filter(Boolean);
    change(api + "/save", { copies: copies }).catch(function () {});
  });
  document.getElementById("kept-close").addEventListener("click", function () {
    document.getElementById("kept-text").hidden = true;
    document.querySelector("#kept-text textarea").value = "";
  });
  document.getElementById("confirm-identity").addEventListener("change", function (event) {
    change(api + "/save", { confirm_identity: event.target.checked }).catch(function () {});
  });
  document.getElementById("takeover").addEventListener("click", takeOver);
  document.getElementById("takeover-reason").addEventListener("keydown", function (event) {
    if (event.key === "Enter") { event.preventDefault(); takeOver(); }
  });
  document.getElementById("reopen").addEventListener("click", async function () {
    try { setData(await call("POST", api + "/reopen", {})); render(); show(""); } catch (e) { show(e.message, true); }
  });
  document.getElementById("return").addEventListener("click", async function () {
    try {
      await saveNow();
      await queue;
      await call("POST", api + "/return", { comment: document.getElementById("return-comment").value });
      leaving = true;
      window.location.href = "/queue";
    } catch (e) { show(e.message, true); }
  });

  async function takeOver() {
    try {
      const taken = await call("POST", api + "/takeover", { reason: document.getElementById("takeover-reason").value });
      if (unsaved()) keepAside(textOfBlocks(currentBlocks()), say("kept_before_reload"));
      setData(taken);
      render();
      show("");
    } catch (e) { show(e.message, true); }
  }

  let searchTimer = null;
  document.getElementById("patient-query").addEventListener("input", function (event) {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(async function () {
      const results = document.getElementById("patient-results");
      results.replaceChildren();
      const query = event.target.value.trim();
      if (query.length < 2) return;
      try {
        const found = await call("GET", "/api/patients?q=" + encodeURIComponent(query));
        found.forEach(function (p) { results.appendChild(patientItem(p.id, p.name, p.birth_date, "")); });
      } catch (e) { show(e.message, true); }
    }, 300);
  });

  window.addEventListener("pagehide", leave);
  window.addEventListener("beforeunload", leave);
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden") leave();
    else { leaving = false; refreshLock(); }
  });
  setInterval(refreshLock, 5000);

  function renderRefused() {
    const box = document.getElementById("refused-drafts");
    const list = box.querySelector("ul");
    list.replaceChildren();
    (data.refused || []).forEach(function (refused) {
      const item = element("li", null, say("refused_by", { name: refused.by, at: refused.at }));
      const area = element("textarea", null, refused.text);
      area.readOnly = true;
      area.rows = 3;
      area.setAttribute("aria-label", say("refused_by", { name: refused.by, at: refused.at }));
      item.appendChild(area);
      list.appendChild(item);
    });
    box.querySelector("summary").textContent = say("refused_title") + " (" + (data.refused || []).length + ")";
    box.hidden = !(data.refused || []).length;
  }

  function renderWorktype() {
    const select = document.getElementById("worktype");
    select.value = data.job.worktype || "";
    select.disabled = !editable();
    const recipient = document.getElementById("recipient");
    const copies = document.getElementById("copies");
    const letter = data.letter || { recipient: "", copies: [] };
    if (document.activeElement !== recipient) { recipient.value = letter.recipient || ""; }
    if (document.activeElement !== copies) { copies.value = (letter.copies || []).join("\n"); }
    recipient.disabled = copies.disabled = !editable();
    const removed = document.getElementById("audio-removed");
    removed.hidden = !data.audio_removed;
    removed.textContent = data.audio_removed ? say("audio_removed", { at: data.audio_removed }) : "";
  }

  function renderSide() {
    renderFlags();
    renderIdentity();
    renderLock();
    renderRefused();
    renderWorktype();
    ["save", "validate", "return", "return-comment"].forEach(function (id) { document.getElementById(id).disabled = !editable(); });
  }

  function render() {
    renderText();
    renderSide();
  }

  // text typed here that the server never had (a session that ended, a tab closed while offline): back on the
  // screen and sent, when nobody saved the report since; else put aside, to copy
  function restoreKept() {
    let kept = null;
    try { kept = JSON.parse(localStorage.getItem(localKey) || "null"); } catch (e) { kept = null; }
    if (!kept || !Array.isArray(kept.blocks)) { forgetLocal(); return; }
    const text = textOfBlocks(kept.blocks);
    if (text === serverText) { forgetLocal(); return; }
    const areas = blockElements();
    const same = kept.blocks.length === areas.length && kept.blocks.every(function (b, i) { return b.key === areas[i].dataset.key; });
    if (editable() && same && kept.base === data.base) {
      kept.blocks.forEach(function (b, i) { areas[i].textContent = b.text; });
      show(say("restored"), false);
      dirty = true;
      Promise.resolve(saveNow()).then(function () { if (!dirty) renderText(); });  // her words linked to the audio again
    } else {
      keepAside(text, say("kept_before_reload"));
      forgetLocal();
    }
  }

  Promise.all([call("GET", api), call("GET", "/api/autotext").catch(function () { return []; })])
    .then(function (loaded) {
      setData(loaded[0]);
      autotexts = loaded[1];
      render();
      const first = blockElements()[0];
      if (first && editable()) { first.focus(); T.select(first, 0, 0); }
      restoreKept();
      body.dataset.ready = "1";
    })
    .catch(function (e) { show(e.message, true); });
})();
