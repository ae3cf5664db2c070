// The trainer's own tests (node --test src/nnpractice/widgets/js/test): bad input, seeds, divergence, learning.
// Agreement with PyTorch is tested from Python: tests/test_js_trainer.py.
"use strict";
const test = require("node:test");
const assert = require("node:assert/strict");
const T = require("../trainer.js");

const XOR = { X: [[0, 0], [1, 1], [0, 1], [1, 0]], y: [0, 0, 1, 1] };
const base = { train: XOR, inputs: 2, classes: 2, hidden: [8], activation: "tanh", optimizer: "adam", lr: 0.05,
  batchSize: 2, epochs: 100, seed: 3 };

test("bad input names the parameter, the value and what is allowed", () => {
  const cases = [
    [{ lr: -1 }, "lr=-1 is not allowed: expected a number in (0, 10]."],
    [{ optimizer: "adagrad" }, 'optimizer="adagrad" is not allowed: expected one of "sgd", "momentum", "adam", "adamw", "rmsprop".'],
    [{ activation: "gelu" }, 'activation="gelu" is not allowed: expected one of "relu", "tanh", "sigmoid".'],
    [{ dropout: 1 }, "dropout=1 is not allowed: expected a number in [0, 0.95]."],
    [{ batchSize: 2.5 }, "batchSize=2.5 is not allowed: expected an integer in [1, 100000]."],
    [{ hidden: [8, 0] }, "hidden[1]=0 is not allowed: expected an integer in [1, 4096]."],
    [{ seed: -1 }, "seed=-1 is not allowed: expected an integer in [0, 4294967295]."],
    [{ train: { X: [[0, 0], [1]], y: [0, 1] } }, "train.X[1]=[1] is not allowed: expected a row of 2 numbers."],
    [{ train: { X: [[0, 0]], y: [2] } }, "train.y[0]=2 is not allowed: expected an integer in [0, 1]."],
    [{ l2: NaN }, "l2=NaN is not allowed: expected a number in [0, 1]."],
  ];
  for (const [change, message] of cases) {
    assert.throws(() => T.createRun({ ...base, ...change }), (error) => {
      assert.ok(error instanceof T.InvalidParameterError, error.name);
      assert.equal(error.message, message);
      return true;
    });
  }
});

test("the same seed gives the same run; another seed another one", () => {
  const a = T.train(base), b = T.train(base), c = T.train({ ...base, seed: 4 });
  assert.deepEqual(a.batchLosses, b.batchLosses);
  assert.deepEqual(T.getParameters(a.model), T.getParameters(b.model));
  assert.notDeepEqual(a.batchLosses, c.batchLosses);
});

test("the generator is uniform on [0, 1) and a permutation is one", () => {
  const r = T.randomGenerator(0);
  const draws = Array.from({ length: 20000 }, r);
  assert.ok(draws.every((u) => u >= 0 && u < 1));
  const mean = draws.reduce((s, u) => s + u, 0) / draws.length;
  assert.ok(Math.abs(mean - 0.5) < 0.01, `mean ${mean}`);
  const deciles = Array(10).fill(0);
  draws.forEach((u) => deciles[Math.floor(u * 10)]++);
  assert.ok(deciles.every((count) => Math.abs(count - 2000) < 200), String(deciles));
  assert.deepEqual([...T.permutation(50, r)].sort((x, y) => x - y), Array.from({ length: 50 }, (_, i) => i));
});

test("a learning rate far too large says diverged and stops", () => {
  const run = T.train({ ...base, optimizer: "sgd", lr: 10, hidden: [64, 64], activation: "relu", epochs: 50,
    train: { X: XOR.X.map((row) => row.map((v) => 100 * v)), y: XOR.y } });
  assert.match(run.status, /^diverged at epoch \d+$/);
  assert.ok(run.history.length < 50);
});

test("XOR is learned, and the history logs loss and accuracy per epoch", () => {
  const run = T.train({ ...base, val: XOR });
  assert.equal(run.status, "completed");
  assert.equal(run.history.length, 100);
  const last = run.history[99];
  assert.equal(last.valAccuracy, 1);
  assert.ok(last.valLoss < 0.1 * run.history[0].valLoss, JSON.stringify(last));
  const p = run.predict([[0, 1]])[0];
  assert.ok(Math.abs(p[0] + p[1] - 1) < 1e-12 && p[1] > 0.9);
});

test("dropout is off when predicting and on when training", () => {
  const run = T.createRun({ ...base, dropout: 0.5 });
  const once = run.predict(XOR.X), twice = run.predict(XOR.X);
  assert.deepEqual(once, twice);
  run.epoch();
  const other = T.createRun({ ...base, dropout: 0 });
  other.epoch();
  assert.notDeepEqual(run.batchLosses, other.batchLosses);
});
