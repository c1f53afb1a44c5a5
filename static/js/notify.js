// Work that announces itself: a short chime (off by default, remembered), desktop
// notifications while the tab is hidden (permission asked from a button, never on load) and
// the number of conversations waiting for the agent's eyes in the tab title.
import { $, t } from "./common.js";

const SOUND_KEY = "atende.sound";
let audio = null; // one AudioContext, created on a click (browsers refuse it before one)

function soundOn() {
  return localStorage.getItem(SOUND_KEY) === "on";
}

function context() {
  if (!audio) {
    const Context = window.AudioContext || window.webkitAudioContext;
    if (!Context) return null;
    audio = new Context();
  }
  if (audio.state === "suspended") audio.resume();
  return audio;
}

// Two soft rising tones, a quarter of a second in all: generated, no file to fetch.
export function chime() {
  if (!soundOn()) return false;
  const ctx = context();
  if (!ctx) return false;
  const start = ctx.currentTime + 0.01;
  [660, 990].forEach((frequency, index) => {
    const osc = ctx.createOscillator();
    const gain = ctx.createGain();
    const at = start + index * 0.13;
    osc.type = "sine";
    osc.frequency.value = frequency;
    gain.gain.setValueAtTime(0.0001, at);
    gain.gain.exponentialRampToValueAtTime(0.25, at + 0.02);
    gain.gain.exponentialRampToValueAtTime(0.0001, at + 0.12);
    osc.connect(gain).connect(ctx.destination);
    osc.start(at);
    osc.stop(at + 0.13);
  });
  document.body.dataset.chimed = String(Number(document.body.dataset.chimed || 0) + 1);
  return true;
}

function renderSound(button) {
  const on = soundOn();
  button.setAttribute("aria-pressed", String(on));
  button.textContent = on ? t("sound_on") : t("sound_off");
}

function renderPermission(button, note) {
  const supported = "Notification" in window;
  const permission = supported ? Notification.permission : "unsupported";
  button.hidden = permission !== "default";
  note.hidden = permission === "default";
  note.textContent = {
    granted: t("notifications_on"),
    denied: t("notifications_blocked"),
    unsupported: t("notifications_unsupported"),
  }[permission] || "";
}

export function setUpAlerts() {
  const sound = $('[data-part="sound-toggle"]');
  const ask = $('[data-part="notify-permission"]');
  const note = $('[data-part="notify-state"]');
  if (sound) {
    renderSound(sound);
    sound.addEventListener("click", () => {
      localStorage.setItem(SOUND_KEY, soundOn() ? "off" : "on");
      renderSound(sound);
      if (soundOn()) chime(); // a sample, and the click unlocks audio
    });
    // A remembered "on" needs one click on the page before the browser lets it play.
    document.addEventListener("pointerdown", () => soundOn() && context(), { once: true });
  }
  if (ask && note) {
    renderPermission(ask, note);
    ask.addEventListener("click", async () => {
      await Notification.requestPermission();
      renderPermission(ask, note);
    });
  }
}

// A desktop notification, only while the tab is hidden (visible tabs get the toast).
export function desktopNotice(title, body, onClick) {
  if (!document.hidden || !("Notification" in window) || Notification.permission !== "granted") {
    return null;
  }
  const notice = new Notification(title, { body, tag: `atende-${title}-${body}` });
  notice.addEventListener("click", () => {
    window.focus();
    notice.close();
    onClick?.();
  });
  return notice;
}

const baseTitle = document.title;

// "(3) Inbox · Atende": how many of the agent's conversations want a look.
export function titleCount(n) {
  document.title = n > 0 ? `(${n}) ${baseTitle}` : baseTitle;
}
