// A program's knowledge articles, and a box to try the agents' search (articles and referrals).
import { api, crudPage, el, text, words } from "/static/admin.js";

const body = (v) => ({ title: v.title, body: v.body, tags: v.tags });

function searchBox(ctx) {
  const results = el("ul", { class: "results" });
  const box = el("input", { type: "search", placeholder: "Search as an agent would", "aria-label": "Try the search" });
  let timer = null;
  box.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(async () => {
      if (!ctx.program) return;
      const found = await api("GET", `/search?program_id=${ctx.program.id}&q=${encodeURIComponent(box.value)}`);
      results.replaceChildren(...(found.length ? found.map((r) => el("li", {},
        el("span", { class: "pill" }, r.kind), " ", el("strong", {}, r.title), el("div", { class: "hint" }, r.snippet)))
        : [el("li", { class: "empty" }, "Nothing found.")]));
    }, 250);
  });
  return el("div", { class: "card try-search" }, el("h2", {}, "Try the search"),
    el("p", { class: "hint" }, "Agents search the knowledge articles and the referral directory together."), box, results);
}

await crudPage({
  noun: "article", key: (a) => a.id, describe: (a) => a.title,
  columns: [["Title", (a) => a.title], ["Tags", (a) => a.tags.join(", ") || "—"]],
  fields: () => [
    text("title", "Title", { maxlength: 200 }),
    text("body", "Body", { rows: 10, maxlength: 20000 }),
    words("tags", "Tags", { help: "At most 20, each up to 40 characters." }),
  ],
  list: (ctx) => api("GET", `/knowledge?program_id=${ctx.program.id}`),
  create: (v, ctx) => api("POST", "/knowledge", { program_id: ctx.program.id, ...body(v) }),
  update: (a, v) => api("PUT", `/knowledge/${a.id}`, body(v)),
  remove: (a) => api("DELETE", `/knowledge/${a.id}`),
  after: searchBox,
});
