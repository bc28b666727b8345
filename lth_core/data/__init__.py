"""Datasets: names to in-memory tensors, and augmentation on the device."""
