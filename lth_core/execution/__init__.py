"""Who trains which task, where: the scheduler, its local and Ray executors, and the app's job managers."""
