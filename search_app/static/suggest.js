// Suggestions as you type on the search boxes: the WAI-ARIA 1.2 combobox pattern (list autocomplete).
// The page works without this file: the input stays a plain search box and the form submits as
// before. With it, an input marked data-suggest becomes a combobox whose listbox offers titles,
// authors and subjects from /api/suggest; Down/Up move through them (the focus stays in the input,
// aria-activedescendant names the option), Enter takes one and searches, Escape closes the list.
"use strict";

(function () {
  const DELAY_MS = 150;
  const LIMIT = 8;

  function enhance(input, number) {
    const listbox = document.createElement("ul");
    const listId = input.id + "-suggestions";
    listbox.id = listId;
    listbox.className = "suggestions";
    listbox.setAttribute("role", "listbox");
    listbox.setAttribute("aria-label", input.dataset.suggestLabel || "Suggestions");
    listbox.hidden = true;
    input.insertAdjacentElement("afterend", listbox);
    input.parentElement.classList.add("suggest-anchor");
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-expanded", "false");
    input.setAttribute("aria-controls", listId);

    let timer = null;
    let active = -1;
    let asked = 0;
    let options = [];

    function close() {
      listbox.hidden = true;
      listbox.replaceChildren();
      options = [];
      active = -1;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
    }

    function highlight(index) {
      options.forEach(function (option, i) {
        option.setAttribute("aria-selected", i === index ? "true" : "false");
      });
      active = index;
      if (index < 0) {
        input.removeAttribute("aria-activedescendant");
      } else {
        input.setAttribute("aria-activedescendant", options[index].id);
        options[index].scrollIntoView({ block: "nearest" });
      }
    }

    function choose(index) {
      input.value = options[index].dataset.text;
      close();
      input.form.requestSubmit();
    }

    function show(found) {
      listbox.replaceChildren();
      options = found.map(function (entry, i) {
        const option = document.createElement("li");
        option.id = listId + "-" + i;
        option.className = "suggestions__option";
        option.setAttribute("role", "option");
        option.setAttribute("aria-selected", "false");
        option.dataset.text = entry.text;
        const text = document.createElement("span");
        text.textContent = entry.text;
        const kind = document.createElement("span");
        kind.className = "suggestions__kind";
        kind.textContent = input.dataset["kind" + entry.kind[0].toUpperCase() + entry.kind.slice(1)] || entry.kind;
        option.append(text, " ", kind);
        option.addEventListener("mousedown", function (event) {
          // Keep the focus in the input (a click would blur it first and close the list).
          event.preventDefault();
          choose(i);
        });
        listbox.append(option);
        return option;
      });
      active = -1;
      if (options.length) {
        listbox.hidden = false;
        input.setAttribute("aria-expanded", "true");
      } else {
        close();
      }
    }

    async function ask() {
      const text = input.value;
      const mine = ++asked;
      if (!text.trim()) {
        close();
        return;
      }
      try {
        const answer = await fetch("/api/suggest?" + new URLSearchParams({ q: text, limit: String(LIMIT) }), {
          headers: { Accept: "application/json" },
        });
        if (!answer.ok || mine !== asked) {
          return;
        }
        const found = await answer.json();
        if (mine === asked) {
          show(found);
        }
      } catch (error) {
        // No suggestions is no failure: the search box still works.
        close();
      }
    }

    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(ask, DELAY_MS);
    });
    input.addEventListener("keydown", function (event) {
      if (event.key === "ArrowDown" && options.length) {
        event.preventDefault();
        highlight((active + 1) % options.length);
      } else if (event.key === "ArrowUp" && options.length) {
        event.preventDefault();
        highlight(active <= 0 ? options.length - 1 : active - 1);
      } else if (event.key === "Enter" && active >= 0) {
        event.preventDefault();
        choose(active);
      } else if (event.key === "Escape" && !listbox.hidden) {
        event.preventDefault();
        close();
      }
    });
    input.addEventListener("blur", close);
  }

  document.querySelectorAll("input[data-suggest]").forEach(enhance);
})();
