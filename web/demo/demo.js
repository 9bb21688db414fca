// The demo page: plain JavaScript on the public API only (GET /v1/models,
// /openapi.json for the localizers, /v1/datasets and its pairs and images,
// POST /v1/match, POST /v1/visualize for the heatmap). No build step.
"use strict";

/** Height the images are shown at, in canvas pixels. */
const VIEW_HEIGHT = 280;

const $ = (id) => document.getElementById(id);

const state = {
  /** Each image: its file (a Blob), its decoded bitmap and its size. */
  source: null,
  target: null,
  /** Query points in source pixels. */
  points: [],
  /** Per point: { x, y, score } in target pixels, once matched. */
  matches: [],
  /** The dataset's pairs, as GET /v1/datasets/{name}/pairs lists them. */
  pairs: [],
  /** Counts requests, so an answer that arrives after a newer request is dropped. */
  generation: 0,
};

function setStatus(text, options = {}) {
  const el = $("status");
  el.textContent = text;
  el.classList.toggle("error", Boolean(options.error));
}

function authHeaders() {
  const key = $("api-key").value.trim();
  return key ? { Authorization: `Bearer ${key}` } : {};
}

/** fetch with the API key; an error answer becomes an Error with its code and message. */
async function api(path, init = {}) {
  const res = await fetch(path, { ...init, headers: { ...authHeaders(), ...init.headers } });
  if (!res.ok) {
    let body = null;
    try {
      body = await res.json();
    } catch {
      // not JSON: the status says it
    }
    const e = body?.error;
    const hint = res.status === 401 ? " (paste an API key)" : "";
    throw new Error(e ? `${res.status} ${e.code}: ${e.message}${hint}` : `HTTP ${res.status}`);
  }
  return res;
}

function fillSelect(select, options, selected) {
  select.replaceChildren(...options.map(({ value, label }) => {
    const o = document.createElement("option");
    o.value = value;
    o.textContent = label;
    o.selected = value === selected;
    return o;
  }));
}

async function loadModels() {
  const { models } = await (await api("/v1/models")).json();
  const current = $("model").value;
  const fallback = models.find((m) => m.default)?.id ?? models[0]?.id;
  fillSelect(
    $("model"),
    models.map((m) => ({ value: m.id, label: m.default ? `${m.id} (default)` : m.id })),
    models.some((m) => m.id === current) ? current : fallback,
  );
}

async function loadLocalizers() {
  // The localizers are the match request's enum in the API's own document.
  const doc = await (await fetch("/openapi.json")).json();
  const body = doc.paths["/v1/match"].post.requestBody.content["application/json"].schema;
  const { enum: names, default: chosen } = body.properties.localizer;
  fillSelect($("localizer"), names.map((n) => ({ value: n, label: n })), chosen);
}

async function loadDatasets() {
  const { datasets } = await (await api("/v1/datasets")).json();
  const present = datasets.filter((d) => d.present);
  fillSelect(
    $("dataset"),
    [{ value: "", label: present.length ? "(pick a dataset)" : "(no dataset on the server)" }]
      .concat(present.map((d) => ({ value: d.id, label: d.id }))),
    "",
  );
}

async function loadOptions() {
  setStatus("Loading models...");
  try {
    await Promise.all([loadModels(), loadLocalizers(), loadDatasets()]);
    setStatus("Choose a source and a target image, then click points on the source.");
  } catch (e) {
    setStatus(e.message, { error: true });
  }
}

async function setImage(which, blob) {
  const bitmap = await createImageBitmap(blob);
  state[which] = { blob, bitmap, width: bitmap.width, height: bitmap.height };
  // Answers for the previous images are dropped.
  state.generation++;
  if (which === "source") state.points = [];
  state.matches = [];
  clearCanvas($("heatmap-canvas"));
  redraw();
  await match();
}

async function choosePair() {
  const pair = state.pairs[Number($("pair").value)];
  if (!pair) return;
  const name = $("dataset").value;
  const image = async (path) =>
    await (await api(`/v1/datasets/${name}/image?path=${encodeURIComponent(path)}`)).blob();
  try {
    setStatus(`Loading ${pair.source} and ${pair.target}...`);
    const [a, b] = await Promise.all([image(pair.source), image(pair.target)]);
    state.points = [];
    await setImage("target", b);
    await setImage("source", a);
    setStatus(`Loaded pair ${pair.pair_id} (${pair.category}): click points on the source.`);
  } catch (e) {
    setStatus(e.message, { error: true });
  }
}

