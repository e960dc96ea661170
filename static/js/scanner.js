// The door scanner: camera (jsQR in a worker), keyboard-wedge scanners, search by name, and offline checking.
//
// Online, every scan goes to the server (POST /api/checkin) with a fresh nonce. When the server has not
// answered within 2 seconds, or the network is down, the page decides itself: it verifies the badge's Ed25519
// signature with the event's public key (WebCrypto) and looks the booking up in the attendee list it keeps in
// localStorage, queues the scan with its nonce, and sends the queue (POST /api/checkin/sync) when the server
// answers again. The server reconciles; a badge let in at two doors while offline becomes a reported conflict.
(function () {
  "use strict";

  var root = document.getElementById("scanner");
  if (!root) { return; }

  var cfg = {
    event: Number(root.dataset.event),
    workshop: root.dataset.workshop ? Number(root.dataset.workshop) : null,
    door: root.dataset.door || "",
    api: root.dataset.api,
    sync: root.dataset.sync,
    undo: root.dataset.undo,
    attendees: root.dataset.attendees,
    search: root.dataset.search,
    key: root.dataset.key,
    csrf: root.dataset.csrf,
    worker: root.dataset.worker
  };
  var TIMEOUT_MS = 2000;
  var SYNC_BATCH = 100;
  var SAME_CODE_PAUSE_MS = 4000;
  var prefix = "portal-checkin:" + cfg.event + ":" + (cfg.workshop || "main") + ":";

  var $ = function (id) { return document.getElementById(id); };
  var ui = {
    answer: $("answer"),
    title: $("answer-title"),
    name: $("answer-name"),
    ticket: $("answer-ticket"),
    detail: $("answer-detail"),
    admitted: $("count-admitted"),
    expected: $("count-expected"),
    connection: $("connection"),
    code: $("code"),
    wedge: $("wedge-form"),
    searchForm: $("search-form"),
    search: $("search"),
    results: $("search-results"),
    camera: $("camera-toggle"),
    video: $("camera-video"),
    cameraStatus: $("camera-status"),
    undo: $("undo")
  };

  // Colour and wording of each answer, as the server says them once (`scans.ANSWERS`, rendered into the page
  // as #answer-looks): {status: {colour, message}}. The server's own message wins when it sends one.
  var LOOKS = JSON.parse($("answer-looks").textContent);

  // --- storage (localStorage: survives a reload, per event and door location) ---------------------------
  function load(name, fallback) {
    try {
      var raw = window.localStorage.getItem(prefix + name);
      return raw ? JSON.parse(raw) : fallback;
    } catch (err) { return fallback; }
  }
  function save(name, value) {
    try { window.localStorage.setItem(prefix + name, JSON.stringify(value)); } catch (err) { /* full: keep in memory */ }
  }

  var state = {
    online: true,
    list: load("list", null),        // {attendees: {id: {...}}, window: {opens, closes}, admitted, expected}
    local: load("local", {}),        // admissions this device knows of beyond the list: {id: {at, door}}
    queue: load("queue", []),        // offline scans waiting to be sent
    seq: 0,
    shown: 0,
    lastText: "",
    lastTextAt: 0,
    heldBack: 0,                     // decodes of the code just sent, not sent again (shown as data-held-back)
    lastOk: null,
    syncing: false,
    conflicts: 0
  };

  // --- sounds (Web Audio oscillator beeps; no files) -----------------------------------------------------
  var audio = null;
  function unlockAudio() {
    var Ctor = window.AudioContext || window.webkitAudioContext;
    if (!audio && Ctor) { try { audio = new Ctor(); } catch (err) { audio = null; } }
    if (audio && audio.state === "suspended") { audio.resume(); }
  }
  function tone(freq, start, duration, type) {
    var osc = audio.createOscillator();
    var gain = audio.createGain();
    var t0 = audio.currentTime + start;
    osc.type = type;
    osc.frequency.value = freq;
    gain.gain.setValueAtTime(0.0001, t0);
    gain.gain.exponentialRampToValueAtTime(0.3, t0 + 0.01);
    gain.gain.exponentialRampToValueAtTime(0.0001, t0 + duration);
    osc.connect(gain);
    gain.connect(audio.destination);
    osc.start(t0);
    osc.stop(t0 + duration + 0.02);
  }
  function beep(kind) {
    root.dataset.lastSound = kind;
    if (!audio) { return; }
    if (kind === "ok") { tone(988, 0, 0.12, "sine"); tone(1319, 0.13, 0.16, "sine"); }
    else if (kind === "warn") { tone(660, 0, 0.14, "triangle"); tone(660, 0.22, 0.14, "triangle"); }
    else if (kind === "bad") { tone(180, 0, 0.5, "square"); }
  }
  document.addEventListener("pointerdown", unlockAudio);
  document.addEventListener("keydown", unlockAudio);

  // --- showing answers ---------------------------------------------------------------------------------
  var timeFormat = new Intl.DateTimeFormat("en-GB", { hour: "2-digit", minute: "2-digit", timeZone: "Europe/London" });
  function clock(iso) {
    var d = new Date(iso);
    return isNaN(d.getTime()) ? "" : timeFormat.format(d);
  }

  function show(answer, seq) {
    if (seq !== undefined) {
      if (seq < state.shown) { return; }  // a slower, older answer must not replace a newer one
      state.shown = seq;
    }
    var look = LOOKS[answer.status] || LOOKS.error;
    ui.answer.className = "answer " + look.colour;
    ui.answer.dataset.status = answer.status;
    ui.title.textContent = answer.message || look.message;
    ui.name.textContent = answer.name || "";
    ui.ticket.textContent = answer.ticket || "";
    var detail = [];
    if (answer.first && answer.first.at) {
      detail.push("First checked in at " + clock(answer.first.at) + (answer.first.door ? " (" + answer.first.door + ")" : ""));
    }
    if (answer.offline) { detail.push("Checked on this device (offline); it will be sent when the network is back."); }
    ui.detail.textContent = detail.join(". ");
    ui.undo.hidden = !(answer.status === "ok" && state.lastOk);
    beep(look.colour);
    refocus();
  }

  function setCounts() {
    if (!state.list) { return; }
    ui.admitted.textContent = String(state.list.admitted);
    ui.expected.textContent = String(state.list.expected);
  }

  function setConnection() {
    var waiting = state.queue.length;
    var text;
    if (state.online && !waiting) {
      text = "Online.";
      ui.connection.className = "connection online";
    } else if (state.online) {
      text = "Online. Sending " + waiting + " offline scan" + (waiting === 1 ? "" : "s") + "…";
      ui.connection.className = "connection online";
    } else {
      text = "Offline: checking badges on this device. " + waiting + " scan" + (waiting === 1 ? "" : "s") + " waiting to be sent.";
      ui.connection.className = "connection offline";
    }
    if (state.conflicts) {
      text += " " + state.conflicts + " conflict" + (state.conflicts === 1 ? "" : "s") + " found when offline scans were sent: see the conflicts page.";
    }
    ui.connection.textContent = text;
    root.dataset.online = state.online ? "yes" : "no";
    root.dataset.queued = String(waiting);
  }

  // --- the wire ------------------------------------------------------------------------------------------
  function nonce() {
    if (window.crypto && window.crypto.randomUUID) { return window.crypto.randomUUID(); }
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return (b + 256).toString(16).slice(1); }).join("");
  }

  function request(url, options, timeout) {
    var controller = new AbortController();
    var timer = setTimeout(function () { controller.abort(); }, timeout);
    var init = {
      method: options.method || "GET",
      credentials: "same-origin",
      headers: { "Accept": "application/json" },
      signal: controller.signal
    };
    if (options.body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.headers["X-CSRF-Token"] = cfg.csrf;
      init.body = JSON.stringify(options.body);
    }
    return fetch(url, init).then(function (resp) {
      clearTimeout(timer);
      if (resp.status >= 500) { throw new Error("server error " + resp.status); }
      return resp.json().then(function (body) { return { ok: resp.ok, status: resp.status, body: body }; });
    }, function (err) { clearTimeout(timer); throw err; });
  }

  function goOffline() {
    if (state.online) { state.online = false; setConnection(); }
  }

  // --- checking a scan -----------------------------------------------------------------------------------
  function submit(what) {
    var scan = {
      nonce: nonce(),
      door: cfg.door,
      event: cfg.event,
      scanned_at: new Date().toISOString()
    };
    if (cfg.workshop) { scan.workshop = cfg.workshop; }
    if (what.code !== undefined) { scan.code = what.code; } else { scan.registration = what.registration; }
    var seq = ++state.seq;
    if (!state.online || navigator.onLine === false) {
      goOffline();
      return decideOffline(scan, seq);
    }
    return request(cfg.api, { method: "POST", body: scan }, TIMEOUT_MS).then(function (res) {
      if (!res.ok) {
        var error = res.body && res.body.error ? res.body.error : {};
        show({ status: "error", message: error.message || "The server refused this scan." }, seq);
        return;
      }
      var answer = res.body;
      if (answer.status === "ok") {
        state.lastOk = { nonce: scan.nonce, registration: answer.registration, offline: false };
        markAdmitted(answer.registration, scan.scanned_at, cfg.door);
      } else {
        state.lastOk = null;
      }
      show(answer, seq);
    }, function () {
      goOffline();
      return decideOffline(scan, seq);
    });
  }

  function markAdmitted(id, at, door) {
    if (id === undefined || id === null) { return; }
    var known = state.list && state.list.attendees[id];
    if (state.local[id] || (known && known.admitted_at)) { return; }
    state.local[id] = { at: at, door: door };
    save("local", state.local);
    if (state.list) { state.list.admitted += 1; setCounts(); }
  }

  function decideOffline(scan, seq) {
    var claim = scan.code !== undefined ? verifyCode(scan.code) : Promise.resolve({ registration: scan.registration, serial: null });
    return claim.then(function (found) {
      var answer = localAnswer(found);
      answer.offline = true;
      scan.client_result = answer.status;
      state.queue.push(scan);
      save("queue", state.queue);
      if (answer.status === "ok") {
        markAdmitted(answer.registration, scan.scanned_at, cfg.door);
        state.lastOk = { nonce: scan.nonce, registration: answer.registration, offline: true };
      } else {
        state.lastOk = null;
      }
      setConnection();
      show(answer, seq);
    });
  }

  function localAnswer(claim) {
    if (!claim) { return { status: "invalid" }; }
    if (claim.event !== undefined && claim.event !== cfg.event) { return { status: "wrong_event" }; }
    var list = state.list;
    var person = list ? list.attendees[claim.registration] : null;
    if (!person) { return { status: "unknown" }; }
    var answer = { registration: claim.registration, name: person.name, ticket: person.ticket };
    var now = Date.now();
    if (claim.serial !== null && claim.serial !== person.serial) { answer.status = claim.serial < person.serial ? "revoked" : "invalid"; return answer; }
    if (person.status === "cancelled") { answer.status = "cancelled"; return answer; }
    if (person.status === "waitlisted") { answer.status = "waitlisted"; return answer; }
    if (person.status === "not_booked") { answer.status = "not_booked"; return answer; }
    if (person.status === "unpaid") { answer.status = "unpaid"; return answer; }
    if (list.window && ((list.window.opens && now < Date.parse(list.window.opens)) || (list.window.closes && now > Date.parse(list.window.closes)))) {
      answer.status = "not_open";
      return answer;
    }
    var first = state.local[claim.registration] || (person.admitted_at ? { at: person.admitted_at, door: person.admitted_door } : null);
    if (first) { answer.status = "already_checked_in"; answer.first = first; return answer; }
    answer.status = "ok";
    return answer;
  }

  // --- badge codes in the browser (the same format as portal/checkin/badges.py) ---------------------------
  var B32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  function base32(text) {
    var bits = 0, value = 0, out = [];
    for (var i = 0; i < text.length; i++) {
      var index = B32.indexOf(text.charAt(i));
      if (index < 0) { return null; }
      value = ((value << 5) | index) & 0xfff;
      bits += 5;
      if (bits >= 8) { out.push((value >>> (bits - 8)) & 0xff); bits -= 8; }
    }
    if (bits >= 5 || (value & ((1 << bits) - 1)) !== 0) { return null; }  // not canonical
    return new Uint8Array(out);
  }
  function varints(bytes, count) {
    var values = [], pos = 0;
    for (var n = 0; n < count; n++) {
      var value = 0, scale = 1, i = 0;
      for (;;) {
        if (pos >= bytes.length || i >= 9) { return null; }
        var byte = bytes[pos++];
        value += (byte & 0x7f) * scale;
        scale *= 128;
        i++;
        if (!(byte & 0x80)) { if (byte === 0 && i > 1) { return null; } break; }
      }
      values.push(value);
    }
    return pos === bytes.length ? values : null;
  }
  var keyPromise = null;
  function eventKey() {
    if (!keyPromise) {
      var b64 = cfg.key.replace(/-/g, "+").replace(/_/g, "/");
      while (b64.length % 4) { b64 += "="; }
      var raw = Uint8Array.from(atob(b64), function (c) { return c.charCodeAt(0); });
      keyPromise = window.crypto.subtle.importKey("raw", raw, { name: "Ed25519" }, false, ["verify"]);
    }
    return keyPromise;
  }
  function verifyCode(text) {
    var code = text.replace(/\s+/g, "").toUpperCase();
    if (code.length > 200 || code.indexOf("B1:") !== 0) { return Promise.resolve(null); }
    var raw = base32(code.slice(3));
    if (!raw || raw.length <= 64) { return Promise.resolve(null); }
    var payload = raw.slice(0, raw.length - 64);
    var signature = raw.slice(raw.length - 64);
    var fields = varints(payload, 3);
    if (!fields) { return Promise.resolve(null); }
    var claim = { registration: fields[0], event: fields[1], serial: fields[2] };
    // A code for another event cannot be checked with this event's key; say which it is.
    if (claim.event !== cfg.event) { return Promise.resolve(claim); }
    var message = new Uint8Array(3 + payload.length);
    message.set([66, 49, 58]);  // "B1:"
    message.set(payload, 3);
    return eventKey().then(function (key) {
      return window.crypto.subtle.verify({ name: "Ed25519" }, key, signature, message);
    }).then(function (good) { return good ? claim : null; }, function () { return null; });
  }

  // --- the attendee list, counts and the queue -----------------------------------------------------------
  function refreshList() {
    var url = cfg.attendees + (cfg.workshop ? "?workshop=" + cfg.workshop : "");
    return request(url, {}, 10000).then(function (res) {
      if (!res.ok) { return; }
      var attendees = {};
      res.body.attendees.forEach(function (a) { attendees[a.id] = a; });
      // Admissions the server now knows replace what this device remembered.
      Object.keys(state.local).forEach(function (id) {
        if (attendees[id] && attendees[id].admitted_at) { delete state.local[id]; }
      });
      var pendingLocal = Object.keys(state.local).length;
      state.list = {
        attendees: attendees,
        window: res.body.window,
        admitted: res.body.admitted + pendingLocal,
        expected: res.body.expected
      };
      save("list", state.list);
      save("local", state.local);
      if (!state.queue.length) { state.online = true; }
      setCounts();
      setConnection();
    }, function () { goOffline(); });
  }

  function sync() {
    if (state.syncing || !state.queue.length) { return Promise.resolve(); }
    state.syncing = true;
    var batch = state.queue.slice(0, SYNC_BATCH);
    return request(cfg.sync, { method: "POST", body: { scans: batch } }, 10000).then(function (res) {
      state.syncing = false;
      if (!res.ok) { return; }
      var done = {};
      res.body.results.forEach(function (r) {
        done[r.nonce] = true;
        if (r.conflict) { state.conflicts += 1; }
      });
      state.queue = state.queue.filter(function (s) { return !done[s.nonce]; });
      save("queue", state.queue);
      state.online = true;
      setConnection();
      if (state.queue.length) { return sync(); }
      return refreshList();
    }, function () {
      state.syncing = false;
      goOffline();
    });
  }

  function heartbeat() {
    if (state.queue.length) { sync(); }
    else if (!state.online) { refreshList(); }
  }
  window.addEventListener("online", function () { state.online = true; setConnection(); heartbeat(); });
  window.addEventListener("offline", goOffline);

  // --- undo ----------------------------------------------------------------------------------------------
  ui.undo.addEventListener("click", function () {
    var last = state.lastOk;
    if (!last) { return; }
    state.lastOk = null;
    ui.undo.hidden = true;
    var forget = function () {
      if (state.local[last.registration]) {
        delete state.local[last.registration];
        save("local", state.local);
        if (state.list) { state.list.admitted -= 1; setCounts(); }
      }
    };
    var queued = state.queue.filter(function (s) { return s.nonce === last.nonce; }).length;
    if (queued) {
      state.queue = state.queue.filter(function (s) { return s.nonce !== last.nonce; });
      save("queue", state.queue);
      forget();
      setConnection();
      show({ status: "undone" });
      return;
    }
    request(cfg.undo, { method: "POST", body: { nonce: last.nonce, door: cfg.door } }, TIMEOUT_MS * 2).then(function (res) {
      if (res.ok) {
        forget();
        if (state.list && state.list.attendees[last.registration]) {
          var person = state.list.attendees[last.registration];
          if (person.admitted_at) { person.admitted_at = null; state.list.admitted -= 1; setCounts(); }
        }
        show({ status: "undone", name: res.body.name, ticket: res.body.ticket });
      } else {
        show({ status: "error", message: (res.body.error && res.body.error.message) || "Could not undo." });
      }
    }, function () { show({ status: "error", message: "Could not reach the server to undo." }); });
  });

  // --- keyboard wedge: an always-focused field that takes a code and Enter --------------------------------
  function refocus() {
    var active = document.activeElement;
    if (!active || active === document.body || active === ui.answer || active === ui.code) {
      ui.code.focus({ preventScroll: true });
    }
  }
  ui.wedge.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = ui.code.value.trim();
    ui.code.value = "";
    ui.code.focus({ preventScroll: true });
    if (text) { submit({ code: text }); }
  });
  ui.code.addEventListener("blur", function () {
    // Give the focus back unless the person moved to another control on purpose.
    setTimeout(function () {
      var active = document.activeElement;
      if (!active || active === document.body) { ui.code.focus({ preventScroll: true }); }
    }, 0);
  });

  // --- search by name ------------------------------------------------------------------------------------
  var searchTimer = null;
  function renderResults(people, query) {
    ui.results.textContent = "";
    if (!query) { ui.results.hidden = true; return; }
    ui.results.hidden = false;
    var summary = document.createElement("li");
    summary.className = "results-summary";
    summary.textContent = people.length ? people.length + " found" : "Nobody found for \u201c" + query + "\u201d";
    ui.results.appendChild(summary);
    people.forEach(function (p) {
      var item = document.createElement("li");
      var who = document.createElement("span");
      who.className = "who";
      var name = document.createElement("strong");
      name.textContent = p.name;
      who.appendChild(name);
      var meta = document.createElement("span");
      meta.className = "meta";
      meta.textContent = [p.ticket, p.affiliation, p.admitted_at ? "checked in " + clock(p.admitted_at) : ""].filter(Boolean).join(" · ");
      who.appendChild(meta);
      item.appendChild(who);
      if (p.admitted_at || state.local[p.id]) {
        // Already in: nothing to admit (a second admission would only be a "checked in already" answer).
        var done = document.createElement("span");
        done.className = "badge ok";
        done.textContent = "Already in";
        item.appendChild(done);
      } else {
        var button = document.createElement("button");
        button.type = "button";
        button.className = "button small";
        button.textContent = "Admit";
        button.setAttribute("aria-label", "Admit " + p.name);
        button.addEventListener("click", function () {
          ui.search.value = "";
          renderResults([], "");
          submit({ registration: p.id });
          ui.code.focus({ preventScroll: true });
        });
        item.appendChild(button);
      }
      ui.results.appendChild(item);
    });
  }
  function localSearch(query) {
    if (!state.list) { return []; }
    var q = query.toLowerCase();
    return Object.keys(state.list.attendees).map(function (id) { return state.list.attendees[id]; })
      .filter(function (p) { return p.name.toLowerCase().indexOf(q) >= 0; })
      .slice(0, 20);
  }
  function runSearch() {
    var query = ui.search.value.trim();
    if (query.length < 2) { renderResults([], query.length ? query : ""); return; }
    if (!state.online) { renderResults(localSearch(query), query); return; }
    var url = cfg.search + "?q=" + encodeURIComponent(query) + (cfg.workshop ? "&workshop=" + cfg.workshop : "");
    request(url, {}, TIMEOUT_MS).then(function (res) {
      if (ui.search.value.trim() !== query) { return; }
      renderResults(res.ok ? res.body.results : localSearch(query), query);
    }, function () { goOffline(); renderResults(localSearch(query), query); });
  }
  ui.searchForm.addEventListener("submit", function (event) { event.preventDefault(); runSearch(); });
  ui.search.addEventListener("input", function () {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(runSearch, 200);
  });

  // --- camera --------------------------------------------------------------------------------------------
  var camera = { stream: null, worker: null, busy: false, canvas: document.createElement("canvas"), timer: null };
  function onDecoded(text) {
    if (!text) { return; }
    var now = Date.now();
    if (text === state.lastText && now - state.lastTextAt < SAME_CODE_PAUSE_MS) {
      root.dataset.heldBack = String(++state.heldBack);
      return;
    }
    state.lastText = text;
    state.lastTextAt = now;
    submit({ code: text });
  }
  function grab() {
    camera.timer = null;
    if (!camera.stream) { return; }
    var video = ui.video;
    if (!camera.busy && video.readyState >= 2 && video.videoWidth) {
      var scale = Math.min(1, 800 / video.videoWidth);
      var w = Math.round(video.videoWidth * scale), h = Math.round(video.videoHeight * scale);
      camera.canvas.width = w;
      camera.canvas.height = h;
      var context = camera.canvas.getContext("2d", { willReadFrequently: true });
      context.drawImage(video, 0, 0, w, h);
      var frame = context.getImageData(0, 0, w, h);
      camera.busy = true;
      camera.worker.postMessage({ buffer: frame.data.buffer, width: w, height: h }, [frame.data.buffer]);
    }
    camera.timer = setTimeout(grab, 120);
  }
  function startCamera() {
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      ui.cameraStatus.textContent = "This browser cannot use a camera here. Use a USB scanner or the search.";
      return;
    }
    ui.cameraStatus.textContent = "Starting the camera…";
    navigator.mediaDevices.getUserMedia({ video: { facingMode: { ideal: "environment" } }, audio: false }).then(function (stream) {
      camera.stream = stream;
      camera.worker = new Worker(cfg.worker);
      camera.worker.onmessage = function (event) { camera.busy = false; onDecoded(event.data.text); };
      ui.video.srcObject = stream;
      ui.video.hidden = false;
      ui.video.play();
      ui.camera.textContent = "Stop camera";
      ui.camera.setAttribute("aria-pressed", "true");
      ui.cameraStatus.textContent = "Camera on: hold a badge's QR code in view.";
      root.dataset.camera = "on";
      grab();
    }, function (err) {
      ui.cameraStatus.textContent = "The camera could not start (" + err.name + "). Use a USB scanner or the search.";
    });
  }
  function stopCamera() {
    if (camera.stream) { camera.stream.getTracks().forEach(function (t) { t.stop(); }); }
    if (camera.worker) { camera.worker.terminate(); }
    if (camera.timer) { clearTimeout(camera.timer); }
    camera.stream = camera.worker = camera.timer = null;
    camera.busy = false;
    ui.video.hidden = true;
    ui.video.srcObject = null;
    ui.camera.textContent = "Start camera";
    ui.camera.setAttribute("aria-pressed", "false");
    ui.cameraStatus.textContent = "Camera off.";
    root.dataset.camera = "off";
  }
  ui.camera.addEventListener("click", function () {
    unlockAudio();
    if (camera.stream) { stopCamera(); } else { startCamera(); }
  });

  // --- start ---------------------------------------------------------------------------------------------
  $("camera-panel").hidden = false;  // the camera needs this script; without it the page shows only the form
  setCounts();
  setConnection();
  refreshList().then(function () { if (state.queue.length) { sync(); } });
  setInterval(heartbeat, 5000);
  setInterval(function () { if (state.online && !state.queue.length) { refreshList(); } }, 60000);
  root.dataset.ready = "yes";
  ui.code.focus({ preventScroll: true });
})();
