// Uploads with a progress bar: the file goes as the raw body of a PUT (XMLHttpRequest, so that
// upload.onprogress reports), which the portal streams on to the node's agent.
(function () {
  "use strict";
  var card = document.querySelector(".upload-card");
  if (!card) return;
  var status = card.querySelector(".upload-status");
  var bar = status.querySelector("progress");
  var text = status.querySelector(".upload-text");
  var csrf = "";
  try { csrf = JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || ""; } catch (e) { /* none */ }

  function size(bytes) {
    var units = ["B", "KiB", "MiB", "GiB", "TiB"], i = 0;
    while (bytes >= 1024 && i < units.length - 1) { bytes /= 1024; i++; }
    return bytes.toFixed(i ? 1 : 0) + " " + units[i];
  }

  function send(url, file) {
    return new Promise(function (resolve, reject) {
      var xhr = new XMLHttpRequest();
      var started = Date.now();
      xhr.open("PUT", url);
      xhr.setRequestHeader("X-CSRFToken", csrf);
      xhr.setRequestHeader("Content-Type", file.type || "application/octet-stream");
      xhr.upload.onprogress = function (event) {
        if (!event.lengthComputable) return;
        var percent = Math.floor(event.loaded * 100 / event.total);
        var rate = event.loaded / Math.max(0.001, (Date.now() - started) / 1000);
        bar.value = percent;
        text.textContent = file.name + ": " + size(event.loaded) + " / " + size(event.total) + " (" + percent + "%) · " + size(rate) + "/s";
      };
      xhr.onload = function () {
        var body = {};
        try { body = JSON.parse(xhr.responseText); } catch (e) { body = {error: xhr.status + " " + xhr.statusText}; }
        if (xhr.status >= 200 && xhr.status < 300) resolve(body); else reject(body.error || xhr.statusText);
      };
      xhr.onerror = function () { reject(card.dataset.networkError || "network error"); };
      xhr.send(file);
    });
  }

  card.querySelectorAll(".upload-form").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var input = form.querySelector("input[type=file]");
      var files = Array.prototype.slice.call(input.files);
      if (!files.length) return;
      var archive = form.dataset.mode === "archive";
      if (archive && form.dataset.confirm && !window.confirm(form.dataset.confirm)) return;
      var base = card.dataset.uploadUrl, folder = card.dataset.folder;
      status.hidden = false;
      status.classList.remove("failed");
      bar.value = 0;
      form.querySelectorAll("button").forEach(function (b) { b.disabled = true; });
      var chain = Promise.resolve(), last = null;
      files.forEach(function (file) {
        chain = chain.then(function () {
          var url;
          if (archive) {
            var keep = form.querySelector("textarea[name=keep]").value.split("\n").map(function (s) { return s.trim(); }).filter(Boolean);
            url = base + "?archive=1" + (keep.length ? keep.map(function (k) { return "&keep=" + encodeURIComponent(k); }).join("") : "&keep=");
          } else {
            url = base + "?path=" + encodeURIComponent(folder ? folder + "/" + file.name : file.name);
          }
          return send(url, file).then(function (body) { last = body; });
        });
      });
      chain.then(function () {
        bar.value = 100;
        text.textContent = (last && last.message) || "";
        status.dataset.state = "done";
        setTimeout(function () { window.location.reload(); }, 800);
      }, function (error) {
        status.classList.add("failed");
        status.dataset.state = "failed";
        text.textContent = error;
      }).then(function () {
        form.querySelectorAll("button").forEach(function (b) { b.disabled = false; });
      });
    });
  });
})();
