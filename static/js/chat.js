// The live chat: sends messages over the conversation's socket and renders what streams back.
(() => {
  const chat = document.getElementById("chat");
  if (!chat) return;
  const messages = document.getElementById("chat-messages");
  const form = document.getElementById("chat-form");
  const input = document.getElementById("chat-input");
  const imageInput = document.getElementById("chat-image");
  const sendButton = document.getElementById("chat-send");
  const stopButton = document.getElementById("chat-stop");
  const errorBox = document.getElementById("chat-error");
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  let socket = null;
  let reply = null; // the <article> of the answer being streamed

  function connect() {
    socket = new WebSocket(`${scheme}://${location.host}${chat.dataset.socket}`);
    socket.onopen = () => { document.body.dataset.live = "open"; };
    socket.onclose = () => {
      document.body.dataset.live = "closed";
      busy(false);
      setTimeout(connect, 1000);
    };
    socket.onmessage = (event) => handle(JSON.parse(event.data));
  }

  function scrollDown() { messages.scrollTop = messages.scrollHeight; }

  function article(role) {
    document.getElementById("chat-empty")?.remove();
    const node = document.createElement("article");
    node.className = `msg msg-${role}`;
    messages.appendChild(node);
    return node;
  }

  function body(node) {
    let part = node.querySelector(":scope > .msg-body");
    if (!part) {
      part = document.createElement("div");
      part.className = "msg-body";
      node.appendChild(part);
    }
    return part;
  }

  function fromHtml(html) {
    const template = document.createElement("template");
    template.innerHTML = html.trim();
    return template.content.firstElementChild;
  }

  function busy(on) {
    if (!form) return;
    sendButton.hidden = on;
    stopButton.hidden = !on;
    chat.dataset.busy = on ? "true" : "false";
  }

  function showError(message) {
    errorBox.textContent = message;
    errorBox.hidden = !message;
  }

  function handle(event) {
    if (event.type === "user") {
      const node = article("user");
      body(node).innerHTML = event.html;
      reply = article("assistant");
      reply.setAttribute("aria-busy", "true");
      busy(true);
    } else if (event.type === "token") {
      const part = body(reply);
      part.textContent += event.text; // plain text while streaming; markdown at the end
    } else if (event.type === "tool_started") {
      const card = fromHtml(event.html);
      body(reply).textContent = "";
      reply.insertBefore(card, reply.querySelector(":scope > .msg-body"));
    } else if (event.type === "tool_finished") {
      document.getElementById(`call-${event.call_id}`)?.replaceWith(fromHtml(event.html));
    } else if (event.type === "final") {
      body(reply).innerHTML = event.html;
      finish();
    } else if (event.type === "stopped") {
      reply?.classList.add("msg-stopped");
      finish();
    } else if (event.type === "error") {
      showError(event.message);
      if (reply) finish();
    }
    scrollDown();
  }

  function finish() {
    reply?.removeAttribute("aria-busy");
    reply = null;
    busy(false);
  }

  function readImage(file) {
    return new Promise((resolve, reject) => {
      const reader = new FileReader();
      reader.onload = () => resolve(String(reader.result).split(",")[1]);
      reader.onerror = () => reject(reader.error);
      reader.readAsDataURL(file);
    });
  }

  async function send() {
    const text = input.value.trim();
    const file = imageInput.files[0];
    if (!text && !file) return;
    showError("");
    if (file && file.size > 5 * 1024 * 1024) { showError("The image is larger than 5 MB"); return; }
    const message = { type: "send", text };
    if (file) message.image = await readImage(file);
    socket.send(JSON.stringify(message));
    input.value = "";
    imageInput.value = "";
  }

  if (form) {
    form.addEventListener("submit", (event) => { event.preventDefault(); send(); });
    input.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey) { event.preventDefault(); send(); }
    });
    stopButton.addEventListener("click", () => socket.send(JSON.stringify({ type: "stop" })));
  }
  connect();
  scrollDown();
})();
