// The header every page shares: language switch and presenter (large font) mode.
import { apply, lang, setLang } from "./i18n.js";

export function setupChrome() {
  apply();
  document.getElementById("lang-toggle").addEventListener("click", () => {
    setLang(lang() === "en" ? "ko" : "en");
  });
  const presenter = () => localStorage.getItem("onggi.presenter") === "1";
  const show = () => {
    document.documentElement.classList.toggle("presenter", presenter());
    document.body.classList.toggle("presenter", presenter());
  };
  show();
  document.getElementById("presenter-toggle").addEventListener("click", () => {
    localStorage.setItem("onggi.presenter", presenter() ? "0" : "1");
    show();
    window.dispatchEvent(new Event("resize"));
  });
}

if (!document.getElementById("tab-live")) setupChrome();
