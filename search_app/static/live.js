// Live catalogues on the results page: follows the live search's event stream and, for each version,
// fetches the server-rendered fragment (templates/live_fragment.html) and places what it adds without
// re-rendering or moving what the reader already sees: new lines go in at their merged positions, live
// holdings join the union hits already shown, facets get their "+N live" counts. No framework, no
// inline script (the page's Content-Security-Policy).
"use strict";

(function () {
  const panel = document.querySelector("[data-live-run]");
  if (!panel || typeof EventSource === "undefined") {
    return;
  }
  const list = document.querySelector("[data-results]");
  const wait = panel.querySelector("[data-live-wait]");
  if (wait) {
    wait.hidden = true; // the page updates itself: no need to load it again
  }
  let wanted = 0;
  let shown = 0;
  let fetching = false;

  function byAttribute(root, name, value) {
    for (const element of root.querySelectorAll("[" + name + "]")) {
      if (element.getAttribute(name) === value) {
        return element;
      }
    }
    return null;
  }

  function placeStatuses(fragment) {
    for (const line of fragment.querySelectorAll("[data-live-statuses] [data-live-target]")) {
      const old = byAttribute(panel, "data-live-target", line.getAttribute("data-live-target"));
      if (old && old.textContent !== line.textContent) {
        old.textContent = line.textContent;
        old.className = line.className;
      }
    }
    const summary = panel.querySelector("[data-live-summary]");
    const text = fragment.querySelector("[data-live-summary]");
    if (summary && text && summary.textContent !== text.textContent) {
      summary.textContent = text.textContent;
    }
  }

  function placeHoldings(card, line) {
    const fresh = line.querySelector("[data-live-holdings]");
    if (!fresh) {
      return;
    }
    const old = card.querySelector("[data-live-holdings]");
    if (old) {
      if (!old.contains(document.activeElement) && old.innerHTML !== fresh.innerHTML) {
        old.replaceWith(fresh);
      }
      return;
    }
    const before = card.querySelector(".result-card__availability");
    const body = card.querySelector(".result-card__body");
    if (before) {
      before.before(fresh);
    } else if (body) {
      body.append(fresh);
    }
  }

  function placeLines(fragment) {
    if (!list) {
      return;
    }
    for (const line of Array.from(fragment.querySelectorAll("[data-live-lines] > [data-hit]"))) {
      const key = line.getAttribute("data-hit");
      const card = byAttribute(list, "data-hit", key);
      if (card) {
        placeHoldings(card, line);
        continue;
      }
      if (!line.querySelector("[data-live-holdings]")) {
        continue; // a union hit no live catalogue adds to, off this page: not this page's to show
      }
      const after = line.getAttribute("data-after");
      const previous = after ? byAttribute(list, "data-hit", after) : null;
      line.removeAttribute("data-after");
      line.classList.add("is-new");
      // The union found nothing, the live catalogues did: "no titles match" no longer holds.
      const empty = document.querySelector("[data-live-empty]");
      if (empty) {
        empty.hidden = true;
      }
      if (previous) {
        previous.after(line);
      } else if (!after) {
        list.prepend(line);
      } else {
        list.append(line);
      }
    }
  }

  function placeFacets(fragment) {
    for (const group of fragment.querySelectorAll("[data-live-facets] [data-facet]")) {
      const section = byAttribute(document, "data-facet", group.getAttribute("data-facet"));
      const values = section ? section.querySelector(".facet__list") : null;
      if (!values) {
        continue;
      }
      for (const item of Array.from(group.querySelectorAll("[data-value]"))) {
        const count = item.querySelector(".facet__live");
        const old = byAttribute(values, "data-value", item.getAttribute("data-value"));
        if (!old) {
          values.append(item);
        } else if (count) {
          const oldCount = old.querySelector(".facet__live");
          if (oldCount) {
            oldCount.textContent = count.textContent;
          } else {
            old.append(count);
          }
        }
      }
    }
  }

  async function show() {
    if (fetching || shown >= wanted) {
      return;
    }
    fetching = true;
    try {
      const answer = await fetch(panel.getAttribute("data-live-fragment"), { credentials: "same-origin" });
      if (answer.ok) {
        const page = new DOMParser().parseFromString(await answer.text(), "text/html");
        const fragment = page.querySelector("[data-live-version]");
        if (fragment) {
          shown = Math.max(shown, Number(fragment.getAttribute("data-live-version")));
          placeStatuses(fragment);
          placeLines(fragment);
          placeFacets(fragment);
          if (fragment.getAttribute("data-live-done") === "true") {
            panel.setAttribute("data-live-done", "true");
          }
        }
      }
    } finally {
      fetching = false;
    }
    if (shown < wanted) {
      show();
    }
  }

  const stream = new EventSource(panel.getAttribute("data-live-stream"));
  function announce(event) {
    wanted = Math.max(wanted, Number(event.lastEventId) || wanted + 1);
    show();
  }
  stream.addEventListener("update", announce);
  stream.addEventListener("done", function (event) {
    stream.close();
    announce(event);
  });
  stream.addEventListener("error", function () {
    // The run ended or was forgotten: what is shown stays; the link loads the page with its results.
    if (stream.readyState === EventSource.CLOSED && wait) {
      wait.hidden = false;
    }
  });
})();
