/* A small neural-network trainer for the book's playgrounds, readable top to bottom.
 *
 * Dense layers with ReLU, tanh or sigmoid; softmax cross-entropy; mini-batches; SGD, momentum, Adam,
 * AdamW and RMSprop; L1 and L2 penalties on the weights; dropout; and a seeded random generator.
 * Every number is a JavaScript double (float64). The semantics are those of the Python playground
 * (nnpractice.widgets.runs.train_once, i.e. `fit` with torch.optim), and tests/test_js_trainer.py
 * checks the losses and final weights against PyTorch in float64.
 *
 * No dependencies and no build step: load it with <script src="trainer.js"> (it defines NNTrainer)
 * or require("./trainer.js") under Node.js.
 */
(function (root, factory) {
  if (typeof module === "object" && module.exports) module.exports = factory();
  else root.NNTrainer = factory();
})(typeof self !== "undefined" ? self : this, function () {
  "use strict";

  // ------------------------------------------------------------------ bad input: one error, one message style
  class InvalidParameterError extends Error {}
  InvalidParameterError.prototype.name = "InvalidParameterError";

  function show(value) {
    if (typeof value === "string") return JSON.stringify(value);
    if (Array.isArray(value)) return value.length > 6 ? `[${value.slice(0, 6).map(show).join(", ")}, ...]` : `[${value.map(show).join(", ")}]`;
    return String(value);
  }

  // The message names the parameter, the value and what is allowed, as the Python library's do.
  function invalid(name, value, allowed) {
    return new InvalidParameterError(`${name}=${show(value)} is not allowed: expected ${allowed}.`);
  }

  function checkNumber(name, value, low, high, { integer = false, openLow = false } = {}) {
    const ok = typeof value === "number" && Number.isFinite(value) && (!integer || Number.isInteger(value)) &&
      (openLow ? value > low : value >= low) && value <= high;
    if (!ok) {
      const kind = integer ? "an integer" : "a number";
      throw invalid(name, value, `${kind} in ${openLow ? "(" : "["}${low}, ${high === Infinity ? "inf)" : high + "]"}`);
    }
    return value;
  }

  function checkOption(name, value, options) {
    if (!options.includes(value)) throw invalid(name, value, `one of ${options.map(show).join(", ")}`);
    return value;
  }

  // ------------------------------------------------------------------ a seeded random generator
  // mulberry32: 32 bits of state, uniform doubles in [0, 1); the same seed gives the same stream everywhere.
  function randomGenerator(seed) {
    checkNumber("seed", seed, 0, 2 ** 32 - 1, { integer: true });
    let state = seed >>> 0;
    return function next() {
      state = (state + 0x6d2b79f5) >>> 0;
      let t = state;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
  }

  // Fisher–Yates: a uniformly random order of 0..n-1.
  function permutation(n, random) {
    const order = Array.from({ length: n }, (_, i) => i);
    for (let i = n - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [order[i], order[j]] = [order[j], order[i]];
    }
    return order;
  }

  // ------------------------------------------------------------------ the model: a list of dense layers
  const ACTIVATIONS = {
    relu: { f: (z) => (z > 0 ? z : 0), df: (z, a) => (z > 0 ? 1 : 0) },  // PyTorch's ReLU has slope 0 at 0
    tanh: { f: Math.tanh, df: (z, a) => 1 - a * a },
    sigmoid: { f: (z) => 1 / (1 + Math.exp(-z)), df: (z, a) => a * (1 - a) },
  };

  // Weights are stored as PyTorch's nn.Linear stores them: weight[out][in] row-major, then bias[out].
  function createModel({ inputs, hidden = [], classes, activation = "relu", dropout = 0, seed = 0 }) {
    checkNumber("inputs", inputs, 1, 100000, { integer: true });
    checkNumber("classes", classes, 2, 1000, { integer: true });
    if (!Array.isArray(hidden)) throw invalid("hidden", hidden, "an array of layer widths");
    hidden.forEach((width, i) => checkNumber(`hidden[${i}]`, width, 1, 4096, { integer: true }));
    checkOption("activation", activation, Object.keys(ACTIVATIONS));
    checkNumber("dropout", dropout, 0, 0.95);
    const random = randomGenerator(seed);
    const sizes = [inputs, ...hidden, classes];
    const layers = [];
    for (let l = 0; l + 1 < sizes.length; l++) {
      const fanIn = sizes[l], fanOut = sizes[l + 1];
      const bound = 1 / Math.sqrt(fanIn);  // PyTorch's default initialisation: U(-1/sqrt(fan_in), 1/sqrt(fan_in))
      const weight = new Float64Array(fanOut * fanIn).map(() => (2 * random() - 1) * bound);
      const bias = new Float64Array(fanOut).map(() => (2 * random() - 1) * bound);
      layers.push({ inputs: fanIn, outputs: fanOut, weight, bias });
    }
    return { layers, activation, dropout };
  }

  // Load weights given as nested arrays, [[weight rows, bias], ...] (the tests export PyTorch's this way).
  function setParameters(model, parameters) {
    if (!Array.isArray(parameters) || parameters.length !== model.layers.length) {
      throw invalid("parameters", parameters, `one [weight, bias] pair per layer (${model.layers.length})`);
    }
    model.layers.forEach((layer, l) => {
      const [weight, bias] = parameters[l];
      if (weight.length !== layer.outputs || weight[0].length !== layer.inputs || bias.length !== layer.outputs) {
        throw invalid(`parameters[${l}]`, `${weight.length}x${weight[0].length}`, `a ${layer.outputs}x${layer.inputs} weight and ${layer.outputs} biases`);
      }
      layer.weight.set(weight.flat());
      layer.bias.set(bias);
    });
  }

  function getParameters(model) {
    return model.layers.map((layer) => [
      Array.from({ length: layer.outputs }, (_, o) => Array.from(layer.weight.subarray(o * layer.inputs, (o + 1) * layer.inputs))),
      Array.from(layer.bias),
    ]);
  }

  // ------------------------------------------------------------------ forward and backward on one batch
  // X is an array of rows; `rows` picks the batch. In training mode each hidden unit of each example is kept with
  // probability 1 - p and scaled by 1/(1 - p) (inverted dropout, as nn.Dropout), drawn in the order
  // layer, example, unit from `random`.
  function forward(model, X, rows, training, random) {
    const act = ACTIVATIONS[model.activation];
    const n = rows.length;
    let input = new Float64Array(n * model.layers[0].inputs);
    rows.forEach((r, i) => input.set(X[r], i * model.layers[0].inputs));
    const cache = [];
    model.layers.forEach((layer, l) => {
      const last = l === model.layers.length - 1;
      const { inputs: k, outputs: m, weight, bias } = layer;
      const z = new Float64Array(n * m);
      for (let i = 0; i < n; i++) {
        for (let o = 0; o < m; o++) {
          let s = bias[o];
          for (let j = 0; j < k; j++) s += input[i * k + j] * weight[o * k + j];
          z[i * m + o] = s;
        }
      }
      let a = z, mask = null;
      if (!last) {
        a = z.map(act.f);
        if (training && model.dropout > 0) {
          const keep = 1 - model.dropout;
          mask = new Float64Array(n * m);
          for (let t = 0; t < n * m; t++) mask[t] = random() < model.dropout ? 0 : 1 / keep;
        }
      }
      cache.push({ input, z, a, mask });
      input = mask ? a.map((v, t) => v * mask[t]) : a;
    });
    return { logits: input, cache };
  }

  // Mean softmax cross-entropy over the batch, its number of correct predictions, and d(loss)/d(logits).
  function crossEntropy(logits, y, rows, classes) {
    const n = rows.length;
    const grad = new Float64Array(n * classes);
    let loss = 0, correct = 0;
    for (let i = 0; i < n; i++) {
      let max = -Infinity, argmax = 0;
      for (let c = 0; c < classes; c++) {
        const v = logits[i * classes + c];
        if (v > max) { max = v; argmax = c; }
      }
      let sum = 0;
      for (let c = 0; c < classes; c++) sum += Math.exp(logits[i * classes + c] - max);  // shifted: no overflow
      const target = y[rows[i]];
      loss += Math.log(sum) + max - logits[i * classes + target];
      if (argmax === target) correct++;
      for (let c = 0; c < classes; c++) {
        const p = Math.exp(logits[i * classes + c] - max) / sum;
        grad[i * classes + c] = (p - (c === target ? 1 : 0)) / n;
      }
    }
    return { loss: loss / n, correct, grad };
  }

  // Gradients of every weight and bias from d(loss)/d(logits), layer by layer from the top. One pass over each
  // example's rows gives both dW (= delta^T input) and the delta sent below (= delta W), reading memory in order.
  function backward(model, cache, gradLogits, n) {
    const act = ACTIVATIONS[model.activation];
    const grads = new Array(model.layers.length);
    let delta = gradLogits;  // d(loss)/dz of the current layer
    for (let l = model.layers.length - 1; l >= 0; l--) {
      const { inputs: k, outputs: m, weight } = model.layers[l];
      const { input } = cache[l];
      const gW = new Float64Array(m * k), gb = new Float64Array(m);
      const below = l > 0 ? new Float64Array(n * k) : null;  // d(loss)/d(input of this layer)
      for (let i = 0; i < n; i++) {
        for (let o = 0; o < m; o++) {
          const d = delta[i * m + o];
          if (d === 0) continue;  // a dead ReLU or a dropped unit sends nothing
          gb[o] += d;
          const row = o * k, at = i * k;
          for (let j = 0; j < k; j++) gW[row + j] += d * input[at + j];
          if (below) for (let j = 0; j < k; j++) below[at + j] += d * weight[row + j];
        }
      }
      grads[l] = { weight: gW, bias: gb };
      if (below) {  // through the dropout mask and the activation of the layer below
        const { z, a, mask } = cache[l - 1];
        for (let t = 0; t < n * k; t++) below[t] *= (mask ? mask[t] : 1) * act.df(z[t], a[t]);
        delta = below;
      }
    }
    return grads;
  }

  // ------------------------------------------------------------------ optimizers, as torch.optim computes them
  // `decay` is the L2 coefficient for the weights (biases are never penalized). SGD, Adam and RMSprop add
  // decay·w to the gradient (L2); AdamW shrinks the weights directly (decoupled weight decay).
  const OPTIMIZERS = ["sgd", "momentum", "adam", "adamw", "rmsprop"];

  function createOptimizer(name, model, { lr, l2 = 0 }) {
    checkOption("optimizer", name, OPTIMIZERS);
    checkNumber("lr", lr, 0, 10, { openLow: true });
    checkNumber("l2", l2, 0, 1);
    const params = model.layers.flatMap((layer) => [
      { value: layer.weight, decay: l2, key: "weight", layer },
      { value: layer.bias, decay: 0, key: "bias", layer },
    ]);
    const state = params.map((p) => ({ m: new Float64Array(p.value.length), v: new Float64Array(p.value.length) }));
    let t = 0;
    const beta1 = 0.9, beta2 = 0.999, eps = 1e-8, alpha = 0.99, mu = 0.9;

    function step(grads) {
      t += 1;
      const correction1 = 1 - beta1 ** t, sqrtCorrection2 = Math.sqrt(1 - beta2 ** t);  // Adam's, once per step
      params.forEach((p, index) => {
        const w = p.value, g = grads[model.layers.indexOf(p.layer)][p.key], { m, v } = state[index];
        const l2 = name === "adamw" ? 0 : p.decay, shrink = name === "adamw" ? 1 - lr * p.decay : 1;
        for (let i = 0; i < w.length; i++) {
          const gi = g[i] + l2 * w[i];
          if (name === "sgd") {
            w[i] -= lr * gi;
          } else if (name === "momentum") {  // the buffer starts at 0, so its first value is the gradient, as in torch
            m[i] = mu * m[i] + gi;
            w[i] -= lr * m[i];
          } else if (name === "rmsprop") {
            v[i] = alpha * v[i] + (1 - alpha) * gi * gi;
            w[i] -= (lr * gi) / (Math.sqrt(v[i]) + eps);
          } else {  // adam, adamw: bias-corrected moments; eps is added after the square root
            w[i] *= shrink;
            m[i] = beta1 * m[i] + (1 - beta1) * gi;
            v[i] = beta2 * v[i] + (1 - beta2) * gi * gi;
            w[i] -= (lr / correction1) * (m[i] / (Math.sqrt(v[i]) / sqrtCorrection2 + eps));
          }
        }
      });
    }
    return { name, step };
  }

  // ------------------------------------------------------------------ training, one epoch at a time
  // The rule of nnpractice.training.is_diverged: the epoch's loss is not finite, or above factor × the first batch's.
  function isDiverged(epochLoss, firstLoss, factor) {
    if (!Number.isFinite(epochLoss)) return true;
    return factor !== null && Number.isFinite(firstLoss) && epochLoss > factor * Math.max(firstLoss, 1e-12);
  }

  function checkData(name, X, y, inputs, classes) {
    if (!Array.isArray(X) || X.length === 0) throw invalid(`${name}.X`, X, "a non-empty array of rows");
    X.forEach((row, i) => {
      if (row.length !== inputs) throw invalid(`${name}.X[${i}]`, row, `a row of ${inputs} numbers`);
    });
    if (!Array.isArray(y) || y.length !== X.length) throw invalid(`${name}.y`, y, `${X.length} labels`);
    y.forEach((label, i) => checkNumber(`${name}.y[${i}]`, label, 0, classes - 1, { integer: true }));
  }

  function evaluate(model, X, y, classes) {
    const rows = Array.from({ length: X.length }, (_, i) => i);
    const { logits } = forward(model, X, rows, false, null);
    const { loss, correct } = crossEntropy(logits, y, rows, classes);
    return { loss, accuracy: correct / X.length };
  }

  // Class probabilities of every row of X (evaluation mode: no dropout), e.g. for a decision-boundary grid.
  function predict(model, X) {
    const rows = Array.from({ length: X.length }, (_, i) => i);
    const { logits } = forward(model, X, rows, false, null);
    const classes = model.layers[model.layers.length - 1].outputs;
    return rows.map((i) => {
      const row = Array.from(logits.subarray(i * classes, (i + 1) * classes));
      const max = Math.max(...row);
      const e = row.map((v) => Math.exp(v - max));
      const sum = e.reduce((a, b) => a + b, 0);
      return e.map((v) => v / sum);
    });
  }

  /* A training run that advances one epoch per call of run.epoch(), so a page can redraw in between.
   * options: train {X, y}, val {X, y} (optional), inputs, classes, hidden, activation, dropout, optimizer, lr,
   * l1, l2, batchSize, epochs, seed, divergenceFactor (10; null: never), parameters (optional initial weights),
   * batchOrder (optional: one array of row indices per epoch, instead of a shuffle from the seed).
   * run.history holds one {epoch, loss, accuracy, valLoss, valAccuracy} per finished epoch; run.status is
   * "running", "completed" or "diverged at epoch k" (then the weights are those it exploded to, as in the book). */
  function createRun(options) {
    const o = { hidden: [], activation: "relu", dropout: 0, optimizer: "sgd", l1: 0, l2: 0, batchSize: 32,
      epochs: 30, seed: 0, divergenceFactor: 10, ...options };
    checkNumber("batchSize", o.batchSize, 1, 100000, { integer: true });
    checkNumber("epochs", o.epochs, 1, 10000, { integer: true });
    checkNumber("l1", o.l1, 0, 1);
    if (o.divergenceFactor !== null) checkNumber("divergenceFactor", o.divergenceFactor, 0, Infinity, { openLow: true });
    if (!o.train) throw invalid("train", o.train, "an object {X, y}");
    checkData("train", o.train.X, o.train.y, o.inputs, o.classes);
    if (o.val) checkData("val", o.val.X, o.val.y, o.inputs, o.classes);
    const model = createModel(o);
    if (o.parameters) setParameters(model, o.parameters);
    const optimizer = createOptimizer(o.optimizer, model, o);
    // Two streams from one seed: the shuffles and the dropout masks do not shift each other.
    const shuffleRandom = randomGenerator(o.seed), dropoutRandom = randomGenerator((o.seed ^ 0x9e3779b9) >>> 0);
    const n = o.train.X.length;
    let firstLoss = null;
    const run = { model, history: [], batchLosses: [], status: "running", options: o };

    run.epoch = function () {
      if (run.status !== "running") return null;
      const epoch = run.history.length + 1;
      const order = o.batchOrder ? o.batchOrder[epoch - 1] : permutation(n, shuffleRandom);
      let lossSum = 0, correct = 0;
      for (let start = 0; start < n; start += o.batchSize) {
        const rows = order.slice(start, start + o.batchSize);
        const { logits, cache } = forward(model, o.train.X, rows, true, dropoutRandom);
        const ce = crossEntropy(logits, o.train.y, rows, o.classes);
        const grads = backward(model, cache, ce.grad, rows.length);
        if (o.l1 > 0) {  // the L1 subgradient l1·sign(w) on the weights; the logged loss stays the data loss
          model.layers.forEach((layer, l) => layer.weight.forEach((w, i) => { grads[l].weight[i] += o.l1 * Math.sign(w); }));
        }
        optimizer.step(grads);
        if (firstLoss === null) firstLoss = ce.loss;
        run.batchLosses.push(ce.loss);
        lossSum += ce.loss * rows.length;
        correct += ce.correct;
      }
      const logs = { epoch, loss: lossSum / n, accuracy: correct / n };
      if (isDiverged(logs.loss, firstLoss, o.divergenceFactor)) {
        run.status = `diverged at epoch ${epoch}`;
        return logs;
      }
      if (o.val) {
        const v = evaluate(model, o.val.X, o.val.y, o.classes);
        logs.valLoss = v.loss;
        logs.valAccuracy = v.accuracy;
      }
      run.history.push(logs);
      if (epoch === o.epochs) run.status = "completed";
      return logs;
    };

    run.predict = (X) => predict(model, X);
    return run;
  }

  // Train to the end in one call (Node.js, tests); a page calls run.epoch() itself between frames.
  function train(options) {
    const run = createRun(options);
    while (run.status === "running") run.epoch();
    return run;
  }

  return {
    InvalidParameterError, randomGenerator, permutation, createModel, setParameters, getParameters,
    createOptimizer, createRun, train, predict, evaluate, isDiverged, ACTIVATIONS: Object.keys(ACTIVATIONS),
    OPTIMIZERS,
  };
});
