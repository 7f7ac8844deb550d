// Stores module.
