// fetch() for the JSON API: the cookie carries the token; errors become {error, hint}.
import { lang, t } from "./i18n.js";

export async function api(method, path, body) {
  const opts = { method, headers: {}, credentials: "same-origin" };
  if (body !== undefined) {
    opts.headers["Content-Type"] = "application/json";
    opts.body = JSON.stringify(body);
  }
  let res;
  try { res = await fetch(path, opts); } catch (e) {
    // The server is gone (stopped, network down): say so in the page's words, not "Failed to fetch".
    const err = new Error(t("error.0"));
    err.status = 0;
    throw err;
  }
  let data = null;
  try { data = await res.json(); } catch (e) { data = null; }
  if (!res.ok) {
    const err = new Error((data && data.error) || res.statusText);
    err.hint = data && data.hint;
    err.status = res.status;
    throw err;
  }
  return data;
}

// The runtime's messages are English, one line each. A Korean page leads with what kind
// of failure it was, in Korean, from the HTTP status (or a Socket.IO answer's status).
const LEADS = [401, 404, 409, 501, 502, 503];
export function errorText(err) {
  const text = err.hint ? `${err.message}. ${err.hint}` : err.message;
  if (lang() !== "ko" || !err.status) return text;
  const code = err.status;
  const key = LEADS.includes(code) ? `error.${code}` : code >= 500 ? "error.500" : "error.400";
  return `${t(key)}: ${text}`;
}

// A Socket.IO acknowledgement's error ({error, hint, status}) as errorText() takes it.
export function ackError(ack) {
  return errorText({ message: ack.error, hint: ack.hint, status: ack.status });
}

export function human(n) {
  if (n === null || n === undefined) return "-";
  const units = ["B", "KiB", "MiB", "GiB"];
  let v = n, i = 0;
  while (v >= 1024 && i < units.length - 1) { v /= 1024; i++; }
  return i === 0 ? `${v} B` : `${v.toFixed(1)} ${units[i]}`;
}

export function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") e.className = v;
    else if (k === "dataset") Object.assign(e.dataset, v);
    else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v);
  }
  for (const c of children) if (c !== null && c !== undefined) e.append(c);
  return e;
}
