"""Train and evaluate models on the project's labels.

The package imports nothing on its own; torch, transformers, peft, trl and gguf (the
``train`` extra) are imported on first use. The modules:

- :mod:`~goldsmith.train.data` — the training set: held-out gold, provenance weights, no leak;
- :mod:`~goldsmith.train.classifier` — embeddings + calibrated logistic regression;
- :mod:`~goldsmith.train.sft` — LoRA SFT and DPO through TRL (``LoraSettings``);
- :mod:`~goldsmith.train.chat` — training rows (the exports' wording) and export files;
- :mod:`~goldsmith.train.base_model`, :mod:`~goldsmith.train.gguf` — loading base models;
- :mod:`~goldsmith.train.generate` — generation, completion loss, answer parsing;
- :mod:`~goldsmith.train.evaluate`, :mod:`~goldsmith.train.metrics`,
  :mod:`~goldsmith.train.report` — evaluation on held-out gold and its report;
- :mod:`~goldsmith.train.manifest`, :mod:`~goldsmith.train.card` — the model folder;
- :mod:`~goldsmith.train.run` — the runs ``Project.train_*`` call
  (:mod:`~goldsmith.train.front` mixes them into ``Project``);
- :mod:`~goldsmith.train.tiny` — a tiny causal LM for trying the pipeline on a CPU;
- :mod:`~goldsmith.train.extra` — the optional extra: ``require``, ``available``, devices.
"""
