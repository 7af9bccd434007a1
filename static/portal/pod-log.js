// The pod page's log: "Follow live" streams it over a websocket, appending as it arrives and
// scrolling to the end unless paused. The download link follows the chosen container.
(function () {
  const form = document.getElementById("log-form");
  if (!form) return;
  const output = document.getElementById("log-output");
  const follow = document.getElementById("follow-button");
  const pause = document.getElementById("pause-button");
  const status = document.getElementById("follow-status");
  const download = document.getElementById("download-link");
  const MAX_CHARS = 2000000; // keep the page light: older text is dropped from the view, not from the log
  let socket = null;
  let paused = false;

  function query() {
    const params = new URLSearchParams(new FormData(form));
    return params;
  }
  function updateDownload() {
    const params = query();
    params.delete("tail");
    params.set("download", "1");
    download.href = download.href.split("?")[0] + "?" + params.toString();
  }
  form.addEventListener("change", updateDownload);
  updateDownload();

  function stop(message) {
    if (socket) { socket.onclose = null; socket.close(); socket = null; }
    follow.textContent = follow.dataset.startLabel || follow.textContent;
    pause.hidden = true;
    if (message) status.textContent = message;
  }
  follow.dataset.startLabel = follow.textContent;
  follow.addEventListener("click", function () {
    if (socket) { stop(""); return; }
    const params = query();
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    socket = new WebSocket(scheme + "//" + location.host + follow.dataset.ws + "?" + params.toString());
    output.textContent = "";
    follow.textContent = follow.dataset.stopLabel || "■";
    pause.hidden = false;
    status.textContent = "";
    socket.onmessage = function (event) {
      const message = JSON.parse(event.data);
      if (message.type === "log") {
        output.textContent += message.text;
        if (output.textContent.length > MAX_CHARS) output.textContent = output.textContent.slice(-MAX_CHARS);
        if (!paused) output.scrollTop = output.scrollHeight;
      } else if (message.type === "end") {
        stop(message.message);
      }
    };
    socket.onclose = function (event) { stop(event.code === 4403 ? "403" : ""); };
  });
  pause.addEventListener("click", function () {
    paused = !paused;
    pause.classList.toggle("primary", paused);
  });
})();
