"""Built-in connector plugins; each sub-package registers through the `unigate.connectors` entry point."""
