// Optimizers, losses, initializers and linalg are exported from here.
export {};
