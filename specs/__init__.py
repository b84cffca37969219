"""Built-in specs: example architectures, documentation and the CI corpus."""