async function chooseDataset() {
  const name = $("dataset").value;
  state.pairs = [];
  $("pair").disabled = true;
  fillSelect($("pair"), [], "");
  if (!name) return;
  try {
    const listing = await (await api(`/v1/datasets/${name}/pairs?limit=200`)).json();
    state.pairs = listing.pairs;
    fillSelect(
      $("pair"),
      [{ value: "", label: `(${listing.total} pairs: pick one)` }].concat(
        listing.pairs.map((p, i) => ({
          value: String(i),
          label: `${p.category}: ${basename(p.source)} → ${basename(p.target)}`,
        })),
      ),
      "",
    );
    $("pair").disabled = false;
  } catch (e) {
    setStatus(e.message, { error: true });
  }
}

function basename(path) {
  return path.slice(path.lastIndexOf("/") + 1);
}

/** Canvas size of an image shown at VIEW_HEIGHT. */
function viewSize(image) {
  return {
    width: Math.max(1, Math.round((image.width * VIEW_HEIGHT) / image.height)),
    height: VIEW_HEIGHT,
  };
}

function clearCanvas(canvas) {
  canvas.width = 1;
  canvas.height = 1;
}

/** Score in [0, 1] to a colour: red (low) through yellow to green (high). */
function scoreColor(score) {
  const t = Math.min(Math.max(score, 0), 1);
  return `hsl(${Math.round(120 * t)}, 85%, 45%)`;
}

function dot(ctx, x, y, color, label) {
  ctx.beginPath();
  ctx.arc(x, y, 5, 0, 2 * Math.PI);
  ctx.fillStyle = color;
  ctx.fill();
  ctx.lineWidth = 1.5;
  ctx.strokeStyle = "#111";
  ctx.stroke();
  ctx.font = "bold 13px system-ui, sans-serif";
  ctx.lineWidth = 3;
  ctx.strokeStyle = "#111";
  ctx.strokeText(label, x + 7, y - 6);
  ctx.fillStyle = "#fff";
  ctx.fillText(label, x + 7, y - 6);
}

/** Image pixels (integer values at pixel centres) to canvas pixels, and back. */
function toCanvas(image, canvas, x, y) {
  return [
    (x + 0.5) * (canvas.width / image.width) - 0.5,
    (y + 0.5) * (canvas.height / image.height) - 0.5,
  ];
}

function drawImage(which, canvasId) {
  const image = state[which];
  const canvas = $(canvasId);
  if (!image) return clearCanvas(canvas);
  const size = viewSize(image);
  canvas.width = size.width;
  canvas.height = size.height;
  const ctx = canvas.getContext("2d");
  ctx.drawImage(image.bitmap, 0, 0, size.width, size.height);
  return ctx;
}

function redraw() {
  const sctx = drawImage("source", "source-canvas");
  const tctx = drawImage("target", "target-canvas");
  state.points.forEach(([x, y], i) => {
    const m = state.matches[i];
    const color = m ? scoreColor(m.score) : "#fff";
    if (sctx) dot(sctx, ...toCanvas(state.source, $("source-canvas"), x, y), color, String(i + 1));
    if (tctx && m) {
      dot(tctx, ...toCanvas(state.target, $("target-canvas"), m.x, m.y), color, String(i + 1));
    }
  });
  const rows = state.points.map(([x, y], i) => {
    const m = state.matches[i];
    const tr = document.createElement("tr");
    tr.dataset.index = String(i);
    const cells = [
      String(i + 1),
      x.toFixed(1),
      y.toFixed(1),
      m ? m.x.toFixed(2) : "",
      m ? m.y.toFixed(2) : "",
      m ? m.score.toFixed(3) : "",
    ];
    const fields = ["n", "source-x", "source-y", "target-x", "target-y", "score"];
    cells.forEach((text, k) => {
      const td = document.createElement("td");
      td.textContent = text;
      td.dataset.field = fields[k];
      tr.append(td);
    });
    return tr;
  });
  document.querySelector("#matches tbody").replaceChildren(...rows);
}

