// The live run log: a websocket that sends the log from a byte offset (see nodes/consumers.py).
// Reconnects resume from the last offset; ANSI colours become spans; a carriage return rewrites
// the current line (tqdm progress bars); auto-scroll pauses when the reader scrolls up.
(function () {
  "use strict";
  var card = document.getElementById("run-log");
  if (!card) return;
  var pre = card.querySelector(".log");
  var statusText = card.querySelector(".log-status");
  var follow = card.querySelector(".log-follow");
  var search = card.querySelector(".log-search");
  var matches = card.querySelector(".log-matches");
  var MAX_LINES = 5000;
  var offset = 0, ended = false, retry = 500, socket = null;
  var current = null, currentRaw = "", lineStartStyle = {}, style = {};

  function setStatus(text) { statusText.textContent = text; }

  // ------------------------------------------------------------ ANSI SGR
  function applySgr(codes, st) {
    st = Object.assign({}, st);
    if (!codes.length) codes = [0];
    for (var i = 0; i < codes.length; i++) {
      var c = codes[i];
      if (c === 0) st = {};
      else if (c === 1) st.bold = true;
      else if (c === 22) delete st.bold;
      else if (c === 3) st.italic = true;
      else if (c === 4) st.underline = true;
      else if (c >= 30 && c <= 37) st.fg = c - 30;
      else if (c >= 90 && c <= 97) st.fg = c - 90 + 8;
      else if (c === 39) delete st.fg;
      else if (c >= 40 && c <= 47) st.bg = c - 40;
      else if (c >= 100 && c <= 107) st.bg = c - 100 + 8;
      else if (c === 49) delete st.bg;
      else if ((c === 38 || c === 48) && codes[i + 1] === 5) { st[c === 38 ? "fg" : "bg"] = codes[i + 2] % 16; i += 2; }
      else if ((c === 38 || c === 48) && codes[i + 1] === 2) { i += 4; }
    }
    return st;
  }

  function render(el, raw, st) {
    // Returns the style in force at the end of `raw`.
    el.textContent = "";
    var re = /\x1b\[([0-9;?]*)([A-Za-z])|\x1b[()][A-Za-z0-9]|\x1b[=>]/g, last = 0, m;
    function push(text) {
      if (!text) return;
      var span = document.createElement("span");
      var cls = [];
      if (st.fg !== undefined) cls.push("ansi-fg-" + st.fg);
      if (st.bg !== undefined) cls.push("ansi-bg-" + st.bg);
      if (st.bold) cls.push("ansi-bold");
      if (st.italic) cls.push("ansi-italic");
      if (st.underline) cls.push("ansi-underline");
      if (cls.length) span.className = cls.join(" ");
      span.textContent = text;
      el.appendChild(span);
    }
    while ((m = re.exec(raw)) !== null) {
      push(raw.slice(last, m.index));
      if (m[2] === "m") st = applySgr(m[1].split(";").filter(function (s) { return s !== ""; }).map(Number), st);
      last = re.lastIndex;
    }
    push(raw.slice(last));
    return st;
  }

  function visible(raw) {
    // A carriage return (not part of \r\n) starts the line over: keep what follows the last one.
    raw = raw.replace(/\r+$/, "");
    var i = raw.lastIndexOf("\r");
    return i >= 0 ? raw.slice(i + 1) : raw;
  }

  function newLine() {
    current = document.createElement("div");
    current.className = "log-line";
    pre.appendChild(current);
    currentRaw = "";
    lineStartStyle = style;
    while (pre.childElementCount > MAX_LINES) {
      pre.removeChild(pre.firstElementChild);
      if (!pre.dataset.trimmed) { pre.dataset.trimmed = "1"; card.classList.add("trimmed"); }
    }
  }

  function append(text) {
    var parts = text.replace(/\r\n/g, "\n").split("\n");
    for (var i = 0; i < parts.length; i++) {
      if (current === null) newLine();
      currentRaw += parts[i];
      var cr = currentRaw.replace(/\r+$/, "").lastIndexOf("\r");
      if (cr >= 0) currentRaw = currentRaw.slice(cr + 1);  // what a carriage return overwrote is gone
      var endStyle = render(current, visible(currentRaw), lineStartStyle);
      markMatch(current);
      if (i < parts.length - 1) { style = endStyle; current = null; }
      else style = lineStartStyle;  // the open line is re-rendered from its start next time
    }
    if (current !== null) style = lineStartStyle;
    if (follow.checked) pre.scrollTop = pre.scrollHeight;
  }

  // ------------------------------------------------------------ search
  function markMatch(line) {
    var term = search.value.trim().toLowerCase();
    line.classList.toggle("match", !!term && line.textContent.toLowerCase().indexOf(term) >= 0);
  }
  search.addEventListener("input", function () {
    var count = 0, first = null;
    pre.querySelectorAll(".log-line").forEach(function (line) {
      markMatch(line);
      if (line.classList.contains("match")) { count++; if (!first) first = line; }
    });
    matches.textContent = search.value.trim() ? count + " " + card.dataset.textMatches : "";
    if (first) { follow.checked = false; first.scrollIntoView({block: "center"}); }
  });

  // ------------------------------------------------------------ auto-scroll with pause
  pre.addEventListener("scroll", function () {
    var atBottom = pre.scrollHeight - pre.scrollTop - pre.clientHeight < 8;
    if (!atBottom && follow.checked && document.activeElement !== search) {
      follow.checked = false;
      setStatus(card.dataset.textPaused);
    } else if (atBottom && !follow.checked && !search.value) {
      follow.checked = true;
      if (!ended) setStatus(card.dataset.textLive);
    }
  });
  follow.addEventListener("change", function () {
    if (follow.checked) pre.scrollTop = pre.scrollHeight;
    if (!ended) setStatus(follow.checked ? card.dataset.textLive : card.dataset.textPaused);
  });

  // ------------------------------------------------------------ the socket
  function connect() {
    var url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + card.dataset.ws + "?offset=" + offset;
    socket = new WebSocket(url);
    socket.onopen = function () { retry = 500; setStatus(follow.checked ? card.dataset.textLive : card.dataset.textPaused); };
    socket.onmessage = function (event) {
      var message = JSON.parse(event.data);
      if (message.text !== undefined) { append(message.text); offset = message.offset; card.dataset.offset = offset; }
      if (message.end) {
        if (message.state === "queued" || message.state === "ending") { retry = 700; socket.close(); return; }
        ended = true;
        card.dataset.ended = message.state;
        setStatus(card.dataset.textEnded);
        socket.close();
      }
      if (message.error) { setStatus(message.error + " — " + card.dataset.textReconnecting); socket.close(); }
    };
    socket.onclose = function (event) {
      if (ended || event.code === 4401 || event.code === 4403 || event.code === 4404) return;
      if (!statusText.textContent || statusText.textContent === card.dataset.textLive) setStatus(card.dataset.textReconnecting);
      setTimeout(connect, retry);
      retry = Math.min(retry * 2, 10000);
    };
  }
  window.portalRunLog = {reconnect: function () { if (socket) socket.close(); }, offset: function () { return offset; }};
  connect();
})();
