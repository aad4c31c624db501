// Streams an answer from /ask/stream (newline-delimited JSON) into the page; text is set, never parsed as HTML.
(function () {
  const form = document.getElementById("ask-form");
  if (!form || !window.fetch || !window.TextDecoder) return;
  const answer = document.getElementById("answer");
  const citations = document.getElementById("citations");
  const status = document.getElementById("status");

  function show(event) {
    if (event.type === "token") {
      answer.textContent += event.text;
    } else if (event.type === "error") {
      status.textContent = event.message;
      status.className = "error-box";
    } else if (event.type === "done") {
      status.textContent = "Answered by " + event.generator + " in " + event.seconds + " s" +
        (event.cached ? " (from the answer cache)" : "") + ".";
      status.className = "small done";
      citations.textContent = "";
      for (const c of event.citations) {
        const item = document.createElement("li");
        item.value = c.ref;
        const title = document.createElement("b");
        title.textContent = c.title || c.doc_id;
        const source = document.createElement("span");
        source.className = "small";
        source.textContent = " " + (c.source || "");
        const text = document.createElement("div");
        text.className = "ctx";
        text.textContent = c.text;
        item.append(title, source, text);
        citations.append(item);
      }
      document.getElementById("sources").hidden = event.citations.length === 0;
    }
  }

  form.addEventListener("submit", async function (e) {
    e.preventDefault();
    answer.textContent = "";
    citations.textContent = "";
    status.textContent = "Thinking…";
    status.className = "small";
    document.getElementById("result").hidden = false;
    let response;
    try {
      response = await fetch("/ask/stream", {method: "POST", body: new URLSearchParams(new FormData(form))});
    } catch (err) {
      show({type: "error", message: "The server could not be reached."});
      return;
    }
    if (!response.ok) {
      show({type: "error", message: "The server refused the question (HTTP " + response.status + ")."});
      return;
    }
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    let buffer = "";
    for (;;) {
      const {value, done} = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, {stream: true});
      let newline;
      while ((newline = buffer.indexOf("\n")) >= 0) {
        const line = buffer.slice(0, newline);
        buffer = buffer.slice(newline + 1);
        if (line.trim()) show(JSON.parse(line));
      }
    }
  });
})();
