// Mirror module.
