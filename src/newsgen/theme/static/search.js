// The search page of a newsgen site.
//
// The query is folded exactly as newsgen folded the index: the tables come from
// newsgen.arabic at build time (the JSON in #search-folding) and are applied here in
// the order of normalize(), words() and stems(); queryKeys() mirrors
// newsgen.search.query_keys(). The index is made of shards, each a Pagefind bundle
// named in pagefind/newsgen-shards.json: Pagefind's JS API (pagefind.js of the first
// shard, loaded from this site, never from the network) merges them (mergeIndex) and
// finds the items; the results are shown right to left with the headline, date and
// topics as written and an excerpt cut from the item's own text, the words that match
// the query marked.

const PAGE_SIZE = 10;
const EXCERPT_WORDS = 32;
const WORDS_BEFORE_MATCH = 8;
const MAX_ALTERNATIVES = 16;

const box = document.getElementById("search");
const tables = JSON.parse(document.getElementById("search-folding").textContent);

// ---------------------------------------------------------------- folding

const marks = new Set();
for (const [first, last] of tables.marks) {
  for (let cp = first; cp <= last; cp++) marks.add(cp);
}
const fold = new Map(Object.entries(tables.fold));
const casefold = new Map(Object.entries(tables.casefold));
const restore = new Map(Object.entries(tables.restore));
const WORD = /[\p{L}\p{N}_]+/gu;

/** newsgen.arabic.normalize */
export function normalize(text) {
  let out = "";
  for (const ch of String(text).normalize("NFKC")) {
    if (marks.has(ch.codePointAt(0))) continue;
    const folded = fold.has(ch) ? fold.get(ch) : ch;
    for (const c of folded) out += casefold.has(c) ? casefold.get(c) : c.toLowerCase();
  }
  return out;
}

/** newsgen.arabic.words */
export function words(text) {
  return normalize(text).match(WORD) || [];
}

const length = (text) => [...text].length;

/** newsgen.arabic.stems */
export function stems(word) {
  const found = [word];
  for (const clitic of tables.clitics) {
    if (word.startsWith(clitic) && length(word) - length(clitic) >= tables.min_stem) {
      const rest = word.slice(clitic.length);
      if (restore.has(clitic)) found.push(restore.get(clitic) + rest);
      found.push(rest);
    }
  }
  return [...new Set(found)];
}

/** newsgen.arabic.strip_marks */
export function stripMarks(text) {
  let out = "";
  for (const ch of String(text).normalize("NFKC")) {
    if (!marks.has(ch.codePointAt(0))) out += ch;
  }
  return out;
}

// A word as typed: letters, digits, «_» and the characters normalize() drops inside a word.
const TYPED_WORD = /[\p{L}\p{N}_\u200c\u200d\u200e\u200f\ufeff]+/gu;

/** newsgen.search.query_keys: per query word, the key to look up, then its looser forms. */
export function queryKeys(query) {
  const keys = [];
  for (const typed of stripMarks(query).match(TYPED_WORD) || []) {
    words(typed).forEach((word, position) => {
      let first = word;
      for (const clitic of tables.article_clitics) {
        if (word.startsWith(clitic) && (position > 0 || typed.startsWith(clitic))
            && length(word) - length(clitic) >= tables.min_key) {
          first = word.slice(clitic.length);
          break;
        }
      }
      const rest = stems(word).slice(1).filter((s) => length(s) >= tables.min_key && s !== first);
      keys.push([...new Set([first, ...rest])]);
    });
  }
  return keys;
}

/** newsgen.search.word_matches: whether the index finds `key` in a text holding `word`. */
export function wordMatches(word, key) {
  return words(word).some((w) => stems(w).some((form) => form.startsWith(key)));
}

// ---------------------------------------------------------------- looking up

const MANIFEST = "newsgen-shards.json";
const OPTIONS = {
  // Pagefind folds only what newsgen folded (no hamza-seat or other accent folding of its own).
  exactDiacritics: true,
  // Only the folded headline («title») lifts a result; the texts kept for display are not indexed.
  ranking: { metaWeights: { title: 5 } },
};

let pagefind = null;
// Records the manifest hides: the versions, in their own shards, of items edited since, whose
// records as they are now are in the shard of recent edits (or of items deleted since).
let hidden = new Set();

