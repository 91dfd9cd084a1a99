// Review screen: listening pane linked to the audio, edits and flags, patient, section editors.
"use strict";
(function () {
  const body = document.body;
  const jobId = body.dataset.job;
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const labels = document.getElementById("labels").content.firstElementChild.dataset;
  const player = document.getElementById("player");
  const wordsPane = document.getElementById("words");
  const message = document.getElementById("message");
  let data = null;
  let saveTimer = null;
  let playing = null;

  function show(text, isError) {
    message.textContent = text || "";
    message.className = isError ? "message error" : "message";
  }

  async function change(path, payload) {
    // a change made elsewhere on the screen first saves what was typed, so nothing typed is lost
    if (saveTimer !== null) await saveNow();
    return call("POST", path, payload);
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
    if (!response.ok && response.status !== 202) {
      throw new Error(content.error || ("HTTP " + response.status));
    }
    return content;
  }

  function element(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  function seek(start) {
    if (start === null || start === undefined) return;
    player.currentTime = Math.max(0, start - 0.3);
    player.play().catch(function () {});
  }

  function renderWords() {
    wordsPane.replaceChildren();
    data.words.forEach(function (piece, index) {
      if (piece.start === undefined && piece.edit === undefined) {
        piece.text.split("\n").forEach(function (part, i) {
          if (i > 0) wordsPane.appendChild(document.createElement("br"));
          wordsPane.appendChild(document.createTextNode(part));
        });
        return;
      }
      const span = element("span", "word", piece.text);
      span.dataset.index = index;
      if (piece.start !== null && piece.start !== undefined) span.dataset.start = piece.start;
      if (piece.end !== null && piece.end !== undefined) span.dataset.end = piece.end;
      if (piece.low) { span.classList.add("low"); span.title = labels.low; }
      if (piece.flags) span.classList.add("flagged");
      if (piece.edit !== undefined) {
        span.classList.add(piece.reverted ? "reverted" : "edit");
        span.dataset.edit = piece.edit;
        span.title = labels.heard + " : " + piece.heard;
      }
      span.addEventListener("click", function () {
        seek(piece.start);
        if (piece.edit !== undefined) showEdit(piece);
      });
      wordsPane.appendChild(span);
    });
  }

  function showEdit(piece) {
    let box = document.getElementById("edit-detail");
    if (!box) {
      box = element("div", "edit-detail");
      box.id = "edit-detail";
      wordsPane.after(box);
    }
    box.replaceChildren();
    box.appendChild(element("span", "heard", labels.heard + " : « " + piece.heard + " » → « " + piece.written + " » (" + piece.rule + ")"));
    const button = element("button", "revert", piece.reverted ? labels.reapply : labels.revert);
    button.type = "button";
    button.id = "revert-edit";
    button.disabled = !editable();
    button.addEventListener("click", async function () {
      try {
        data = await change("/api/review/" + jobId + "/revert", { edit: piece.edit, undo: piece.reverted });
        box.remove();
        render();
      } catch (e) { show(e.message, true); }
    });
    box.appendChild(button);
  }

  function renderFlags() {
    const list = document.getElementById("flags");
    list.replaceChildren();
    data.flags.forEach(function (flag) {
      const item = element("li", flag.resolved ? "flag resolved" : "flag");
      item.dataset.flag = flag.index;
      const box = document.createElement("input");
      box.type = "checkbox";
      box.checked = flag.resolved;
      box.disabled = !editable();
      box.id = "flag-" + flag.index;
      box.addEventListener("change", async function () {
        try {
          data = await change("/api/review/" + jobId + "/resolve", { flag: flag.index, resolved: box.checked });
          render();
        } catch (e) { box.checked = !box.checked; show(e.message, true); }
      });
      const label = element("label", null, " [" + flag.kind + "] " + flag.reason + " — " + labels.resolved);
      label.prepend(box);
      item.appendChild(label);
      (flag.choices || []).forEach(function (choice) {
        // a doubtful dose: one click writes the reading in its place and ticks the flag
        const button = element("button", "reading", choice);
        button.type = "button";
        button.dataset.reading = choice;
        button.disabled = !editable();
        button.addEventListener("click", async function () {
          try {
            data = await change("/api/review/" + jobId + "/reading", { flag: flag.index, reading: choice, blocks: currentBlocks() });
            render();
          } catch (e) { show(e.message, true); }
        });
        item.appendChild(button);
      });
      list.appendChild(item);
    });
  }

  function renderIdentity() {
    const pane = document.getElementById("identity");
    pane.replaceChildren();
    const given = data.identity.given;
    const dictated = data.identity.dictated;
    [given, dictated].forEach(function (who) {
      if (!who) return;
      const text = [who.given_names, who.family_name, who.birth_date, who.patient_id].filter(Boolean).join(" ");
      pane.appendChild(element("p", "dictated", labels.dictated + " (" + who.source + ") : " + text));
    });
    pane.appendChild(element("p", "chosen", data.patient ? labels.chosen + " : " + data.patient.name + " " +
      (data.patient.birth_date || "") + " (" + data.patient.id + ")" : labels.noPatient));
    if (data.problems.length) {
      const warning = element("p", "conflict", labels.conflict + " : " + data.problems.join(" ; "));
      warning.id = "identity-conflict";
      pane.appendChild(warning);
    }
    if (data.identity.candidates.length) {
      pane.appendChild(element("p", null, labels.candidates));
      const list = element("ul", "candidates");
      data.identity.candidates.forEach(function (c) { list.appendChild(patientItem(c.patient_id, c.name, c.birth_date, c.evidence.join(", "))); });
      pane.appendChild(list);
    }
    const confirmBox = document.getElementById("confirm-box");
    confirmBox.hidden = data.problems.length === 0;
    const confirm = document.getElementById("confirm-identity");
    confirm.checked = data.confirm_identity;
    confirm.disabled = !editable();
  }

  function patientItem(id, name, born, evidence) {
    const item = element("li", "candidate", name + " " + (born || "") + " (" + id + ")" + (evidence ? " — " + evidence : ""));
    const button = element("button", "choose", labels.choose);
    button.type = "button";
    button.dataset.patient = id;
    button.disabled = !editable();
    button.addEventListener("click", async function () {
      try {
        data = await change("/api/review/" + jobId + "/save", { patient_id: id });
        render();
      } catch (e) { show(e.message, true); }
    });
    item.appendChild(button);
    return item;
  }

  function renderBlocks() {
    const pane = document.getElementById("blocks");
    pane.replaceChildren();
    data.blocks.forEach(function (block, index) {
      const wrap = element("div", "block");
      const label = element("label", null, block.heading || labels.body);
      const area = document.createElement("textarea");
      area.value = block.text;
      area.rows = Math.max(3, Math.min(14, block.text.split("\n").length + 2));
      area.dataset.key = block.key;
      area.dataset.heading = block.heading;
      area.id = "block-" + index;
      area.disabled = !editable();
      area.addEventListener("input", scheduleSave);
      label.appendChild(area);
      wrap.appendChild(label);
      pane.appendChild(wrap);
    });
  }

  function editable() { return data && data.editable && data.mine; }

  function currentBlocks() {
    return Array.from(document.querySelectorAll("#blocks textarea")).map(function (area) {
      return { key: area.dataset.key, heading: area.dataset.heading, text: area.value };
    });
  }

  function scheduleSave() {
    document.getElementById("saved").textContent = "…";
    clearTimeout(saveTimer);
    saveTimer = setTimeout(saveNow, 700);
  }

  async function saveNow() {
    clearTimeout(saveTimer);
    saveTimer = null;
    if (!editable()) return;
    try {
      const result = await call("POST", "/api/review/" + jobId + "/save", { blocks: currentBlocks() });
      data.saved_at = result.saved_at;
      document.getElementById("saved").textContent = labels.saved + " " + new Date(result.saved_at * 1000).toLocaleTimeString();
    } catch (e) { show(e.message, true); }
  }

  function render() {
    renderWords();
    renderFlags();
    renderIdentity();
    renderBlocks();
    ["save", "validate", "return", "return-comment"].forEach(function (id) { document.getElementById(id).disabled = !editable(); });
  }

  // keyboard (configurable keys: a foot pedal that sends keys works)
  document.addEventListener("keydown", function (event) {
    const key = event.key;
    if (key === body.dataset.keyPlay) {
      event.preventDefault();
      if (player.paused) player.play().catch(function () {}); else player.pause();
    } else if (key === body.dataset.keyRewind) {
      event.preventDefault();
      player.currentTime = Math.max(0, player.currentTime - parseFloat(body.dataset.rewind));
    } else if (key === body.dataset.keyForward) {
      event.preventDefault();
      player.currentTime = player.currentTime + parseFloat(body.dataset.rewind);
    }
  }, true);

  player.addEventListener("timeupdate", function () {
    const now = player.currentTime;
    const spans = wordsPane.querySelectorAll("span[data-start]");
    let current = null;
    spans.forEach(function (span) {
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

  document.getElementById("play").addEventListener("click", function () { if (player.paused) player.play().catch(function () {}); else player.pause(); });
  document.getElementById("rewind").addEventListener("click", function () { player.currentTime = Math.max(0, player.currentTime - parseFloat(body.dataset.rewind)); });
  document.getElementById("speed").addEventListener("change", function (event) { player.playbackRate = parseFloat(event.target.value); });
  document.getElementById("save").addEventListener("click", saveNow);
  document.getElementById("confirm-identity").addEventListener("change", async function (event) {
    try {
      data = await change("/api/review/" + jobId + "/save", { confirm_identity: event.target.checked });
      render();
    } catch (e) { show(e.message, true); }
  });
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
  document.getElementById("validate").addEventListener("click", async function () {
    try {
      await saveNow();
      const result = await call("POST", "/api/review/" + jobId + "/validate", {});
      if (result.filed) {
        show(labels.filed + " : " + result.path, false);
        setTimeout(function () { window.location.href = "/queue"; }, 1500);
      } else {
        show(result.error, true);
      }
    } catch (e) { show(e.message, true); }
  });
  document.getElementById("return").addEventListener("click", async function () {
    try {
      await call("POST", "/api/review/" + jobId + "/return", { comment: document.getElementById("return-comment").value });
      window.location.href = "/queue";
    } catch (e) { show(e.message, true); }
  });
  setInterval(function () { if (editable()) call("POST", "/api/review/" + jobId + "/save", {}).catch(function () {}); }, 60000);

  call("GET", "/api/review/" + jobId).then(function (content) { data = content; render(); body.dataset.ready = "1"; })
    .catch(function (e) { show(e.message, true); });
})();
