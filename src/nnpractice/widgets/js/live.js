/* The live playground of the HTML book: sliders that retrain a network in the page while the reader drags.
 *
 * Each <div class="nnp-live"> holds its settings as JSON (data, knobs, fixed settings, seed) written by
 * nnpractice.widgets.live; this script trains with NNTrainer (trainer.js) a few epochs per animation frame and
 * redraws the decision boundary and the loss and accuracy curves. The state (problem, knobs, seed) lives in the
 * URL hash, so a run can be shared as a link. Without JavaScript the static twin (precomputed images) is what
 * shows; with it, the twin moves into a folded section below the live version.
 */
(function () {
  "use strict";
  const FRAME_BUDGET_MS = 12;  // training time per animation frame: the page stays responsive while it trains
  const GRID = 48;             // decision-boundary resolution (GRID x GRID predictions per redraw)
  const format = (v) => (typeof v === "number" ? (Math.abs(v) >= 1e-3 || v === 0 ? String(+v.toPrecision(3)) : v.toExponential(0)) : String(v));

  function el(tag, attrs = {}, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
    children.forEach((c) => node.append(c));
    return node;
  }

  // Blue (class 0) to red (class 1) through white, as the book's matplotlib figures (RdBu_r).
  function color(p) {
    const t = Math.max(0, Math.min(1, p));
    const blue = [33, 102, 172], white = [247, 247, 247], red = [178, 24, 43];
    const [a, b, s] = t < 0.5 ? [blue, white, t / 0.5] : [white, red, (t - 0.5) / 0.5];
    return a.map((x, i) => Math.round(x + (b[i] - x) * s));
  }

  function drawBoundary(canvas, run, problem) {
    const ctx = canvas.getContext("2d"), w = canvas.width, h = canvas.height;
    const [x0, x1, y0, y1] = problem.extent;
    const points = [];
    for (let j = 0; j < GRID; j++) for (let i = 0; i < GRID; i++) {
      points.push([x0 + ((i + 0.5) / GRID) * (x1 - x0), y1 - ((j + 0.5) / GRID) * (y1 - y0)]);
    }
    const probs = run.predict(points);
    const image = ctx.createImageData(GRID, GRID);
    probs.forEach((p, k) => {
      const [r, g, b] = color(p[1]);
      image.data.set([r, g, b, 220], 4 * k);
    });
    const small = document.createElement("canvas");
    small.width = small.height = GRID;
    small.getContext("2d").putImageData(image, 0, 0);
    ctx.imageSmoothingEnabled = true;
    ctx.drawImage(small, 0, 0, w, h);
    const { X, y } = problem.data.train;
    X.forEach((row, k) => {
      const px = ((row[0] - x0) / (x1 - x0)) * w, py = ((y1 - row[1]) / (y1 - y0)) * h;
      ctx.beginPath();
      ctx.arc(px, py, 3, 0, 2 * Math.PI);
      ctx.fillStyle = y[k] === 1 ? "rgb(178,24,43)" : "rgb(33,102,172)";
      ctx.fill();
      ctx.strokeStyle = "#000";
      ctx.lineWidth = 0.6;
      ctx.stroke();
    });
  }

  // One panel of curves against the epoch: [{values, color, label}], y on a log scale if `log`.
  function drawCurves(canvas, series, { title, epochs, low, high, log, legendAtBottom = false }) {
    const ctx = canvas.getContext("2d"), w = canvas.width, h = canvas.height;
    const left = 44, right = 8, top = 20, bottom = 26;
    const ty = (v) => { const a = log ? Math.log10(Math.max(v, low)) : v, lo = log ? Math.log10(low) : low, hi = log ? Math.log10(high) : high;
      return top + (1 - (Math.min(Math.max(a, lo), hi) - lo) / (hi - lo)) * (h - top - bottom); };
    const tx = (e) => left + ((e - 1) / Math.max(epochs - 1, 1)) * (w - left - right);
    ctx.clearRect(0, 0, w, h);
    ctx.fillStyle = "#fff";
    ctx.fillRect(0, 0, w, h);
    ctx.strokeStyle = "#555";
    ctx.strokeRect(left, top, w - left - right, h - top - bottom);
    ctx.fillStyle = "#000";
    ctx.font = "12px sans-serif";
    ctx.fillText(title, left, 14);
    ctx.fillText("epoch", w / 2 - 14, h - 6);
    ctx.fillText(format(high), 2, top + 8);
    ctx.fillText(format(low), 2, h - bottom);
    series.forEach(({ values, color: c, label }, s) => {
      ctx.strokeStyle = c;
      ctx.lineWidth = 2;
      ctx.beginPath();
      values.forEach((v, i) => (i ? ctx.lineTo(tx(i + 1), ty(v)) : ctx.moveTo(tx(1), ty(v))));
      ctx.stroke();
      ctx.fillStyle = c;
      ctx.fillText(label, w - right - 70, legendAtBottom ? h - bottom - 8 - 14 * (series.length - 1 - s) : top + 14 + 14 * s);
    });
  }

  function setup(root) {
    if (root.dataset.ready) return;
    root.dataset.ready = "1";
    const spec = JSON.parse(root.querySelector("script.nnp-live-spec").textContent);
    const ui = root.querySelector(".nnp-live-ui"), fallback = root.querySelector(".nnp-live-fallback");
    if (fallback && fallback.children.length) {  // the static twin stays, folded: PyTorch's figures to compare with
      const details = el("details", { class: "nnp-live-precomputed" },
        el("summary", {}, "The static version: figures precomputed with PyTorch when the book was built"));
      ui.after(details);  // below the live version
      details.append(fallback);
    }
    ui.hidden = false;
    const state = { seed: spec.seed, problem: spec.problem };
    spec.knobs.forEach((k) => { state[k.name] = k.values[k.start]; });

    // The URL hash: #<id>?problem=moons&lr=0.1&seed=0 restores a shared run (unknown or bad values are ignored).
    const prefix = `#${root.id}?`;
    if (location.hash.startsWith(prefix)) {
      const params = new URLSearchParams(location.hash.slice(prefix.length));
      if (Object.hasOwn(spec.problems, params.get("problem"))) state.problem = params.get("problem");
      spec.knobs.forEach((k) => {
        const i = k.values.map(String).indexOf(params.get(k.name));
        if (i >= 0) state[k.name] = k.values[i];
      });
      const seed = Number(params.get("seed"));
      if (params.has("seed") && Number.isInteger(seed) && seed >= 0 && seed < 2 ** 32) state.seed = seed;
    }

    const controls = ui.querySelector(".nnp-live-controls");
    const names = Object.keys(spec.problems);
    if (names.length > 1) {
      const select = el("select", { "aria-label": "problem", "data-knob": "problem" });
      names.forEach((n) => select.append(el("option", { value: n }, n)));
      select.value = state.problem;
      select.addEventListener("change", () => { state.problem = select.value; restart(); });
      controls.append(el("label", {}, "problem ", select));
    }
    spec.knobs.forEach((k) => {
      const value = el("output", { class: "nnp-live-value" }, format(state[k.name]));
      const input = el("input", { type: "range", min: "0", max: String(k.values.length - 1), step: "1",
        value: String(k.values.indexOf(state[k.name])), "aria-label": k.label, "data-knob": k.name });
      input.addEventListener("input", () => {
        state[k.name] = k.values[+input.value];
        value.textContent = format(state[k.name]);
        input.setAttribute("aria-valuetext", `${k.label} ${format(state[k.name])}`);
        restart();
      });
      input.setAttribute("aria-valuetext", `${k.label} ${format(state[k.name])}`);
      controls.append(el("label", {}, `${k.label} `, input, " ", value));
    });
    const seedInput = el("input", { type: "number", min: "0", step: "1", value: String(state.seed), "aria-label": "seed",
      style: "width:5em" });
    seedInput.addEventListener("change", () => {
      const s = Number(seedInput.value);
      if (Number.isInteger(s) && s >= 0) { state.seed = s; restart(); }
    });
    controls.append(el("label", {}, "seed ", seedInput));
    const link = el("a", { class: "nnp-live-link", href: "#" }, "link to this run");
    controls.append(link);

    const [mapCanvas, lossCanvas, accCanvas] = ["map", "loss", "acc"].map((n) => ui.querySelector(`canvas.nnp-live-${n}`));
    const status = ui.querySelector(".nnp-live-status");
    let generation = 0;

    function restart() {
      const mine = ++generation;
      const changed = performance.now();
      const hash = new URLSearchParams({ problem: state.problem, ...Object.fromEntries(spec.knobs.map((k) => [k.name, state[k.name]])), seed: state.seed });
      link.href = `#${root.id}?${hash}`;
      if (root.dataset.updateHash !== "false") history.replaceState(null, "", link.href);
      const settings = { ...spec.fixed };
      spec.knobs.forEach((k) => { settings[k.name] = state[k.name]; });
      const width = settings.width, depth = settings.depth;
      let run;
      try {
        const { data } = spec.problems[state.problem];
        run = NNTrainer.createRun({ train: data.train, val: data.val, inputs: spec.inputs, classes: spec.classes,
          hidden: Array(depth).fill(width), activation: settings.activation, dropout: settings.dropout,
          optimizer: settings.optimizer, lr: settings.lr, l1: settings.l1, l2: settings.l2,
          batchSize: settings.batch_size, epochs: settings.epochs, seed: state.seed });
      } catch (error) {
        status.textContent = error.message;
        return;
      }
      root.dataset.status = "running";
      let first = true;
      function frame() {
        if (mine !== generation) return;  // a newer setting arrived: this run is dropped
        const start = performance.now();
        do run.epoch(); while (run.status === "running" && performance.now() - start < FRAME_BUDGET_MS);
        draw(run, settings);
        if (first) { root.dataset.firstFrameMs = (performance.now() - changed).toFixed(1); first = false; }
        if (run.status === "running") requestAnimationFrame(frame);
        else { root.dataset.runMs = (performance.now() - changed).toFixed(1); root.dataset.status = run.status; }
      }
      requestAnimationFrame(frame);
    }

    function draw(run, settings) {
      const hist = run.history, last = hist[hist.length - 1];
      if (spec.is2d) drawBoundary(mapCanvas, run, spec.problems[state.problem]);
      drawCurves(lossCanvas, [{ values: hist.map((r) => r.loss), color: "#1f77b4", label: "training" },
        { values: hist.map((r) => r.valLoss), color: "#ff7f0e", label: "validation" }],
      { title: "cross-entropy loss (log scale)", epochs: settings.epochs, low: spec.lossLimits[0], high: spec.lossLimits[1], log: true });
      drawCurves(accCanvas, [{ values: hist.map((r) => r.accuracy), color: "#1f77b4", label: "training" },
        { values: hist.map((r) => r.valAccuracy), color: "#ff7f0e", label: "validation" }],
      { title: "accuracy", epochs: settings.epochs, low: 0, high: 1, log: false, legendAtBottom: true });
      let text;
      if (run.status.startsWith("diverged")) {
        text = `${run.status}: the training loss became NaN or grew past 10 times its first value; try a smaller learning rate.`;
      } else if (last) {
        text = `epoch ${last.epoch} of ${settings.epochs}: training loss ${last.loss.toFixed(3)}, validation loss ` +
          `${last.valLoss.toFixed(3)}, validation accuracy ${(100 * last.valAccuracy).toFixed(1)}%` +
          (run.status === "completed" ? " (done)" : "");
      }
      status.textContent = text || "";
      mapCanvas.setAttribute("aria-label", `decision boundary after ${hist.length} epochs; ${text || ""}`);
    }

    restart();
  }

  function setupAll() { document.querySelectorAll(".nnp-live").forEach(setup); }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", setupAll);
  else setupAll();
})();
