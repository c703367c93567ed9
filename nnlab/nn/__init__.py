"""The numerical core: layers, activations, losses, initializers, optimizers, schedules."""
