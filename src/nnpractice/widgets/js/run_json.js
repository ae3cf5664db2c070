// Train every run described on stdin (a JSON array of createRun options) and print the results as JSON:
// per run its status, per-batch losses, per-epoch history and final parameters. Used by the PyTorch agreement
// test (tests/test_js_trainer.py) and the benchmarks.
"use strict";
const fs = require("fs");
const NNTrainer = require("./trainer.js");

const cases = JSON.parse(fs.readFileSync(0, "utf8"));
const results = cases.map((options) => {
  const start = process.hrtime.bigint();
  const run = NNTrainer.train(options);
  return {
    status: run.status, batchLosses: run.batchLosses, history: run.history,
    parameters: NNTrainer.getParameters(run.model), seconds: Number(process.hrtime.bigint() - start) / 1e9,
  };
});
process.stdout.write(JSON.stringify(results));