/** Pagefind with every shard of the index merged into the first. */
async function loadPagefind() {
  if (!pagefind) {
    pagefind = (async () => {
      const bundle = new URL(box.dataset.bundle, document.baseURI);
      // Revalidated on each load: after a rebuild it names other shard folders.
      const response = await fetch(new URL(MANIFEST, bundle), { cache: "no-cache" });
      if (!response.ok) throw new Error(`${MANIFEST}: ${response.status}`);
      const manifest = await response.json();
      hidden = new Set(manifest.hidden || []);
      const [first, ...rest] = manifest.shards.map((path) => new URL(path, bundle).href);
      const module = await import(new URL("pagefind.js", first).href);
      await module.options(OPTIONS);
      await module.init();
      await Promise.all(rest.map((shard) => module.mergeIndex(shard, OPTIONS)));
      return module;
    })();
    pagefind.catch(() => { pagefind = null; });
  }
  return pagefind;
}

function* combinations(lists) {
  if (!lists.length) { yield []; return; }
  const [head, ...tail] = lists;
  for (const rest of combinations(tail)) {
    for (const item of head) yield [item, ...rest];
  }
}

/** Whether an indexed text (words and their clitic-free forms) holds a word starting with each key. */
function holds(content, keys) {
  const indexed = String(content).split(/\s+/);
  return keys.every((key) => indexed.some((word) => word.startsWith(key)));
}

/** The shard a result comes from: its id starts with the shard's language, «und-x-s3_…». */
const shardOf = (result) => result.id.slice(0, result.id.lastIndexOf("_"));

/**
 * The items holding a word that starts with each of `keys`, best first.
 *
 * Pagefind searches each shard alone. When no word of a shard starts with a key, it
 * leaves the key out there, or looks up the longest word the key starts with instead
 * («اسهم» finds «اس»): then none of that shard's results holds the key; otherwise all
 * of them do. So the best result of each shard tells whether that shard's results count.
 */
async function lookUp(module, keys) {
  const { results } = await module.search(keys.join(" "));
  const best = new Map();
  for (const result of results) {
    if (!best.has(shardOf(result))) best.set(shardOf(result), result);
  }
  const found = new Set();
  await Promise.all([...best].map(async ([shard, result]) => {
    if (holds((await result.data()).content, keys)) found.add(shard);
  }));
  // A hidden record still tells, as the best of its shard, whether that shard found the keys.
  return results.filter((result) => found.has(shardOf(result)) && !hidden.has(result.id));
}

/**
 * Every item that holds all the words of `query`, best first, and the keys that found them.
 * The looser keys (other clitics removed) are tried only when the first keys find nothing.
 */
export async function find(query) {
  const keys = queryKeys(query);
  if (!keys.length) return { keys: [], used: [], results: [] };
  const module = await loadPagefind();
  const first = keys.map((k) => k[0]);
  const results = await lookUp(module, first);
  if (results.length || !keys.some((k) => k.length > 1)) {
    return { keys, used: results.length ? first : [], results };
  }
  // An item found by several combinations is one result.
  const best = new Map();
  const used = new Set();
  let tried = 0;
  for (const combo of combinations(keys)) {
    if (combo.every((key, i) => key === first[i])) continue;
    if (++tried > MAX_ALTERNATIVES) break;
    const more = await lookUp(module, combo);
    if (more.length) combo.forEach((key) => used.add(key));
    for (const result of more) {
      if (!best.has(result.id) || best.get(result.id).score < result.score) best.set(result.id, result);
    }
  }
  return { keys, used: [...used], results: [...best.values()].sort((a, b) => b.score - a.score) };
}

/** newsgen.search.reveal: the texts kept for display, which the index holds in private-use characters. */
export function reveal(text) {
  const points = [...String(text)].map((ch) => ch.codePointAt(0));
  let out = "";
  for (let at = 0; at < points.length; at++) {
    const cp = points[at];
    if (cp >= tables.hidden.escape && cp < tables.hidden.escape + 0x100 && at + 2 < points.length) {
      const [high, middle, low] = points.slice(at, at + 3).map((p) => p - tables.hidden.escape);
      out += String.fromCodePoint((high << 16) | (middle << 8) | low);
      at += 2;
    } else if (cp >= tables.hidden.first && cp < tables.hidden.first + tables.hidden.direct) {
      out += String.fromCodePoint(cp - tables.hidden.first);
    } else {
      out += String.fromCodePoint(cp);
    }
  }
  return out;
}