function matchForm(points, extra = {}) {
  const form = new FormData();
  form.set("source", state.source.blob, "source");
  form.set("target", state.target.blob, "target");
  form.set("points", JSON.stringify(points));
  form.set("model", $("model").value);
  form.set("localizer", $("localizer").value);
  for (const [k, v] of Object.entries(extra)) form.set(k, v);
  return form;
}

/** Matches every point (POST /v1/match), then draws the last one's heatmap (POST /v1/visualize). */
async function match() {
  if (!state.source || !state.target || state.points.length === 0) return;
  const generation = ++state.generation;
  const points = state.points.slice();
  setStatus(`Matching ${points.length} point(s)...`);
  try {
    const res = await api("/v1/match", { method: "POST", body: matchForm(points) });
    const answer = await res.json();
    if (generation !== state.generation) return;
    state.matches = answer.matches;
    redraw();
    setStatus(
      `${answer.matches.length} match(es) by ${answer.model} (${answer.conventions.localizer.method}, ${answer.backend}) in ${
        Math.round(answer.timings_ms.total)
      } ms.`,
    );
    await heatmap(generation, points);
  } catch (e) {
    if (generation === state.generation) setStatus(e.message, { error: true });
  }
}

async function heatmap(generation, points) {
  const last = points.length - 1;
  const res = await api("/v1/visualize", {
    method: "POST",
    body: matchForm([points[last]], { heatmap: "true" }),
  });
  const box = (res.headers.get("X-Target-Box") ?? "").split(",").map(Number);
  const picture = await createImageBitmap(await res.blob());
  if (generation !== state.generation) return;
  // The picture's target part: the target with the similarity map over it.
  const canvas = $("heatmap-canvas");
  const size = viewSize(state.target);
  canvas.width = size.width;
  canvas.height = size.height;
  const ctx = canvas.getContext("2d");
  // As the service draws it: the match is its only point, numbered 1 there.
  ctx.drawImage(picture, box[0], box[1], box[2], box[3], 0, 0, size.width, size.height);
  $("heatmap-caption").textContent = `Heatmap of point ${last + 1} (POST /v1/visualize)`;
}

function clickSource(event) {
  if (!state.source) return;
  const canvas = $("source-canvas");
  const rect = canvas.getBoundingClientRect();
  const cx = (event.clientX - rect.left) * (canvas.width / rect.width);
  const cy = (event.clientY - rect.top) * (canvas.height / rect.height);
  // Canvas position to image pixels (pixel centres at integers), kept inside the image.
  const x = Math.min(
    Math.max(cx * (state.source.width / canvas.width) - 0.5, 0),
    state.source.width - 1,
  );
  const y = Math.min(
    Math.max(cy * (state.source.height / canvas.height) - 0.5, 0),
    state.source.height - 1,
  );
  state.points.push([Math.round(x * 10) / 10, Math.round(y * 10) / 10]);
  redraw();
  match();
}

function init() {
  const key = sessionStorage.getItem("semcorr-api-key");
  if (key) $("api-key").value = key;
  $("api-key").addEventListener("change", () => {
    sessionStorage.setItem("semcorr-api-key", $("api-key").value.trim());
    loadOptions();
  });
  for (const which of ["source", "target"]) {
    $(`${which}-file`).addEventListener("change", (e) => {
      const file = e.target.files[0];
      if (file) setImage(which, file).catch((err) => setStatus(err.message, { error: true }));
    });
  }
  $("dataset").addEventListener("change", chooseDataset);
  $("pair").addEventListener("change", choosePair);
  $("source-canvas").addEventListener("click", clickSource);
  $("clear").addEventListener("click", () => {
    state.generation++;
    state.points = [];
    state.matches = [];
    clearCanvas($("heatmap-canvas"));
    $("heatmap-caption").textContent = "Heatmap of the last point";
    redraw();
  });
  for (const id of ["model", "localizer"]) $(id).addEventListener("change", () => match());
  loadOptions();
}

init();
