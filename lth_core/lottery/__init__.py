"""The IMP graph: which network depends on which, and how one network is trained as a task."""