/** What an index record shows, as written. */
function asWritten(meta) {
  const out = {};
  for (const name of ["headline", "date", "topics", "summary", "text"]) out[name] = reveal((meta || {})[name] || "");
  return out;
}

// ---------------------------------------------------------------- showing

const TOKEN = /[\p{L}\p{M}\p{N}_\u200c\u200d]+/gu;

/** `text` cut into word and non-word pieces; each word says whether it matches one of `keys`. */
function pieces(text, keys) {
  const out = [];
  let last = 0;
  for (const m of String(text).matchAll(TOKEN)) {
    if (m.index > last) out.push({ text: text.slice(last, m.index), word: false });
    const hits = keys.filter((key) => wordMatches(m[0], key));
    out.push({ text: m[0], word: true, hits });
    last = m.index + m[0].length;
  }
  if (last < text.length) out.push({ text: text.slice(last), word: false });
  return out;
}

function appendMarked(parent, parts) {
  for (const part of parts) {
    if (part.word && part.hits.length) {
      const mark = document.createElement("mark");
      mark.textContent = part.text;
      parent.append(mark);
    } else {
      parent.append(part.text);
    }
  }
}

/** The stretch of `text` with the most different matching words, or null when none matches. */
function bestStretch(text, keys) {
  const parts = pieces(text, keys);
  const wordAt = parts.map((p, i) => (p.word ? i : -1)).filter((i) => i >= 0);
  let best = null;
  for (let w = 0; w < wordAt.length; w++) {
    if (!parts[wordAt[w]].hits.length) continue;
    const seen = new Set();
    for (let v = w; v < Math.min(wordAt.length, w + EXCERPT_WORDS - WORDS_BEFORE_MATCH); v++) {
      parts[wordAt[v]].hits.forEach((key) => seen.add(key));
    }
    if (!best || seen.size > best.score) best = { score: seen.size, word: w };
  }
  if (!best) return null;
  const startWord = Math.max(0, best.word - WORDS_BEFORE_MATCH);
  const endWord = Math.min(wordAt.length, startWord + EXCERPT_WORDS);
  const from = startWord === 0 ? 0 : wordAt[startWord];
  const to = endWord >= wordAt.length ? parts.length : wordAt[endWord];
  return { parts: parts.slice(from, to), before: from > 0, after: to < parts.length };
}

function excerpt(meta, keys) {
  const p = document.createElement("p");
  p.className = "search-result-excerpt";
  const stretch = bestStretch(meta.text || "", keys) || bestStretch(meta.summary || "", keys);
  if (stretch) {
    if (stretch.before) p.append("… ");
    appendMarked(p, stretch.parts.map((part) => (part.word || !/\n/.test(part.text) ? part : { ...part, text: " " })));
    if (stretch.after) p.append(" …");
  } else {
    p.textContent = meta.summary || "";
  }
  return p;
}

/** The item's page for an index record: newsgen indexes `articles/<slug>/` as `/articles/<slug>.html`. */
function itemHref(rawUrl) {
  const root = new URL(box.dataset.root, document.baseURI);
  return new URL(String(rawUrl).replace(/^\/+/, "").replace(/\.html$/, "/"), root).href;
}

function resultItem(data, keys) {
  const meta = asWritten(data.meta);
  const li = document.createElement("li");
  li.className = "search-result";
  const article = document.createElement("article");
  const heading = document.createElement("h3");
  heading.className = "search-result-title";
  const link = document.createElement("a");
  link.href = itemHref(data.raw_url || data.url);
  appendMarked(link, pieces(meta.headline || "", keys));
  heading.append(link);
  article.append(heading);
  const line = document.createElement("p");
  line.className = "search-result-meta";
  const date = document.createElement("span");
  date.className = "search-result-date";
  if (meta.date) {
    appendMarked(date, pieces(meta.date, keys));
  } else {
    date.classList.add("undated");
    date.textContent = box.dataset.undated || "";
  }
  if (date.textContent) line.append(date);
  if (meta.topics) {
    const topics = document.createElement("span");
    topics.className = "search-result-topics";
    appendMarked(topics, pieces(meta.topics, keys));
    line.append(topics);
  }
  if (line.childNodes.length) article.append(line);
  article.append(excerpt(meta, keys));
  li.append(article);
  return li;
}

