// The language switch submits as soon as a language is chosen (the button is for no-script).
const form = document.querySelector('[data-testid="language-form"]');
if (form) {
  form.classList.add("auto");
  form.querySelector("select").addEventListener("change", () => form.submit());
}
