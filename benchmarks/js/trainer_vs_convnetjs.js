// The playgrounds' trainer (widgets/js/trainer.js) against ConvNetJS on the same MLP, data and optimizer, in one
// Node.js process: seconds per epoch, interleaved runs, medians. Reads {X, y, epochs, repeats} as JSON on stdin
// (benchmarks/run.py sends the moons data) and prints JSON. Each trainer does its own float64 arithmetic.
"use strict";
const fs = require("fs");
const path = require("path");
const convnetjs = require("convnetjs");
const NNTrainer = require(path.join(__dirname, "..", "..", "src", "nnpractice", "widgets", "js", "trainer.js"));

const { X, y, epochs, repeats, hidden, lr, batchSize } = JSON.parse(fs.readFileSync(0, "utf8"));

function ours() {
  const run = NNTrainer.train({ train: { X, y }, inputs: 2, classes: 2, hidden, activation: "tanh",
    optimizer: "momentum", lr, batchSize, epochs, seed: 0, divergenceFactor: null });
  return run.history[run.history.length - 1].loss;
}

function theirs() {
  const layers = [{ type: "input", out_sx: 1, out_sy: 1, out_depth: 2 }];
  hidden.forEach((width) => layers.push({ type: "fc", num_neurons: width, activation: "tanh" }));
  layers.push({ type: "softmax", num_classes: 2 });
  const net = new convnetjs.Net();
  net.makeLayers(layers);
  // ConvNetJS's SGD with momentum, averaged over the batch as ours (lr / batch per example gradient sum)
  const trainer = new convnetjs.Trainer(net, { method: "sgd", learning_rate: lr, momentum: 0.9, batch_size: batchSize,
    l2_decay: 0 });
  const vol = new convnetjs.Vol(1, 1, 2, 0.0);
  let loss = 0;
  for (let e = 0; e < epochs; e++) {
    loss = 0;
    for (let i = 0; i < X.length; i++) {
      vol.w[0] = X[i][0];
      vol.w[1] = X[i][1];
      loss += trainer.train(vol, y[i]).cost_loss;
    }
  }
  return loss / X.length;
}

const times = { ours: [], convnetjs: [] }, losses = {};
const contenders = { ours, convnetjs: theirs };
Object.values(contenders).forEach((fn) => fn());  // warm-up: the JIT compiles both first
let order = Object.keys(contenders);
for (let r = 0; r < repeats; r++) {
  for (const name of order) {
    const start = process.hrtime.bigint();
    losses[name] = contenders[name]();
    times[name].push(Number(process.hrtime.bigint() - start) / 1e9 / epochs);
  }
  order = order.slice().reverse();  // alternate who goes first
}
const median = (v) => v.slice().sort((a, b) => a - b)[Math.floor(v.length / 2)];
process.stdout.write(JSON.stringify({
  ours_s_per_epoch: median(times.ours), convnetjs_s_per_epoch: median(times.convnetjs), final_loss: losses,
  node: process.version,
}));
