// The talk room client: speaks docs/talk-protocol.md over one WebSocket,
// reconnects with backoff and resumes from the last message it has in full.
// Everything the server sends is rendered with textContent, never as HTML.
(function () {
  "use strict";

  const root = document.getElementById("talk");
  if (!root) return;

  const log = document.getElementById("talk-log");
  const form = document.getElementById("talk-form");
  const input = document.getElementById("talk-input");
  const sendButton = document.getElementById("talk-send");
  const stateEl = document.getElementById("talk-state");
  const countEl = document.getElementById("talk-count");
  const noticeEl = document.getElementById("talk-notice");
  const renameForm = document.getElementById("talk-rename");
  const nameInput = document.getElementById("talk-name");

  // UI strings come translated from the page (data-t-*); {name} style
  // placeholders are filled here. The Korean text is the fallback.
  function t(key, fallback, vars) {
    const text = root.dataset[key] || fallback;
    return text.replace(/\{(\w+)\}/g, (all, name) => (vars && name in vars ? String(vars[name]) : all));
  }
  const STATES = {
    connecting: t("tConnecting", "연결 중…"),
    connected: t("tConnected", "연결됨"),
    reconnecting: t("tReconnecting", "연결이 끊겼습니다. 다시 연결하는 중…"),
    closed: t("tClosed", "연결 종료"),
  };
  // Close codes after which reconnecting cannot help (docs/talk-protocol.md).
  const FINAL_CODES = new Set([4403, 4404]);
  // 1012 "service restart": the replica is shutting down (blog_site/serve.py)
  // and the others are fine, so reconnect at once rather than back off.
  const SERVICE_RESTART = 1012;
  // 4408: this tab fell too far behind (did not acknowledge in time, e.g. it
  // was frozen in the background); reconnecting and resuming catches up.
  const OVER_CAPACITY = 4408;
  // Acknowledge received frames at least this often (the hello may say
  // otherwise), and within ACK_DELAY ms of the first unacknowledged one.
  const ACK_DELAY = 1000;

  const timeFormat = new Intl.DateTimeFormat(root.dataset.locale || "ko", {
    timeZone: root.dataset.timeZone || undefined,
    hour: "2-digit",
    minute: "2-digit",
  });

  let socket = null;
  let myName = nameInput.value;
  let lastId = 0;
  // Everything up to resumeFrom is shown. While a resume is under way there
  // may be holes below lastId (the history came first), so a connection lost
  // before "resumed" resumes from the same place again.
  let resumeFrom = 0;
  let resuming = false;
  let attempt = 0;
  let reconnectTimer = null;
  let noticeTimer = null;
  let lastSent = "";
  let leaving = false;
  let received = 0;
  let acked = 0;
  let ackEvery = 32;
  let ackTimer = null;

  function setState(state) {
    stateEl.dataset.state = state;
    stateEl.textContent = STATES[state];
    const open = state === "connected";
    sendButton.disabled = !open;
    root.classList.toggle("is-offline", !open);
  }

  function notice(text) {
    noticeEl.textContent = text;
    noticeEl.hidden = false;
    clearTimeout(noticeTimer);
    noticeTimer = setTimeout(function () { noticeEl.hidden = true; }, 5000);
  }

  function nearBottom() {
    return log.scrollHeight - log.scrollTop - log.clientHeight < 80;
  }

  function scrollDown(stick) {
    if (stick) log.scrollTop = log.scrollHeight;
  }

  function systemLine(text) {
    const stick = nearBottom();
    const li = document.createElement("li");
    li.className = "talk-event";
    li.textContent = text;
    log.appendChild(li);
    scrollDown(stick);
  }

  function addMessage(msg) {
    if (log.querySelector('[data-id="' + Number(msg.id) + '"]')) return;
    const stick = nearBottom() || msg.mine;
    const li = document.createElement("li");
    li.className = "talk-msg" + (msg.mine ? " talk-msg--mine" : "");
    li.dataset.id = String(Number(msg.id));
    const meta = document.createElement("div");
    meta.className = "talk-meta";
    const name = document.createElement("span");
    name.className = "talk-name";
    name.textContent = msg.name;
    const time = document.createElement("time");
    time.dateTime = msg.ts;
    const date = new Date(msg.ts);
    time.textContent = isNaN(date) ? "" : timeFormat.format(date);
    meta.append(name, time);
    const text = document.createElement("p");
    text.className = "talk-text";
    text.textContent = msg.text;
    li.append(meta, text);
    // Keep id order even when a resume delivers older messages late.
    let before = null;
    for (let node = log.lastElementChild; node; node = node.previousElementSibling) {
      if (node.dataset.id && Number(node.dataset.id) < msg.id) break;
      if (node.dataset.id) before = node;
    }
    log.insertBefore(li, before);
    lastId = Math.max(lastId, Number(msg.id));
    scrollDown(stick);
  }

  function setName(name) {
    myName = name;
    if (document.activeElement !== nameInput) nameInput.value = name;
  }

  const handlers = {
    hello: function (frame) {
      attempt = 0;
      if (frame.ack_every > 0) ackEvery = frame.ack_every;
      setState("connected");
      setName(frame.name);
      countEl.textContent = frame.count;
      if (!resuming) resumeFrom = lastId;
      frame.history.forEach(addMessage);
      // More than the history window may have been missed while away.
      if (resumeFrom > 0) {
        resuming = true;
        send({ type: "resume", after: resumeFrom });
      }
    },
    resumed: function () {
      resuming = false;
    },
    message: addMessage,
    join: function (frame) {
      countEl.textContent = frame.count;
      systemLine(t("tJoined", "{name}님이 입장했습니다.", { name: frame.name }));
    },
    leave: function (frame) {
      countEl.textContent = frame.count;
      systemLine(t("tLeft", "{name}님이 나갔습니다.", { name: frame.name }));
    },
    rename: function (frame) {
      if (frame.mine) setName(frame.name);
      systemLine(t("tRenamed", "{old}님이 이름을 {name}(으)로 바꿨습니다.", { old: frame.old, name: frame.name }));
    },
    presence: function (frame) {
      countEl.textContent = frame.count;
    },
    deleted: function (frame) {
      const li = log.querySelector('[data-id="' + Number(frame.id) + '"]');
      if (li) li.remove();
    },
    error: function (frame) {
      notice(frame.detail);
      if (frame.code === "rate_limited" && !input.value) input.value = lastSent;
      if (frame.code === "name_taken" || frame.code === "name_invalid") {
        nameInput.value = myName;
      }
    },
  };

  function send(frame) {
    if (!socket || socket.readyState !== WebSocket.OPEN) return false;
    socket.send(JSON.stringify(frame));
    return true;
  }

  // The server closes a connection that leaves too many frames
  // unacknowledged (4408), so say what has arrived: in batches while the
  // room is busy, after a short delay when it is quiet.
  function ack() {
    clearTimeout(ackTimer);
    ackTimer = null;
    if (received > acked && send({ type: "ack", count: received })) acked = received;
  }

  function noteReceived() {
    received += 1;
    if (received - acked >= ackEvery) ack();
    else if (!ackTimer) ackTimer = setTimeout(ack, ACK_DELAY);
  }

  function connect() {
    clearTimeout(reconnectTimer);
    const scheme = location.protocol === "https:" ? "wss://" : "ws://";
    // batch=1: this client reads batch frames (docs/talk-protocol.md).
    socket = new WebSocket(scheme + location.host + root.dataset.wsPath + "?batch=1");
    received = 0;
    acked = 0;
    socket.addEventListener("message", function (event) {
      // A batch is one frame for acknowledgements, however many it carries.
      noteReceived();
      let frame;
      try {
        frame = JSON.parse(event.data);
      } catch (e) {
        return;
      }
      // Several frames that were ready at once come as one batch, in order.
      const frames = frame.type === "batch" && Array.isArray(frame.frames) ? frame.frames : [frame];
      frames.forEach(function (one) {
        const handler = one && handlers[one.type];
        if (handler) handler(one);
      });
    });
    socket.addEventListener("close", function (event) {
      socket = null;
      clearTimeout(ackTimer);
      ackTimer = null;
      if (leaving) return;
      if (FINAL_CODES.has(event.code)) {
        setState("closed");
        return;
      }
      // Come back at once (the hello then resumes from lastId) rather than
      // after a backoff: on 1012 this replica is shutting down and the
      // others serve; on 4408 this tab fell behind, not a failure of the
      // server.
      if (event.code === SERVICE_RESTART || event.code === OVER_CAPACITY) attempt = 0;
      setState("reconnecting");
      // Exponential backoff with jitter, so replicas coming back are not
      // hit by every client at once.
      const delay = Math.min(30000, 500 * 2 ** attempt) * (0.5 + Math.random() / 2);
      attempt = Math.min(attempt + 1, 6);
      reconnectTimer = setTimeout(connect, delay);
    });
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    const text = input.value.trim();
    if (!text) return;
    if (text.length > Number(root.dataset.maxLength)) {
      notice(t("tTooLong", "메시지는 {max}자까지 보낼 수 있습니다.", { max: root.dataset.maxLength }));
      return;
    }
    if (send({ type: "message", text: text })) {
      lastSent = text;
      input.value = "";
    } else {
      notice(t("tNotSent", "연결되지 않아 보내지 못했습니다."));
    }
    input.focus();
  });

  input.addEventListener("keydown", function (event) {
    // Enter sends, Shift+Enter adds a line; never while an IME (Hangul)
    // is still composing the last syllable.
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing && event.keyCode !== 229) {
      event.preventDefault();
      form.requestSubmit();
    }
  });

  renameForm.addEventListener("submit", function (event) {
    event.preventDefault();
    const name = nameInput.value.trim();
    if (name && name !== myName && !send({ type: "rename", name: name })) {
      notice(t("tNotRenamed", "연결되지 않아 이름을 바꾸지 못했습니다."));
    }
    nameInput.blur();
  });

  // Closing cleanly makes the leave notice immediate for everyone else.
  window.addEventListener("pagehide", function () {
    leaving = true;
    if (socket) socket.close(1000);
  });
  window.addEventListener("pageshow", function (event) {
    if (event.persisted) {
      leaving = false;
      connect();
    }
  });

  // Back online after the network dropped: no need to wait for the backoff.
  window.addEventListener("online", function () {
    if (!socket && !leaving && stateEl.dataset.state === "reconnecting") {
      attempt = 0;
      connect();
    }
  });

  setState("connecting");
  connect();
})();
