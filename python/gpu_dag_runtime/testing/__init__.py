"""Test helpers shipped with the runtime: build a tiny local model and data to try pipelines on CPU."""
