// Light / dark theme: follows the system until the user picks one; the choice is kept per browser.
window.portalTheme = {
  apply(theme) {
    if (theme) document.documentElement.dataset.theme = theme;
    else delete document.documentElement.dataset.theme;
  },
  toggle() {
    const current = document.documentElement.dataset.theme ||
      (matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light");
    const next = current === "dark" ? "light" : "dark";
    localStorage.setItem("portal-theme", next);
    this.apply(next);
  },
};
portalTheme.apply(localStorage.getItem("portal-theme"));