// ---------------------------------------------------------------- the page

const form = box.querySelector(".search-form");
const input = document.getElementById("search-q");
const status = document.getElementById("search-status");
const list = document.getElementById("search-list");
const moreButton = document.getElementById("search-more");

const toDigits = (n) => (box.dataset.digits === "arabic-indic"
  ? String(n).replace(/[0-9]/g, (d) => String.fromCharCode(0x0660 + Number(d)))
  : String(n));

/** «نتيجة واحدة», «نتيجتان», «٣ نتائج», «١١ نتيجة». */
function countText(n) {
  if (n === 1) return "نتيجة واحدة";
  if (n === 2) return "نتيجتان";
  const tail = n % 100;
  return `${toDigits(n)} ${tail >= 3 && tail <= 10 ? "نتائج" : "نتيجة"}`;
}

let current = 0;
let shown = { results: [], keys: [], next: 0 };

function setState(state, message) {
  box.dataset.state = state;
  status.textContent = message;
}

const LOAD_FAILED = "تعذّر تحميل فهرس البحث؛ أعد تحميل الصفحة أو حاول لاحقًا.";

/** Show the next PAGE_SIZE results; false if they could not be loaded. */
async function showMore(run) {
  const slice = shown.results.slice(shown.next, shown.next + PAGE_SIZE);
  moreButton.disabled = true;
  let data;
  try {
    data = await Promise.all(slice.map((r) => r.data()));
  } catch (error) {
    if (run === current) setState("error", LOAD_FAILED);
    return false;
  } finally {
    moreButton.disabled = false;
  }
  if (run !== current) return true;
  shown.next += slice.length;
  for (const d of data) list.append(resultItem(d, shown.keys));
  moreButton.hidden = shown.next >= shown.results.length;
  return true;
}

async function search(query) {
  const run = ++current;
  list.replaceChildren();
  moreButton.hidden = true;
  box.dataset.count = "0";
  const text = query.trim();
  if (!text) {
    setState("idle", "اكتب كلمة أو أكثر للبحث في الأرشيف.");
    return;
  }
  if (box.dataset.total === "0" || !queryKeys(text).length) {
    setState("done", `لا نتائج لـ«${text}».`);
    return;
  }
  setState("loading", "جارٍ البحث…");
  let found;
  try {
    found = await find(text);
  } catch (error) {
    if (run === current) setState("error", LOAD_FAILED);
    return;
  }
  if (run !== current) return;
  shown = { results: found.results, keys: found.used, next: 0 };
  box.dataset.count = String(found.results.length);
  if (!found.results.length) {
    setState("done", `لا نتائج لـ«${text}». جرّب كلمة أخرى أو كلمات أقل.`);
    return;
  }
  if (!(await showMore(run)) || run !== current) return;
  setState("done", `${countText(found.results.length)} لـ«${text}».`);
}

function queryFromAddress() {
  return new URLSearchParams(window.location.search).get("q") || "";
}

function remember(query) {
  const address = new URL(window.location.href);
  if (query) address.searchParams.set("q", query); else address.searchParams.delete("q");
  if (address.href !== window.location.href) window.history.pushState({}, "", address);
}

let typing = 0;
form.addEventListener("submit", (event) => {
  event.preventDefault();
  window.clearTimeout(typing);
  remember(input.value.trim());
  search(input.value);
});
input.addEventListener("input", () => {
  window.clearTimeout(typing);
  typing = window.setTimeout(() => search(input.value), 300);
});
moreButton.addEventListener("click", () => showMore(current));
window.addEventListener("popstate", () => {
  input.value = queryFromAddress();
  search(input.value);
});

// For the page's own tests: the same functions the page uses.
window.newsgenSearch = { normalize, words, stems, stripMarks, queryKeys, wordMatches, reveal, find, search };

input.value = queryFromAddress();
search(input.value);
